"""Training-time pose augmentation for the tokenizer, applied to batches of local rotation matrices.

Two kinds (TokenHMR's recipe, here actually applied to the batch): rotation noise on randomly chosen
joints whose scale grows over training (the tokenizer learns to map slightly off poses to clean ones),
and a random global-orientation jitter about the body's x, y and z axes.
"""
import dataclasses
import math

import torch

from backend.body.rotations_torch import axis_angle_to_rotmat, euler_to_rotmat


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    root_jitter_deg: tuple[float, float, float] = (20.0, 20.0, 45.0)  # max |angle| about x, y, z
    root_jitter_prob: float = 0.5  # share of poses that get a jitter
    noise_joint_prob: float = 0.2  # chance of each joint to get rotation noise
    noise_std_start: float = 0.01  # radians
    noise_std_growth: float = 0.01  # added every `noise_every` steps
    noise_every: int = 5000
    noise_std_max: float = 0.05

    def noise_std(self, step: int) -> float:
        """Standard deviation (radians) of the joint noise at a training step."""
        return min(self.noise_std_start + self.noise_std_growth * (step // self.noise_every), self.noise_std_max)


def _sample(sampler, shape: tuple[int, ...], like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Random tensor drawn on the generator's device (so one CPU generator serves CUDA training too)."""
    device = generator.device if generator is not None else like.device
    return sampler(shape, generator=generator, device=device, dtype=like.dtype).to(like.device)


def jitter_global_orientation(
    rotmats: torch.Tensor, max_deg: tuple[float, float, float], prob: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Pre-multiplies the root rotation of a share `prob` of the poses by a random XYZ-Euler rotation.

    rotmats (B, J, 3, 3) -> new tensor (B, J, 3, 3); angles uniform in [-max_deg, max_deg] per axis.
    """
    batch = rotmats.shape[0]
    limits = torch.tensor(max_deg, dtype=rotmats.dtype, device=rotmats.device) * (math.pi / 180)
    unit = _sample(torch.rand, (batch, 3), rotmats, generator)
    chosen = _sample(torch.rand, (batch, 1), rotmats, generator) < prob
    euler = (2 * unit - 1) * limits * chosen  # (B, 3)
    root = euler_to_rotmat(euler, "XYZ") @ rotmats[:, 0]  # (B, 3, 3)
    return torch.cat([root[:, None], rotmats[:, 1:]], 1)


def joint_noise(
    rotmats: torch.Tensor, std: float, prob: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Post-multiplies each joint's local rotation, with probability `prob`, by exp(N(0, std^2) axis-angle).

    rotmats (B, J, 3, 3) -> new tensor (B, J, 3, 3).
    """
    shape = rotmats.shape[:2]
    noise = _sample(torch.randn, (*shape, 3), rotmats, generator) * std
    chosen = _sample(torch.rand, (*shape, 1), rotmats, generator) < prob
    return rotmats @ axis_angle_to_rotmat(noise * chosen)


def augment_batch(
    rotmats: torch.Tensor, config: AugmentConfig, step: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean batch (B, J, 3, 3) -> (noisy encoder input, reconstruction target), both root-jittered."""
    target = jitter_global_orientation(rotmats, config.root_jitter_deg, config.root_jitter_prob, generator)
    noisy = joint_noise(target, config.noise_std(step), config.noise_joint_prob, generator)
    return noisy, target
