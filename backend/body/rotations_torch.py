"""Rotation conversions for torch tensors; the same names and conventions as `rotations` (numpy).

Differentiable where the conversion is smooth; batched over any leading dimensions.
"""
import torch

_SMALL = 1e-8


def axis_angle_to_rotmat(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula. (..., 3) -> (..., 3, 3)."""
    aa = axis_angle
    theta2 = (aa * aa).sum(-1)[..., None, None]  # (..., 1, 1)
    small = theta2 < _SMALL
    safe_theta = torch.where(small, torch.ones_like(theta2), theta2).sqrt()
    a = torch.where(small, 1.0 - theta2 / 6.0, torch.sin(safe_theta) / safe_theta)
    b = torch.where(small, 0.5 - theta2 / 24.0, (1.0 - torch.cos(safe_theta)) / (safe_theta * safe_theta))
    k = _skew(aa)
    eye = torch.eye(3, dtype=aa.dtype, device=aa.device).expand_as(k)
    return eye + a * k + b * (k @ k)


def _skew(v: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3) cross-product matrix."""
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack(
        [torch.stack([zero, -z, y], -1), torch.stack([z, zero, -x], -1), torch.stack([-y, x, zero], -1)], -2
    )


def rotmat_to_quaternion(rotmat: torch.Tensor) -> torch.Tensor:
    """Shepperd's method. (..., 3, 3) -> (..., 4) unit (w, x, y, z), w >= 0."""
    m = rotmat
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    candidates = torch.stack(
        [
            torch.stack([1 + m00 + m11 + m22, m[..., 2, 1] - m[..., 1, 2],
                         m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
            torch.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m00 - m11 - m22,
                         m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
            torch.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0],
                         1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]], -1),
            torch.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0],
                         m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22], -1),
        ],
        -2,
    )  # (..., 4 candidates, 4)
    pivots = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    best = pivots.argmax(-1)[..., None, None].expand(*pivots.shape[:-1], 1, 4)
    q = torch.gather(candidates, -2, best)[..., 0, :]
    q = q / q.norm(dim=-1, keepdim=True)
    return torch.where(q[..., :1] < 0, -q, q)


def quaternion_to_rotmat(quaternion: torch.Tensor) -> torch.Tensor:
    """(..., 4) (w, x, y, z) -> (..., 3, 3)."""
    q = quaternion / quaternion.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def axis_angle_to_quaternion(axis_angle: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 4) unit (w, x, y, z)."""
    theta2 = (axis_angle * axis_angle).sum(-1, keepdim=True)
    small = theta2 < _SMALL
    safe_theta = torch.where(small, torch.ones_like(theta2), theta2).sqrt()
    half_sinc = torch.where(small, 0.5 - theta2 / 48.0, torch.sin(safe_theta / 2) / safe_theta)
    return torch.cat([torch.cos(theta2.sqrt() / 2), axis_angle * half_sinc], -1)


def quaternion_to_axis_angle(quaternion: torch.Tensor) -> torch.Tensor:
    """(..., 4) (w, x, y, z) -> (..., 3) with angle in [0, pi]."""
    q = quaternion / quaternion.norm(dim=-1, keepdim=True)
    q = torch.where(q[..., :1] < 0, -q, q)
    w, v = q[..., :1], q[..., 1:]
    sin_half = v.norm(dim=-1, keepdim=True)
    theta = 2 * torch.atan2(sin_half, w)
    small = sin_half < 1e-6
    safe_w = torch.where(w == 0, torch.ones_like(w), w)
    safe_sin = torch.where(small, torch.ones_like(sin_half), sin_half)
    scale = torch.where(small, 2.0 / safe_w, theta / safe_sin)
    return v * scale


def rotmat_to_axis_angle(rotmat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 3)."""
    return quaternion_to_axis_angle(rotmat_to_quaternion(rotmat))


def rotmat_to_rot6d(rotmat: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6): the first two columns."""
    return torch.cat([rotmat[..., :, 0], rotmat[..., :, 1]], -1)


def rot6d_to_rotmat(rot6d: torch.Tensor) -> torch.Tensor:
    """Gram-Schmidt. (..., 6) -> (..., 3, 3)."""
    a1, a2 = rot6d[..., :3], rot6d[..., 3:]
    b1 = torch.nn.functional.normalize(a1, dim=-1, eps=1e-12)
    b2 = torch.nn.functional.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=1e-12)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], -1)


def _basic_rotation(axis: str, angle: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(angle), torch.sin(angle)
    one, zero = torch.ones_like(angle), torch.zeros_like(angle)
    rows = {
        "X": [[one, zero, zero], [zero, c, -s], [zero, s, c]],
        "Y": [[c, zero, s], [zero, one, zero], [-s, zero, c]],
        "Z": [[c, -s, zero], [s, c, zero], [zero, zero, one]],
    }[axis]
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def euler_to_rotmat(euler: torch.Tensor, order: str = "XYZ") -> torch.Tensor:
    """(..., 3) angles for axes X, Y, Z -> (..., 3, 3); for "XYZ", R = Rz @ Ry @ Rx."""
    if sorted(order) != ["X", "Y", "Z"]:
        raise ValueError(f"Euler order must be a permutation of XYZ, got {order!r}")
    angle_of = {"X": euler[..., 0], "Y": euler[..., 1], "Z": euler[..., 2]}
    first, second, third = (_basic_rotation(axis, angle_of[axis]) for axis in order)
    return third @ second @ first


def rotmat_to_euler(rotmat: torch.Tensor) -> torch.Tensor:
    """Inverse of `euler_to_rotmat(..., "XYZ")`. (..., 3, 3) -> (..., 3)."""
    m = rotmat
    cos_y = torch.hypot(m[..., 0, 0], m[..., 1, 0])
    y = torch.atan2(-m[..., 2, 0], cos_y)
    regular = cos_y > 1e-6
    x = torch.where(regular, torch.atan2(m[..., 2, 1], m[..., 2, 2]), torch.atan2(-m[..., 1, 2], m[..., 1, 1]))
    z = torch.where(regular, torch.atan2(m[..., 1, 0], m[..., 0, 0]), torch.zeros_like(y))
    return torch.stack([x, y, z], -1)
