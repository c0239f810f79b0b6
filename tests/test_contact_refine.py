"""Contact refinement: asked contacts hold afterwards, nothing else is disturbed, limits are respected."""
import numpy as np
import pytest
import torch

from backend.body.example_poses import EXAMPLE_POSES, pose_from_statements
from backend.body.kinematics_torch import forward_kinematics
from backend.body.rotations_torch import axis_angle_to_rotmat
from backend.body.skeleton import JOINT_INDEX
from backend.contact import apply_contacts, parse_contacts, refine_pose
from backend.contact.limits import limit_violations
from backend.contact.refine import forward_kinematics_levels

PROMPTS = [
    "right hand on the left knee", "hands on the hips", "touch your toes", "hands together",
    "left hand on the head", "sitting on the floor", "kneeling", "hands behind the head",
    "right hand on the chest", "left hand on the right shoulder",
]


def _random_poses(count, seed=0):
    """Example poses with noise on every joint, kept when they respect the joint limits."""
    rng, names, poses = np.random.default_rng(seed), sorted(EXAMPLE_POSES), []
    while len(poses) < count:
        pose = np.array(EXAMPLE_POSES[names[rng.integers(len(names))]])
        pose[1:] += rng.normal(0.0, 0.25, (21, 3))
        if not limit_violations(pose):
            poses.append(pose)
    return poses


def _check(pose, text):
    refined, report = apply_contacts(pose, text)
    assert report["contacts"], text
    failed = [(r["a"], r["b"], round(r["gap_after"], 3)) for r in report["contacts"] if not r["satisfied"]]
    assert not failed, f"{text!r}: {failed}"
    assert all(abs(r["gap_after"]) <= r["tolerance"] for r in report["contacts"])
    assert limit_violations(refined) == [], text
    return refined, report


@pytest.mark.parametrize("text", ["right hand on the left knee", "hands on the hips", "kneeling"])
def test_contacts_hold_after_refinement(text):
    for name in ("standing_arms_down", "sitting"):
        pose = np.array(EXAMPLE_POSES[name])
        report = _check(pose, text)[1]
        assert any(abs(r["gap_before"]) > r["tolerance"] for r in report["contacts"])  # there was work to do


@pytest.mark.slow
@pytest.mark.parametrize("text", PROMPTS)
def test_contacts_hold_on_many_starting_poses(text):
    starts = [np.array(p) for p in EXAMPLE_POSES.values()] + _random_poses(6)
    for pose in starts:
        _check(pose, text)


def test_text_without_contacts_leaves_the_pose_unchanged():
    pose = _random_poses(1, seed=3)[0]
    refined, report = apply_contacts(pose, "a person waving")
    assert np.array_equal(refined, pose)
    assert report["contacts"] == [] and report["moved_joints"] == [] and report["steps"] == 0


def test_a_pose_that_already_touches_is_left_alone():
    first, _ = apply_contacts(EXAMPLE_POSES["t_pose"], "hands on the hips")
    second, report = apply_contacts(first, "hands on the hips")
    assert report["steps"] == 0 and np.array_equal(second, first)


def test_only_the_reaching_chain_moves_and_the_result_is_deterministic():
    pose = np.array(EXAMPLE_POSES["standing_arms_down"])
    refined, report = apply_contacts(pose, "right hand on the left knee")
    again, _ = apply_contacts(pose, "right hand on the left knee")
    assert np.array_equal(refined, again)
    changed = {i for i in range(22) if not np.allclose(refined[i], pose[i])}
    assert changed and changed <= {JOINT_INDEX[n] for n in report["moved_joints"]}
    for untouched in ("left_collar", "left_shoulder", "left_elbow", "left_wrist", "neck", "head"):
        assert JOINT_INDEX[untouched] not in changed


def test_a_reach_to_a_standing_leg_bends_the_body_over_feet_that_stay_put():
    pose = np.array(EXAMPLE_POSES["standing_arms_down"])
    refined, _ = _check(pose, "touch your toes")
    before = forward_kinematics(axis_angle_to_rotmat(torch.tensor(_pad(pose))))[0].numpy()
    after = forward_kinematics(axis_angle_to_rotmat(torch.tensor(_pad(refined))))[0].numpy()
    for side in ("left", "right"):  # the shins keep their direction in the world: still standing
        shin = [after[JOINT_INDEX[f"{side}_ankle"]] - after[JOINT_INDEX[f"{side}_knee"]],
                before[JOINT_INDEX[f"{side}_ankle"]] - before[JOINT_INDEX[f"{side}_knee"]]]
        cosine = shin[0] @ shin[1] / np.linalg.norm(shin[0]) / np.linalg.norm(shin[1])
        assert cosine > 0.95
    assert after[JOINT_INDEX["head"], 1] < after[JOINT_INDEX["pelvis"], 1]  # folded forward, head below the hips


def test_the_hand_ends_on_the_chest_surface_not_inside_the_torso():
    refined, report = _check(np.array(EXAMPLE_POSES["t_pose"]), "right hand on the chest")
    joints = forward_kinematics(axis_angle_to_rotmat(torch.tensor(_pad(refined))))[0].numpy()
    spine3, hand = joints[JOINT_INDEX["spine3"]], joints[JOINT_INDEX["right_hand"]]
    off_axis = hand - spine3
    assert off_axis[2] > 0.05 and abs(off_axis[1]) < 0.15  # in front of the chest, at its height
    assert np.hypot(off_axis[0], off_axis[2]) > 0.10  # outside the torso's ~0.11 m radius (palm centre)


def test_sitting_on_the_floor_puts_the_buttocks_lowest():
    refined, report = _check(np.array(EXAMPLE_POSES["standing_arms_down"]), "sitting on the floor")
    joints = forward_kinematics(axis_angle_to_rotmat(torch.tensor(_pad(refined))))[0].numpy()
    assert joints[:, 1].min() > -0.25  # nothing hangs far below the pelvis any more
    assert "pelvis" not in report["moved_joints"]


def test_joint_limits_flag_knees_and_elbows_bent_the_wrong_way():
    assert all(limit_violations(p) == [] for p in EXAMPLE_POSES.values())
    wrong = pose_from_statements({"left_knee": [("x", -40)], "right_elbow": [("y", -50)]})
    assert set(limit_violations(wrong)) == {"left_knee", "right_elbow"}


def test_level_by_level_kinematics_matches_the_body_model():
    rotmats = axis_angle_to_rotmat(torch.randn(24, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    ours, reference = forward_kinematics_levels(rotmats), forward_kinematics(rotmats)
    assert torch.allclose(ours[0], reference[0]) and torch.allclose(ours[1], reference[1])


def test_refine_pose_reports_gaps_before_and_after():
    contacts = parse_contacts("hands together")
    result = refine_pose(EXAMPLE_POSES["t_pose"], contacts)
    assert result.gaps_before[0] > 1.0 and abs(result.gaps_after[0]) <= 0.03
    assert set(result.moved_joints) >= {"left_elbow", "right_elbow"} and "pelvis" not in result.moved_joints


def _pad(pose):
    return np.concatenate([pose, np.zeros((2, 3))])
