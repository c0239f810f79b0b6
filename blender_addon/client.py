"""Client for the UniPose backend process: JSON-RPC 2.0 over its stdin/stdout, one JSON object a line.

No bpy here. Threads do all blocking work: a writer sends queued requests, a reader parses responses and
notifications, a third keeps the tail of stderr for error messages. Finished requests wait in an outbox
until the owner calls `poll()` on its own (Blender's main) thread, which runs their callbacks there.
"""
import collections
import itertools
import json
import os
import queue
import re
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Callable

STOPPED, LOADING, READY, ERROR = "STOPPED", "LOADING", "READY", "ERROR"
STOPPED_MESSAGE = "the backend was stopped"
EXITED_NOTE = " (it restarts on the next request)"  # after the exit message, on failed requests
_MISSING_MODULE = re.compile(r"No module named '?([\w.]+)'?")

# on_done(result, error): result is the JSON-RPC result dict, or None with an error message.
Callback = Callable[[dict | None, str | None], None]


class BackendError(RuntimeError):
    """The backend cannot take a request (cannot start); the message says what to do."""


@dataclass
class Request:
    id: int
    method: str
    params: dict
    on_done: Callback
    cancelled: bool = False
    label: str = field(default="")


class BackendClient:
    """One backend process, started on demand and restarted on the next request after a crash."""

    def __init__(self, command: list[str], cwd: str | None = None, env: dict | None = None):
        self.command = list(command)
        self.cwd = cwd
        self.env = env
        self.state = STOPPED
        self.message = ""  # the error, or what the backend last said it is doing
        self.progress: float | None = None  # 0..1 while loading or running a long request
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, Request] = {}
        self._outbox: queue.Queue = queue.Queue()  # (Request, result, error)
        self._sendq: queue.Queue | None = None
        self._stderr_tail: collections.deque = collections.deque(maxlen=20)

    # ----- process lifetime ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def busy(self) -> bool:
        with self._lock:
            return any(not r.cancelled for r in self._pending.values())

    def start(self) -> None:
        """Start the process (no-op when running). Raises BackendError when it cannot be started."""
        if self.running:
            return
        try:
            process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=self.cwd, env=self.env, text=True, encoding="utf-8", bufsize=1,
            )
        except OSError as error:
            self.state, self.message = ERROR, f"cannot start the backend ({self.command[0]}): {error.strerror}"
            raise BackendError(self.message + "; set the Python interpreter in the add-on preferences") from error
        self._process = process
        self._stderr_tail.clear()
        self.state, self.message, self.progress = LOADING, "starting", 0.0
        self._sendq = queue.Queue()
        stderr_reader = threading.Thread(target=self._stderr_loop, args=(process,), daemon=True,
                                         name="unipose-_stderr_loop")
        stderr_reader.start()
        for target, args in ((self._write_loop, (process, self._sendq)), (self._read_loop, (process, stderr_reader))):
            threading.Thread(target=target, args=args, daemon=True, name=f"unipose-{target.__name__}").start()

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the backend to shut down, then kill it if it does not; pending requests fail."""
        process = self._process
        self._process = None
        self._fail_pending(STOPPED_MESSAGE)  # before waiting: a late answer is dropped, not applied
        if process is not None and process.poll() is None:
            if self._sendq is not None:
                self._sendq.put({"jsonrpc": "2.0", "id": next(self._ids), "method": "shutdown"})
                self._sendq.put(None)  # closes stdin: end of input also stops the server
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.state, self.message, self.progress = STOPPED, "", None

    # ----- requests --------------------------------------------------------------------------------
    def submit(self, method: str, params: dict, on_done: Callback, label: str = "") -> int:
        """Queue a request (starting the backend if needed); `on_done` runs later inside `poll()`."""
        self.start()
        process = self._process
        request = Request(next(self._ids), method, dict(params), on_done, label=label or method)
        with self._lock:
            self._pending[request.id] = request
        if self._process is not process:  # it exited before the request was registered: the reader failed none
            self._fail_pending(self.message + EXITED_NOTE)
            return request.id
        assert self._sendq is not None  # start() made it
        self._sendq.put({"jsonrpc": "2.0", "id": request.id, "method": method, "params": request.params})
        return request.id

    def cancel(self, request_id: int | None = None) -> int:
        """Stop waiting for one request (or all): its callback gets the error 'cancelled' now and its
        late answer is dropped. The backend still finishes it (requests are answered in order)."""
        with self._lock:
            chosen = [r for r in self._pending.values()
                      if not r.cancelled and (request_id is None or r.id == request_id)]
            for request in chosen:
                request.cancelled = True
        for request in chosen:
            self._outbox.put((request, None, "cancelled"))
        return len(chosen)

    def poll(self) -> int:
        """Run the callbacks of finished requests on the calling thread; returns how many ran."""
        count = 0
        while True:
            try:
                request, result, error = self._outbox.get_nowait()
            except queue.Empty:
                return count
            request.on_done(result, error)
            count += 1

    def pending_labels(self) -> list[str]:
        with self._lock:
            return [r.label for r in self._pending.values() if not r.cancelled]

    # ----- threads ---------------------------------------------------------------------------------
    def _write_loop(self, process: subprocess.Popen, sendq: queue.Queue) -> None:
        assert process.stdin is not None  # started with stdin=PIPE
        while True:
            message = sendq.get()
            try:
                if message is None:
                    process.stdin.close()
                    return
                process.stdin.write(json.dumps(message) + "\n")
                process.stdin.flush()
            except (OSError, ValueError):  # the process died; the reader reports it
                return

    def _read_loop(self, process: subprocess.Popen, stderr_reader: threading.Thread) -> None:
        assert process.stdout is not None  # started with stdout=PIPE
        for line in process.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # not ours (a stray print); the protocol is one JSON object a line
            if isinstance(message, dict):
                self._handle(message)
        code = process.wait()
        if process is self._process:  # died on its own, not through stop()
            stderr_reader.join(timeout=2.0)  # its last words may still be in the pipe
            self.state, self.progress = ERROR, None
            self.message = exit_message(code, list(self._stderr_tail), self.command[0])
            self._process = None
            self._fail_pending(self.message + EXITED_NOTE)

    def _stderr_loop(self, process: subprocess.Popen) -> None:
        assert process.stderr is not None  # started with stderr=PIPE
        for line in process.stderr:
            if line.strip():
                self._stderr_tail.append(line.strip())

    def _handle(self, message: dict) -> None:
        method = message.get("method")
        params = message.get("params")
        if not isinstance(params, dict):
            params = {}
        if method == "progress":
            fraction = params.get("fraction")
            self.progress = float(fraction) if isinstance(fraction, (int, float)) else None
            self.message = str(params.get("stage", ""))
        elif method == "ready":
            self.progress = None
            if params.get("loaded", True):
                self.state, self.message = READY, "ready"
            else:  # the process lives on but every task would fail
                self.state = ERROR
                self.message = (f"the model did not load: {params.get('error') or 'unknown error'}; "
                                "check the checkpoint folder in the add-on preferences")
        elif "id" in message:
            with self._lock:
                request = self._pending.pop(message["id"], None)
            if self.state == LOADING:  # a server that does not announce `ready` is ready once it answers
                self.state, self.message = READY, "ready"
            self.progress = None
            if request is None or request.cancelled:
                return
            error = message.get("error")
            if error is not None:
                text = error.get("message", str(error)) if isinstance(error, dict) else str(error)
                self._outbox.put((request, None, text))
            else:
                self._outbox.put((request, message.get("result") or {}, None))

    def _fail_pending(self, reason: str) -> None:
        with self._lock:
            failed = [r for r in self._pending.values() if not r.cancelled]
            self._pending.clear()
        for request in failed:
            self._outbox.put((request, None, reason))


def exit_message(code: int, stderr_tail: list[str], python: str) -> str:
    """One sentence for a backend that exited: what to fix when its Python lacks the project's packages,
    else the exit code and the end of its error output."""
    for line in reversed(stderr_tail):
        match = _MISSING_MODULE.search(line)
        if match:
            return (f"backend exited with code {code}: the backend Python ({python}) lacks the UniPose packages "
                    f"(no module '{match.group(1)}'); set Preferences > Add-ons > UniPose > Backend Python to the "
                    "project's .venv/bin/python or its folder")
    tail = " | ".join(stderr_tail[-3:]) or "no error output"
    return f"backend exited with code {code}: {tail}"


def default_environment() -> dict:
    """The environment for the backend: ours, unbuffered, without Blender's Python paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    env["PYTHONUNBUFFERED"] = "1"
    return env
