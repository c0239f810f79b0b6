"""Pose augmentations that stay physically plausible. All take and return (N, 22, 3) axis-angle.

- mirror: left <-> right. Reflecting across the body's sagittal (YZ) plane maps a rotation's axis-angle
  (x, y, z) to (x, -y, -z), and swaps the left and right joints.
- reorient: a new global orientation (lying on the back, front or a side, upside down, tilted), keeping
  the body's local articulation.
- recombine: the lower body of one pose with the upper body of another.
"""
import numpy as np

from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX, MIRROR_INDEX, NUM_POSE_JOINTS

LOWER_BODY = tuple(JOINT_INDEX[n] for n in (
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot"))
# Whole-body orientations as (axis, degrees) about the SMPL frame's axes, applied on top of an upright pose.
ORIENTATIONS = {
    "lying_on_back": ((1.0, 0.0, 0.0), -90.0),
    "lying_on_front": ((1.0, 0.0, 0.0), 90.0),
    "lying_on_left_side": ((0.0, 0.0, 1.0), -90.0),
    "lying_on_right_side": ((0.0, 0.0, 1.0), 90.0),
    "upside_down": ((0.0, 0.0, 1.0), 180.0),
}


def mirror(axis_angle: np.ndarray) -> np.ndarray:
    """Left-right mirror image. (N, 22, 3) -> (N, 22, 3)."""
    flipped = axis_angle[:, MIRROR_INDEX[:NUM_POSE_JOINTS]] * np.array([1.0, -1.0, -1.0], dtype=axis_angle.dtype)
    return flipped


def rotate_global(axis_angle: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Pre-multiply the global orientation by rotation (3, 3) or (N, 3, 3)."""
    out = axis_angle.copy()
    out[:, 0] = rotmat_to_axis_angle(rotation @ axis_angle_to_rotmat(axis_angle[:, 0]))
    return out.astype(axis_angle.dtype)


def reorient(axis_angle: np.ndarray, rng: np.random.Generator,
             jitter_deg: float = 15.0) -> tuple[np.ndarray, list[str]]:
    """Give each pose a random whole-body orientation from ORIENTATIONS, jittered. Returns poses, names."""
    names = list(ORIENTATIONS)
    picks = rng.integers(len(names), size=len(axis_angle))
    axes = np.array([ORIENTATIONS[names[p]][0] for p in picks]).reshape(-1, 3)
    angles = np.radians([ORIENTATIONS[names[p]][1] for p in picks]).reshape(-1)
    base = axis_angle_to_rotmat(axes * angles[:, None])
    jitter = axis_angle_to_rotmat(rng.normal(scale=np.radians(jitter_deg) / np.sqrt(3), size=(len(picks), 3)))
    return rotate_global(axis_angle, jitter @ base), [names[p] for p in picks]


def recombine(lower_from: np.ndarray, upper_from: np.ndarray) -> np.ndarray:
    """Lower-body joints (hips to feet) of one pose set with everything else from another. Both (N, 22, 3)."""
    out = upper_from.copy()
    out[:, LOWER_BODY] = lower_from[:, LOWER_BODY]
    out[:, 0] = lower_from[:, 0]  # the pelvis carries the legs; the spine above it comes from upper_from
    return out
