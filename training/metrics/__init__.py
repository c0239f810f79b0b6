"""Evaluation metrics of PoseScript/PoseFix/UniPose: retrieval, pose error, FID and text overlap.

Every function here is pure (arrays in, numbers out) and downloads nothing.
"""
from training.metrics.fid import frechet_distance
from training.metrics.pose import mpjpe_mm, pa_mpjpe_mm, procrustes_align
from training.metrics.retrieval import r_precision, recall_at_k
from training.metrics.text import bleu4, meteor, rouge_l

__all__ = [
    "bleu4", "frechet_distance", "meteor", "mpjpe_mm", "pa_mpjpe_mm", "procrustes_align",
    "r_precision", "recall_at_k", "rouge_l",
]
