"""Forward kinematics for torch tensors; the same contract as `kinematics` (numpy)."""
import numpy as np
import torch

from backend.body.rotations_torch import axis_angle_to_rotmat
from backend.body.skeleton import NEUTRAL_REST_JOINTS, NUM_JOINTS, PARENTS


def forward_kinematics(
    rotmats: torch.Tensor,
    rest_joints: torch.Tensor | np.ndarray = NEUTRAL_REST_JOINTS,
    parents: np.ndarray = PARENTS,
    transl: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """rotmats (..., J, 3, 3) local -> joints (..., J, 3), global rotmats (..., J, 3, 3)."""
    if isinstance(rest_joints, np.ndarray):
        rest_joints = torch.from_numpy(np.array(rest_joints))  # copy: the skeleton constant is read-only
    rest = rest_joints.to(dtype=rotmats.dtype, device=rotmats.device)
    num_joints = rotmats.shape[-3]
    if rest.shape[0] != num_joints or len(parents) != num_joints:
        raise ValueError(f"{num_joints} rotations for {rest.shape[0]} rest joints and {len(parents)} parents")
    global_rot = [rotmats[..., 0, :, :]]
    joints = [rest[0].expand(*rotmats.shape[:-3], 3)]
    for j in range(1, num_joints):
        p = int(parents[j])
        bone = rest[j] - rest[p]  # (3,)
        joints.append(joints[p] + global_rot[p] @ bone)
        global_rot.append(global_rot[p] @ rotmats[..., j, :, :])
    joints_t = torch.stack(joints, -2)  # (..., J, 3)
    if transl is not None:
        joints_t = joints_t + transl[..., None, :]
    return joints_t, torch.stack(global_rot, -3)


def pad_pose_rotmats(rotmats: torch.Tensor) -> torch.Tensor:
    """(..., 22, 3, 3) -> (..., 24, 3, 3) with identity hands."""
    missing = NUM_JOINTS - rotmats.shape[-3]
    eye = torch.eye(3, dtype=rotmats.dtype, device=rotmats.device).expand(*rotmats.shape[:-3], missing, 3, 3)
    return torch.cat([rotmats, eye], -3)


def pose_joints(axis_angle: torch.Tensor, rest_joints=NEUTRAL_REST_JOINTS, transl=None) -> torch.Tensor:
    """(..., 22, 3) axis-angle -> (..., 24, 3) joint positions."""
    rotmats = pad_pose_rotmats(axis_angle_to_rotmat(axis_angle))
    return forward_kinematics(rotmats, rest_joints, PARENTS, transl)[0]
