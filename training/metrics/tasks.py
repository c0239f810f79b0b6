"""Scores of one evaluated task: generated poses or texts against the held-out ground truth.

Pose outputs: MPJPE / PA-MPJPE (mm, 22 joints by forward kinematics), and with a retrieval model
R-precision (1 true + 31 random texts), text->pose and pose->text recall@5/10/20 and FID between
generated and ground-truth retrieval features. Text outputs: BLEU-4, ROUGE-L, METEOR, and R-precision of
the generated text against its pose (pair) under the retrieval model.
"""
import numpy as np
import torch

from backend.body.kinematics import pose_joints
from training.metrics.fid import frechet_distance
from training.metrics.pose import mpjpe_mm, pa_mpjpe_mm
from training.metrics.retrieval import r_precision, recall_at_k
from training.metrics.text import bleu4, meteor, rouge_l


def joints22(poses: np.ndarray) -> np.ndarray:
    """(N, 22, 3) axis-angle -> (N, 22, 3) joint positions in metres."""
    return pose_joints(np.asarray(poses, np.float64))[:, :22]


@torch.no_grad()
def _pose_side(retrieval, poses: np.ndarray, poses_a: np.ndarray | None) -> np.ndarray:
    p = torch.as_tensor(np.asarray(poses, np.float32))
    if retrieval.config.kind == "pair":
        return retrieval.encode_pairs(torch.as_tensor(np.asarray(poses_a, np.float32)), p).numpy()
    return retrieval.encode_poses(p).numpy()


@torch.no_grad()
def _text_side(retrieval, embed, texts: list[str]) -> np.ndarray:
    return retrieval.encode_text_features(embed(texts)).numpy()


def _retrieval_scores(pose_emb: np.ndarray, text_emb: np.ndarray, prefix: str = "") -> dict:
    scores = {f"{prefix}r_precision_top{k}": v for k, v in r_precision(pose_emb, text_emb).items()}
    scores.update({f"{prefix}recall_t2p@{k}": v for k, v in recall_at_k(text_emb, pose_emb).items()})
    scores.update({f"{prefix}recall_p2t@{k}": v for k, v in recall_at_k(pose_emb, text_emb).items()})
    return scores


def score_poses(pred: np.ndarray, target: np.ndarray, texts: list[str], retrieval=None, embed=None,
                poses_a: np.ndarray | None = None) -> dict:
    """pred, target: (N, 22, 3) axis-angle; texts[i] the prompt of sample i; poses_a: inputs of edits."""
    scores = {"n": len(pred), "mpjpe_mm": mpjpe_mm(joints22(pred), joints22(target)),
              "pa_mpjpe_mm": pa_mpjpe_mm(joints22(pred), joints22(target))}
    if retrieval is not None and len(pred) >= 2:
        text_emb = _text_side(retrieval, embed, texts)
        gen_emb = _pose_side(retrieval, pred, poses_a)
        real_emb = _pose_side(retrieval, target, poses_a)
        scores.update(_retrieval_scores(gen_emb, text_emb))
        scores.update(_retrieval_scores(real_emb, text_emb, prefix="real_"))   # the ceiling: ground-truth poses
        scores["fid"] = frechet_distance(gen_emb, real_emb)
    return scores


def score_texts(pred: list[str], references: list[list[str]], retrieval=None, embed=None,
                poses: np.ndarray | None = None, poses_a: np.ndarray | None = None) -> dict:
    """pred[i]: generated text; references[i]: all ground-truth texts; poses: what was described (pose B
    of a pair when poses_a is given)."""
    scores = {"n": len(pred), "bleu4": bleu4(pred, references), "rouge_l": rouge_l(pred, references),
              "meteor": meteor(pred, references)}
    if retrieval is not None and poses is not None and len(pred) >= 2:
        pose_emb = _pose_side(retrieval, poses, poses_a)
        scores.update(_retrieval_scores(pose_emb, _text_side(retrieval, embed, pred)))
        scores.update(_retrieval_scores(pose_emb, _text_side(retrieval, embed, [r[0] for r in references]),
                                        prefix="real_"))
    return scores
