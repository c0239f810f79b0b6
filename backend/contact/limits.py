"""Anatomical joint limits as smooth penalties: elbows and knees bend one way, nothing twists too far.

Each limited joint has a bone `axis` (its child bone's rest direction, in the joint's local frame). With
R the joint's local rotation and d = R @ axis the swung bone direction, a limit is a set of half-spaces
`normal . d <= bound` (which way the bone may swing), a bound on the twist about the bone, and a bound on
the total rotation angle. `limit_excess` returns how far each bound is passed (0 inside the limits).
"""
import functools
from dataclasses import dataclass

import numpy as np
import torch

from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS


@dataclass(frozen=True)
class JointLimit:
    joint: str
    axis: tuple[float, float, float] = (0.0, 1.0, 0.0)
    halfspaces: tuple[tuple[tuple[float, float, float], float], ...] = ()  # (normal, bound)
    max_twist: float = np.pi  # radians about `axis`
    max_angle: float = np.pi  # radians, total rotation


def _elbow(side: str, sign: float) -> JointLimit:  # sign: +1 left (bone along +X), -1 right
    return JointLimit(f"{side}_elbow", (sign, 0.0, 0.0), (
        ((0.0, 0.0, -1.0), 0.15),  # the forearm never swings behind the upper arm (no hyperextension)
        ((-sign, 0.0, 0.0), 0.90),  # at most ~155 degrees of flexion
    ), max_twist=1.75)


def _knee(side: str) -> JointLimit:
    return JointLimit(f"{side}_knee", (0.0, -1.0, 0.0), (
        ((0.0, 0.0, 1.0), 0.15),  # the shin never swings in front of the thigh
        ((1.0, 0.0, 0.0), 0.30), ((-1.0, 0.0, 0.0), 0.30),  # little sideways play
        ((0.0, 1.0, 0.0), 0.94),  # at most ~160 degrees of flexion
    ), max_twist=0.6)


def _hip(side: str, sign: float) -> JointLimit:  # sign: +1 left (outward is +X), -1 right
    return JointLimit(f"{side}_hip", (0.0, -1.0, 0.0), (
        ((0.0, 0.0, -1.0), 0.55),  # extension ~35 degrees
        ((-sign, 0.0, 0.0), 0.45),  # adduction across the midline
        ((sign, 0.0, 0.0), 0.95),  # abduction
        ((0.0, 1.0, 0.0), 0.85),  # the thigh rises at most ~60 degrees above horizontal
    ), max_twist=0.9)


LIMITS: tuple[JointLimit, ...] = (
    _elbow("left", 1.0), _elbow("right", -1.0), _knee("left"), _knee("right"),
    _hip("left", 1.0), _hip("right", -1.0),
    JointLimit("left_shoulder", (1.0, 0.0, 0.0), max_twist=1.9),
    JointLimit("right_shoulder", (-1.0, 0.0, 0.0), max_twist=1.9),
    JointLimit("left_wrist", (1.0, 0.0, 0.0), max_angle=1.4),
    JointLimit("right_wrist", (-1.0, 0.0, 0.0), max_angle=1.4),
    JointLimit("left_ankle", max_angle=0.9), JointLimit("right_ankle", max_angle=0.9),
    JointLimit("spine1", max_angle=0.8), JointLimit("spine2", max_angle=0.8), JointLimit("spine3", max_angle=0.8),
    JointLimit("neck", max_angle=0.9), JointLimit("head", max_angle=0.9),
    JointLimit("left_collar", max_angle=0.6), JointLimit("right_collar", max_angle=0.6),
)
LIMITED_JOINTS = np.array([JOINT_INDEX[lim.joint] for lim in LIMITS])  # (L,)
_MAX_HALFSPACES = 4


@functools.cache
def _tables(dtype) -> tuple[torch.Tensor, ...]:
    axes = torch.tensor([lim.axis for lim in LIMITS], dtype=dtype)  # (L, 3)
    normals = torch.zeros(len(LIMITS), _MAX_HALFSPACES, 3, dtype=dtype)
    bounds = torch.full((len(LIMITS), _MAX_HALFSPACES), 10.0, dtype=dtype)  # unused slots never bind
    for i, lim in enumerate(LIMITS):
        for k, (normal, bound) in enumerate(lim.halfspaces):
            normals[i, k], bounds[i, k] = torch.tensor(normal, dtype=dtype), bound
    twist = torch.tensor([np.sin(lim.max_twist / 2) for lim in LIMITS], dtype=dtype)  # (L,)
    angle = torch.tensor([np.cos(lim.max_angle / 2) for lim in LIMITS], dtype=dtype)  # (L,)
    return axes, normals, bounds, twist, angle


def limit_excess(quaternions: torch.Tensor, rotmats: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
    """How far each limit is passed. quaternions (..., 22, 4) (w, x, y, z), rotmats (..., 22, 3, 3)
    local rotations -> (..., L, 6) non-negative: 4 half-spaces, twist, angle (in their own units:
    direction components, sin(half twist), cos(half angle)). `margin` tightens every bound."""
    axes, normals, bounds, twist, angle = _tables(rotmats.dtype)
    q = quaternions[..., LIMITED_JOINTS, :]  # (..., L, 4)
    q = torch.where(q[..., :1] < 0, -q, q)
    swung = (rotmats[..., LIMITED_JOINTS, :, :] @ axes[..., None])[..., 0]  # (..., L, 3)
    side = (normals * swung[..., None, :]).sum(-1) - (bounds - margin)  # (..., L, 4)
    along = (q[..., 1:] * axes).sum(-1)  # (..., L)
    twist_sin = along / torch.sqrt(along * along + q[..., 0] ** 2 + 1e-12)
    over_twist = twist_sin.abs() - (twist - margin)
    over_angle = (angle + margin) - q[..., 0]
    return torch.relu(torch.cat([side, over_twist[..., None], over_angle[..., None]], -1))


def limit_violations(axis_angle: np.ndarray, tolerance: float = 0.02) -> list[str]:
    """Names of the joints of a (22, 3) pose that pass a limit by more than `tolerance`."""
    from backend.body.rotations_torch import axis_angle_to_quaternion, quaternion_to_rotmat

    aa = torch.tensor(np.array(axis_angle, dtype=np.float64).reshape(NUM_POSE_JOINTS, 3))
    q = axis_angle_to_quaternion(aa)
    excess = limit_excess(q, quaternion_to_rotmat(q)).amax(-1)  # (L,)
    return [lim.joint for lim, e in zip(LIMITS, excess.tolist()) if e > tolerance]
