"""Prompt guidance of pose decoding: the scores, the priors a checkpoint stores, and their effect on answers."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from backend.body.example_poses import EXAMPLE_POSES
from backend.body.rotations_torch import rotmat_to_axis_angle
from backend.model import UniPose
from backend.body.skeleton import JOINT_INDEX
from backend.model.decoding import TextReference
from backend.model.guidance import (DESCRIPTION_REFERENCE_POSE, GUIDED_NUCLEUS, PRIOR_NAME, guided_scores, in_nucleus,
                                    mean_code_logprobs)
from backend.model.unipose import _with_system
from backend.sampling import Sampling
from support.tiny_model import make_tiny_checkpoint

torch.set_num_threads(2)
PROMPTS = ("kneel on the right knee", "raise both arms", "a person lying on the back")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"), seed=0, lora=True)


def _model(path):
    return UniPose.from_pretrained(path, dtype="float32")


def _prior(model):
    codes = np.zeros(model.vocab.num_pose_tokens, dtype=np.int64)
    samples = [model.build_sample("text_to_pose", text=t, target=codes, template=0) for t in PROMPTS]
    return mean_code_logprobs(model, samples, batch_size=2)


def test_guided_scores_interpolate_between_prior_and_conditional():
    logits = torch.randn(2, 5, 7)
    prior = torch.log_softmax(torch.randn(5, 7), -1)
    conditional = torch.log_softmax(logits, -1)
    assert torch.allclose(guided_scores(logits, prior, 1.0), conditional)
    assert torch.allclose(guided_scores(logits, prior, 0.0), prior.expand(2, -1, -1))
    amplified = guided_scores(logits, prior, 3.0)
    inside = in_nucleus(conditional.exp(), GUIDED_NUCLEUS)
    assert torch.allclose(amplified[inside], (3 * conditional - 2 * prior)[inside], atol=1e-6)
    assert torch.isneginf(amplified[~inside]).all() and not inside.all()


def test_amplifying_guidance_cannot_pick_a_code_the_model_finds_unlikely():
    """A code the conditional gives 1 % that the prior gives far less would win plain extrapolation at w = 4."""
    conditional = torch.log(torch.tensor([[0.90, 0.09, 0.01]]))
    prior = torch.log(torch.tensor([[0.90, 0.0999, 0.0001]]))
    assert (prior + 4 * (conditional - prior)).argmax() == 2          # what extrapolation alone would choose
    assert guided_scores(conditional, prior, 4.0).argmax() == 0


def test_nucleus_is_the_smallest_set_holding_the_mass():
    probs = torch.tensor([[0.5, 0.1, 0.3, 0.1], [0.97, 0.01, 0.01, 0.01]])
    assert in_nucleus(probs, 0.75).tolist() == [[True, False, True, False], [True, False, False, False]]


def test_prior_is_the_mean_of_the_inputs_log_probabilities(checkpoint):
    model = _model(checkpoint)
    prior = _prior(model)
    assert prior.shape == (model.vocab.num_pose_tokens, model.vocab.codebook_size)
    codes = np.zeros(model.vocab.num_pose_tokens, dtype=np.int64)
    one = mean_code_logprobs(model, [model.build_sample("text_to_pose", text=PROMPTS[0], target=codes, template=0)])
    assert torch.allclose(torch.logsumexp(one, -1), torch.zeros(len(one)), atol=1e-4)   # a distribution per query
    assert not torch.allclose(one, prior)


def test_guidance_steers_answers_and_the_prior_travels_with_the_checkpoint(checkpoint, tmp_path):
    model = _model(checkpoint)
    plain = [model.run("text_to_pose", text=t).poses[0] for t in PROMPTS]
    assert not np.allclose(plain[0], plain[1])
    model.pose_priors = {"text_to_pose": _prior(model)}
    model.save_pretrained(tmp_path / "guided")
    assert (tmp_path / "guided" / "unipose" / PRIOR_NAME).is_file()
    model = _model(tmp_path / "guided")
    assert torch.equal(model.pose_priors["text_to_pose"], _prior(model))
    for text, pose in zip(PROMPTS, plain):                       # weight 1 (the default) is plain decoding
        assert np.array_equal(model.run("text_to_pose", text=text).poses[0], pose)
    prior = model.pose_priors["text_to_pose"]
    prior_mode = model.pose_tokenizer.decode_axis_angle(prior.argmax(-1)[None])[0].numpy()
    prior_mean = rotmat_to_axis_angle(model.pose_tokenizer.decode_expected(prior.softmax(-1)[None]))[0].numpy()
    for text in PROMPTS:                                         # weight 0: the prior's answer, whatever the prompt
        assert np.allclose(model.run("text_to_pose", text=text, guidance=0.0).poses[0], prior_mean, atol=1e-5)
        codes_only = model.run("text_to_pose", text=text, guidance=0.0, expected_pose=False).poses[0]
        assert np.allclose(codes_only, prior_mode, atol=1e-6)
    strong = [model.run("text_to_pose", text=t, guidance=4.0).poses[0] for t in PROMPTS]
    assert any(not np.allclose(a, b) for a, b in zip(strong, plain))
    root = JOINT_INDEX["pelvis"]                                 # amplified answers keep the plain orientation
    for a, b in zip(strong, plain):
        assert np.allclose(a[root], b[root], atol=1e-5)


def test_edits_can_be_guided_against_the_answer_to_a_neutral_instruction(checkpoint):
    model = _model(checkpoint)
    start = model.run("text_to_pose", text=PROMPTS[0]).poses[0]
    neutral, instruction = "Keep the same pose.", "raise the left arm"
    model.config.edit_reference = neutral
    reference = model.reference_logprobs(model._messages("edit_pose", text=neutral, poses=[start], template=0))
    assert reference.shape == (model.vocab.num_pose_tokens, model.vocab.codebook_size)
    assert torch.allclose(torch.logsumexp(reference, -1), torch.zeros(len(reference)), atol=1e-4)
    codes_only = {"expected_pose": False}
    plain = model.run("edit_pose", text=neutral, poses=[start], guidance=1.0, **codes_only).poses[0]
    strong = model.run("edit_pose", text=neutral, poses=[start], guidance=4.0, **codes_only).poses[0]
    assert np.allclose(plain, strong, atol=1e-6)         # the reference itself: nothing to amplify
    guided = model.run("edit_pose", text=instruction, poses=[start], guidance=4.0).poses[0]
    messages = model._messages("edit_pose", text=instruction, poses=[start], template=0)
    by_hand = model.chat(messages, pose_answer=True, pose_prior=reference, guidance=4.0).poses[0]
    assert np.allclose(guided, by_hand)
    model.config.edit_reference = ""                     # the default: against the task prior
    model.pose_priors = {"edit_pose": _prior(model)}
    assert not np.allclose(model.run("edit_pose", text=instruction, poses=[start], guidance=4.0).poses[0], guided)


def _prompt(model, task, **inputs):
    return model.builder.prompt(_with_system(model._messages(task, template=0, **inputs), model.config.system_prompt))


def _next_token_logprobs(model, sample):
    """(V,) logits after a prompt sample, over the tokens text may write (as decoding scores them)."""
    hidden = model.hidden_states(model.collate([sample]))[0, -1]
    logits = model.llm.get_output_embeddings()(hidden)[:model.vocab.size].float()
    pose_start = logits[model.vocab.pose_start].clone()
    logits[model.vocab.first_id:] = float("-inf")
    logits[model.vocab.pose_start] = pose_start
    return logits


def _first_guided_token(model, task, reference_inputs, weight, **inputs):
    """The first text token the model writes for `inputs` guided against `reference_inputs`, and the guided
    argmax computed by hand from two separate forwards."""
    reference = _prompt(model, task, **reference_inputs)
    first = model._generate(model._messages(task, template=0, **inputs), Sampling(max_new_tokens=1), False, None,
                            TextReference(reference.input_ids, weight, reference.images))[0].pieces[0][0]
    by_hand = guided_scores(_next_token_logprobs(model, _prompt(model, task, **inputs)),
                            torch.log_softmax(_next_token_logprobs(model, reference), -1), weight).argmax()
    return first, int(by_hand)


def _answer_ids(model, task, poses=(), images=()):
    """The token ids `run` would write (greedy, 12 tokens), under the checkpoint's text reference if any."""
    messages = model._messages(task, poses=list(poses), images=list(images), template=0)
    reference = model._text_reference(task, list(poses), list(images))
    return model._generate(messages, Sampling(max_new_tokens=12), False, None, reference)[0].pieces


def test_descriptions_can_be_guided_against_a_standing_pose(checkpoint):
    model = _model(checkpoint)
    standing, squat = EXAMPLE_POSES[DESCRIPTION_REFERENCE_POSE], EXAMPLE_POSES["squat"]
    plain = _answer_ids(model, "pose_to_text", poses=[standing])
    model.config.description_guidance = 4.0
    assert _answer_ids(model, "pose_to_text", poses=[standing]) == plain  # nothing sets it apart
    first, by_hand = _first_guided_token(model, "pose_to_text", {"poses": [standing]}, 4.0, poses=[squat])
    assert first == by_hand


def test_differences_are_guided_against_a_to_a(checkpoint):
    model = _model(checkpoint)
    standing, squat = EXAMPLE_POSES[DESCRIPTION_REFERENCE_POSE], EXAMPLE_POSES["squat"]
    plain = _answer_ids(model, "pose_diff", poses=[squat, squat])
    assert model._text_reference("pose_diff", [squat, standing], []) is None  # off by default
    model.config.difference_guidance = 4.0
    assert _answer_ids(model, "pose_diff", poses=[squat, squat]) == plain  # nothing differs
    reference = model._text_reference("pose_diff", [squat, standing], [])
    assert reference.weight == 4.0
    assert torch.equal(reference.prompt_ids, _prompt(model, "pose_diff", poses=[squat, squat]).input_ids)
    first, by_hand = _first_guided_token(model, "pose_diff", {"poses": [squat, squat]}, 4.0, poses=[squat, standing])
    assert first == by_hand


def test_image_differences_are_guided_against_image_a_twice(checkpoint):
    model = _model(checkpoint)
    image_a, image_b = (Image.new("RGB", (32, 32), (value, value, value)) for value in (40, 200))
    assert model._text_reference("image_diff", [], [image_a, image_b]) is None  # off by default
    model.config.difference_guidance = 3.0
    reference = model._text_reference("image_diff", [], [image_a, image_b])
    assert reference.weight == 3.0 and [id(image) for image in reference.images] == [id(image_a)] * 2
    assert len(reference.prompt_ids) == len(_prompt(model, "image_diff", images=[image_a, image_b]).input_ids)
    first, by_hand = _first_guided_token(model, "image_diff", {"images": [image_a, image_a]}, 3.0,
                                         images=[image_a, image_b])
    assert first == by_hand


def test_pose_prior_command_writes_priors_and_default_weight(checkpoint, tmp_path):
    import shutil
    from training.pose_prior import main
    from support.toy_corpus import write_toy_corpus

    target = tmp_path / "ckpt"
    shutil.copytree(checkpoint, target)
    corpus = write_toy_corpus(tmp_path / "corpus")
    assert main([str(target), "--corpus", str(corpus), "--samples", "6", "--guidance", "2.5",
                 "--edit-reference", "Keep the same pose.", "--description-guidance", "2",
                 "--difference-guidance", "1.5"]) == 0
    model = _model(target)
    assert set(model.pose_priors) == {"text_to_pose", "edit_pose", "image_to_pose"}
    assert model.config.guidance == 2.5 and model.config.edit_reference == "Keep the same pose."
    assert model.config.description_guidance == 2.0 and model.config.difference_guidance == 1.5
    for flag in ("--description-guidance", "--difference-guidance"):
        with pytest.raises(SystemExit):
            main([str(target), "--corpus", str(corpus), "--samples", "6", flag, "0.5"])
    assert json.loads((target / "unipose" / "config.json").read_text())["guidance"] == 2.5
