"""The add-on's backend client against a fake server speaking the backend protocol (no Blender)."""
import sys
import time
from pathlib import Path

import pytest

from blender_addon import client as backend_client

FAKE = str(Path(__file__).with_name("blender_fake_backend.py"))


def wait_for(condition, backend, timeout=10.0):
    """Drive the main-thread side (poll) until `condition()` holds, as Blender's timer would."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        backend.poll()
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


@pytest.fixture
def make_client():
    made = []

    def make(*args):
        made.append(backend_client.BackendClient([sys.executable, FAKE, *args]))
        return made[-1]

    yield make
    for backend in made:
        backend.stop()


def test_request_round_trip_and_ready_state(make_client):
    backend = make_client("--load-seconds", "0.3")
    backend.start()
    assert backend.state == backend_client.LOADING
    results = []
    backend.submit("text_to_pose", {"text": "wave", "num_samples": 2}, lambda r, e: results.append((r, e)))
    assert backend.busy
    wait_for(lambda: results, backend)
    result, error = results[0]
    assert error is None and len(result["poses"]) == 2 and "timing_ms" in result
    assert backend.state == backend_client.READY and not backend.busy


def test_callbacks_run_only_inside_poll(make_client):
    backend = make_client()
    results = []
    backend.submit("status", {}, lambda r, e: results.append(r))
    time.sleep(0.5)  # the answer has arrived on the reader thread by now
    assert results == []
    wait_for(lambda: results, backend)


def test_errors_are_delivered_not_raised(make_client):
    backend = make_client()
    results = []
    backend.submit("image_to_text", {"image": "/no/such.png"}, lambda r, e: results.append(e))
    wait_for(lambda: results, backend)
    assert "image" in results[0]


def test_crash_mid_request_is_reported_and_next_request_restarts(make_client):
    backend = make_client()
    results = []
    backend.submit("text_to_pose", {"text": "CRASH"}, lambda r, e: results.append(e))
    wait_for(lambda: results, backend)
    assert "exited with code 3" in results[0] and "crashing as asked" in results[0]
    assert backend.state == backend_client.ERROR and not backend.running
    backend.submit("text_to_pose", {"text": "fine"}, lambda r, e: results.append(r))
    wait_for(lambda: len(results) == 2, backend)
    assert results[1]["poses"] and backend.state == backend_client.READY


def test_cancel_reports_now_and_drops_late_answer(make_client):
    backend = make_client()
    results = []
    request_id = backend.submit("text_to_pose", {"text": "SLOW"}, lambda r, e: results.append((r, e)))
    assert backend.cancel(request_id) == 1
    assert backend.poll() == 1 and results == [(None, "cancelled")] and not backend.busy
    backend.submit("status", {}, lambda r, e: results.append((r, e)))
    wait_for(lambda: len(results) == 2, backend)
    assert results[1][1] is None  # the slow answer came first and was dropped


def test_missing_interpreter_raises_with_advice():
    backend = backend_client.BackendClient(["/no/such/python", "-m", "backend", "serve"])
    with pytest.raises(backend_client.BackendError, match="preferences"):
        backend.start()
    assert backend.state == backend_client.ERROR


def test_failed_model_load_is_an_error_state(make_client):
    backend = make_client("--fail-load")
    backend.start()
    wait_for(lambda: backend.state != backend_client.LOADING, backend)
    assert backend.state == backend_client.ERROR and "no checkpoint" in backend.message


def test_stop_fails_pending_and_ends_process(make_client):
    backend = make_client()
    results = []
    backend.submit("text_to_pose", {"text": "SLOW"}, lambda r, e: results.append(e))
    process = backend._connection.process
    backend.stop(timeout=0.2)
    assert process.poll() is not None and backend.state == backend_client.STOPPED
    backend.poll()
    assert results == ["the backend was stopped"]


@pytest.mark.parametrize("owner, name", [(backend_client, "Request"), (backend_client.BackendClient, "start")],
                         ids=["late-request", "late-start"])
def test_a_backend_that_exits_at_once_fails_the_request_that_started_it(monkeypatch, tmp_path, owner, name):
    """The process may exit, and its reader finish, before `submit` has registered the request: while
    the request is made, or already before `start` has returned to `submit`."""
    script = tmp_path / "exits.py"
    script.write_text("import sys\n"
                      "sys.stderr.write(\"ModuleNotFoundError: No module named 'torch'\\n\")\nsys.exit(1)\n")
    backend = backend_client.BackendClient([sys.executable, str(script)])
    original = getattr(owner, name)

    def late_call(*args, **kwargs):
        made = original(*args, **kwargs)
        time.sleep(1.5)  # the reader sees the exit meanwhile, with no request pending yet
        return made

    monkeypatch.setattr(owner, name, late_call)
    results = []
    backend.submit("status", {}, lambda r, e: results.append(e))
    wait_for(lambda: results, backend)
    assert "lacks the UniPose packages (no module 'torch')" in results[0]
    assert backend.state == backend_client.ERROR and not backend.running


def test_requests_of_a_replaced_backend_fail_when_it_exits(make_client, monkeypatch):
    """A backend killed while a request waits, and restarted by the next request before its reader has
    seen the exit: the old request fails with the exit, the new one is answered by the new process."""
    backend = make_client()
    results = {}
    backend.submit("text_to_pose", {"text": "SLOW"}, lambda r, e: results.setdefault("old", e))
    worded = backend_client.exit_message

    def slow_wording(*args):
        time.sleep(1.0)  # the old reader is still wording the exit when the next request restarts the backend
        return worded(*args)

    monkeypatch.setattr(backend_client, "exit_message", slow_wording)
    old = backend._connection.process
    old.kill()
    old.wait()
    backend.submit("text_to_pose", {"text": "fine"}, lambda r, e: results.setdefault("new", r))
    assert backend._connection.process is not old
    wait_for(lambda: len(results) == 2, backend)
    assert "exited with code" in results["old"] and results["new"]["poses"]
