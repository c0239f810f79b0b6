"""JSON-RPC 2.0 over stdin/stdout: the local backend process the Blender add-on talks to.

Framing: one JSON value per line, UTF-8, in both directions. stdout carries protocol messages only
(anything else a library prints is redirected to stderr); logs go to stderr. No network listener.

Requests (params are named; `seed`, `num_samples`, `temperature`, `top_p` are optional on every task,
`guidance` (prompt strength of a pose answer, 0-8, 1 = plain; default: the model's) on the pose tasks, and
`whole_body` (true: the model may change the whole body; default false: only the limbs the instruction names
change) on edit_pose):
    text_to_pose {text}            image_to_pose {image}          edit_pose {pose, instruction}
    pose_to_text {pose}            image_to_text {image}
    pose_diff {pose_a, pose_b}     image_diff {image_a, image_b}
    status {}                      shutdown {}
A pose is the pose JSON object (`{"format": "smpl-axis-angle", "joints": [...], "rotations": [...]}`),
an image is a file path. Results: `{"poses": [pose, ...], "timing_ms"}` (best first) or
`{"text": str, "timing_ms"}`; `status` -> `{"loaded", "checkpoint", "device", "versions", ...}`.

Notifications from the server (no id):
    progress {"stage": str, "fraction": 0..1, "id": request id or null}   while loading and per task
    ready    status fields + {"error": str | null}   once, after loading and before any request is
             read; `loaded: false` means tasks answer MODEL_NOT_LOADED (status/shutdown still work).

Errors: -32700 parse error, -32600 invalid request, -32601 unknown method, -32602 invalid params
(`data: {"field", "expected"}`), -32603 internal error, -32000 the model failed on this request,
-32001 no model loaded. Batches (JSON arrays) are supported. Requests are answered in order;
`shutdown` and end of input exit with status 0; the process exits when its parent goes away.
"""
import json
import logging
import math
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, IO

from backend.contact.ground import ground_translation
from backend.engine import InvalidInput, ModelError, UniPoseEngine, check_sampling, versions
from backend.posefile import Pose, pose_to_dict
from backend.tasks import INPUTS, TASKS

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
MODEL_FAILED = -32000
MODEL_NOT_LOADED = -32001

MAX_LINE_BYTES = 16 * 2**20
PROTOCOL_VERSION = 1
SAMPLING_PARAMS = ("seed", "num_samples", "temperature", "top_p", "guidance")

log = logging.getLogger("unipose.server")
Notify = Callable[[str, dict], None]


METHODS = (*TASKS, "status", "shutdown")


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def error_response(request_id: Any, code: int, message: str, data: dict | None = None) -> dict:
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def _check_envelope(request: dict) -> str:
    """The method of a well-formed request object (`jsonrpc` "2.0" and a string `method`), else RpcError."""
    if request.get("jsonrpc") != "2.0":
        raise RpcError(INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"')
    method = request.get("method")
    if not isinstance(method, str):
        raise RpcError(INVALID_REQUEST, "invalid request: method must be a string")
    return method


def _valid_id(value: Any) -> bool:
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


class RpcHandler:
    """Turns decoded JSON-RPC messages into responses by calling the engine; never raises."""

    def __init__(self, engine: UniPoseEngine | None, notify: Notify | None = None,
                 load_error: str | None = None, checkpoint: str | None = None, device: str | None = None):
        self.engine = engine
        self.notify = notify or (lambda method, params: None)
        self.load_error = load_error
        self.checkpoint, self.device = checkpoint, device
        self.shutdown_requested = False

    def status(self) -> dict:
        if self.engine is not None:
            status = self.engine.status()
        else:
            status = {"loaded": False, "checkpoint": self.checkpoint, "device": self.device,
                      "load_ms": None, "versions": versions()}
        return {**status, "error": self.load_error, "protocol": PROTOCOL_VERSION,
                "methods": list(METHODS), "pid": os.getpid()}

    def handle_line(self, line: bytes | str) -> dict | list | None:
        """One input line -> the response value to write (None: nothing to write)."""
        try:
            text = line.decode("utf-8") if isinstance(line, bytes) else line
            message = json.loads(text)
        except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            return error_response(None, PARSE_ERROR, f"parse error: {str(error)[:200]}")
        return self.handle_message(message)

    def handle_message(self, message: Any) -> dict | list | None:
        if isinstance(message, list):
            if not message:
                return error_response(None, INVALID_REQUEST, "invalid request: empty batch")
            responses = [r for r in map(self.handle_request, message) if r is not None]
            return responses or None
        return self.handle_request(message)

    def handle_request(self, request: Any) -> dict | None:
        """One request object -> its response, or None for a notification."""
        if not isinstance(request, dict):
            return error_response(None, INVALID_REQUEST,
                                  f"invalid request: expected a JSON object, got {type(request).__name__}")
        request_id = request.get("id")
        if not _valid_id(request_id):
            return error_response(None, INVALID_REQUEST, "invalid request: id must be a string, number or null")
        try:
            method = _check_envelope(request)
        except RpcError as error:  # not a well-formed request, so not a notification either: always answered
            return error_response(request_id, error.code, error.message)
        is_notification = "id" not in request
        try:
            result = self._call(method, request, request_id)
        except RpcError as error:
            response = error_response(request_id, error.code, error.message, error.data)
        except InvalidInput as error:
            response = error_response(request_id, INVALID_PARAMS, f"invalid params: {error}",
                                      {"field": error.field, "expected": error.expected})
        except ModelError as error:
            log.warning("request %r: %s", request_id, error)
            response = error_response(request_id, MODEL_FAILED, str(error))
        except Exception as error:  # a bug or an unexpected failure: answer this request only
            log.error("request %r failed:\n%s", request_id, traceback.format_exc())
            response = error_response(request_id, INTERNAL_ERROR, f"internal error: {type(error).__name__}: {error}")
        else:
            response = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return None if is_notification else response

    def _call(self, method: str, request: dict, request_id: Any) -> dict:
        params = request.get("params", {})
        if isinstance(params, list):
            raise RpcError(INVALID_PARAMS, "invalid params: params must be an object with named parameters",
                           {"field": "params", "expected": "an object"})
        if not isinstance(params, dict):
            raise RpcError(INVALID_REQUEST, "invalid request: params must be an object")
        start = time.perf_counter()
        if method == "status":
            _check_names(params, (), ())
            result = self.status()
        elif method == "shutdown":
            _check_names(params, (), ())
            self.shutdown_requested = True
            result = {}
        elif method in TASKS:
            result = self._task(method, params, request_id)
        else:
            raise RpcError(METHOD_NOT_FOUND, f"method not found: {method[:100]!r}; expected one of "
                           + ", ".join(METHODS))
        result["timing_ms"] = round((time.perf_counter() - start) * 1e3, 2)
        return result

    def _task(self, name: str, params: dict, request_id: Any) -> dict:
        task = TASKS[name]
        _check_names(params, task.inputs, SAMPLING_PARAMS + task.flags)
        sampling = check_sampling(**{key: params[key] for key in SAMPLING_PARAMS if key in params})
        if self.engine is None:
            raise RpcError(MODEL_NOT_LOADED, f"no model loaded: {self.load_error}")
        self.notify("progress", {"stage": name, "fraction": 0.0, "id": request_id})
        flags = {key: params[key] for key in task.flags if key in params}
        output = getattr(self.engine, name)(**{key: params[key] for key in task.inputs}, sampling=sampling, **flags)
        self.notify("progress", {"stage": name, "fraction": 1.0, "id": request_id})
        if task.output == "pose":
            # transl: the pelvis height that stands the body on the floor (y = 0)
            return {"poses": [pose_to_dict(Pose(pose, transl=ground_translation(pose))) for pose in output]}
        return {"text": output}


def _check_names(params: dict, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    for name in required:
        if name not in params:
            raise InvalidInput(name, INPUTS[name].expected, "nothing (required parameter missing)")
    for name in params:
        if name not in required and name not in optional:
            allowed = ", ".join((*required, *optional)) or "no parameters"
            field = name[:100] if name.strip() else repr(name)
            raise InvalidInput(field, f"only {allowed}", "an unknown parameter")


# ---------------------------------------------------------------- process

class Channel:
    """Writes one JSON value per line to the protocol stream; thread-safe."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, message: dict | list) -> None:
        try:
            line = json.dumps(message, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as error:  # a result that is not JSON: report, don't die
            log.error("unserialisable response: %s", error)
            request_id = message.get("id") if isinstance(message, dict) else None
            line = json.dumps(error_response(request_id, INTERNAL_ERROR, f"internal error: {error}"))
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})


def read_lines(stream: IO[bytes], channel: Channel):
    """Yield the non-blank input lines; an over-long line is skipped and answered with an error."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
            channel.send(error_response(None, INVALID_REQUEST,
                                        f"invalid request: line longer than {MAX_LINE_BYTES} bytes"))
            continue
        if line.strip():
            yield line


def serve(load: Callable[[Callable[[str, float], None]], UniPoseEngine], stdin: IO[bytes], channel: Channel,
          checkpoint: str | None = None, device: str | None = None) -> int:
    """Load the model (reporting progress), announce `ready`, then answer requests until shutdown/EOF."""
    def progress(stage: str, fraction: float) -> None:
        fraction = float(fraction) if math.isfinite(fraction) else 0.0
        channel.notify("progress", {"stage": str(stage), "fraction": min(max(fraction, 0.0), 1.0), "id": None})

    engine, load_error = None, None
    try:
        engine = load(progress)
    except Exception as error:
        load_error = f"{type(error).__name__}: {error}"
        log.error("could not load the model: %s", load_error)
    handler = RpcHandler(engine, channel.notify, load_error, checkpoint, device)
    channel.notify("ready", handler.status())
    log.info("ready (%s)", "model loaded" if engine else "no model")
    for line in read_lines(stdin, channel):
        response = handler.handle_line(line)
        if response is not None:
            channel.send(response)
        if handler.shutdown_requested:
            log.info("shutdown requested")
            return 0
    log.info("end of input")
    return 0


def watch_parent(interval_s: float = 0.5) -> None:
    """Exit the process when the parent that started it goes away (the pipe may stay open)."""
    parent = os.getppid()

    def loop() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                log.warning("parent process %d went away; exiting", parent)
                os._exit(0)

    threading.Thread(target=loop, name="parent-watch", daemon=True).start()


def protocol_stdout() -> IO[str]:
    """A private handle on the real stdout; fd 1 and sys.stdout now go to stderr, so stray prints
    from libraries cannot corrupt the protocol stream."""
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def run_stdio(load: Callable[[Callable[[str, float], None]], UniPoseEngine], checkpoint: str | None = None,
              device: str | None = None) -> int:
    """Serve on this process's stdin/stdout (logs on stderr) until shutdown, EOF or the parent exits."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="unipose serve: %(message)s")
    channel = Channel(protocol_stdout())
    watch_parent()
    try:
        return serve(load, sys.stdin.buffer, channel, checkpoint=checkpoint, device=device)
    except BrokenPipeError:  # the reader closed stdout: nobody is listening any more
        log.warning("stdout closed; exiting")
        os._exit(0)


def main(checkpoint: str | Path, device: str = "auto", text_steps: str = "auto") -> int:
    """`unipose serve`: load the UniPose checkpoint and serve it."""
    def load(progress: Callable[[str, float], None]) -> UniPoseEngine:
        log.info("loading %s (device: %s, text steps: %s)", checkpoint, device, text_steps)
        return UniPoseEngine.load(checkpoint, device, progress, text_steps)

    return run_stdio(load, str(checkpoint), device)
