"""AMASS folders and PoseScript/PoseFix release files, on tiny synthetic files plus the AMASS fixture."""
import json
from pathlib import Path

import numpy as np
import pytest

from backend.body.rotations import axis_angle_to_rotmat
from training.data.amass import find_motions, iter_motions, load_motion
from training.data.posescript import (ReleaseFileError, load_id_index, load_pairs, load_split, load_texts,
                                      poses_for_ids)

AMASS_FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "data" / "fixtures" / "amass_sample.npz"


def _write_motion(path: Path, frames: int, seed: int) -> np.ndarray:
    poses = np.random.default_rng(seed).normal(scale=0.3, size=(frames, 156))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, poses=poses, trans=np.zeros((frames, 3)), mocap_framerate=np.float64(60), betas=np.zeros(16))
    return poses


@pytest.fixture
def amass_root(tmp_path):
    root = tmp_path / "amass"
    _write_motion(root / "CMU" / "01" / "01_01_poses.npz", 5, 0)
    _write_motion(root / "CMU" / "01" / "01_02_poses.npz", 3, 1)
    np.savez(root / "CMU" / "01" / "shape.npz", betas=np.zeros(16))
    return root


def test_amass_folder(amass_root):
    assert [p.name for p in find_motions(amass_root)] == ["01_01_poses.npz", "01_02_poses.npz"]
    motions = list(iter_motions(amass_root))
    assert [m[0] for m in motions] == ["CMU/01/01_01_poses", "CMU/01/01_02_poses"]
    name, rotations, fps = motions[0]
    assert rotations.shape == (5, 22, 3) and fps == 60
    raw = np.load(amass_root / "CMU/01/01_01_poses.npz")["poses"][:, :66].reshape(5, 22, 3)
    np.testing.assert_allclose(rotations[:, 1:], raw[:, 1:])  # body joints untouched
    # global orientation re-expressed from Z-up to Y-up: the body's up (+Y) was world +Z
    up_before = axis_angle_to_rotmat(raw[:, 0])[:, :, 1]
    up_after = axis_angle_to_rotmat(rotations[:, 0])[:, :, 1]
    np.testing.assert_allclose(up_after[:, 1], up_before[:, 2], atol=1e-9)


@pytest.mark.skipif(not AMASS_FIXTURE.exists(), reason="shared AMASS fixture not present")
def test_amass_fixture_is_upright():
    rotations, transl, fps = load_motion(AMASS_FIXTURE)
    assert rotations.shape == (500, 22, 3) and fps == 120
    up = axis_angle_to_rotmat(rotations[:, 0])[:, :, 1]
    assert np.mean(up[:, 1]) > 0.8  # a standing/walking subject stands along +Y after conversion


def test_posescript_release_files(amass_root, tmp_path):
    index = {"0": ["CMU", "01/01_01_poses.npz", 4], "1": ["CMU/01/01_02_poses.npz", 0],
             "2": ["CMU", "01/01_01_poses.npz", 1]}
    (tmp_path / "ids.json").write_text(json.dumps(index))
    (tmp_path / "captions.json").write_text(json.dumps({"0": ["a person stands"], "2": "arms up"}))
    (tmp_path / "train.json").write_text(json.dumps([0, 2]))
    (tmp_path / "pairs.json").write_text(json.dumps([[0, 1], [2, 0]]))
    ids = load_id_index(tmp_path / "ids.json")
    assert ids[1] == (None, "CMU/01/01_02_poses.npz", 0)
    assert load_texts(tmp_path / "captions.json") == {0: ["a person stands"], 2: ["arms up"]}
    assert load_split(tmp_path / "train.json") == [0, 2]
    assert load_pairs(tmp_path / "pairs.json") == {0: (0, 1), 1: (2, 0)}
    poses = poses_for_ids(ids, [2, 0, 1], amass_root)
    seq, _, _ = load_motion(amass_root / "CMU/01/01_01_poses.npz")
    np.testing.assert_allclose(poses[0], seq[1])
    np.testing.assert_allclose(poses[1], seq[4])


def test_release_file_errors(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"0": "not a list"}))
    with pytest.raises(ReleaseFileError):
        load_id_index(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ReleaseFileError):
        load_texts(tmp_path / "broken.json")


def test_amass_motions_enter_the_corpus_pipeline(amass_root):
    from training.data.corpus import extract_clip, find_amass_clips

    clips = find_amass_clips(amass_root)
    assert [c.clip_id for c in clips] == ["amass/CMU/01/01_01_poses", "amass/CMU/01/01_02_poses"]
    poses = extract_clip(clips[0])
    assert poses.skeleton_map == "smpl" and poses.fps == 60
    assert list(poses.frames) == [0, 2, 4]  # 60 fps resampled to 30
    assert poses.axis_angle.shape == (3, 22, 3)
