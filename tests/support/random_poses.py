"""Random plausible poses by sampling each joint's local Euler angles inside rough human joint limits.

Used to stress-test captions and instructions on poses nobody chose by hand. Angles are in degrees, in
Blender's 'XYZ' Euler order on SMPL's local frames (rest T-pose: +Y up, +X the body's left, facing +Z):
hip flexion is -X, knee flexion +X, spine forward bend +X, left shoulder raise +Z and forward -Y.
"""
import numpy as np

from backend.body.rotations import euler_to_rotmat, rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS

# (x range, y range, z range) for left-side and midline joints; right-side joints mirror y and z.
_LIMITS = {
    "left_hip": ((-120, 30), (-30, 30), (-20, 60)),
    "left_knee": ((0, 150), (-5, 5), (-5, 5)),
    "left_ankle": ((-30, 30), (-10, 10), (-10, 10)),
    "left_foot": ((-10, 10), (0, 0), (0, 0)),
    "spine1": ((-15, 35), (-20, 20), (-15, 15)),
    "spine2": ((-10, 25), (-15, 15), (-10, 10)),
    "spine3": ((-10, 25), (-15, 15), (-10, 10)),
    "neck": ((-20, 30), (-30, 30), (-15, 15)),
    "head": ((-20, 30), (-40, 40), (-15, 15)),
    "left_collar": ((-10, 10), (-10, 10), (-10, 15)),
    "left_shoulder": ((-60, 60), (-90, 40), (-80, 90)),
    "left_elbow": ((-20, 20), (-150, 0), (-5, 5)),
    "left_wrist": ((-30, 30), (-20, 20), (-40, 40)),
}


def _limits() -> np.ndarray:
    """(21, 3, 2) low/high degrees for the body joints 1..21."""
    from backend.body.skeleton import POSE_JOINT_NAMES

    out = np.zeros((NUM_POSE_JOINTS - 1, 3, 2))
    for i, name in enumerate(POSE_JOINT_NAMES[1:]):
        lim = np.array(_LIMITS[name.replace("right_", "left_")], dtype=np.float64)  # (3, 2)
        if name.startswith("right_"):
            lim[1:] = -lim[1:, ::-1]
        out[i] = lim
    return out


def sample_poses(n: int, seed: int = 0, lying_fraction: float = 0.25) -> np.ndarray:
    """n random poses (n, 22, 3) axis-angle: uniform inside the joint limits, random yaw; a fraction
    `lying_fraction` gets a random global orientation (lying, tilted, inverted), the rest stand upright."""
    rng = np.random.default_rng(seed)
    lim = np.radians(_limits())
    u = rng.random((n,) + lim.shape[:2])
    euler = lim[..., 0] + u * (lim[..., 1] - lim[..., 0])  # (n, 21, 3)
    body = rotmat_to_axis_angle(euler_to_rotmat(euler))
    yaw = np.zeros((n, 3))
    yaw[:, 1] = rng.uniform(-np.pi, np.pi, n)
    glob = euler_to_rotmat(yaw)
    any_orientation = rng.random(n) < lying_fraction
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    from backend.body.rotations import quaternion_to_rotmat

    glob = np.where(any_orientation[:, None, None], quaternion_to_rotmat(q), glob)
    return np.concatenate([rotmat_to_axis_angle(glob)[:, None], body], axis=1)


def set_joint(poses: np.ndarray, joint: str, euler_deg: tuple[float, float, float]) -> np.ndarray:
    """A copy of poses (N, 22, 3) with one joint's local rotation set from 'XYZ' Euler degrees."""
    out = np.array(poses, dtype=np.float64, copy=True)
    out[:, JOINT_INDEX[joint]] = rotmat_to_axis_angle(euler_to_rotmat(np.radians(np.asarray(euler_deg, float))))
    return out
