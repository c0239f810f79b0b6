"""The natural-prompt checks (training/benchmarks/prompts.py): a pose that does what the prompt says passes,
a pose that does not fails. Hand-made poses from joint-angle statements (tests/_bench_poses.py)."""
import numpy as np
import pytest

from _bench_poses import pose
from training.benchmarks.body import Body
from training.benchmarks.prompts import GROUPS, PROMPTS, check_prompt

BY_TEXT = {p.text: p for p in PROMPTS}

# prompt -> a pose that does what it says
CORRECT = {
    "standing": "t_pose",
    "standing with arms at sides": "standing_arms_down",
    "sitting on a chair": "sitting_on_chair",
    "sitting cross-legged": "sitting_cross_legged",
    "sit on the ground with legs straight out": "sitting_on_floor_legs_straight",
    "kneeling on both knees": "kneeling_on_both_knees",
    "kneeling on the right knee": "kneeling_on_right_knee",
    "kneel on your left knee": "kneeling_on_left_knee",
    "kneeling sitting back on the heels": "sitting_on_heels",
    "squat": "squatting",
    "a deep squat": "squat",
    "left leg forward lunge": "lunge_left_forward",
    "a lunge with the right leg forward": "lunge_right_forward",
    "warrior two yoga pose": "warrior_two",
    "lying on the back": "lying_on_back",
    "lying on the back with knees up": "lying_on_back_knees_up",
    "lie on your stomach": "lying_on_front",
    "lying on the side": "lying_on_side",
    "on all fours": "crawling",
    "plank": "plank",
    "bend forward": "bending_forward",
    "lean back": "lean_back",
    "side bend": "side_bend",
    "stand on your left leg": "on_left_leg",
    "tree pose": "tree_pose",
    "star jump": "star",
    "split leap": "split",
    "handstand": "handstand",
    "both arms up": "arms_raised",
    "raise your left hand": "left_arm_up",
    "T-pose": "t_pose",
    "A-pose": "a_pose",
    "arms straight forward": "reaching_forward",
    "cross your arms": "arms_crossed",
    "hands on hips": "hands_on_hips",
    "hands on head": "hands_on_head",
    "praying hands": "praying",
    "waving with the left hand": "waving_left",
    "wave hello": "waving_right_hand",
}

# prompt -> a pose that is clearly something else (often the nearest confusion)
WRONG = {
    "standing": "sitting_on_chair",
    "sitting on a chair": "squatting",
    "squat": "sitting_on_chair",
    "sitting cross-legged": "sitting_on_chair",
    "kneeling on both knees": "kneeling_on_right_knee",
    "kneel on your left knee": "kneeling_on_right_knee",
    "kneeling on the right knee": "kneeling_on_both_knees",
    "a lunge with the right leg forward": "lunge_left_forward",
    "lunge": "kneeling_on_right_knee",        # the back knee is down
    "lying on the back": "lying_on_front",
    "lie on your stomach": "lying_on_back",
    "lying on the side": "lying_on_back",
    "on all fours": "plank",
    "plank": "downward_dog",
    "bend forward": "handstand",
    "touch your toes": "t_pose",
    "stand on your left leg": "on_right_leg",
    "star jump": "lunge_left_forward",
    "handstand": "downward_dog",
    "both arms up": "hands_on_head",
    "raise your left hand": "arms_raised",
    "T-pose": "a_pose",
    "A-pose": "standing_arms_down",
    "hands on hips": "standing_arms_down",
    "cross your arms": "praying",
    "praying hands": "t_pose",
    "wave hello": "hands_on_head",
    "waving with the left hand": "waving_right_hand",
    "pointing forward with the right hand": "reaching_forward",  # both arms forward
}


def test_table_shape():
    assert len(PROMPTS) >= 80
    assert len({p.text for p in PROMPTS}) == len(PROMPTS)
    for group in GROUPS:
        assert sum(p.group == group for p in PROMPTS) >= 3, group
    assert set(CORRECT) <= set(BY_TEXT) and set(WRONG) <= set(BY_TEXT)
    assert {BY_TEXT[t].group for t in CORRECT} == set(GROUPS)  # every group has a pose that passes


@pytest.mark.parametrize("text", sorted(CORRECT))
def test_a_correct_pose_passes(text):
    assert check_prompt(BY_TEXT[text], pose(CORRECT[text])), BY_TEXT[text].check.text


@pytest.mark.parametrize("text", sorted(WRONG))
def test_a_wrong_pose_fails(text):
    assert not check_prompt(BY_TEXT[text], pose(WRONG[text])), BY_TEXT[text].check.text


def test_rest_pose_passes_only_what_a_t_pose_is():
    passed = {p.text for p in PROMPTS if check_prompt(p, pose("t_pose"))}
    assert passed == {"standing", "a person standing still", "stand up straight", "T-pose", "arms out to the sides"}


def test_lying_pose_passes_only_lying_prompts():
    assert {p.group for p in PROMPTS if check_prompt(p, pose("lying_on_back"))} == {"lying"}


def test_checks_do_not_depend_on_heading():
    """The body's own frame: turning the whole body about the vertical changes no verdict."""
    from backend.body.heading import rotate_root
    from backend.body.rotations import axis_angle_to_rotmat

    turn = axis_angle_to_rotmat(np.array([0.0, 2.0, 0.0]))
    for name in ("sitting_on_chair", "lunge_left_forward", "lying_on_side", "hands_on_hips"):
        turned = rotate_root(pose(name)[None], turn[None])[0]
        assert [check_prompt(p, pose(name)) for p in PROMPTS] == [check_prompt(p, turned) for p in PROMPTS]


def test_body_measurements():
    body = Body.from_pose(pose("sitting_on_chair"))
    assert 80 < body.flexion("left_knee") < 100
    assert body.limb_from_vertical("left_hip", "left_knee") > 75
    assert 0.4 < body.height("pelvis") < 0.65 and body.torso_tilt() < 10
    assert Body.from_pose(pose("lying_on_back")).chest_up() > 0.9
    assert Body.from_pose(pose("lean_back")).torso_lean() < -12
