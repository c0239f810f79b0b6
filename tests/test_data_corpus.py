"""Clip metadata, resampling, de-duplication, farthest-point sampling and splits."""
from pathlib import Path

import numpy as np

from backend.body.kinematics import pose_joints
from backend.body.rotations import axis_angle_to_rotmat
from training.data.corpus import (assign_splits, clip_info, drop_near_duplicates, farthest_point_sampling,
                                  remove_heading, resample_indices, true_fps)

INDEX = {(2, 1): ("walk", 120.0), (60, 1): ("salsa dance", 60.0)}


def test_clip_groups_join_conversions_of_one_take():
    root = Path("/m")
    daz = clip_info(root / "cmu-daz-subjects/data/02/02_01.bvh", root, INDEX)
    cc = clip_info(root / "cmu-iclone/All_BVH/subjects/002/002_01.bvh", root, INDEX)
    assert daz.group == cc.group == "cmu_02_01" and daz.activity == "walk"
    a = clip_info(root / "cmu-daz-dance/train_data_bvh/salsa/03.bvh", root, INDEX)
    b = clip_info(root / "cmu-daz-dance/train_data_bvh/salsa/18.bvh", root, INDEX)
    assert a.group == b.group == "salsa_03" and a.fps_hint == 60.0 and a.activity == "salsa dance"
    other = clip_info(root / "mine/jump.bvh", root, INDEX)
    assert other.group == "mine/jump" and other.activity is None


def test_frame_rates():
    assert true_fps(120.0, 60.0) == 60.0  # header lies (salsa)
    assert true_fps(30.0, 120.0) == 30.0  # file really resampled
    assert true_fps(120.0, None) == 120.0
    assert list(resample_indices(12, 120.0, 30.0)) == [0, 4, 8]
    assert list(resample_indices(4, 24.0, 30.0)) == [0, 1, 2, 3]  # never upsamples


def test_near_duplicates_and_farthest_points():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 22, 3))
    frames = np.repeat(base, 3, axis=0) + rng.normal(scale=1e-4, size=(15, 22, 3))
    keep = drop_near_duplicates(frames, 0.02)
    assert list(keep) == [0, 3, 6, 9, 12]
    cluster = np.concatenate([rng.normal(scale=0.01, size=(50, 22, 3)), np.full((1, 22, 3), 5.0)])
    chosen = farthest_point_sampling(cluster.astype(np.float32), 2, seed=1)
    assert 50 in chosen  # the outlier is always picked second at the latest
    assert len(set(farthest_point_sampling(cluster, 20).tolist())) == 20


def test_splits_never_share_a_group():
    sizes = {f"g{i}": 10 + i for i in range(60)}
    split = assign_splits(sizes, {"val": 0.1, "test": 0.1})
    assert set(split) == set(sizes)
    per = {s: sum(sizes[g] for g in sizes if split[g] == s) for s in ("train", "val", "test")}
    total = sum(sizes.values())
    assert 0.08 < per["val"] / total < 0.2 and 0.08 < per["test"] / total < 0.2
    assert assign_splits(sizes, {"val": 0.1, "test": 0.1}) == split  # deterministic


def test_remove_heading_faces_plus_z_and_keeps_shape():
    rng = np.random.default_rng(3)
    poses = rng.normal(scale=0.3, size=(20, 22, 3))
    poses[:, 0] = rng.normal(scale=2.0, size=(20, 3))  # any heading and tilt
    out = remove_heading(poses)
    np.testing.assert_allclose(out[:, 1:], poses[:, 1:])
    hip_line = axis_angle_to_rotmat(out[:, 0])[:, :, 0]
    level = np.abs(hip_line[:, 1]) < 0.9
    assert np.all(np.abs(hip_line[level, 2]) < 1e-6) and np.all(hip_line[level, 0] > 0)
    # only a rotation about the vertical: heights of all joints are unchanged
    np.testing.assert_allclose(pose_joints(out)[..., 1], pose_joints(poses)[..., 1], atol=1e-9)
