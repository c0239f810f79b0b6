"""Edit scope (backend/edit_scope.py): which limbs an instruction names, and a pose that keeps the others."""
import numpy as np
import pytest

from backend.body.example_poses import EXAMPLE_POSES
from backend.body.kinematics import pose_joints
from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS
from backend.edit_scope import LIMB_POSITIONS, LIMB_ROTATIONS, keep_unnamed, read_scope

ARMS = {"left_arm", "right_arm"}
LEGS = {"left_leg", "right_leg"}


@pytest.mark.parametrize("instruction, limbs", [
    ("raise the left arm", {"left_arm"}),
    ("Raise your LEFT arm!", {"left_arm"}),
    ("bend your right knee", {"right_leg"}),
    ("put your right hand on your hip", {"right_arm"}),
    ("put your hands on your hips", ARMS),
    ("look up", {"head"}),
    ("turn your head to the left", {"head"}),
    ("look down at the floor", {"head"}),
    ("cross your arms", ARMS),
    ("both arms up", ARMS),
    ("raise your hands", ARMS),
    ("raise the left and right arm", ARMS),
    ("spread your legs", LEGS),
    ("bring your feet together", LEGS),
    ("move your left foot to the left of your right foot", LEGS),  # the foot it is measured by too
    ("lift your left hand to shoulder height", {"left_arm"}),  # a height, not the shoulder
    ("bring your left upper arm parallel to the ground", {"left_arm"}),  # a direction, not the ground
    ("put your right hand on your head", {"right_arm", "head"}),
    ("shrug", ARMS),
    ("raise your left arm and bend your right knee", {"left_arm", "right_leg"}),
])
def test_an_instruction_that_names_limbs(instruction, limbs):
    assert read_scope(instruction) == frozenset(limbs)


@pytest.mark.parametrize("instruction", [
    # whole-body movements, with or without limbs
    "sit down", "kneel down", "kneel on your right knee", "lie down on your back", "lean forward",
    "lean back and raise your arms", "turn around", "turn left and wave your hand", "squat", "jump",
    "crouch down", "bend over", "bend forward and touch the floor", "stand up", "stand on your right leg",
    "get on all fours", "drop to your knees", "touch your toes", "put your hands on your knees",
    "push your hips forward and raise your arms", "twist your torso", "arch your back",
    "face the wall and raise your arm",
    # a limb on or off the floor changes what holds the body up
    "put your hands on the floor", "lift your left foot off the floor", "rest your left knee on the ground",
    # no limb at all, or nothing readable
    "do something cool", "relax", "", "   ", "!!!",
])
def test_an_instruction_that_moves_the_whole_body_or_names_no_limb(instruction):
    assert read_scope(instruction) is None


def test_the_limb_tables():
    assert set(LIMB_ROTATIONS) == set(LIMB_POSITIONS) == ARMS | LEGS | {"head"}
    rotations = [joint for joints in LIMB_ROTATIONS.values() for joint in joints]
    assert len(rotations) == len(set(rotations)) and all(JOINT_INDEX[j] < NUM_POSE_JOINTS for j in rotations)
    assert "pelvis" not in rotations
    assert LIMB_ROTATIONS["left_arm"] == ("left_collar", "left_shoulder", "left_elbow", "left_wrist")
    assert LIMB_POSITIONS["left_arm"][-1] == "left_hand" and "right_hip" not in LIMB_POSITIONS["right_leg"]


def _random_pose(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.4, size=(NUM_POSE_JOINTS, 3)).astype(np.float32)


def test_keep_unnamed_takes_the_named_limbs_from_the_result_and_the_rest_from_the_start():
    start, result = np.asarray(EXAMPLE_POSES["standing_arms_down"], np.float32), _random_pose(0)
    kept = keep_unnamed(start, result, {"right_arm"})
    assert kept.shape == (NUM_POSE_JOINTS, 3) and kept.dtype == np.float32
    named = [JOINT_INDEX[j] for j in LIMB_ROTATIONS["right_arm"]]
    np.testing.assert_array_equal(kept[named], result[named])
    others = [i for i in range(NUM_POSE_JOINTS) if i not in named]
    np.testing.assert_array_equal(kept[others], start[others])
    assert kept[0].tolist() == start[0].tolist()  # the global orientation too

    joints = [pose_joints(p.astype(np.float64)) for p in (start, kept, result)]  # (24, 3) each
    unnamed = [JOINT_INDEX[j] for limb in LIMB_POSITIONS if limb != "right_arm" for j in LIMB_POSITIONS[limb]]
    np.testing.assert_allclose(joints[1][unnamed], joints[0][unnamed], atol=1e-6)
    hand = JOINT_INDEX["right_hand"]
    assert np.linalg.norm(joints[1][hand] - joints[0][hand]) > 0.01  # the named arm moved


def test_keep_unnamed_without_a_scope_is_the_result():
    start, result = _random_pose(1), _random_pose(2)
    np.testing.assert_array_equal(keep_unnamed(start, result, None), result)
    np.testing.assert_array_equal(keep_unnamed(start, result, frozenset()), start)
