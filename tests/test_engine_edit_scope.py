"""An edit through the engine changes only the limbs its instruction names (backend/edit_scope.py), unless
`whole_body`; over the random fake model, so every check compares with the input pose."""
import numpy as np
import pytest

from _server_fakes import FakeModel
from backend.body.example_poses import EXAMPLE_POSES
from backend.body.heading import rotate_root
from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS
from backend.edit_scope import LIMB_ROTATIONS
from backend.engine import InvalidInput, Sampling, UniPoseEngine

LEFT_ARM = [JOINT_INDEX[j] for j in LIMB_ROTATIONS["left_arm"]]
OTHERS = [i for i in range(NUM_POSE_JOINTS) if i not in LEFT_ARM]  # the global orientation included


@pytest.fixture
def sitting_turned():
    """A sitting body facing away from +Z, so the scope works in the frame the model sees."""
    turn = axis_angle_to_rotmat(np.array([0.0, 2.0, 0.0]))[None]
    return rotate_root(np.asarray(EXAMPLE_POSES["sitting"], np.float64)[None], turn)[0]


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(22,) the largest rotation-matrix difference per joint."""
    return np.abs(axis_angle_to_rotmat(a.astype(np.float64)) - axis_angle_to_rotmat(b)).max(axis=(1, 2))


def test_an_edit_keeps_the_joints_its_instruction_does_not_name(sitting_turned):
    engine = UniPoseEngine(FakeModel())
    edited = engine.edit_pose(sitting_turned, "raise the left arm", Sampling(seed=3, num_samples=2))
    for pose in edited:
        changed = _changed(pose, sitting_turned)
        assert changed[OTHERS].max() < 1e-5
        assert changed[LEFT_ARM].min() > 1e-2  # the model's (random) arm


def test_whole_body_or_a_whole_body_instruction_keeps_the_model_answer(sitting_turned):
    engine = UniPoseEngine(FakeModel())
    for instruction, options in (("raise the left arm", {"whole_body": True}), ("lie down on your back", {})):
        changed = _changed(engine.edit_pose(sitting_turned, instruction, Sampling(seed=3), **options)[0],
                           sitting_turned)
        assert changed[OTHERS].max() > 1e-2, instruction


@pytest.mark.parametrize("bad", ["yes", 1, None, [True]])
def test_whole_body_must_be_true_or_false(bad):
    with pytest.raises(InvalidInput, match="true or false") as info:
        UniPoseEngine(FakeModel()).edit_pose(np.zeros((22, 3)), "raise the left arm", whole_body=bad)
    assert info.value.field == "whole_body"
