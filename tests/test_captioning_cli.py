"""`unipose caption` / `unipose instruct` and the CMU activity sentences."""
import json

import numpy as np

from backend.cli import main
from training.captioning.activity import activity_sentence


def _write(path, rotations):
    path.write_text(json.dumps({"format": "smpl-axis-angle", "rotations": np.asarray(rotations).tolist()}))
    return str(path)


def test_caption_cli_prints_n_lines(tmp_path, capsys):
    pose = np.zeros((22, 3))
    pose[18] = [0, -1.5, 0]  # bend the left elbow
    assert main(["caption", _write(tmp_path / "p.json", pose), "--n", "4", "--seed", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and len(set(lines)) == 4


def test_instruct_cli(tmp_path, capsys):
    a = np.zeros((22, 3))
    b = a.copy()
    b[4] = b[5] = [1.6, 0, 0]  # bend both knees
    assert main(["instruct", _write(tmp_path / "a.json", a), _write(tmp_path / "b.json", b), "--n", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all(line.endswith(".") for line in lines)


def test_invalid_pose_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["caption", str(bad)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0]
    assert main(["instruct", str(bad), str(bad)]) != 0


def test_activity_sentences():
    assert activity_sentence("basketball - dribble, shoot") == "a person dribbling and shooting a basketball"
    assert activity_sentence("playground - climb, hang") == "a person climbing and hanging on a playground"
    assert activity_sentence("walk") == "a person walking"
    assert activity_sentence("elephant (human subject)") == "a person imitating an elephant"
    assert (activity_sentence("run/jog") == "a person running and jogging"
            or activity_sentence("run/jog").startswith("a person running"))
    assert activity_sentence("") is None and activity_sentence("90") is None
