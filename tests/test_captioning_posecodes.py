"""Posecodes measure what they claim on hand-built poses, whatever the global yaw."""
import numpy as np
import pytest

from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from training.captioning.paircodes import canonical_joints, select_pairs
from backend.facts.posecodes import (
    AMBIGUOUS, POSECODE_INDEX, POSECODES, compute_posecodes, pose_geometry,
)
from support.random_poses import sample_poses, set_joint

REST = np.zeros((1, 22, 3))


def category(poses: np.ndarray, name: str) -> str | None:
    codes = compute_posecodes(*pose_geometry(poses))[0]
    c = codes[POSECODE_INDEX[name]]
    return None if c == AMBIGUOUS else POSECODES[POSECODE_INDEX[name]].categories[c]


def with_global(poses: np.ndarray, axis_angle) -> np.ndarray:
    out = poses.copy()
    out[:, 0] = rotmat_to_axis_angle(axis_angle_to_rotmat(np.asarray(axis_angle, float))
                                     @ axis_angle_to_rotmat(out[:, 0]))
    return out


def test_rest_pose_facts():
    assert category(REST, "angle:left_knee") == "straight"
    assert category(REST, "pitch:left_upper_arm") == "horizontal"
    assert category(REST, "pitch:right_thigh") == "vertical"
    assert category(REST, "torso_tilt:torso") == "upright"
    assert category(REST, "super:arms_out") == "yes"
    assert category(REST, "super:kneeling") == "no"
    assert category(REST, "relpos_x:left_wrist:left_shoulder") == "left of"


@pytest.mark.parametrize("degrees,expected", [(90, "bent at a right angle"), (3, "straight"), (20, "slightly bent"),
                                              (60, "partially bent"), (150, "completely bent")])
def test_knee_angle_categories(degrees, expected):
    pose = set_joint(REST, "left_knee", (degrees, 0, 0))  # flexion from the rest knee (about 174 deg)
    assert category(pose, "angle:left_knee") == expected
    assert category(pose, "angle:right_knee") == "straight"


def test_raised_arm_is_above_head_and_left_right_follow_the_body():
    pose = set_joint(REST, "left_shoulder", (0, 0, 85))  # left arm straight up
    assert category(pose, "relpos_y:left_wrist:head") == "above"
    assert category(pose, "relpos_y:right_wrist:head") != "above"
    assert category(pose, "pitch:left_upper_arm") == "vertical"
    for yaw in (0.0, 1.3, np.pi, -2.2):  # heading never changes a posecode
        turned = with_global(pose, (0, yaw, 0))
        assert category(turned, "relpos_y:left_wrist:head") == "above"
        assert np.array_equal(compute_posecodes(*pose_geometry(turned)), compute_posecodes(*pose_geometry(pose)))


def test_forward_lean_and_hand_in_front():
    lean = set_joint(REST, "spine1", (30, 0, 0))
    assert category(lean, "incline_fwd:torso") == "forward"
    reach = set_joint(REST, "left_shoulder", (0, -90, 0))  # left arm forward
    assert category(reach, "relpos_z:left_wrist:spine3") == "in front of"
    assert category(reach, "relpos_z:right_wrist:spine3") == "level"


def test_lying_on_back_and_front():
    on_back = with_global(REST, (-np.pi / 2, 0, 0))  # rotate the body to face up
    assert category(on_back, "super:lying_back") == "yes"
    assert category(on_back, "super:lying_front") == "no"
    on_front = with_global(REST, (np.pi / 2, 0, 0))
    assert category(on_front, "super:lying_front") == "yes"


def test_kneeling_and_squatting_from_keyposes():
    from training.data.keyposes import keypose

    assert category(keypose("kneeling_on_both_knees")[None], "super:kneeling") == "yes"
    assert category(keypose("squatting")[None], "super:squatting") == "yes"
    assert category(keypose("sitting_on_chair")[None], "super:sitting") == "yes"
    assert category(keypose("tree_pose")[None], "super:standing_right_leg") == "yes"


def test_head_turn_needs_the_head_rotation():
    turned = set_joint(REST, "head", (0, 50, 0))  # +Y turns the face towards the body's left
    assert category(turned, "head_turn:head") == "left"
    joints, _ = pose_geometry(turned)
    codes = compute_posecodes(joints)  # joints only: the head's yaw is unknown
    assert codes[0, POSECODE_INDEX["head_turn:head"]] == AMBIGUOUS


def test_select_pairs_are_close_but_different():
    poses = sample_poses(600, seed=1)
    joints, head = pose_geometry(poses)
    pairs, dist, changes = select_pairs(joints, head, min_changes=10)
    assert len(pairs) > 300
    assert (changes >= 10).all() and (pairs[:, 0] != pairs[:, 1]).all()
    canon = canonical_joints(joints)
    random_pair = np.linalg.norm(canon[pairs[:, 0]] - canon[np.roll(pairs[:, 1], 7)], axis=-1).mean()
    assert dist.mean() < random_pair  # nearer than arbitrary partners
    assert not ({tuple(p) for p in pairs} & {(b, a) for a, b in pairs})
