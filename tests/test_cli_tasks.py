"""`unipose text2pose|pose2text|edit|posediff|image2pose|image2text|imagediff|batch` in-process, over a fake
model (the end-to-end run with a real tiny checkpoint is in test_server_tiny.py)."""
import json

import pytest
from PIL import Image

from _server_fakes import FakeModel, write_images, zero_pose_dict
from backend.body.skeleton import JOINT_INDEX
from backend.cli import main
from backend.engine import UniPoseEngine
from backend.posefile import load_pose


@pytest.fixture
def model(monkeypatch):
    fake = FakeModel()
    loads = []

    def load(cls, checkpoint, device="auto", progress=None, text_steps="auto"):
        loads.append((checkpoint, device, text_steps))
        return cls(fake, checkpoint=checkpoint, device="cpu")

    monkeypatch.setattr(UniPoseEngine, "load", classmethod(load))
    fake.loads = loads
    return fake


@pytest.fixture
def files(tmp_path):
    paths = write_images(tmp_path / "images")
    paths["pose"] = str(tmp_path / "pose.json")
    (tmp_path / "pose.json").write_text(json.dumps(zero_pose_dict()))
    return paths


def test_text2pose_writes_samples_and_preview(model, tmp_path, capsys):
    out, preview = tmp_path / "out" / "pose.json", tmp_path / "pose.png"
    code = main(["text2pose", "arms up", "-o", str(out), "--preview", str(preview), "--seed", "3", "--samples", "3",
                 "--checkpoint", "ckpt"])
    assert code == 0
    assert [p.name for p in sorted(out.parent.iterdir())] == ["pose-2.json", "pose-3.json", "pose.json"]
    assert load_pose(out).rotations.shape == (22, 3)
    assert Image.open(preview).size[0] > 0
    best, variants = model.calls[-2:]  # the greedy pose first, then two sampled variants
    assert (best["seed"], best["num_samples"], best["temperature"]) == (3, 1, 0.0)
    assert (variants["seed"], variants["num_samples"], variants["temperature"]) == (3, 2, 0.7)
    assert model.loads == [("ckpt", "auto", "auto")]


def test_text2pose_prints_pose_json_without_output(model, capsys):
    assert main(["text2pose", "arms up"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["format"] == "smpl-axis-angle"
    assert model.calls[-1]["temperature"] == 0.0


def test_text_commands_print_text(model, files, capsys):
    for argv, task in ((["pose2text", files["pose"]], "pose_to_text"),
                       (["posediff", files["pose"], files["pose"]], "pose_diff"),
                       (["image2text", files["person"]], "image_to_text"),
                       (["imagediff", files["person"], files["other"]], "image_diff")):
        assert main(argv) == 0
        assert capsys.readouterr().out.startswith(task)
    assert main(["pose2text", files["pose"], "--text-steps", "full"]) == 0
    assert model.loads[-1][2] == "full"  # how text steps run reaches the model load


def test_edit_and_image2pose(model, files, tmp_path):
    assert main(["edit", files["pose"], "bend the knees", "-o", str(tmp_path / "e.json")]) == 0
    assert model.calls[-1]["text"] == "bend the knees" and (tmp_path / "e.json").exists()
    arm = JOINT_INDEX["left_elbow"]  # the instruction names the legs: the arms stay as they were (zero)
    assert not load_pose(tmp_path / "e.json").rotations[arm].any()
    assert main(["edit", files["pose"], "bend the knees", "--whole-body", "-o", str(tmp_path / "w.json")]) == 0
    assert load_pose(tmp_path / "w.json").rotations[arm].any()
    assert main(["image2pose", files["person"], "-o", str(tmp_path / "i.json")]) == 0
    assert load_pose(tmp_path / "i.json").rotations.shape == (22, 3)


@pytest.mark.parametrize("argv, needle", [
    (["pose2text", "{missing}"], "no such file"),
    (["image2text", "{text}"], "decoded"),
    (["imagediff", "{person}", "{huge}"], "image_b"),
    (["text2pose", "  "], "empty"),
    (["text2pose", "a", "--samples", "0"], "--samples"),
    (["text2pose", "a", "--temperature", "-1"], "temperature"),
])
def test_bad_input_is_one_line_and_exit_2_before_loading(model, files, capsys, argv, needle):
    argv = [a.format(**files) if a.startswith("{") else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err and err.startswith(f"unipose {argv[0]}: error:")
    assert model.loads == []


def test_model_failure_exits_1(model, capsys):
    assert main(["text2pose", "explode"]) == 1
    assert "boom" in capsys.readouterr().err


def test_missing_checkpoint_exits_2(tmp_path, capsys):
    assert main(["pose2text", "--checkpoint", str(tmp_path / "none"), str(tmp_path / "p.json")]) == 2
    assert main(["text2pose", "hi", "--checkpoint", str(tmp_path / "none"), "--device", "cpu"]) == 2
    assert "checkpoint folder not found" in capsys.readouterr().err


def test_batch_answers_every_line_with_one_load(model, tmp_path, capsys):
    requests = tmp_path / "requests.jsonl"
    lines = [{"jsonrpc": "2.0", "id": i, "method": "text_to_pose", "params": {"text": f"pose {i}"}} for i in range(4)]
    requests.write_text("\n".join(json.dumps(r) for r in lines) + "\n\n{broken\n")
    out = tmp_path / "responses.jsonl"
    assert main(["batch", str(requests), "-o", str(out)]) == 1  # one line is not JSON
    responses = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in responses] == [0, 1, 2, 3, None]
    assert all("poses" in r["result"] for r in responses[:4]) and responses[4]["error"]["code"] == -32700
    assert len(model.loads) == 1
    assert "1 of 5 requests failed" in capsys.readouterr().err
    requests.write_text(json.dumps(lines[0]) + "\n")
    assert main(["batch", str(requests)]) == 0
    assert json.loads(capsys.readouterr().out)["result"]["poses"]


def test_help_everywhere(capsys):
    for command in ("serve", "text2pose", "pose2text", "edit", "posediff", "image2pose", "image2text", "imagediff",
                    "batch"):
        with pytest.raises(SystemExit) as info:
            main([command, "--help"])
        assert info.value.code == 0 and "--checkpoint" in capsys.readouterr().out
