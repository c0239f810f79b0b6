"""Poses from a rig may face anywhere; the model only knows poses facing +Z. The engine turns inputs to face
+Z and gives an edited pose back the heading of the pose it started from."""
from types import SimpleNamespace

import numpy as np

from backend.body.example_poses import EXAMPLE_POSES
from backend.body.heading import facing_rotation, remove_heading, rotate_root
from backend.body.kinematics import pose_joints
from backend.body.rotations import axis_angle_to_rotmat
from backend.engine import Sampling, UniPoseEngine
from backend.posefile import Pose, pose_to_dict


class EchoModel:
    """Returns the input pose unchanged and records what it was given."""

    def __init__(self):
        self.seen = []

    def run(self, task, text=None, poses=(), images=(), **kwargs):
        self.seen.append([np.array(p) for p in poses])
        return SimpleNamespace(text="ok", poses=[np.array(poses[0])] if task == "edit_pose" else [])


def _turned(pose: np.ndarray, yaw: float) -> np.ndarray:
    turn = axis_angle_to_rotmat(np.array([0.0, yaw, 0.0]))[None]
    return rotate_root(pose[None], turn)[0]


def _faces_plus_z(pose: np.ndarray) -> bool:
    joints = pose_joints(pose.astype(np.float64))
    hip_line = joints[1] - joints[2]  # right -> left hip: +X when facing +Z
    return hip_line[0] > 0 and abs(hip_line[2]) < 0.2 * hip_line[0]


def test_remove_heading_turns_any_heading_to_face_plus_z():
    pose = np.asarray(EXAMPLE_POSES["lunge"], dtype=np.float64)
    for yaw in (1.0, -2.5, np.pi):
        turned = _turned(pose, yaw)
        assert not _faces_plus_z(turned)
        canonical = remove_heading(turned[None])[0]
        assert _faces_plus_z(canonical)
        np.testing.assert_allclose(pose_joints(canonical), pose_joints(remove_heading(pose[None])[0]), atol=1e-9)
    assert facing_rotation(pose[None]).shape == (1, 3, 3)


def test_engine_feeds_front_facing_poses_and_restores_heading_after_edit():
    model = EchoModel()
    engine = UniPoseEngine(model)
    pose = _turned(np.asarray(EXAMPLE_POSES["waving_right_hand"], dtype=np.float64), 2.0)
    edited = engine.edit_pose(pose_to_dict(Pose(pose)), "keep still", Sampling())[0]
    assert _faces_plus_z(model.seen[-1][0])
    np.testing.assert_allclose(pose_joints(edited.astype(np.float64)), pose_joints(pose), atol=1e-5)
    engine.pose_to_text(pose_to_dict(Pose(pose)), Sampling())
    engine.pose_diff(pose_to_dict(Pose(pose)), pose_to_dict(Pose(_turned(pose, -1.0))), Sampling())
    assert all(_faces_plus_z(p) for seen in model.seen[1:] for p in seen)
