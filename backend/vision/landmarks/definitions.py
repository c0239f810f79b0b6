"""Where each BlazePose landmark sits on the project's skeleton.

Each landmark is a point fixed to one SMPL joint's frame: `joint position + global rotation @ offset`,
the offset given in the rest (T-pose) frame: +X the body's left, +Y up, +Z forward, metres. Right-side
offsets mirror the left ones (x negated). Face points ride on the head, hand points on the wrist (rest palm
down, thumb forward), the heel on the ankle, the toe tip on the foot (ball) joint.

The offsets are anatomical estimates for the project's 1.70 m neutral skeleton, then checked against
BlazePose's own output on rendered bodies (`bench/image_pose.py --offsets` reports what remains): BlazePose
puts its hip points higher and wider than the hip joint centres, its shoulders near the acromion.
"""
import numpy as np

from backend.body.kinematics import forward_kinematics, pad_pose_rotmats
from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import JOINT_INDEX, NEUTRAL_REST_JOINTS, PARENTS
from backend.vision.landmarks.schema import LANDMARK_NAMES

# name (left side / midline) -> (SMPL joint, offset in that joint's rest-aligned frame)
_LEFT_DEFINITIONS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "nose": ("head", (0.0, 0.025, 0.115)),
    "left_eye_inner": ("head", (0.016, 0.060, 0.088)),
    "left_eye": ("head", (0.033, 0.060, 0.085)),
    "left_eye_outer": ("head", (0.048, 0.060, 0.078)),
    "left_ear": ("head", (0.075, 0.052, 0.005)),
    "mouth_left": ("head", (0.025, 0.0, 0.095)),
    "left_shoulder": ("left_shoulder", (0.0, 0.025, 0.0)),
    "left_elbow": ("left_elbow", (0.0, 0.0, 0.0)),
    "left_wrist": ("left_wrist", (0.0, 0.0, 0.0)),
    "left_pinky": ("left_wrist", (0.085, -0.005, -0.035)),
    "left_index": ("left_wrist", (0.095, -0.005, 0.025)),
    "left_thumb": ("left_wrist", (0.060, -0.015, 0.050)),
    "left_hip": ("left_hip", (0.020, 0.020, 0.0)),
    "left_knee": ("left_knee", (0.0, 0.0, 0.0)),
    "left_ankle": ("left_ankle", (0.0, 0.0, 0.0)),
    "left_heel": ("left_ankle", (0.0, -0.055, -0.050)),
    "left_foot_index": ("left_foot", (0.0, -0.005, 0.060)),
}


def _resolve(name: str) -> tuple[int, tuple[float, float, float]]:
    if name in _LEFT_DEFINITIONS:
        joint, offset = _LEFT_DEFINITIONS[name]
        return JOINT_INDEX[joint], offset
    if name == "mouth_right":
        joint, (x, y, z) = _LEFT_DEFINITIONS["mouth_left"]
        return JOINT_INDEX[joint], (-x, y, z)
    joint, (x, y, z) = _LEFT_DEFINITIONS[name.replace("right", "left")]
    return JOINT_INDEX[joint.replace("left", "right")], (-x, y, z)


_RESOLVED = [_resolve(name) for name in LANDMARK_NAMES]
LANDMARK_JOINTS = np.array([j for j, _ in _RESOLVED], dtype=np.int64)  # (33,) SMPL joint carrying each landmark
LANDMARK_OFFSETS = np.array([o for _, o in _RESOLVED], dtype=np.float64)  # (33, 3) rest-frame offsets


def landmarks_from_joints(joints: np.ndarray, global_rotmats: np.ndarray, offset_scale=1.0) -> np.ndarray:
    """Landmark positions from a posed skeleton.

    joints: (..., 24, 3), global_rotmats: (..., 24, 3, 3) from forward_kinematics; offset_scale: scalar or
    (...,) scaling the offsets with body size. Returns (..., 33, 3) in the skeleton's frame.
    """
    scale = np.asarray(offset_scale, dtype=np.float64)[..., None, None]  # (..., 1, 1)
    frames = global_rotmats[..., LANDMARK_JOINTS, :, :]  # (..., 33, 3, 3)
    offsets = np.einsum("...kij,kj->...ki", frames, LANDMARK_OFFSETS)  # (..., 33, 3)
    return joints[..., LANDMARK_JOINTS, :] + scale * offsets


def pose_landmarks_smpl(axis_angle: np.ndarray, rest_joints: np.ndarray = NEUTRAL_REST_JOINTS,
                        offset_scale=1.0) -> np.ndarray:
    """(..., 22, 3) axis-angle -> (..., 33, 3) landmark positions in the SMPL frame (pelvis at the origin)."""
    rotmats = pad_pose_rotmats(axis_angle_to_rotmat(np.asarray(axis_angle, dtype=np.float64)))
    joints, global_rotmats = forward_kinematics(rotmats, rest_joints, PARENTS)
    return landmarks_from_joints(joints, global_rotmats, offset_scale)
