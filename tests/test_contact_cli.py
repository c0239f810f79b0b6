"""`unipose refine`: writes the refined pose, reports the gaps, keeps the feet on the ground via transl."""
import json

import numpy as np

from backend.body.example_poses import EXAMPLE_POSES
from backend.cli import main
from backend.posefile import Pose, load_pose, save_pose


def test_refine_writes_a_pose_that_touches_and_a_preview(tmp_path, capsys):
    source = tmp_path / "pose.json"
    save_pose(Pose(np.array(EXAMPLE_POSES["t_pose"])), source)
    out, preview = tmp_path / "out.json", tmp_path / "preview.png"
    assert main(["refine", str(source), "hands on the hips", "-o", str(out), "--preview", str(preview)]) == 0
    printed = capsys.readouterr().out
    assert "left_palm <-> left_hip" in printed and "ok" in printed and "NOT MET" not in printed
    refined = load_pose(out)
    assert refined.text == "hands on the hips" and not np.allclose(refined.rotations, EXAMPLE_POSES["t_pose"])
    assert preview.stat().st_size > 1000


def test_ground_contact_moves_the_root_down_to_keep_the_lowest_point(tmp_path):
    source = tmp_path / "pose.json"
    save_pose(Pose(np.array(EXAMPLE_POSES["standing_arms_down"]), transl=np.array([0.0, 0.96, 0.0])), source)
    assert main(["refine", str(source), "sitting on the floor"]) == 0
    refined = load_pose(tmp_path / "pose.refined.json")
    assert 0.08 < refined.transl[1] < 0.3  # the pelvis comes down to floor-sitting height, the soles were at 0


def test_no_contacts_keeps_the_pose_and_bad_files_fail_in_one_line(tmp_path, capsys):
    source = tmp_path / "pose.json"
    save_pose(Pose(np.array(EXAMPLE_POSES["lunge"])), source)
    assert main(["refine", str(source), "a person waving", "-o", str(tmp_path / "same.json")]) == 0
    assert np.array_equal(load_pose(tmp_path / "same.json").rotations, EXAMPLE_POSES["lunge"])
    (tmp_path / "bad.json").write_text(json.dumps({"format": "nope"}))
    assert main(["refine", str(tmp_path / "bad.json"), "hands together"]) != 0
    assert capsys.readouterr().err.count("\n") == 1
