"""The reference rows of the benchmarks: what chance looks like and what looking the answer up gives.

Trivial: the mean pose of the training split (per-joint rotation mean) for every pose answer, its caption
for every text answer. Nearest neighbour: the training-split pose, caption or edit that the evaluation's
retrieval judge (`training.retrieval`, the models behind `training.evaluate`'s R-precision) finds closest:
text -> pose across modalities for a prompt, pose -> pose for a description (the caption of the closest
training pose), instruction -> instruction for an edit (the closest training instruction's rotation change,
applied to the start pose).
"""
from pathlib import Path

import numpy as np
import torch

from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from training.task_records import Corpus
from training.retrieval.fit import PAIR_TEXT, POSE_TEXT, TextEmbeddings, fit_retrieval_models
from training.retrieval.model import RetrievalModel

DEFAULT_JUDGE = Path(__file__).resolve().parents[2] / "docs" / "eval" / "retrieval"
_BATCH = 2048


def load_judge(corpus: Corpus, folder: str | Path = DEFAULT_JUDGE, log=print) -> dict[str, RetrievalModel]:
    """The retrieval judge ({"pose_text", "pair_text"}) saved in `folder`, trained on the corpus's training
    split first when it is not there (as `training.evaluate` does)."""
    models = fit_retrieval_models(corpus, Path(folder), log=log)
    return {name: model.eval() for name, model in models.items()}


def mean_pose(corpus: Corpus) -> np.ndarray:
    """(22, 3) axis-angle: per joint, the rotation closest to the mean rotation matrix of the training split."""
    ids = corpus.split_ids("train")
    rotmats = axis_angle_to_rotmat(np.stack([corpus.pose(i) for i in ids]).astype(np.float64)).mean(0)  # (22, 3, 3)
    u, _, vt = np.linalg.svd(rotmats)
    fix = np.ones((len(u), 3))
    fix[:, -1] = np.sign(np.linalg.det(u @ vt))
    return rotmat_to_axis_angle(np.einsum("jik,jk,jkl->jil", u, fix, vt)).astype(np.float32)


@torch.no_grad()
def encode_poses(judge: RetrievalModel, poses: np.ndarray) -> np.ndarray:
    """(N, 22, 3) -> (N, D) unit vectors in the judge's space."""
    out = [judge.encode_poses(torch.as_tensor(np.asarray(poses[i:i + _BATCH], np.float32)))
           for i in range(0, len(poses), _BATCH)]
    return torch.cat(out).numpy() if out else np.zeros((0, judge.config.latent_dim), np.float32)


@torch.no_grad()
def encode_pairs(judge: RetrievalModel, poses_a: np.ndarray, poses_b: np.ndarray) -> np.ndarray:
    """(N, 22, 3) x 2 -> (N, D) unit vectors in the pair judge's space."""
    return judge.encode_pairs(torch.as_tensor(np.asarray(poses_a, np.float32)),
                              torch.as_tensor(np.asarray(poses_b, np.float32))).numpy()


@torch.no_grad()
def encode_texts(judge: RetrievalModel, embed: TextEmbeddings, texts: list[str]) -> np.ndarray:
    """(N,) texts -> (N, D) unit vectors in the judge's space."""
    return judge.encode_text_features(embed(list(texts))).numpy()


class PoseLookup:
    """The training split's poses in the pose-text judge's space."""

    def __init__(self, corpus: Corpus, judge: RetrievalModel, embed: TextEmbeddings):
        self.ids = corpus.split_ids("train")
        self.poses = np.stack([corpus.pose(i) for i in self.ids])
        self.captions = [corpus.captions.get(i, [""])[0] for i in self.ids]
        self.judge, self.embed = judge, embed
        self.features = encode_poses(judge, self.poses)           # (N, D)

    def pose_for_texts(self, texts: list[str]) -> np.ndarray:
        """For each text, the training pose the judge matches best: (len(texts), 22, 3)."""
        best = (encode_texts(self.judge, self.embed, texts) @ self.features.T).argmax(1)
        return self.poses[best]

    def caption_for_poses(self, poses: np.ndarray) -> list[str]:
        """For each pose, the first caption of the closest captioned training pose."""
        has_caption = np.array([bool(c) for c in self.captions])
        sim = encode_poses(self.judge, poses) @ self.features.T
        sim[:, ~has_caption] = -np.inf
        return [self.captions[i] for i in sim.argmax(1)]


class EditLookup:
    """The training split's edits (pose A -> pose B, first instruction) with the instructions in the pair judge's
    text space."""

    def __init__(self, corpus: Corpus, judge: RetrievalModel, embed: TextEmbeddings):
        members = corpus.splits.get("train", set())
        # the first instruction of each pair, as the evaluation reads pairs (embedding all three triples the time)
        rows = [(a, b, texts[0]) for a, b, texts in corpus.pairs if a in members and b in members and texts]
        self.pose_a = np.stack([corpus.pose(a) for a, _, _ in rows])
        self.pose_b = np.stack([corpus.pose(b) for _, b, _ in rows])
        self.texts = [t for _, _, t in rows]
        self.judge, self.embed = judge, embed
        self.features = encode_texts(judge, embed, self.texts)     # (M, D)
        self.pair_features = None                                   # (M, D) in the pair space, on first use

    def apply(self, start: np.ndarray, instruction: str) -> np.ndarray:
        """Apply the rotation change of the training edit whose instruction is closest: (22, 3) -> (22, 3).
        Per joint, B's rotation relative to A's is applied on top of the start's."""
        k = int((encode_texts(self.judge, self.embed, [instruction]) @ self.features.T).argmax())
        ra = axis_angle_to_rotmat(self.pose_a[k].astype(np.float64))
        rb = axis_angle_to_rotmat(self.pose_b[k].astype(np.float64))
        rs = axis_angle_to_rotmat(np.asarray(start, np.float64))
        return rotmat_to_axis_angle(rb @ np.swapaxes(ra, -1, -2) @ rs).astype(np.float32)

    def instruction_for_pairs(self, poses_a: np.ndarray, poses_b: np.ndarray) -> list[str]:
        """For each pair (N, 22, 3) x 2, the instruction of the training pair the judge finds closest."""
        if self.pair_features is None:
            self.pair_features = encode_pairs(self.judge, self.pose_a, self.pose_b)  # (M, D)
        best = (encode_pairs(self.judge, poses_a, poses_b) @ self.pair_features.T).argmax(1)
        return [self.texts[i] for i in best]


__all__ = ["DEFAULT_JUDGE", "EditLookup", "POSE_TEXT", "PAIR_TEXT", "PoseLookup", "encode_pairs", "encode_poses",
           "encode_texts", "load_judge", "mean_pose"]
