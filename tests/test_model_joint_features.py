"""Joint positions beside pose codes (backend/model/joint_features.py) on tiny random models."""
import numpy as np
import pytest
import torch

from backend.model import UniPose
from backend.sampling import Sampling
from support.tiny_model import make_tiny_checkpoint
from training.stages.model_setup import set_trainable

torch.set_num_threads(2)


def _pose(seed: int, scale: float = 0.4) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((22, 3)) * scale).astype(np.float32)


def _load(path, **kwargs):
    return UniPose.from_pretrained(path, dtype="float32", **kwargs)


def _logits(model, samples):
    with torch.no_grad():
        return model(model.collate(samples)).logits


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"), seed=3, lora=True, vision=False)


@pytest.fixture()
def grown(checkpoint):
    """The tiny LoRA checkpoint loaded for training, and its logits before it grows joint features."""
    model = _load(checkpoint, trainable=True)
    samples = [model.build_sample("pose_to_text", poses=[_pose(seed)], target=text, template=0)
               for seed, text in ((1, "arms up"), (2, "knees bent"))]
    before = _logits(model.eval(), samples)
    model.add_joint_features()
    return model, samples, before


def test_a_new_joint_map_answers_as_before(grown):
    model, samples, before = grown
    assert torch.equal(_logits(model, samples), before)
    assert model.config.joint_features


def test_joint_features_train_read_the_pose_and_survive_save_load_and_merge(grown, tmp_path):
    model, samples, _ = grown
    model.train()
    set_trainable(model, ["lora", "joint_features"])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {"joint_features.map.weight", "joint_features.map.bias"} <= trainable
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        loss = model(model.collate(samples)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    assert model.joint_features.map.weight.abs().sum() > 0
    # the same codes read as a pose span get their pose's vector on top of the code rows
    ids = samples[0].input_ids[None]
    is_code = model.vocab.is_code(ids)
    with torch.no_grad():
        added = model.embed(ids, []) - model.llm.get_input_embeddings()(ids)
    assert torch.allclose(added[~is_code], torch.zeros(()), atol=1e-6)
    assert added[is_code].norm(dim=-1).min() > 0 and torch.allclose(added[is_code], added[is_code][:1], atol=1e-6)
    reference = _logits(model, samples)
    model.save_pretrained(tmp_path / "copy")
    # with the adapter; merged (writing the merged-LM cache); merged from that cache, the map read beside it
    loads = [_load(tmp_path / "copy", trainable=True).eval(), _load(tmp_path / "copy"), _load(tmp_path / "copy")]
    for again in loads:
        assert torch.allclose(_logits(again, samples), reference, atol=1e-4)
    served = loads[-1]
    assert served.run("pose_to_text", poses=[_pose(1)], sampling=Sampling(max_new_tokens=3)).texts
    assert served.run("text_to_pose", text="sit", sampling=Sampling(max_new_tokens=2)).poses[0].shape == (22, 3)


def test_incomplete_pose_spans_are_refused(grown):
    model, samples, _ = grown
    ids = samples[0].input_ids
    first_code = int(torch.nonzero(model.vocab.is_code(ids))[0])
    with pytest.raises(ValueError, match="complete spans"):
        model.embed(ids[None, :first_code + 5], [])


def test_the_joint_features_group_needs_the_map(checkpoint):
    model = _load(checkpoint, trainable=True)
    with pytest.raises(ValueError, match="joint_features"):
        set_trainable(model, ["lora", "joint_features"])
