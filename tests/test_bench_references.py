"""The benchmarks' reference rows on a tiny corpus, with an untrained judge and fake text embeddings (no
MiniLM, no LLM): the mean pose is a pose, and the lookups return training items."""
import numpy as np
import torch

from backend.body.example_poses import EXAMPLE_POSES
from training.benchmarks.references import EditLookup, PoseLookup, mean_pose
from training.task_records import Corpus
from training.retrieval.model import RetrievalConfig, RetrievalModel

NAMES = ["t_pose", "standing_arms_down", "arms_raised", "sitting", "squat"]


def _corpus() -> Corpus:
    poses = np.stack([EXAMPLE_POSES[n] for n in NAMES]).astype(np.float32)
    ids = list(NAMES)
    return Corpus(poses, ids, ids, np.zeros(len(ids), bool), {n: [f"caption of {n}"] for n in ids},
                  [("t_pose", "arms_raised", ["raise your arms"]), ("standing_arms_down", "sitting", ["sit down"])],
                  {"train": set(ids[:4]), "test": {ids[4]}})


def _embed(texts: list[str]) -> torch.Tensor:
    """A deterministic stand-in for MiniLM: one random unit vector per distinct text."""
    out = []
    for t in texts:
        g = torch.Generator().manual_seed(sum(map(ord, t)) * 7919 + len(t))
        out.append(torch.nn.functional.normalize(torch.randn(384, generator=g), dim=0))
    return torch.stack(out)


def _judge(kind: str) -> RetrievalModel:
    torch.manual_seed(0)
    return RetrievalModel(RetrievalConfig(kind=kind)).eval()


def test_mean_pose_of_one_pose_is_that_pose():
    corpus = _corpus()
    corpus.splits["train"] = {"sitting"}
    assert np.allclose(mean_pose(corpus), EXAMPLE_POSES["sitting"], atol=1e-5)
    assert mean_pose(_corpus()).shape == (22, 3)


def test_pose_lookup_uses_the_training_split_only():
    lookup = PoseLookup(_corpus(), _judge("pose"), _embed)
    assert "squat" not in lookup.ids
    found = lookup.pose_for_texts(["a squat", "standing"])
    assert found.shape == (2, 22, 3)
    assert all(any(np.allclose(f, EXAMPLE_POSES[n]) for n in NAMES[:4]) for f in found)
    # a training pose's nearest pose is itself, so its caption comes back
    assert lookup.caption_for_poses(EXAMPLE_POSES["sitting"][None]) == ["caption of sitting"]


def test_edit_lookup_applies_the_closest_edits_rotation_change():
    lookup = EditLookup(_corpus(), _judge("pair"), _embed)
    assert lookup.texts == ["raise your arms", "sit down"]
    # the training edit's own start pose and instruction give back its target pose
    assert np.allclose(lookup.apply(EXAMPLE_POSES["standing_arms_down"], "sit down"), EXAMPLE_POSES["sitting"],
                       atol=1e-5)
    assert np.allclose(lookup.apply(EXAMPLE_POSES["t_pose"], "raise your arms"), EXAMPLE_POSES["arms_raised"],
                       atol=1e-5)
