"""End to end with a real (random, tiny) UniPose checkpoint: `python -m backend serve` over pipes, the
1,000-request fuzz against it, and the task commands as subprocesses."""
import json
import subprocess
import sys

import pytest

import backend.server as server
from _server_fakes import REPO, ServerProcess, write_images, zero_pose_dict
from backend.posefile import load_pose, pose_from_dict
from test_server_fuzz import EXAMPLES, assert_still_correct, fuzz

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from support.tiny_model import make_tiny_checkpoint
    return str(make_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt"))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"))


def serve_command(checkpoint: str) -> list[str]:
    return [sys.executable, "-m", "backend", "serve", "--checkpoint", checkpoint, "--device", "cpu", "--threads", "1"]


@pytest.fixture(scope="module")
def tiny(checkpoint):
    proc = ServerProcess(serve_command(checkpoint), timeout=120)
    yield proc
    proc.close()


def test_loading_reports_progress_then_ready(checkpoint):
    proc = ServerProcess(serve_command(checkpoint), timeout=120)
    ready = proc.ready["params"]
    assert ready["loaded"] is True and ready["device"] == "cpu" and ready["error"] is None
    assert ready["checkpoint"].endswith("ckpt") and ready["load_ms"] > 0
    response, _ = proc.call("shutdown")
    assert "result" in response and proc.close() == 0


def test_every_method_end_to_end(tiny, images):
    pose = zero_pose_dict()
    calls = {"text_to_pose": {"text": "raise both arms", "num_samples": 2, "seed": 1, "temperature": 1.0},
             "image_to_pose": {"image": images["person"]},
             "edit_pose": {"pose": pose, "instruction": "bend the left knee"},
             "pose_to_text": {"pose": pose}, "image_to_text": {"image": images["person"]},
             "pose_diff": {"pose_a": pose, "pose_b": pose},
             "image_diff": {"image_a": images["person"], "image_b": images["other"]}}
    for method, params in calls.items():
        response, notes = tiny.call(method, params)
        result = response["result"]
        assert result["timing_ms"] > 0 and [n["params"]["fraction"] for n in notes] == [0.0, 1.0]
        if server.TASKS[method].output == "pose":
            assert len(result["poses"]) == params.get("num_samples", 1)
            assert all(pose_from_dict(p).rotations.shape == (22, 3) for p in result["poses"])
        else:
            assert isinstance(result["text"], str)
    status = tiny.call("status")[0]["result"]
    assert status["loaded"] and status["versions"]["torch"] != "not installed"


def test_seeded_sampling_is_repeatable(tiny):
    params = {"text": "squat", "seed": 7, "temperature": 1.0, "num_samples": 2}
    first = tiny.call("text_to_pose", params)[0]["result"]["poses"]
    assert tiny.call("text_to_pose", params)[0]["result"]["poses"] == first


def test_fuzz_real_server(checkpoint, images):
    proc = ServerProcess(serve_command(checkpoint), timeout=120)
    counts = fuzz(proc, images)
    assert counts["examples"] >= EXAMPLES and counts["error"] >= EXAMPLES // 2 and counts["result"] > 20, counts
    assert_still_correct(proc, images)
    assert proc.close() == 0


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_cli_commands_end_to_end(checkpoint, images, tmp_path):
    out = tmp_path / "pose.json"
    done = cli("text2pose", "arms up", "-o", str(out), "--preview", str(tmp_path / "p.png"), "--samples", "2",
               "--seed", "1", "--checkpoint", checkpoint, "--device", "cpu")
    assert done.returncode == 0, done.stderr
    assert load_pose(out).rotations.shape == (22, 3) and (tmp_path / "pose-2.json").exists()
    assert (tmp_path / "p.png").stat().st_size > 0
    done = cli("posediff", str(out), str(tmp_path / "pose-2.json"), "--checkpoint", checkpoint)
    assert done.returncode == 0, done.stderr
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}) for i, (m, p) in
                                  enumerate([("image_to_text", {"image": images["person"]}), ("status", {}),
                                             ("pose_to_text", {"pose": zero_pose_dict()})])))
    done = cli("batch", str(requests), "-o", str(tmp_path / "responses.jsonl"), "--checkpoint", checkpoint)
    assert done.returncode == 0, done.stderr
    responses = [json.loads(line) for line in (tmp_path / "responses.jsonl").read_text().splitlines()]
    assert [r["id"] for r in responses] == [0, 1, 2] and all("result" in r for r in responses)
    assert "3/3" in done.stderr  # the progress bar
