"""The server as a process over pipes: framing, stdout hygiene, exit paths. Uses the fake-model server
(tests/_server_fakes.py) and the real `python -m backend serve` entry point without a model."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import backend.server as server
from _server_fakes import FAKE_SERVER, REPO, ServerProcess, write_images, zero_pose_dict


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="module")
def fake():
    proc = ServerProcess(FAKE_SERVER, timeout=30)
    yield proc
    proc.close()


def test_ready_follows_load_progress():
    proc = ServerProcess(FAKE_SERVER, timeout=30)
    assert proc.ready["params"]["loaded"] is True and proc.ready["params"]["error"] is None
    assert proc.close() == 0


def test_every_method_over_pipes(fake, images):
    pose = zero_pose_dict()
    calls = [("text_to_pose", {"text": "wave", "num_samples": 3, "seed": 1}),
             ("image_to_pose", {"image": images["person"]}),
             ("edit_pose", {"pose": pose, "instruction": "bend"}), ("pose_to_text", {"pose": pose}),
             ("image_to_text", {"image": images["other"]}), ("pose_diff", {"pose_a": pose, "pose_b": pose}),
             ("image_diff", {"image_a": images["person"], "image_b": images["other"]}), ("status", {})]
    for method, params in calls:
        response, notes = fake.call(method, params)
        result = response["result"]
        assert result["timing_ms"] >= 0
        if method in server.TASKS:
            assert [n["params"]["fraction"] for n in notes] == [0.0, 1.0]
            assert all(n["params"]["id"] == response["id"] for n in notes)
            assert ("poses" in result) == (server.TASKS[method].output == "pose")
    assert len(fake.call("text_to_pose", {"text": "wave", "num_samples": 3})[0]["result"]["poses"]) == 3


def test_library_prints_do_not_reach_the_protocol_stream(fake):
    response, notes = fake.call("text_to_pose", {"text": "shout"})  # the fake model prints to stdout
    assert response["result"]["poses"]  # every line read was JSON (ServerProcess.read parses each)
    assert "noise on stdout" in fake.log()


def test_bad_input_classes_over_pipes(fake, images):
    fake.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": "status"\n')            # malformed JSON
    assert fake.read()["error"]["code"] == server.PARSE_ERROR
    fake.send_raw(b'{"jsonrpc": "2.0", "id": 2, "method": "text_to_pose", '
                  b'"params": {"text": "a", "temperature": NaN}}\n')
    error = fake.read()["error"]
    assert error["code"] == server.INVALID_PARAMS and error["data"]["field"] == "temperature"
    bad_pose = zero_pose_dict()
    bad_pose["rotations"] = bad_pose["rotations"][:20]
    cases = [("fly", {}, server.METHOD_NOT_FOUND, None),
             ("text_to_pose", {"text": ["a"]}, server.INVALID_PARAMS, "text"),        # wrong type
             ("edit_pose", {"pose": zero_pose_dict()}, server.INVALID_PARAMS, "instruction"),  # missing field
             ("pose_to_text", {"pose": bad_pose}, server.INVALID_PARAMS, "pose"),      # wrong joint count
             ("image_to_text", {"image": images["missing"]}, server.INVALID_PARAMS, "image"),
             ("image_to_text", {"image": images["text"]}, server.INVALID_PARAMS, "image"),
             ("image_to_text", {"image": images["huge"]}, server.INVALID_PARAMS, "image"),
             ("text_to_pose", {"text": "explode"}, server.MODEL_FAILED, None)]
    for method, params, code, field in cases:
        error = fake.call(method, params)[0]["error"]
        assert error["code"] == code, (method, params, error)
        if field:
            assert error["data"]["field"] == field and field in error["message"]
    assert fake.call("status")[0]["result"]["loaded"] is True


def test_requests_are_answered_in_order(fake):
    requests = [{"jsonrpc": "2.0", "id": i, "method": "text_to_pose" if i % 2 else "fly", "params": {"text": "a"}}
                for i in range(20)]
    fake.send_raw(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
    responses = [m for m in (fake.read() for _ in range(20 + 20)) if "id" in m]
    assert [r["id"] for r in responses] == list(range(20))


def test_shutdown_and_end_of_input_exit_cleanly():
    proc = ServerProcess(FAKE_SERVER, timeout=30)
    response, _ = proc.call("shutdown")
    assert "result" in response and proc.read() is None and proc.close() == 0
    proc = ServerProcess(FAKE_SERVER, timeout=30)
    assert proc.close() == 0  # closes stdin: end of input


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def test_exits_when_the_parent_goes_away():
    # A middle process starts the server with our pipes and is killed once the server is ready; stdin
    # stays open, so only the parent watch can end the server.
    launcher = ("import subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdin=sys.stdin, stdout=sys.stdout);"
                "print(p.pid, flush=True); p.wait()")
    middle = subprocess.Popen([sys.executable, "-c", launcher, *FAKE_SERVER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    pid = int(middle.stdout.readline())
    while json.loads(middle.stdout.readline()).get("method") != "ready":
        pass
    assert not _gone(pid)
    middle.kill()
    middle.wait(30)
    deadline = time.monotonic() + 20
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _gone(pid)
    middle.stdin.close()
    middle.stdout.close()


def test_real_entry_point_without_a_checkpoint(tmp_path):
    proc = ServerProcess([sys.executable, "-m", "backend", "serve", "--checkpoint", str(tmp_path / "none"),
                          "--device", "cpu"], timeout=60)
    ready = proc.ready["params"]
    assert ready["loaded"] is False and "checkpoint folder not found" in ready["error"]
    error = proc.call("pose_to_text", {"pose": zero_pose_dict()})[0]["error"]
    assert error["code"] == server.MODEL_NOT_LOADED
    assert proc.call("status")[0]["result"]["versions"]["python"]
    assert proc.close() == 0
    assert "checkpoint folder not found" in proc.log()
