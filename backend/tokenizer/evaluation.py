"""Reconstruction metrics of a pose tokenizer: MPJPE / PA-MPJPE (mm), per-joint error, codebook use."""
import dataclasses
from pathlib import Path

import numpy as np
import torch

from backend.body.rotations import rotmat_to_axis_angle
from backend.body.rotations_torch import axis_angle_to_rotmat
from backend.body.skeleton import JOINT_NAMES
from backend.render import grid, render_overlay
from backend.tokenizer.losses import pose_joints_from_rotmats
from backend.tokenizer.model import PoseTokenizer


@dataclasses.dataclass
class TokenizerEvaluation:
    mpjpe_mm: float  # mean over poses and the 24 skeleton joints (pelvis-aligned, pelvis included)
    pa_mpjpe_mm: float  # the same after a per-pose similarity (Procrustes) alignment
    per_joint_mm: np.ndarray  # (24,) mean error of every joint
    per_pose_mm: np.ndarray  # (N,) MPJPE of every pose
    codes_used: int  # distinct codebook entries among all tokens of the set
    codebook_size: int
    perplexity: float  # exp(entropy) of the set's token histogram
    reconstructions: np.ndarray  # (N, 22, 3, 3) decoded rotations

    @property
    def utilisation(self) -> float:
        return self.codes_used / self.codebook_size

    def summary(self) -> dict:
        return {
            "mpjpe_mm": self.mpjpe_mm,
            "pa_mpjpe_mm": self.pa_mpjpe_mm,
            "codes_used": self.codes_used,
            "codebook_utilisation": self.utilisation,
            "perplexity": self.perplexity,
            "per_joint_mm": {name: float(e) for name, e in zip(JOINT_NAMES, self.per_joint_mm)},
        }


def procrustes_align(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Best similarity transform of source onto target per batch item. (B, J, 3), (B, J, 3) -> (B, J, 3)."""
    mu_s, mu_t = source.mean(1, keepdim=True), target.mean(1, keepdim=True)
    s, t = source - mu_s, target - mu_t
    u, sigma, vh = torch.linalg.svd(s.transpose(1, 2) @ t)  # covariance (B, 3, 3)
    sign = torch.sign(torch.linalg.det(u @ vh))  # avoid reflections
    d = torch.ones_like(sigma)
    d[:, -1] = sign
    rotation = (u * d[:, None, :]) @ vh  # (B, 3, 3), applied as row vectors: s @ rotation
    scale = (sigma * d).sum(1) / s.pow(2).sum((1, 2))  # (B,)
    return scale[:, None, None] * s @ rotation + mu_t


@torch.no_grad()
def evaluate_tokenizer(tokenizer: PoseTokenizer, axis_angle: np.ndarray, batch_size: int = 512) -> TokenizerEvaluation:
    """Round-trips poses (N, 22, 3) axis-angle through the tokenizer and measures the joint errors."""
    errors, aligned_errors, recon, counts = [], [], [], torch.zeros(tokenizer.config.codebook_size, dtype=torch.float64)
    for start in range(0, len(axis_angle), batch_size):
        rotmats = axis_angle_to_rotmat(torch.as_tensor(axis_angle[start : start + batch_size], dtype=torch.float64))
        ids = tokenizer.encode(rotmats)
        decoded = tokenizer.decode(ids).cpu().double()  # (b, 22, 3, 3)
        counts += torch.bincount(ids.flatten().cpu(), minlength=tokenizer.config.codebook_size).double()
        true_joints = pose_joints_from_rotmats(rotmats)  # (b, 24, 3)
        pred_joints = pose_joints_from_rotmats(decoded)
        errors.append((pred_joints - true_joints).norm(dim=-1))
        aligned_errors.append((procrustes_align(pred_joints, true_joints) - true_joints).norm(dim=-1))
        recon.append(decoded.float())
    error = torch.cat(errors).numpy() * 1000  # (N, 24) mm
    aligned = torch.cat(aligned_errors).numpy() * 1000
    probs = counts / counts.sum()
    perplexity = float(torch.exp(-(probs * torch.log(probs + 1e-12)).sum()))
    return TokenizerEvaluation(
        mpjpe_mm=float(error.mean()),
        pa_mpjpe_mm=float(aligned.mean()),
        per_joint_mm=error.mean(0),
        per_pose_mm=error.mean(1),
        codes_used=int((counts > 0).sum()),
        codebook_size=tokenizer.config.codebook_size,
        perplexity=perplexity,
        reconstructions=torch.cat(recon).numpy(),
    )


def draw_worst_cases(poses: np.ndarray, result: TokenizerEvaluation, count: int, path: Path) -> None:
    """Reconstruction drawn over its input (ghost) for the `count` poses with the largest MPJPE."""
    worst = np.argsort(result.per_pose_mm)[::-1][:count]
    tiles = [
        render_overlay(poses[i], rotmat_to_axis_angle(result.reconstructions[i].astype(np.float64)),
                       title=f"pose {i}: MPJPE {result.per_pose_mm[i]:.1f} mm", size=240,
                       labels=("input", "reconstruction"))
        for i in worst
    ]
    grid(tiles, columns=2).save(path)
