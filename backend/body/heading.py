"""Heading (rotation about the vertical +Y axis) of a pose, and turning poses to face +Z.

The corpus stores every pose facing +Z and the tokenizer learned only that, so poses from a rig, which may face
anywhere, are turned to face +Z before the model sees them and turned back afterwards.
"""
import numpy as np

from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle


def facing_rotation(axis_angle: np.ndarray) -> np.ndarray:
    """Rotations about +Y that turn each pose to face +Z (its hip line along +X). (N, 22, 3) -> (N, 3, 3)."""
    root = axis_angle_to_rotmat(axis_angle[:, 0])  # (N, 3, 3)
    heading = root[:, :, 0].copy()  # hip line (rest +X)
    heading[:, 1] = 0.0
    weak = np.linalg.norm(heading, axis=-1) < 0.3  # lying on a side: the hip line is vertical
    up = root[:, :, 1].copy()
    up[:, 1] = 0.0
    up_as_x = np.stack([-up[:, 2], np.zeros(len(up)), up[:, 0]], -1)  # body up rotated to the hip line
    heading = np.where(weak[:, None], up_as_x, heading)
    yaw = np.arctan2(heading[:, 2], heading[:, 0])  # rotation about +Y bringing heading to +X
    c, s = np.cos(yaw), np.sin(yaw)
    rot_y = np.zeros((len(yaw), 3, 3))
    rot_y[:, 0, 0], rot_y[:, 0, 2], rot_y[:, 1, 1], rot_y[:, 2, 0], rot_y[:, 2, 2] = c, s, 1.0, -s, c
    return rot_y


def rotate_root(axis_angle: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Pre-multiply each pose's global orientation by a world rotation. (N, 22, 3), (N, 3, 3) -> (N, 22, 3)."""
    out = np.array(axis_angle, dtype=np.float64)
    out[:, 0] = rotmat_to_axis_angle(rotation @ axis_angle_to_rotmat(out[:, 0]))
    return out


def remove_heading(axis_angle: np.ndarray) -> np.ndarray:
    """Rotate each pose about +Y so that the body faces +Z. (N, 22, 3) -> (N, 22, 3)."""
    return rotate_root(axis_angle, facing_rotation(axis_angle))
