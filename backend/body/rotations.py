"""Rotation conversions for numpy arrays, batched over any leading dimensions.

Conventions: rotation matrices act on column vectors; `rot6d` is the first two columns of the matrix,
`[R[:, 0], R[:, 1]]`; quaternions are `(w, x, y, z)` as in Blender; Euler angles use Blender's `'XYZ'`
order, `R = Rz @ Ry @ Rx` (X applied first). This module imports numpy only, so the Blender add-on
can use it. `rotations_torch` mirrors every conversion for torch tensors; `slerp_rotmat` (the add-on's pose
blending, the image hint's blending) is numpy-only.
"""
import numpy as np

_SMALL = 1e-8


def axis_angle_to_rotmat(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues' formula. axis_angle: (..., 3) -> (..., 3, 3)."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    theta2 = np.sum(aa * aa, axis=-1)[..., None, None]  # (..., 1, 1)
    theta = np.sqrt(theta2)
    small = theta2 < _SMALL
    safe_theta = np.where(small, 1.0, theta)
    # sin(t)/t and (1-cos t)/t^2, with Taylor series where t is tiny
    a = np.where(small, 1.0 - theta2 / 6.0, np.sin(safe_theta) / safe_theta)
    b = np.where(small, 0.5 - theta2 / 24.0, (1.0 - np.cos(safe_theta)) / (safe_theta * safe_theta))
    k = _skew(aa)  # (..., 3, 3)
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + a * k + b * (k @ k)


def _skew(v: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 3, 3) cross-product matrix."""
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    zero = np.zeros_like(x)
    return np.stack(
        [np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2
    )


def rotmat_to_quaternion(rotmat: np.ndarray) -> np.ndarray:
    """Shepperd's method, stable for every angle. (..., 3, 3) -> (..., 4) unit (w, x, y, z), w >= 0."""
    m = np.asarray(rotmat, dtype=np.float64)
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    # Four candidate (unnormalised) quaternions; pick the one with the largest pivot per matrix.
    candidates = np.stack(
        [
            np.stack([1 + m00 + m11 + m22, m[..., 2, 1] - m[..., 1, 2],
                      m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
            np.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m00 - m11 - m22,
                      m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
            np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0],
                      1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]], -1),
            np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0],
                      m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22], -1),
        ],
        -2,
    )  # (..., 4 candidates, 4)
    pivots = np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    best = np.argmax(pivots, axis=-1)[..., None, None]  # (..., 1, 1)
    q = np.take_along_axis(candidates, np.broadcast_to(best, best.shape[:-2] + (1, 4)), axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def quaternion_to_rotmat(quaternion: np.ndarray) -> np.ndarray:
    """(..., 4) (w, x, y, z), any norm > 0 -> (..., 3, 3)."""
    q = np.asarray(quaternion, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def axis_angle_to_quaternion(axis_angle: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 4) unit (w, x, y, z)."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    theta2 = np.sum(aa * aa, axis=-1, keepdims=True)
    theta = np.sqrt(theta2)
    small = theta2 < _SMALL
    safe_theta = np.where(small, 1.0, theta)
    half_sinc = np.where(small, 0.5 - theta2 / 48.0, np.sin(safe_theta / 2) / safe_theta)  # sin(t/2)/t
    return np.concatenate([np.cos(theta / 2), aa * half_sinc], axis=-1)


def quaternion_to_axis_angle(quaternion: np.ndarray) -> np.ndarray:
    """(..., 4) (w, x, y, z) -> (..., 3) with angle in [0, pi]."""
    q = np.asarray(quaternion, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    q = np.where(q[..., :1] < 0, -q, q)  # the same rotation, angle <= pi
    w, v = q[..., :1], q[..., 1:]
    sin_half = np.linalg.norm(v, axis=-1, keepdims=True)
    theta = 2 * np.arctan2(sin_half, w)
    small = sin_half < 1e-6
    scale = np.where(small, 2.0 / np.where(w == 0, 1.0, w), theta / np.where(small, 1.0, sin_half))
    return v * scale


def rotmat_to_axis_angle(rotmat: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 3), stable near 0 and near pi (through the quaternion)."""
    return quaternion_to_axis_angle(rotmat_to_quaternion(rotmat))


def rotmat_to_rot6d(rotmat: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 6): the first two columns."""
    m = np.asarray(rotmat)
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def rot6d_to_rotmat(rot6d: np.ndarray) -> np.ndarray:
    """Gram-Schmidt on the two columns. (..., 6) -> (..., 3, 3), always a proper rotation."""
    x = np.asarray(rot6d, dtype=np.float64)
    a1, a2 = x[..., :3], x[..., 3:]
    b1 = a1 / np.maximum(np.linalg.norm(a1, axis=-1, keepdims=True), 1e-12)
    a2 = a2 - np.sum(b1 * a2, axis=-1, keepdims=True) * b1
    b2 = a2 / np.maximum(np.linalg.norm(a2, axis=-1, keepdims=True), 1e-12)
    b3 = np.cross(b1, b2)
    return np.stack([b1, b2, b3], axis=-1)


def _basic_rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """Rotation about one coordinate axis. angle: (...,) -> (..., 3, 3)."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    rows = {
        "X": [[one, zero, zero], [zero, c, -s], [zero, s, c]],
        "Y": [[c, zero, s], [zero, one, zero], [-s, zero, c]],
        "Z": [[c, -s, zero], [s, c, zero], [zero, zero, one]],
    }[axis]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def euler_to_rotmat(euler: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """Blender-style Euler angles. (..., 3) angles for the axes in `order` -> (..., 3, 3).

    For order "XYZ" the X rotation is applied first: R = Rz @ Ry @ Rx.
    """
    e = np.asarray(euler, dtype=np.float64)
    if sorted(order) != ["X", "Y", "Z"]:
        raise ValueError(f"Euler order must be a permutation of XYZ, got {order!r}")
    angle_of = {"X": e[..., 0], "Y": e[..., 1], "Z": e[..., 2]}
    first, second, third = (_basic_rotation(axis, angle_of[axis]) for axis in order)
    return third @ second @ first


def rotmat_to_euler(rotmat: np.ndarray) -> np.ndarray:
    """Inverse of `euler_to_rotmat(..., "XYZ")`. (..., 3, 3) -> (..., 3) as (x, y, z) angles."""
    m = np.asarray(rotmat, dtype=np.float64)
    cos_y = np.hypot(m[..., 0, 0], m[..., 1, 0])
    y = np.arctan2(-m[..., 2, 0], cos_y)
    regular = cos_y > 1e-6
    x = np.where(regular, np.arctan2(m[..., 2, 1], m[..., 2, 2]), np.arctan2(-m[..., 1, 2], m[..., 1, 1]))
    z = np.where(regular, np.arctan2(m[..., 1, 0], m[..., 0, 0]), 0.0)
    return np.stack([x, y, z], axis=-1)


def slerp_rotmat(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """(..., 3, 3) rotations turned from `start` (weight 0) towards `end` (weight 1) along the shorter arc."""
    step = rotmat_to_axis_angle(np.swapaxes(start, -1, -2) @ end) * weight  # (..., 3), angle <= pi
    return start @ axis_angle_to_rotmat(step)
