"""Contact points on the body surface: each named part is a sphere carried by the skeleton.

A part's centre is a point on a bone (`joint` -> `toward`, fraction `t`) plus an `offset` written in the
SMPL rest frame and carried by the global rotation of the `frame` joint. Its radius makes the sphere touch
the body's surface where the contact happens (the same capsule radii as `backend.render`), so two parts
touch when the distance between their centres equals the sum of their radii, and a part rests on the
ground when its centre is one radius above the lowest point of the body.

Sided parts exist as `left_<name>` and `right_<name>`; their offsets are written for the left side and
mirrored (x -> -x) for the right.
"""
import functools
from dataclasses import dataclass

import numpy as np
import torch

from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS, PARENTS

GROUND = "ground"


@dataclass(frozen=True)
class PartSpec:
    joint: str
    radius: float
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    frame: str | None = None  # joint whose global rotation carries the offset (default: `joint`)
    toward: str | None = None  # second end of the bone the centre slides along
    t: float = 0.0


_SIDED: dict[str, PartSpec] = {  # written for the left side; "L" stands for the side
    "palm": PartSpec("L_hand", 0.030),
    "fingertips": PartSpec("L_hand", 0.016, (0.065, 0.0, 0.0), frame="L_wrist"),
    "wrist": PartSpec("L_wrist", 0.032),
    "elbow": PartSpec("L_elbow", 0.042),
    "shoulder": PartSpec("L_shoulder", 0.050, (0.0, 0.01, 0.0), frame="L_collar"),
    "hip": PartSpec("pelvis", 0.045, (0.120, 0.040, 0.0)),  # side of the pelvis, where hands rest
    "thigh": PartSpec("L_hip", 0.040, (0.0, 0.0, 0.030), toward="L_knee", t=0.55),
    "knee": PartSpec("L_knee", 0.055),
    "shin": PartSpec("L_knee", 0.030, (0.0, 0.0, 0.020), toward="L_ankle", t=0.5),
    "ankle": PartSpec("L_ankle", 0.040),
    "heel": PartSpec("L_ankle", 0.034, (0.0, -0.045, -0.045)),
    "foot": PartSpec("L_ankle", 0.035, (0.0, 0.0, 0.0), toward="L_foot", t=0.55),
    "toes": PartSpec("L_foot", 0.024, (0.0, 0.0, 0.060)),
    "ear": PartSpec("head", 0.050, (0.050, 0.065, 0.020)),
}
_MIDLINE: dict[str, PartSpec] = {
    "head_top": PartSpec("head", 0.050, (0.0, 0.115, 0.020)),  # head sphere: centre (0, .065, .02), r .10
    "head_back": PartSpec("head", 0.050, (0.0, 0.065, -0.030)),
    "face": PartSpec("head", 0.050, (0.0, 0.045, 0.070)),
    "neck": PartSpec("neck", 0.050, toward="head", t=0.4),
    "chest": PartSpec("spine3", 0.050, (0.0, 0.0, 0.065)),
    "belly": PartSpec("spine1", 0.050, (0.0, 0.0, 0.060)),
    "lower_back": PartSpec("spine1", 0.050, (0.0, 0.0, -0.060)),
    "buttocks": PartSpec("pelvis", 0.060, (0.0, -0.100, -0.040)),  # sitting bones, below the hip joints
}
SIDED_PARTS: tuple[str, ...] = tuple(_SIDED)
MIDLINE_PARTS: tuple[str, ...] = tuple(_MIDLINE)


def _side(spec: PartSpec, side: str) -> PartSpec:
    def name(joint):
        return None if joint is None else joint.replace("L_", side + "_")

    x, y, z = spec.offset
    return PartSpec(name(spec.joint), spec.radius, (x if side == "left" else -x, y, z),
                    name(spec.frame), name(spec.toward), spec.t)


PARTS: dict[str, PartSpec] = {
    **{f"{side}_{n}": _side(s, side) for n, s in _SIDED.items() for side in ("left", "right")},
    **_MIDLINE,
}
PART_NAMES: tuple[str, ...] = tuple(PARTS)
PART_RADII = np.array([PARTS[n].radius for n in PART_NAMES])  # (P,)
_JOINT = np.array([JOINT_INDEX[PARTS[n].joint] for n in PART_NAMES])  # (P,)
_TOWARD = np.array([JOINT_INDEX[PARTS[n].toward or PARTS[n].joint] for n in PART_NAMES])  # (P,)
_FRAME = np.array([JOINT_INDEX[PARTS[n].frame or PARTS[n].joint] for n in PART_NAMES])  # (P,)
_T = np.array([PARTS[n].t for n in PART_NAMES])  # (P,)
_OFFSET = np.array([PARTS[n].offset for n in PART_NAMES])  # (P, 3)


def part_centres(joints: torch.Tensor, global_rot: torch.Tensor) -> torch.Tensor:
    """Sphere centres of every part in `PART_NAMES` order.

    joints (..., 24, 3), global_rot (..., 24, 3, 3) from forward kinematics -> (..., P, 3).
    """
    t, offset = _constants(joints.dtype)
    on_bone = joints[..., _JOINT, :] * (1 - t) + joints[..., _TOWARD, :] * t  # (..., P, 3)
    return on_bone + (global_rot[..., _FRAME, :, :] @ offset)[..., 0]


@functools.cache
def _constants(dtype) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor(_T, dtype=dtype)[:, None], torch.tensor(_OFFSET, dtype=dtype)[..., None]  # (P, 1), (P, 3, 1)


def _ancestors(joint: int) -> set[int]:
    found = set()
    while joint >= 0:
        found.add(joint)
        joint = int(PARENTS[joint])
    return found


def moving_joints(part: str) -> frozenset[int]:
    """Pose joints (< 22) whose rotation moves the part's centre."""
    spec = PARTS[part]
    joints: set[int] = set()
    for end in (spec.joint, spec.toward or spec.joint):
        joints |= _ancestors(int(PARENTS[JOINT_INDEX[end]]))  # a joint moves with its parent's rotation
    if spec.offset != (0.0, 0.0, 0.0):
        joints |= _ancestors(JOINT_INDEX[spec.frame or spec.joint])
    return frozenset(j for j in joints if j < NUM_POSE_JOINTS)
