"""UniPose model core on tiny random models: mixed attention, padding, one-shot decoding, LoRA, losses."""
import numpy as np
import pytest
import torch
from PIL import Image

from backend.model import IGNORE, LoraSettings, UniPose
from backend.tasks import TASKS
from backend.model.decoding import _Stream, generate
from backend.sampling import Sampling
from support.tiny_model import make_tiny_checkpoint, randomize_lora

torch.set_num_threads(2)
RNG = np.random.default_rng(0)


def _pose(scale=0.3):
    return (RNG.standard_normal((22, 3)) * scale).astype(np.float32)


def _codes(model, seed):
    return np.random.default_rng(seed).integers(0, model.vocab.codebook_size, model.vocab.num_pose_tokens)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"), seed=0)


@pytest.fixture(scope="module", params=["sdpa", "eager"])
def model(request, tmp_path_factory):
    path = make_tiny_checkpoint(tmp_path_factory.mktemp(request.param), seed=0, attn_implementation=request.param)
    return _load(path)


def _near_argmax(logits, chosen, atol=1e-4):
    """True when each chosen index scores within `atol` of its row's maximum: the argmax up to float ties
    (two computations of the same logits, such as a cached and a full forward, may break a near-tie
    differently)."""
    picked = logits.gather(-1, chosen.long()[..., None])[..., 0]
    return bool((picked >= logits.max(-1).values - atol).all())


def _logits(model, samples):
    with torch.no_grad():
        return model(model.collate(samples)).logits


def _sample_with_pose_spans(model, target_codes):
    """edit_pose: an input pose span, text, then an output query span + codes + text."""
    return model.build_sample("edit_pose", text="raise the left arm", poses=[_codes(model, 1)],
                              target=target_codes, template=0)


def test_bidirectional_inside_input_pose_span_causal_elsewhere(model):
    sample = _sample_with_pose_spans(model, _codes(model, 2))
    span = torch.nonzero(sample.span_ids == 0).flatten()
    base = _logits(model, [sample])[0]
    changed = sample.input_ids.clone()
    changed[span[-1]] = model.vocab.code_ids(torch.tensor(7)) if changed[span[-1]] != model.vocab.first_id + 7 \
        else model.vocab.first_id + 8
    logits = _logits(model, [_replace(sample, input_ids=changed)])[0]
    assert not torch.allclose(logits[span[0]], base[span[0]], atol=1e-5)  # earlier pose position sees a later one
    assert torch.allclose(logits[:span[0]], base[:span[0]], atol=1e-6)  # text before the span does not


def test_changing_later_text_changes_nothing_earlier(model):
    sample = _sample_with_pose_spans(model, _codes(model, 2))
    base = _logits(model, [sample])[0]
    changed = sample.input_ids.clone()
    changed[-1] = (changed[-1] + 1) % model.vocab.first_id
    logits = _logits(model, [_replace(sample, input_ids=changed)])[0]
    assert torch.allclose(logits[:-1], base[:-1], atol=1e-6)
    assert not torch.allclose(logits[-1], base[-1], atol=1e-5)


def test_query_span_is_bidirectional_and_hidden_from_later_tokens(model):
    sample = _sample_with_pose_spans(model, _codes(model, 2))
    queries = torch.nonzero(sample.branch).flatten()
    base = _logits(model, [sample])[0]
    changed = sample.input_ids.clone()
    changed[queries[-1]] = changed[queries[0]]  # a different (later) query token
    logits = _logits(model, [_replace(sample, input_ids=changed)])[0]
    assert not torch.allclose(logits[queries[0]], base[queries[0]], atol=1e-5)
    after = queries[-1] + 1
    assert torch.allclose(logits[after:], base[after:], atol=1e-6)  # codes and text never see the queries


def test_padding_invariance(model):
    short = model.build_sample("pose_to_text", poses=[_codes(model, 3)], target="arms up", template=1)
    long = _sample_with_pose_spans(model, _codes(model, 4))
    together = _logits(model, [short, long])
    alone_short, alone_long = _logits(model, [short])[0], _logits(model, [long])[0]
    assert torch.allclose(together[0, :len(short)], alone_short, atol=1e-5)
    assert torch.allclose(together[1, :len(long)], alone_long, atol=1e-5)


def test_one_shot_decoding_equals_full_mixed_mask_forward(model):
    prompt = model.builder.prompt(_messages("text_to_pose", model, text="kneel on the right knee"))
    answers = generate(model, prompt.input_ids, prompt.span_ids, prompt.position_ids, [],
                       Sampling(max_new_tokens=3), start_with_pose=True)
    codes = answers[0].pieces[0]
    assert codes.shape == (model.vocab.num_pose_tokens,)
    sample = model.build_sample("text_to_pose", text="kneel on the right knee", target=codes.numpy(), template=0)
    full = _logits(model, [sample])[0]
    queries = torch.nonzero(sample.branch).flatten()
    code_logits = full[queries][:, model.vocab.first_id:model.vocab.first_id + model.vocab.codebook_size]
    assert _near_argmax(code_logits, codes)  # the full forward would choose the same codes, up to float ties
    # numerically: a cached prefill, then the queries alone, then codes + <pose_end> after cropping them
    stream = _Stream(model, 1, model.device)
    ones = lambda count: torch.ones(1, count, dtype=torch.bool)  # noqa: E731
    with torch.no_grad():
        start = len(prompt) + 1  # prompt + <pose_start>
        ids = sample.input_ids[:start][None]
        stream.feed(model.embed(ids, []), ones(start), sample.span_ids[:start][None], sample.position_ids[:start][None])
        hidden = stream.feed(model.embed(sample.input_ids[queries][None], []), ones(len(queries)),
                             torch.full((1, len(queries)), 5), sample.position_ids[queries][None])
        assert torch.allclose(stream.logits(hidden)[0], full[queries], atol=1e-4)
        assert torch.allclose(stream.code_logits(hidden)[0], code_logits, atol=1e-4)
        stream.crop(len(queries))
        rest = slice(int(queries[-1]) + 1, int(queries[-1]) + 2 + len(queries))  # codes + <pose_end>
        hidden = stream.feed(model.embed(sample.input_ids[rest][None], []), ones(len(queries) + 1),
                             sample.span_ids[rest][None], sample.position_ids[rest][None])
    assert torch.allclose(stream.logits(hidden)[0, -1], full[rest][-1], atol=1e-4)
    continued = answers[0].pieces[1:]
    assert not continued or _near_argmax(full[rest][-1, :model.vocab.first_id], torch.tensor(continued[0][0]))


def test_sampling_several_poses_in_one_batch(checkpoint):
    model = _load(checkpoint)
    run = lambda **kw: model.run("text_to_pose", text="squat", max_new_tokens=4, **kw)  # noqa: E731
    first, again = run(num_samples=3, temperature=1.0, seed=3), run(num_samples=3, temperature=1.0, seed=3)
    assert len(first.poses) == 3 and first.poses[0].shape == (22, 3)
    assert all(np.array_equal(a, b) for a, b in zip(first.poses, again.poses))
    assert not np.allclose(first.poses[0], first.poses[1])
    greedy = run(num_samples=2)
    assert np.array_equal(greedy.poses[0], greedy.poses[1])
    # top_p 1e-6 keeps only the top token: the greedy codes, decoded as they are. Compared at the same batch
    # shape: across shapes, a random tiny model's near-tied logits round differently on different CPU kernels.
    nucleus = run(num_samples=2, temperature=1.0, top_p=1e-6, seed=1)
    assert all(np.allclose(a, b) for a, b in zip(nucleus.poses, run(num_samples=2, expected_pose=False).poses))
    assert not np.allclose(nucleus.poses[0], greedy.poses[0])  # greedy answers decode expected code vectors


def test_all_tasks_run_and_return_structured_output(checkpoint):
    model = _load(checkpoint)
    image = Image.new("RGB", (40, 30), (200, 10, 10))
    inputs = {"pose_to_text": dict(poses=[_pose()]), "image_to_text": dict(images=[image]),
              "pose_diff": dict(poses=[_pose(), _pose()]), "image_diff": dict(images=[image, image]),
              "text_to_pose": dict(text="arms up"), "image_to_pose": dict(images=[image]),
              "edit_pose": dict(text="bend the knees", poses=[_pose()])}
    for task, kwargs in inputs.items():
        out = model.run(task, max_new_tokens=4, **kwargs)
        if TASKS[task].output == "pose":
            assert len(out.poses) == 1 and np.isfinite(out.poses[0]).all()
        else:
            assert isinstance(out.texts[0], str)


def test_chat_feeds_earlier_poses_back(checkpoint):
    model = _load(checkpoint)
    messages = [{"role": "user", "content": "Make a pose.", "poses": []},
                {"role": "assistant", "content": "Here: <pose>", "poses": [_pose()]},
                {"role": "user", "content": "Now lower the arms."}]
    prompt = model.builder.prompt(messages)
    assert int((prompt.input_ids == model.vocab.pose_start).sum()) == 1
    assert int((prompt.span_ids == 0).sum()) == model.vocab.num_pose_tokens
    assert model.chat(messages, max_new_tokens=3, pose_answer=True).poses[0].shape == (22, 3)


def test_every_task_gives_finite_loss_and_gradients_reach_only_trainable_parts(checkpoint):
    model = _load(checkpoint, trainable=True)
    model.add_lora(LoraSettings(r=4, alpha=8, dropout=0.05))
    randomize_lora(model)
    image = Image.new("RGB", (20, 20), (0, 90, 200))
    targets = {"text": "the person raises both arms", "pose": _pose()}
    inputs = {"pose_to_text": dict(poses=[_pose()]), "image_to_text": dict(images=[image]),
              "pose_diff": dict(poses=[_pose(), _pose()]), "image_diff": dict(images=[image, image]),
              "text_to_pose": dict(text="arms up"), "image_to_pose": dict(images=[image]),
              "edit_pose": dict(text="bend the knees", poses=[_pose()])}
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "trainable_tokens" in n or "vision.projector" in n for n in trainable)
    for task, kwargs in inputs.items():
        model.zero_grad(set_to_none=True)
        sample = model.build_sample(task, target=targets[TASKS[task].output], rng=__import__("random").Random(0),
                                    **kwargs)
        out = model(model.collate([sample]))
        assert torch.isfinite(out.loss), task
        assert torch.isfinite(out.pose_loss if TASKS[task].output == "pose" else out.text_loss)
        out.loss.backward()
        for name, p in model.named_parameters():
            if name not in trainable:
                assert p.grad is None, name
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for n, p in model.named_parameters()
                   if "trainable_tokens" in n), task
        projector_grad = model.vision.projector[0].weight.grad
        assert (projector_grad is not None and projector_grad.abs().sum() > 0) == (task.startswith("image")), task


def test_expected_joint_error_is_zero_at_the_target_and_trains_the_pose_answer(checkpoint):
    from training.stages.model_setup import expected_joint_error, unipose_loss
    model = _load(checkpoint, trainable=True)
    model.add_lora(LoraSettings(r=4, alpha=8, dropout=0.0))
    randomize_lora(model)
    batch = model.collate([model.build_sample("text_to_pose", text="arms up", target=_codes(model, 3), template=0),
                           model.build_sample("text_to_pose", text="kneel", target=_codes(model, 4), template=0)])
    out = model(batch)
    assert out.code_logits.shape == (2 * model.vocab.num_pose_tokens, model.vocab.codebook_size)
    certain = torch.nn.functional.one_hot(out.code_targets, model.vocab.codebook_size).float() * 50.0
    assert expected_joint_error(model, certain, out.code_targets) < 1e-5      # metres: the target's own codes
    assert expected_joint_error(model, out.code_logits, out.code_targets) > 1e-3   # the tiny decoder varies little
    plain, parts = unipose_loss(model, batch, step=0)
    weighted, weighted_parts = unipose_loss(model, batch, step=0, joint_weight=10.0)
    assert "joint_error" not in parts
    assert torch.isclose(weighted, plain + 10.0 * weighted_parts["joint_error"], rtol=1e-4)
    model.zero_grad(set_to_none=True)
    expected_joint_error(model, model(batch).code_logits, out.code_targets).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for n, p in model.named_parameters() if "lora_" in n)
    assert all(p.grad is None for p in model.pose_tokenizer.parameters())


def test_stage2_trains_only_the_projector(checkpoint):
    from training.stages.model_setup import set_trainable
    model = _load(checkpoint, trainable=True)
    set_trainable(model, ("projector",))
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names and all(n.startswith("vision.projector") for n in names)
    sample = model.build_sample("image_to_text", images=[Image.new("RGB", (9, 9))], target="standing")
    model(model.collate([sample])).loss.backward()
    assert model.vision.projector[2].weight.grad.abs().sum() > 0


def test_image_slots_are_replaced_and_not_supervised(checkpoint):
    model = _load(checkpoint)
    image = Image.new("RGB", (16, 16), (10, 200, 30))
    sample = model.build_sample("image_to_pose", images=[image], target=_pose())
    slots = sample.input_ids == model.vocab.image
    assert int(slots.sum()) == model.vision.num_tokens == 16
    assert (sample.targets[slots] == IGNORE).all()
    with torch.no_grad():
        embeds = model.embed(sample.input_ids[None], [image])[0]
        assert torch.allclose(embeds[slots], model.vision([image])[0])


@pytest.mark.parametrize("tied", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_lora_save_load_gives_identical_outputs(tmp_path, tied):
    path = make_tiny_checkpoint(tmp_path / "src", seed=1, tied=tied, lora=True, vision=False)
    sample_args = dict(text="raise the left arm", poses=[_pose()], target=_pose(), template=2)
    trained = _load(path, trainable=True)
    sample = trained.build_sample("edit_pose", **sample_args)
    reference = _logits(trained.eval(), [sample])
    bare = _load(make_tiny_checkpoint(tmp_path / "bare", seed=1, tied=tied, vision=False))
    assert not torch.allclose(_logits(bare, [sample]), reference, atol=1e-3)  # the adapter matters
    trained.save_pretrained(tmp_path / "copy")
    again = _load(tmp_path / "copy", trainable=True).eval()
    assert torch.allclose(_logits(again, [sample]), reference, atol=1e-6)
    merged = _load(tmp_path / "copy")  # adapter merged for deployment
    assert not merged.has_lora
    assert torch.allclose(_logits(merged, [sample]), reference, atol=1e-4)
    merged.save_pretrained(tmp_path / "deploy")
    assert torch.allclose(_logits(_load(tmp_path / "deploy"), [sample]), reference, atol=1e-4)


def test_a_cut_backbone_keeps_its_first_layers_through_save_load_and_merge(tmp_path):
    path = make_tiny_checkpoint(tmp_path / "cut", seed=1, lora=True, vision=False, backbone_layers=1)
    trained = _load(path, trainable=True)
    sample = trained.build_sample("text_to_pose", text="sit down", target=_pose(), template=0)
    reference = _logits(trained.eval(), [sample])
    full = _load(make_tiny_checkpoint(tmp_path / "full", seed=1, lora=True, vision=False))
    assert len(full.llm.get_decoder().layers) == 2
    assert not torch.allclose(_logits(full, [sample]), reference, atol=1e-3)  # the cut matters
    for model in (trained, _load(path)):  # with its adapter, and merged for deployment
        assert len(model.llm.get_decoder().layers) == model.llm.config.num_hidden_layers == 1
    merged = _load(path)
    assert torch.allclose(_logits(merged, [sample]), reference, atol=1e-4)
    merged.save_pretrained(tmp_path / "deploy")
    deployed = _load(tmp_path / "deploy")
    assert len(deployed.llm.get_decoder().layers) == 1
    assert torch.allclose(_logits(deployed, [sample]), reference, atol=1e-4)


def test_projected_code_rows_train_one_shared_map_and_serve_as_plain_rows(tmp_path):
    from training.stages.model_setup import set_trainable
    path = make_tiny_checkpoint(tmp_path / "src", seed=2, vision=False, code_embeddings="projected")
    model = _load(path, trainable=True)
    rows = model.llm.get_input_embeddings().weight[model.vocab.first_id:model.vocab.pose_start]
    assert torch.allclose(model.code_projection(), rows, atol=1e-4)  # starts as the usual initial rows
    model.add_lora(LoraSettings(r=4, alpha=8, dropout=0.0))
    set_trainable(model, ["lora", "pose_embeddings"])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {"code_projection.map.weight", "code_projection.map.bias"} <= trainable
    samples = [model.build_sample("edit_pose", text="bend the knees", poses=[_codes(model, 4)],
                                  target=_codes(model, 5), template=0)]
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    losses = []
    for _ in range(5):
        out = model(model.collate(samples))
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        losses.append(float(out.pose_loss.detach()))
    assert losses[-1] < losses[0]
    model.eval()
    with torch.no_grad():
        trained = model(model.collate(samples))  # input and output code rows from the map
    model.save_pretrained(tmp_path / "copy")
    served = _load(tmp_path / "copy")  # merged, no projection: the rows were written at save
    assert served.code_projection is None
    with torch.no_grad():
        again = served(served.collate(samples))
    assert torch.allclose(again.pose_loss, trained.pose_loss, atol=1e-4)
    resumed = _load(tmp_path / "copy", trainable=True)  # continuing training gets the map back
    assert torch.allclose(resumed.code_projection(), model.code_projection(), atol=1e-6)


def test_qwen2_backbone_masks_and_decodes(tmp_path):
    model = _load(make_tiny_checkpoint(tmp_path, model_type="qwen2", vision=False))
    sample = _sample_with_pose_spans(model, _codes(model, 2))
    short = model.build_sample("pose_to_text", poses=[_codes(model, 3)], target="arms up")
    together = _logits(model, [short, sample])
    assert torch.allclose(together[1], _logits(model, [sample])[0], atol=1e-5)
    assert model.run("text_to_pose", text="sit", max_new_tokens=2).poses[0].shape == (22, 3)


def _load(path, **kwargs):
    """Exact float32 weights: the comparisons here are at 1e-6 (inference defaults to bf16 where native)."""
    return UniPose.from_pretrained(path, dtype="float32", **kwargs)


def _messages(task, model, **kwargs):
    from backend.model import task_messages
    return task_messages(task, template=0, **kwargs)


def _replace(sample, **changes):
    from dataclasses import replace
    return replace(sample, **changes)


def test_bfloat16_inference_runs_every_kind_of_input(checkpoint):
    model = UniPose.from_pretrained(checkpoint, dtype="bfloat16")
    assert next(model.llm.parameters()).dtype == torch.bfloat16
    image = Image.new("RGB", (20, 20), (0, 90, 200))
    assert model.run("image_to_pose", images=[image], num_samples=2, temperature=0.7, seed=1).poses[1].shape == (22, 3)
    assert isinstance(model.run("pose_diff", poses=[_pose(), _pose()], max_new_tokens=3).texts[0], str)


def test_new_rows_start_distinct_and_follow_the_codebook(checkpoint):
    model = UniPose.from_pretrained(checkpoint, dtype="float32")
    weight = model.llm.get_input_embeddings().weight.detach()
    vocab = model.vocab
    old = weight[:vocab.first_id]
    codes_rows = weight[vocab.first_id:vocab.pose_start]  # (size, H)
    queries = weight[vocab.query_ids()]  # (80, H)
    # Ordinary-token statistics: rows as spread as the old ones, not clustered at the mean embedding.
    assert torch.allclose(codes_rows.std(0).mean(), old.std(0).mean(), rtol=0.1)
    assert torch.cdist(queries, queries).fill_diagonal_(float("inf")).min() > 0.5 * torch.cdist(old, old).median()
    # Code rows keep the tokenizer's geometry: their distances correlate with codebook distances.
    codebook = model.pose_tokenizer.codebook.codes
    upper = torch.triu_indices(len(codebook), len(codebook), 1)
    lm_d = torch.cdist(codes_rows, codes_rows)[upper[0], upper[1]]
    vq_d = torch.cdist(codebook, codebook)[upper[0], upper[1]]
    assert torch.corrcoef(torch.stack([lm_d, vq_d]))[0, 1] > 0.5


def test_rslora_scales_the_adapter_by_alpha_over_sqrt_rank(checkpoint):
    model = UniPose.from_pretrained(checkpoint, dtype="float32")
    model.add_lora(LoraSettings(r=16, alpha=8, dropout=0.0, use_rslora=True))
    scalings = {m.scaling["default"] for m in model.llm.modules() if isinstance(getattr(m, "scaling", None), dict)}
    assert scalings == {8 / 16 ** 0.5} and model.config.lora["use_rslora"] is True


def test_image_to_pose_has_no_pose_hint_unless_the_checkpoint_asks(checkpoint):
    """The hint (tests/test_image_pose_hint.py) is off by default: the prompt holds the image and no input pose."""
    model = _load(checkpoint)
    assert model.config.image_pose_hint is False
    sample = model.build_sample("image_to_pose", images=[Image.new("RGB", (16, 16))], target=_pose(), template=0)
    assert not ((sample.span_ids >= 0) & ~sample.branch)[:int(torch.nonzero(sample.branch).min())].any()
