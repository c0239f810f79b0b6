"""Tests for the SMPL tree, the neutral skeleton and forward kinematics (numpy and torch)."""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backend.body import kinematics, kinematics_torch
from backend.body.example_poses import EXAMPLE_POSES, pose_from_statements
from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import (
    JOINT_INDEX, JOINT_NAMES, MIRROR_INDEX, NEUTRAL_REST_JOINTS, PARENTS, POSE_JOINT_NAMES, HEAD_TOP_ABOVE_HEAD_JOINT,
    PELVIS_HEIGHT,
)

few = settings(max_examples=60, deadline=None)  # keep the default suite fast

J = JOINT_INDEX
SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
poses = arrays(np.float64, (3, 22, 3), elements=st.floats(-np.pi, np.pi))


def _descendants(joint):
    out = set()
    for j in range(len(PARENTS)):
        k = j
        while k != -1:
            if PARENTS[k] == joint:
                out.add(j)
                break
            k = PARENTS[k]
    return out


def test_tree_matches_smpl():
    assert list(PARENTS) == SMPL_PARENTS
    assert JOINT_NAMES[:3] == ("pelvis", "left_hip", "right_hip") and JOINT_NAMES[-2:] == ("left_hand", "right_hand")
    assert len(POSE_JOINT_NAMES) == 22 and POSE_JOINT_NAMES[-1] == "right_wrist"
    # names and parents agree: every limb joint hangs off the same side's joint
    for name, i in J.items():
        if i and name.startswith(("left_", "right_")) and not name.endswith(("hip", "collar")):
            assert JOINT_NAMES[PARENTS[i]].split("_")[0] == name.split("_")[0], name


def test_mirror_index_swaps_sides():
    assert MIRROR_INDEX[J["left_knee"]] == J["right_knee"] and MIRROR_INDEX[J["head"]] == J["head"]
    assert np.array_equal(MIRROR_INDEX[MIRROR_INDEX], np.arange(24))


def test_rest_skeleton_is_human_and_left_is_plus_x():
    rest = NEUTRAL_REST_JOINTS
    assert np.allclose(rest[0], 0.0)
    for name in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist", "hand"):
        left, right = rest[J["left_" + name]], rest[J["right_" + name]]
        assert left[0] > 0 > right[0], name  # +X is the body's left
        assert np.allclose(left * [-1, 1, 1], right)
    height = rest[J["head"], 1] + HEAD_TOP_ABOVE_HEAD_JOINT + PELVIS_HEIGHT
    assert 1.6 < height < 1.8
    assert rest[J["left_foot"], 2] > rest[J["left_ankle"], 2]  # toes point forward (+Z)
    assert rest[J["head"], 1] > rest[J["neck"], 1] > rest[J["spine3"], 1] > 0 > rest[J["left_knee"], 1]
    assert rest[J["left_wrist"], 0] > rest[J["left_elbow"], 0] > rest[J["left_shoulder"], 0]  # T-pose


def test_zero_pose_is_the_rest_pose_and_translation_adds():
    joints = kinematics.pose_joints(np.zeros((22, 3)))
    assert np.allclose(joints, NEUTRAL_REST_JOINTS)
    moved = kinematics.pose_joints(np.zeros((22, 3)), transl=np.array([1.0, 2.0, 3.0]))
    assert np.allclose(moved, NEUTRAL_REST_JOINTS + [1, 2, 3])


@few
@given(poses)
def test_bone_lengths_are_kept(aa):
    joints = kinematics.pose_joints(aa)  # (3, 24, 3)
    rest_len = np.linalg.norm(NEUTRAL_REST_JOINTS[1:] - NEUTRAL_REST_JOINTS[PARENTS[1:]], axis=-1)
    posed_len = np.linalg.norm(joints[:, 1:] - joints[:, PARENTS[1:]], axis=-1)
    assert np.allclose(posed_len, rest_len)


@few
@given(st.sampled_from(range(1, 22)), st.floats(0.3, 3.0))
def test_a_joint_rotation_moves_exactly_its_descendants(joint, angle):
    aa = np.zeros((22, 3))
    aa[joint] = [angle / np.sqrt(3)] * 3
    moved = ~np.all(np.isclose(kinematics.pose_joints(aa), NEUTRAL_REST_JOINTS), axis=-1)
    expected = np.zeros(24, bool)
    expected[list(_descendants(joint))] = True
    # a descendant on the rotation axis may stay put; nothing else may move
    assert not np.any(moved & ~expected)
    assert moved.any() or not _descendants(joint)


def test_local_rotations_compose_down_the_chain():
    # shoulder then elbow, each 90 degrees about +Z (radians): the forearm points back along -X
    aa = np.zeros((22, 3))
    aa[J["left_shoulder"]] = [0, 0, np.pi / 2]
    aa[J["left_elbow"]] = [0, 0, np.pi / 2]
    joints, global_rot = kinematics.forward_kinematics(kinematics.pad_pose_rotmats(axis_angle_to_rotmat(aa)))
    shoulder, elbow, wrist = joints[J["left_shoulder"]], joints[J["left_elbow"]], joints[J["left_wrist"]]
    bx, by, bz = NEUTRAL_REST_JOINTS[J["left_elbow"]] - NEUTRAL_REST_JOINTS[J["left_shoulder"]]
    assert np.allclose(elbow - shoulder, [-by, bx, bz], atol=1e-9)  # +90 deg about Z: +X -> +Y
    assert (wrist - elbow)[0] < -0.2 and abs((wrist - elbow)[1]) < 1e-6
    assert np.allclose(global_rot[J["left_elbow"]], axis_angle_to_rotmat([0, 0, np.pi]), atol=1e-9)
    assert np.allclose(global_rot[J["right_elbow"]], np.eye(3))


def test_global_orientation_rotates_about_the_pelvis():
    aa = np.zeros((22, 3))
    aa[0] = [0, np.pi / 2, 0]  # turn the body to face +X
    joints = kinematics.pose_joints(aa)
    assert np.allclose(joints[0], NEUTRAL_REST_JOINTS[0])
    assert joints[J["left_hip"], 2] < -0.05  # its left now points to -Z
    assert joints[J["left_foot"], 0] > joints[J["left_ankle"], 0]  # toes towards +X


@few
@given(poses)
def test_mirrored_pose_gives_mirrored_joints(aa):
    # mirroring x: swap left/right joints and negate the y and z axis-angle components
    mirrored = aa[:, MIRROR_INDEX[:22]] * [1, -1, -1]
    a = kinematics.pose_joints(aa)
    b = kinematics.pose_joints(mirrored)
    assert np.allclose(b[:, MIRROR_INDEX] * [-1, 1, 1], a, atol=1e-9)


@few
@given(poses, arrays(np.float64, (3, 3), elements=st.floats(-2, 2)))
def test_numpy_and_torch_fk_agree(aa, transl):
    rotmats = kinematics.pad_pose_rotmats(axis_angle_to_rotmat(aa))
    j_np, g_np = kinematics.forward_kinematics(rotmats, transl=transl)
    j_t, g_t = kinematics_torch.forward_kinematics(torch.from_numpy(rotmats), transl=torch.from_numpy(transl))
    assert np.allclose(j_t.numpy(), j_np, atol=1e-6) and np.allclose(g_t.numpy(), g_np, atol=1e-6)
    p_t = kinematics_torch.pose_joints(torch.from_numpy(aa).float())
    assert p_t.dtype == torch.float32
    assert np.allclose(p_t.double().numpy(), kinematics.pose_joints(aa), atol=1e-5)


def test_torch_fk_is_differentiable():
    aa = torch.zeros(2, 22, 3, dtype=torch.float64, requires_grad=True)
    kinematics_torch.pose_joints(aa)[:, J["left_wrist"]].sum().backward()
    assert torch.isfinite(aa.grad).all() and aa.grad[:, J["left_shoulder"]].abs().sum() > 0


# ---- the hand-built example poses, checked by forward kinematics


def _joints(name):
    return kinematics.pose_joints(EXAMPLE_POSES[name])


def test_pose_statements_follow_documented_signs():
    # hip about -X raises the thigh forward; knee about +X sends the shin back
    j = kinematics.pose_joints(pose_from_statements({"left_hip": [("x", -90)]}))
    assert j[J["left_knee"], 2] > 0.3 and abs(j[J["left_knee"], 1] - j[J["left_hip"], 1]) < 0.05
    j = kinematics.pose_joints(pose_from_statements({"left_knee": [("x", 90)]}))
    assert j[J["left_ankle"], 2] < -0.3
    turned = pose_from_statements({"head": [("y", 30)]})  # the head turns to its left (+X)
    _, g = kinematics.forward_kinematics(kinematics.pad_pose_rotmats(axis_angle_to_rotmat(turned)))
    assert (g[J["head"]] @ [0, 0, 1])[0] > 0.4


def test_t_pose_and_arms_down():
    t = _joints("t_pose")
    assert np.allclose(t, NEUTRAL_REST_JOINTS)
    down = _joints("standing_arms_down")
    for side, sign in (("left", 1), ("right", -1)):
        wrist, shoulder, hip = down[J[side + "_wrist"]], down[J[side + "_shoulder"]], down[J[side + "_hip"]]
        assert wrist[1] < shoulder[1] - 0.4 and abs(wrist[1] - hip[1]) < 0.15  # hands at hip height
        assert sign * wrist[0] > sign * hip[0]  # beside the body, on its own side


def test_sitting_has_knees_at_hip_height_in_front():
    j = _joints("sitting")
    for side in ("left", "right"):
        hip, knee, ankle = j[J[side + "_hip"]], j[J[side + "_knee"]], j[J[side + "_ankle"]]
        assert abs(knee[1] - hip[1]) < 0.06 and knee[2] - hip[2] > 0.3
        assert ankle[1] < knee[1] - 0.35 and abs(ankle[2] - knee[2]) < 0.1  # shins vertical
    assert j[J["head"], 1] > j[J["pelvis"], 1] + 0.4  # upright trunk


def test_lunge_has_left_leg_forward_and_right_leg_back():
    j = _joints("lunge")
    assert j[J["left_knee"], 2] > 0.3 and j[J["right_knee"], 2] < 0.0
    assert j[J["left_ankle"], 2] > 0.2 and j[J["right_ankle"], 2] < -0.3
    feet = [j[J["left_ankle"], 1], j[J["right_foot"], 1]]
    assert abs(feet[0] - feet[1]) < 0.15  # both feet near one ground


def test_arms_raised_has_hands_above_the_head():
    j = _joints("arms_raised")
    assert j[J["left_wrist"], 1] > j[J["head"], 1] + 0.2 and j[J["right_wrist"], 1] > j[J["head"], 1] + 0.2
    assert j[J["left_wrist"], 0] > 0 > j[J["right_wrist"], 0]
