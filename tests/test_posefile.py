"""Pose files: round trips and validation messages that name the problem."""
import json
from pathlib import Path

import numpy as np
import pytest

from backend.body.kinematics import pose_joints
from backend.body.skeleton import POSE_JOINT_NAMES
from backend.posefile import (
    Pose, PoseFileError, load_amass_npz, load_pose, pose_from_dict, pose_to_dict, save_pose, z_up_to_y_up,
)

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "data" / "fixtures" / "amass_sample.npz"


def _rotations(seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(22, 3))


def _valid(**overrides):
    data = {"format": "smpl-axis-angle", "joints": list(POSE_JOINT_NAMES), "rotations": _rotations().tolist()}
    data.update(overrides)
    return data


def test_round_trip_through_a_file(tmp_path):
    pose = Pose(_rotations(), text="a person waves", transl=np.array([0.1, 0.9, -0.2]), betas=np.arange(10) / 10)
    path = tmp_path / "sub" / "pose.json"
    save_pose(pose, path)
    back = load_pose(path)
    assert np.array_equal(back.rotations, pose.rotations)  # exact: floats written with full precision
    assert back.text == pose.text
    assert np.array_equal(back.transl, pose.transl) and np.array_equal(back.betas, pose.betas)
    data = json.loads(path.read_text())
    assert data["format"] == "smpl-axis-angle" and data["joints"] == list(POSE_JOINT_NAMES)
    assert back.rotations.dtype == np.float64 and back.rotations.shape == (22, 3)


def test_optional_fields_may_be_absent():
    pose = pose_from_dict({"format": "smpl-axis-angle", "rotations": np.zeros((22, 3)).tolist()})
    assert pose.text is None and pose.transl is None and pose.betas is None
    assert set(pose_to_dict(pose)) == {"format", "joints", "rotations"}


def test_named_joints_are_reordered_to_smpl_order():
    rotations = _rotations(1)
    order = np.random.default_rng(2).permutation(22)
    data = _valid(joints=[POSE_JOINT_NAMES[i] for i in order], rotations=rotations[order].tolist())
    pose = pose_from_dict(data)
    assert np.allclose(pose.rotations, rotations)
    # a left/right swap in the names changes where the rotation lands
    swapped = list(POSE_JOINT_NAMES)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert np.allclose(pose_from_dict(_valid(joints=swapped, rotations=rotations.tolist())).rotations[1], rotations[2])


@pytest.mark.parametrize(
    "data, message",
    [
        (_valid(rotations=_rotations()[:21].tolist()), "21 joints, expected 22"),
        (_valid(joints=list(POSE_JOINT_NAMES)[:21]), "missing: right_wrist"),
        (_valid(rotations=[[0.0, 0.0]] * 22), "rows of [x, y, z]"),
        (_valid(joints=["left_knee_x"] + list(POSE_JOINT_NAMES[1:])), "unknown joint name 'left_knee_x'"),
        (_valid(joints=["left_hand"] + list(POSE_JOINT_NAMES[1:])), "hands are not part of a pose"),
        (_valid(joints=["left_hip"] + list(POSE_JOINT_NAMES[1:])), "'left_hip' is listed twice"),
        (_valid(rotations=(_rotations() * 0 + [0.0, 90.0, 0.0]).tolist()), "looks like degrees"),
        (_valid(format="smpl-euler"), "unsupported format 'smpl-euler'"),
        ({"rotations": _rotations().tolist()}, 'missing "format"'),
        (_valid(rotations=None), '"rotations" must be a list'),
        ({"format": "smpl-axis-angle"}, 'missing "rotations"'),
        (_valid(rotations=[["0", 0, 0]] + _rotations()[1:].tolist()), "rotations[0][0] must be a number, got a string"),
        (_valid(rotations=[[True, 0, 0]] + _rotations()[1:].tolist()), "got a boolean"),
        (_valid(transl=[0.0, 1.0]), '"transl" must be 3 numbers'),
        (_valid(betas=[0.0, float("inf")]), '"betas" has non-finite values'),
        (_valid(text=5), '"text" must be a string'),
        (_valid(rotation=[]), "unknown key 'rotation'"),
        ([1, 2, 3], "must be a JSON object, got a list"),
        (_valid(joints="pelvis"), '"joints" must be a list'),
    ],
)
def test_invalid_poses_name_the_problem(data, message):
    with pytest.raises(PoseFileError) as error:
        pose_from_dict(data)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_non_finite_values_name_the_joint(tmp_path):
    path = tmp_path / "nan.json"
    rows = ",".join("[0, 0, 0]" if i != 4 else "[NaN, 0, 0]" for i in range(22))
    path.write_text('{"format": "smpl-axis-angle", "rotations": [' + rows + "]}")
    with pytest.raises(PoseFileError, match=r"nan.json: rotation of joint 4 \(left_knee\) is not finite"):
        load_pose(path)


def test_degrees_are_caught_but_large_radians_pass():
    rotations = np.zeros((22, 3))
    rotations[4] = [np.pi, 0, 0]  # a large but valid angle in radians
    pose_from_dict(_valid(rotations=rotations.tolist()))
    rotations[4] = [45.0, 0, 0]
    with pytest.raises(PoseFileError, match="left_knee.*degrees"):
        pose_from_dict(_valid(rotations=rotations.tolist()))


def test_file_errors(tmp_path):
    with pytest.raises(PoseFileError, match="no such file"):
        load_pose(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "smpl-axis-angle",')
    with pytest.raises(PoseFileError, match=r"bad.json: not valid JSON .* line 1"):
        load_pose(bad)


def test_pose_error_is_a_value_error():
    assert issubclass(PoseFileError, ValueError)
    with pytest.raises(ValueError):
        Pose(np.zeros((24, 3)))


def test_amass_npz_synthetic(tmp_path):
    poses = np.random.default_rng(3).normal(scale=0.3, size=(7, 156))
    path = tmp_path / "motion.npz"
    np.savez(path, poses=poses, mocap_frame_rate=np.array(60.0))
    motion = load_amass_npz(path)
    assert motion.rotations.shape == (7, 22, 3) and motion.transl is None and motion.fps == 60.0
    assert np.array_equal(motion.rotations[2, 5], poses[2, 15:18])  # joint 5 = values 15..17
    np.savez(path, poses=poses[:, :60])
    with pytest.raises(PoseFileError, match=r"expected \(frames, >= 66\)"):
        load_amass_npz(path)
    np.savez(path, trans=np.zeros((7, 3)))
    with pytest.raises(PoseFileError, match="no 'poses' array"):
        load_amass_npz(path)
    path.write_text("not a zip")
    with pytest.raises(PoseFileError, match="not a readable .npz"):
        load_amass_npz(path)


@pytest.mark.skipif(not FIXTURE.exists(), reason="AMASS fixture not present (it is not part of the repository)")
def test_amass_fixture_loads_and_turns_upright():
    motion = load_amass_npz(FIXTURE)
    assert motion.rotations.shape == (500, 22, 3) and motion.transl.shape == (500, 3) and motion.fps == 120.0
    rotations, transl = z_up_to_y_up(motion.rotations, motion.transl)
    joints = pose_joints(rotations[::50])  # (10, 24, 3)
    up = joints[:, 15] - joints[:, 0]  # pelvis -> head
    assert np.all(up[:, 1] > 0.3)  # Z-up AMASS becomes Y-up
    assert np.allclose(transl[:, 1], motion.transl[:, 2])
    pose_from_dict(pose_to_dict(Pose(rotations[0], transl=transl[0])))  # valid pose files
