"""Forward kinematics over a kinematic tree, numpy (importable without torch, e.g. in Blender).

Local rotations are relative to the parent and expressed in the rest frame, as in SMPL: a joint's
global rotation is its parent's global rotation times its local one, and a joint's position is its
parent's position plus the parent's global rotation applied to the rest-pose bone vector.
"""
import numpy as np

from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import NEUTRAL_REST_JOINTS, NUM_JOINTS, PARENTS


def forward_kinematics(
    rotmats: np.ndarray,
    rest_joints: np.ndarray = NEUTRAL_REST_JOINTS,
    parents: np.ndarray = PARENTS,
    transl: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pose a skeleton.

    Args:
        rotmats: (..., J, 3, 3) local joint rotations, joint 0 the global orientation.
        rest_joints: (J, 3) rest joint positions; joint 0 is rotated about itself.
        parents: (J,) parent indices, parents[0] == -1, parents[j] < j.
        transl: optional (..., 3) translation added to every joint.
    Returns:
        joints: (..., J, 3) posed joint positions.
        global_rotmats: (..., J, 3, 3) joint rotations in the world frame.
    """
    rotmats = np.asarray(rotmats, dtype=np.float64)
    rest = np.asarray(rest_joints, dtype=np.float64)
    num_joints = rotmats.shape[-3]
    if rest.shape[0] != num_joints or len(parents) != num_joints:
        raise ValueError(f"{num_joints} rotations for {rest.shape[0]} rest joints and {len(parents)} parents")
    global_rot = [rotmats[..., 0, :, :]]
    joints = [np.broadcast_to(rest[0], rotmats.shape[:-3] + (3,))]
    for j in range(1, num_joints):
        p = int(parents[j])
        bone = rest[j] - rest[p]  # (3,)
        joints.append(joints[p] + global_rot[p] @ bone)
        global_rot.append(global_rot[p] @ rotmats[..., j, :, :])
    joints_arr = np.stack(joints, axis=-2)  # (..., J, 3)
    if transl is not None:
        joints_arr = joints_arr + np.asarray(transl, dtype=np.float64)[..., None, :]
    return joints_arr, np.stack(global_rot, axis=-3)


def pad_pose_rotmats(rotmats: np.ndarray) -> np.ndarray:
    """(..., 22, 3, 3) pose rotations -> (..., 24, 3, 3) with identity hands."""
    missing = NUM_JOINTS - rotmats.shape[-3]
    eye = np.broadcast_to(np.eye(3), rotmats.shape[:-3] + (missing, 3, 3))
    return np.concatenate([rotmats, eye], axis=-3)


def pose_joints(
    axis_angle: np.ndarray, rest_joints: np.ndarray = NEUTRAL_REST_JOINTS, transl: np.ndarray | None = None
) -> np.ndarray:
    """Joint positions of a pose. axis_angle: (..., 22, 3) -> (..., 24, 3) in the SMPL frame."""
    rotmats = pad_pose_rotmats(axis_angle_to_rotmat(axis_angle))
    joints, _ = forward_kinematics(rotmats, rest_joints, PARENTS, transl)
    return joints
