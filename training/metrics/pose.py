"""Joint position errors in millimetres: MPJPE and Procrustes-aligned PA-MPJPE."""
import numpy as np


def mpjpe_mm(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean per-joint position error in mm. pred, target: (N, J, 3) metres."""
    return float(np.linalg.norm(pred - target, axis=-1).mean() * 1000.0)


def procrustes_align(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Similarity transform (scale, rotation, translation) of each pred onto its target.

    pred, target: (N, J, 3). Returns aligned pred (N, J, 3). Reflections are excluded.
    """
    mu_p = pred.mean(axis=1, keepdims=True)                    # (N, 1, 3)
    mu_t = target.mean(axis=1, keepdims=True)
    p, t = pred - mu_p, target - mu_t                          # (N, J, 3)
    cov = np.einsum("nji,njk->nik", p, t)                      # (N, 3, 3) = p^T t
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(np.einsum("nij,njk->nik", u, vt)))  # (N,)
    fix = np.ones_like(s)
    fix[:, -1] = d
    rot = np.einsum("nij,nj,njk->nik", u, fix, vt)             # (N, 3, 3) maps row vectors p -> t
    var_p = (p ** 2).sum(axis=(1, 2))                          # (N,)
    scale = (s * fix).sum(axis=1) / np.maximum(var_p, 1e-12)   # (N,)
    return scale[:, None, None] * np.einsum("nji,nik->njk", p, rot) + mu_t


def pa_mpjpe_mm(pred: np.ndarray, target: np.ndarray) -> float:
    """MPJPE after Procrustes alignment of each pose, in mm. pred, target: (N, J, 3) metres."""
    return mpjpe_mm(procrustes_align(pred, target), target)
