"""Where a posed body stands: the root translation that puts its lowest surface on the ground.

Poses are rotations only, so every answer would keep the pelvis at standing height and a seated,
kneeling or lying body would float. The body's surface is the capsule body of `backend.render` (the
same radii the contact parts use), so feet rest on their soles, knees on the kneecaps, a back on its
flesh rather than on the joint centres.
"""
import numpy as np

from backend.render import body_capsules


def lowest_surface(axis_angle: np.ndarray) -> float:
    """Height (SMPL +Y, metres) of the lowest body surface of a pose, the pelvis joint at the origin."""
    ends, radii, _ = body_capsules(np.asarray(axis_angle, dtype=np.float64))  # (C, 2, 3), (C, 2)
    return float((ends[..., 1] - radii).min())


def ground_translation(axis_angle: np.ndarray) -> np.ndarray:
    """(3,) pelvis translation in the SMPL frame that stands the pose on the plane y = 0 (x, z stay 0)."""
    return np.array([0.0, -lowest_surface(axis_angle), 0.0])
