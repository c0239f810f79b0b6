"""Property-based fuzz of the server process: random and mutated requests over one pipe (10,000 against a fake
model in the slow tests, 1,000 against a real checkpoint in test_server_tiny.py); each line gets exactly the
answers JSON-RPC owes it, each well-formed; the process stays alive and still answers correctly afterwards."""
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import backend.server as server
from _server_fakes import FAKE_SERVER, ServerProcess, write_images, zero_pose_dict
from backend.posefile import pose_from_dict

EXAMPLES = 1000
CODES = {server.PARSE_ERROR, server.INVALID_REQUEST, server.METHOD_NOT_FOUND, server.INVALID_PARAMS,
         server.INTERNAL_ERROR, server.MODEL_FAILED, server.MODEL_NOT_LOADED}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)


def valid_params(images: dict) -> dict:
    pose = zero_pose_dict()
    return {"text_to_pose": {"text": "raise the left arm"}, "pose_to_text": {"pose": pose},
            "pose_diff": {"pose_a": pose, "pose_b": pose}, "edit_pose": {"pose": pose, "instruction": "sit down"},
            "image_to_pose": {"image": images["person"]}, "image_to_text": {"image": images["person"]},
            "image_diff": {"image_a": images["person"], "image_b": images["other"]}, "status": {}}


@st.composite
def mutated_requests(draw, images: dict):
    method = draw(st.sampled_from(sorted(valid_params(images))))
    params = json.loads(json.dumps(valid_params(images)[method]))
    request = {"jsonrpc": "2.0", "id": draw(st.integers(0, 10**6) | st.text(max_size=6)), "method": method,
               "params": params}
    bad_paths = [images[k] for k in ("missing", "folder", "text", "truncated", "huge", "tiny")]
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["drop_param", "param_value", "extra_param", "sampling", "pose", "image",
                                   "envelope", "drop_key", "method"]))
        if op == "drop_param" and params:
            params.pop(draw(st.sampled_from(sorted(params))))
        elif op == "param_value" and params:
            params[draw(st.sampled_from(sorted(params)))] = draw(json_values)
        elif op == "extra_param":
            params[draw(st.text(max_size=8))] = draw(json_values)
        elif op == "sampling":
            params[draw(st.sampled_from(["seed", "num_samples", "temperature", "top_p", "guidance"]))] = draw(
                st.integers(-5, 40) | st.floats() | json_values)
        elif op == "pose" and any(k.startswith("pose") for k in params):
            pose = params[draw(st.sampled_from(sorted(k for k in params if k.startswith("pose"))))]
            rows = pose.get("rotations") if isinstance(pose, dict) else None
            if isinstance(rows, list) and rows and all(isinstance(r, list) and len(r) == 3 for r in rows):
                choice = draw(st.integers(0, 4))
                if choice == 0:
                    del rows[draw(st.integers(0, len(rows) - 1)):]
                elif choice == 1:
                    rows[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, 2))] = draw(
                        st.floats() | json_values)
                elif choice == 2:
                    pose[draw(st.sampled_from(["format", "joints", "text", "transl", "betas"]))] = draw(json_values)
                elif choice == 3 and isinstance(pose.get("joints"), list):
                    pose["joints"] = draw(st.permutations(pose["joints"]))[: draw(st.integers(20, 22))]
                else:
                    rows.append([0.0, 0.0, 0.0])
        elif op == "image" and any(k.startswith("image") for k in params):
            params[draw(st.sampled_from(sorted(k for k in params if k.startswith("image"))))] = draw(
                st.sampled_from(bad_paths) | st.text(max_size=20))
        elif op == "envelope":
            request[draw(st.sampled_from(["jsonrpc", "id", "params"]))] = draw(json_values)
        elif op == "drop_key":
            request.pop(draw(st.sampled_from(sorted(request))), None)
        elif op == "method":
            request["method"] = draw(st.sampled_from(sorted(server.TASKS)) | st.text(max_size=12) | json_values)
    return request


def request_lines(images: dict):
    requests = mutated_requests(images)
    as_json = (requests | st.lists(requests, min_size=0, max_size=3) | json_values).map(
        lambda value: json.dumps(value).encode())
    truncated = st.tuples(requests, st.integers(1, 60)).map(lambda rq: json.dumps(rq[0]).encode()[:-rq[1]])
    return (as_json | truncated | st.binary(max_size=80)).filter(lambda line: b"shutdown" not in line)


def check_response(message) -> str:
    """Raise if `message` is not a well-formed response; returns 'result' or 'error'."""
    assert isinstance(message, dict) and message.get("jsonrpc") == "2.0" and "id" in message, message
    assert ("result" in message) != ("error" in message), message
    if "result" in message:
        assert isinstance(message["result"], dict) and math.isfinite(message["result"]["timing_ms"])
        return "result"
    error = message["error"]
    assert error["code"] in CODES and isinstance(error["message"], str) and error["message"], message
    if error["code"] == server.INVALID_PARAMS:
        assert error["data"]["field"] and error["data"]["expected"]
    return "error"


def expected_answers(line: bytes) -> int:
    """How many top-level messages the server owes for one input line: none for a blank line, a well-formed
    notification or a batch of them, else one (a response, or an array of responses for a batch)."""
    if not line.strip():
        return 0
    try:
        value = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):
        return 1
    if isinstance(value, list):
        return int(not value or not all(map(_is_notification, value)))
    return int(not _is_notification(value))


def _is_notification(message) -> bool:
    return (isinstance(message, dict) and "id" not in message and message.get("jsonrpc") == "2.0"
            and isinstance(message.get("method"), str))


def fuzz(proc: ServerProcess, images: dict, examples: int = EXAMPLES) -> dict:
    """Send `examples` fuzzed lines, each followed by a status call; every line gets exactly the answers it is
    owed (counted), each well-formed, and the server keeps answering."""
    counts = {"examples": 0, "result": 0, "error": 0, "answered_lines": 0}

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(line=request_lines(images))
    def one(line: bytes) -> None:
        counts["examples"] += 1
        line = line.replace(b"\n", b" ")
        proc.send_raw(line + b"\n")
        ping = proc.call("status")
        assert ping[0]["result"]["loaded"] is True
        answers = [m for m in ping[1] if not (isinstance(m, dict) and "method" in m and "id" not in m)]
        assert len(answers) == expected_answers(line), (line, ping[1])
        counts["answered_lines"] += len(answers)
        for message in ping[1]:
            if isinstance(message, list):
                for reply in message:
                    counts[check_response(reply)] += 1
            elif "method" in message and "id" not in message:
                assert message["method"] == "progress" and 0 <= message["params"]["fraction"] <= 1
            else:
                counts[check_response(message)] += 1

    one()
    return counts


def assert_still_correct(proc: ServerProcess, images: dict) -> None:
    assert proc.proc.poll() is None
    for method, params in valid_params(images).items():
        response = proc.call(method, params)[0]
        assert "result" in response, response
        if method in server.TASKS:
            if server.TASKS[method].output == "pose":
                assert pose_from_dict(response["result"]["poses"][0]).rotations.shape == (22, 3)
            else:
                assert isinstance(response["result"]["text"], str)  # a random tiny model may say nothing


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"))


def test_fuzz_fake_model_server(images):
    """A quick fuzz for the default suite; test_server_tiny.py runs the full one against a real checkpoint."""
    proc = ServerProcess(FAKE_SERVER, timeout=60)
    counts = fuzz(proc, images, examples=300)
    assert counts["examples"] >= 300 and counts["error"] >= 150 and counts["result"] > 10, counts
    assert_still_correct(proc, images)
    assert proc.close() == 0


@pytest.mark.slow
def test_fuzz_ten_thousand_lines_each_answered_as_owed(images):
    proc = ServerProcess(FAKE_SERVER, timeout=60)
    counts = fuzz(proc, images, examples=10_000)
    assert counts["examples"] >= 10_000 and counts["answered_lines"] >= 9_000, counts
    assert_still_correct(proc, images)
    assert proc.close() == 0
