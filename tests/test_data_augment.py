"""Augmentations, the key-pose library and the pose category classifier."""
import numpy as np
import pytest

from backend.body.kinematics import pose_joints
from backend.body.skeleton import JOINT_INDEX, MIRROR_INDEX
from training.data.augment import LOWER_BODY, mirror, recombine, reorient
from training.data.categories import CATEGORIES, categorize
from training.data.keyposes import KEYPOSES, keypose, keypose_library, perturbed_keyposes


def test_mirror_reflects_joints_across_the_yz_plane():
    poses = np.random.default_rng(0).normal(scale=0.4, size=(8, 22, 3))
    joints = pose_joints(poses)
    mirrored = pose_joints(mirror(poses))
    expected = joints[:, MIRROR_INDEX] * np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(mirrored, expected, atol=1e-6)  # the rest skeleton is symmetric
    np.testing.assert_allclose(mirror(mirror(poses)), poses)


def test_reorient_keeps_articulation_and_lays_bodies_down():
    poses = np.zeros((40, 22, 3))
    poses[:, JOINT_INDEX["left_shoulder"], 2] = -1.3  # arms by the sides
    poses[:, JOINT_INDEX["right_shoulder"], 2] = 1.3
    out, names = reorient(poses, np.random.default_rng(1), jitter_deg=0.0)
    np.testing.assert_allclose(out[:, 1:], poses[:, 1:])
    cats = categorize(out)
    for name, cat in zip(names, cats):
        assert cat == ("inverted" if name == "upside_down" else "lying"), (name, cat)


def test_recombine_takes_legs_from_one_pose_and_the_rest_from_the_other():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 22, 3)), rng.normal(size=(3, 22, 3))
    out = recombine(a, b)
    np.testing.assert_allclose(out[:, list(LOWER_BODY) + [0]], a[:, list(LOWER_BODY) + [0]])
    upper = [j for j in range(1, 22) if j not in LOWER_BODY]
    np.testing.assert_allclose(out[:, upper], b[:, upper])


EXPECTED = {
    "lying_on_back": "lying", "lying_on_front": "lying", "lying_on_side": "lying",
    "kneeling_on_both_knees": "kneeling", "kneeling_on_one_knee": "kneeling",
    "sitting_cross_legged": "sitting", "sitting_on_chair": "sitting", "sitting_on_heels": "kneeling",
    "squatting": "squatting", "crouching": "crouching", "plank": "plank", "crawling": "all_fours",
    "handstand": "inverted", "tree_pose": "standing", "lunge": "lunging", "bending_to_touch_toes": "bending",
    "downward_dog": "other",  # an inverted V is no plank
}


@pytest.mark.parametrize("name,category", sorted(EXPECTED.items()))
def test_keypose_categories(name, category):
    assert categorize(keypose(name)[None])[0] == category


def test_keypose_geometry_facts():
    j = {n: pose_joints(keypose(n)[None])[0] for n in ("lying_on_back", "kneeling_on_one_knee", "tree_pose")}
    back = j["lying_on_back"]
    assert back[JOINT_INDEX["head"], 2] < back[JOINT_INDEX["pelvis"], 2] - 0.3  # lies along Z
    assert back[JOINT_INDEX["head"], 1] == pytest.approx(back[JOINT_INDEX["pelvis"], 1], abs=0.1)
    kneel = j["kneeling_on_one_knee"]
    assert kneel[JOINT_INDEX["right_knee"], 1] < kneel[JOINT_INDEX["left_knee"], 1] - 0.3  # the right knee is down
    tree = j["tree_pose"]
    assert tree[JOINT_INDEX["left_ankle"], 1] > tree[JOINT_INDEX["right_knee"], 1]  # left foot up at the right thigh
    assert tree[JOINT_INDEX["left_wrist"], 1] > tree[JOINT_INDEX["head"], 1]  # arms overhead


def test_library_and_perturbation():
    poses, names = keypose_library()
    assert len(names) == len(poses) > len(KEYPOSES)
    out, out_names = perturbed_keyposes(4, seed=0)
    assert out.shape[1:] == (22, 3) and len(out_names) == len(out) and len(out) <= 4 * 8 * len(poses)
    first = [out_names.index(n) for n in names]  # each pose's first copy is the pose itself
    np.testing.assert_allclose(out[first], poses)
    second = [i + 1 for i in first if i + 1 < len(out) and out_names[i + 1] == out_names[i]]
    moved = np.linalg.norm(pose_joints(out[second]) - pose_joints(out[[i - 1 for i in second]]), axis=-1).mean()
    assert 0.005 < moved < 0.15
    assert set(categorize(poses)) <= set(CATEGORIES)
