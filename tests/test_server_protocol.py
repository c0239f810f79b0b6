"""The JSON-RPC layer in-process: RpcHandler over a fake model, and the serve() loop over byte streams."""
import io
import json

import numpy as np
import pytest

import backend.server as server
from _server_fakes import FakeModel, write_images, zero_pose_dict
from backend.body.skeleton import JOINT_INDEX
from backend.engine import UniPoseEngine
from backend.posefile import pose_from_dict


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"))


@pytest.fixture
def handler():
    notes = []
    h = server.RpcHandler(UniPoseEngine(FakeModel(), checkpoint="ckpt", device="cpu"),
                          notify=lambda method, params: notes.append((method, params)))
    h.notes = notes
    return h


def call(handler, method, params=None, request_id=1):
    request = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        request["params"] = params
    return handler.handle_message(request)


def error_of(response):
    assert response["jsonrpc"] == "2.0" and "result" not in response
    return response["error"]


def test_every_task_returns_its_result_kind(handler, images):
    pose = zero_pose_dict()
    params = {"text_to_pose": {"text": "squat", "num_samples": 2, "seed": 4, "temperature": 0.8, "guidance": 2.5},
              "image_to_pose": {"image": images["person"]}, "edit_pose": {"pose": pose, "instruction": "sit"},
              "pose_to_text": {"pose": pose}, "image_to_text": {"image": images["person"]},
              "pose_diff": {"pose_a": pose, "pose_b": pose},
              "image_diff": {"image_a": images["person"], "image_b": images["other"]}}
    assert set(params) == set(server.TASKS)
    for method, p in params.items():
        result = call(handler, method, p, request_id=method)["result"]
        assert result["timing_ms"] >= 0
        if server.TASKS[method].output == "pose":
            assert len(result["poses"]) == p.get("num_samples", 1)
            assert all(pose_from_dict(q).rotations.shape == (22, 3) for q in result["poses"])
        else:
            assert isinstance(result["text"], str) and result["text"].startswith(method)
    assert handler.engine.model.calls[0]["guidance"] == 2.5 and "guidance" not in handler.engine.model.calls[1]
    assert handler.notes[:2] == [("progress", {"stage": "text_to_pose", "fraction": 0.0, "id": "text_to_pose"}),
                                 ("progress", {"stage": "text_to_pose", "fraction": 1.0, "id": "text_to_pose"})]


def test_status_and_shutdown(handler):
    status = call(handler, "status")["result"]
    assert status["loaded"] is True and status["checkpoint"] == "ckpt" and status["device"] == "cpu"
    assert "torch" in status["versions"] and "shutdown" in status["methods"]
    assert not handler.shutdown_requested
    assert "timing_ms" in call(handler, "shutdown", {})["result"]
    assert handler.shutdown_requested


@pytest.mark.parametrize("line, code", [
    (b"{not json", server.PARSE_ERROR), (b"\xff\xfe", server.PARSE_ERROR), (b"[" * 100000, server.PARSE_ERROR),
    (b"42", server.INVALID_REQUEST), (b"[]", server.INVALID_REQUEST), (b'"status"', server.INVALID_REQUEST),
    (b'{"id": 1, "method": "status"}', server.INVALID_REQUEST),
    (b'{"jsonrpc": "1.0", "id": 1, "method": "status"}', server.INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1, "method": 5}', server.INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "status"}', server.INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": NaN, "method": "status"}', server.INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "status", "params": 3}', server.INVALID_REQUEST),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "fly"}', server.METHOD_NOT_FOUND),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "text_to_pose", "params": ["squat"]}', server.INVALID_PARAMS),
])
def test_bad_requests_get_standard_codes(handler, line, code):
    assert error_of(handler.handle_line(line))["code"] == code


@pytest.mark.parametrize("method, params, field", [
    ("text_to_pose", {}, "text"), ("text_to_pose", {"text": 3}, "text"),
    ("text_to_pose", {"text": "a", "colour": "red"}, "colour"),
    ("text_to_pose", {"text": "a", "num_samples": 100}, "num_samples"),
    ("text_to_pose", {"text": "a", "temperature": float("inf")}, "temperature"),
    ("text_to_pose", {"text": "a", "seed": "x"}, "seed"), ("text_to_pose", {"text": "a", "guidance": 20}, "guidance"),
    ("pose_to_text", {"pose": {"format": "smpl-axis-angle", "rotations": [[0, 0, 0]] * 21}}, "pose"),
    ("pose_diff", {"pose_a": zero_pose_dict(), "pose_b": [1, 2]}, "pose_b"),
    ("edit_pose", {"pose": zero_pose_dict(), "instruction": "  "}, "instruction"),
    ("edit_pose", {"pose": zero_pose_dict(), "instruction": "sit", "whole_body": "yes"}, "whole_body"),
    ("edit_pose", {"pose": zero_pose_dict(), "instruction": "sit", "whole_body": 1}, "whole_body"),
    ("text_to_pose", {"text": "a", "whole_body": True}, "whole_body"),  # an edit_pose param only
    ("pose_to_text", {"pose": zero_pose_dict(), "num_samples": 3}, "num_samples"),
    ("image_to_pose", {"image": "/no/such/file.png"}, "image"),
    ("status", {"verbose": True}, "verbose"),
])
def test_invalid_params_name_the_field(handler, method, params, field):
    error = error_of(call(handler, method, params))
    assert error["code"] == server.INVALID_PARAMS
    assert error["data"]["field"] == field and error["data"]["expected"]
    assert field in error["message"]


def test_edit_pose_keeps_the_unnamed_joints_unless_whole_body(handler):
    for params, knee_kept in (({}, True), ({"whole_body": False}, True), ({"whole_body": True}, False)):
        request = {"pose": zero_pose_dict(), "instruction": "raise the left arm", "seed": 1, **params}
        rotations = pose_from_dict(call(handler, "edit_pose", request)["result"]["poses"][0]).rotations
        assert np.allclose(rotations[JOINT_INDEX["right_knee"]], 0.0) == knee_kept, params


def test_image_errors_name_the_field(handler, images):
    for name in ("missing", "folder", "text", "truncated", "huge", "tiny"):
        error = error_of(call(handler, "image_diff", {"image_a": images["person"], "image_b": images[name]}))
        assert error["code"] == server.INVALID_PARAMS and error["data"]["field"] == "image_b", name


def test_model_failure_answers_that_request_only(handler):
    error = error_of(call(handler, "text_to_pose", {"text": "explode"}, request_id=7))
    assert error["code"] == server.MODEL_FAILED and "boom" in error["message"]
    assert call(handler, "text_to_pose", {"text": "fine"})["result"]["poses"]


def test_unexpected_exception_is_an_internal_error(handler, monkeypatch):
    monkeypatch.setattr(handler.engine, "pose_to_text", lambda **kwargs: 1 / 0)
    error = error_of(call(handler, "pose_to_text", {"pose": zero_pose_dict()}))
    assert error["code"] == server.INTERNAL_ERROR and "ZeroDivisionError" in error["message"]


def test_notifications_and_batches(handler):
    assert handler.handle_message({"jsonrpc": "2.0", "method": "status"}) is None
    assert handler.handle_message({"jsonrpc": "2.0", "method": "fly"}) is None
    batch = handler.handle_message([
        {"jsonrpc": "2.0", "id": "a", "method": "status"}, {"jsonrpc": "2.0", "method": "status"},
        {"jsonrpc": "2.0", "id": "b", "method": "fly"}, 5])
    assert [r["id"] for r in batch] == ["a", "b", None]
    assert "result" in batch[0] and batch[1]["error"]["code"] == server.METHOD_NOT_FOUND
    assert handler.handle_message([{"jsonrpc": "2.0", "method": "status"}]) is None


@pytest.mark.parametrize("message", [{"jsonrpc": "2.0"}, {}, {"method": "status"},
                                     {"jsonrpc": "1.0", "method": "status"}, {"jsonrpc": "2.0", "method": 5},
                                     {"jsonrpc": "2.0", "params": {}}])
def test_a_malformed_object_without_an_id_is_answered_as_an_invalid_request(handler, message):
    """Only a well-formed notification (jsonrpc "2.0", a method, no id) goes unanswered."""
    response = handler.handle_message(message)
    assert response["id"] is None and error_of(response)["code"] == server.INVALID_REQUEST
    assert [r["id"] for r in handler.handle_message([message, {"jsonrpc": "2.0", "method": "status"}])] == [None]


def test_without_a_model_tasks_fail_but_status_works():
    h = server.RpcHandler(None, load_error="FileNotFoundError: nope", checkpoint="/x", device="cpu")
    assert error_of(call(h, "text_to_pose", {"text": "a"}))["code"] == server.MODEL_NOT_LOADED
    assert error_of(call(h, "text_to_pose", {}))["code"] == server.INVALID_PARAMS
    status = call(h, "status")["result"]
    assert status["loaded"] is False and status["error"] == "FileNotFoundError: nope"


def run_serve(lines: bytes, load=None):
    out = io.StringIO()
    load = load or (lambda progress: (progress("weights", 0.5), UniPoseEngine(FakeModel()))[1])
    code = server.serve(load, io.BytesIO(lines), server.Channel(out))
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_serve_announces_ready_then_answers_in_order():
    requests = b"".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": "text_to_pose",
                                    "params": {"text": f"pose {i}", "seed": i}}).encode() + b"\n" for i in range(5))
    code, messages = run_serve(b"\n  \n" + requests + b'{"jsonrpc":"2.0","id":"s","method":"shutdown"}\n'
                               + b'{"jsonrpc":"2.0","id":"late","method":"status"}\n')
    assert code == 0
    assert messages[0] == {"jsonrpc": "2.0", "method": "progress", "params": {"stage": "weights", "fraction": 0.5,
                                                                           "id": None}}
    assert messages[1]["method"] == "ready" and messages[1]["params"]["loaded"] is True
    responses = [m for m in messages if "id" in m]
    assert [r["id"] for r in responses] == [0, 1, 2, 3, 4, "s"]  # nothing after shutdown


def test_serve_reports_a_failed_load_and_keeps_answering():
    def load(progress):
        raise FileNotFoundError("checkpoint folder not found: /nope")
    code, messages = run_serve(b'{"jsonrpc":"2.0","id":1,"method":"text_to_pose","params":{"text":"a"}}\n', load)
    assert code == 0
    assert messages[0]["method"] == "ready" and messages[0]["params"]["loaded"] is False
    assert "/nope" in messages[0]["params"]["error"]
    assert messages[1]["error"]["code"] == server.MODEL_NOT_LOADED


def test_serve_skips_over_long_lines(monkeypatch):
    monkeypatch.setattr(server, "MAX_LINE_BYTES", 64)
    code, messages = run_serve(b'{"jsonrpc":"2.0","id":1,"method":"status","params":{"x":"' + b"y" * 500 + b'"}}\n'
                               + b'{"jsonrpc":"2.0","id":2,"method":"status"}\n')
    errors = [m for m in messages if "error" in m]
    assert len(errors) == 1 and "longer than 64" in errors[0]["error"]["message"]
    assert messages[-1]["id"] == 2 and messages[-1]["result"]["loaded"]
