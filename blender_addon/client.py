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
class Connection:
    """One started backend process. `exit_message` is set, under the client's lock, once its reader has
    seen the process exit; a request for a connection that has one fails at once instead of waiting."""
    process: subprocess.Popen
    sendq: queue.Queue = field(default_factory=queue.Queue)
    stderr_tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=20))
    exit_message: str | None = None


@dataclass
class Request:
    id: int
    method: str
    params: dict
    on_done: Callback
    connection: Connection
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
        self._connection: Connection | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, Request] = {}
        self._outbox: queue.Queue = queue.Queue()  # (Request, result, error)

    # ----- process lifetime ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        connection = self._connection
        return connection is not None and connection.process.poll() is None

    @property
    def busy(self) -> bool:
        with self._lock:
            return any(not r.cancelled for r in self._pending.values())

    def start(self) -> Connection:
        """Start the process (no-op when running); returns its connection. Raises BackendError when it
        cannot be started."""
        if self.running:
            assert self._connection is not None  # running says so
            return self._connection
        try:
            process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                cwd=self.cwd, env=self.env, text=True, encoding="utf-8", bufsize=1,
            )
        except OSError as error:
            self.state, self.message = ERROR, f"cannot start the backend ({self.command[0]}): {error.strerror}"
            raise BackendError(self.message + "; set the Python interpreter in the add-on preferences") from error
        connection = Connection(process)
        self._connection = connection
        self.state, self.message, self.progress = LOADING, "starting", 0.0
        stderr_reader = threading.Thread(target=self._stderr_loop, args=(connection,), daemon=True,
                                         name="unipose-_stderr_loop")
        stderr_reader.start()
        for target, args in ((self._write_loop, (connection,)), (self._read_loop, (connection, stderr_reader))):
            threading.Thread(target=target, args=args, daemon=True, name=f"unipose-{target.__name__}").start()
        return connection

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the backend to shut down, then kill it if it does not; pending requests fail."""
        connection = self._connection
        self._connection = None
        self._fail_pending(STOPPED_MESSAGE)  # before waiting: a late answer is dropped, not applied
        if connection is not None and connection.process.poll() is None:
            connection.sendq.put({"jsonrpc": "2.0", "id": next(self._ids), "method": "shutdown"})
            connection.sendq.put(None)  # closes stdin: end of input also stops the server
            try:
                connection.process.wait(timeout)
            except subprocess.TimeoutExpired:
                connection.process.kill()
                connection.process.wait()
        self.state, self.message, self.progress = STOPPED, "", None

    # ----- requests --------------------------------------------------------------------------------
    def submit(self, method: str, params: dict, on_done: Callback, label: str = "") -> int:
        """Queue a request (starting the backend if needed); `on_done` runs later inside `poll()`."""
        connection = self.start()
        request = Request(next(self._ids), method, dict(params), on_done, connection, label=label or method)
        with self._lock:  # the reader records an exit under the same lock, so no request is left waiting
            ended = connection.exit_message
            if ended is None:
                self._pending[request.id] = request
        if ended is not None:  # the process exited (and its reader finished) before this request was registered
            self._outbox.put((request, None, ended + EXITED_NOTE))
            return request.id
        connection.sendq.put({"jsonrpc": "2.0", "id": request.id, "method": method, "params": request.params})
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
    def _write_loop(self, connection: Connection) -> None:
        process = connection.process
        assert process.stdin is not None  # started with stdin=PIPE
        while True:
            message = connection.sendq.get()
            try:
                if message is None:
                    process.stdin.close()
                    return
                process.stdin.write(json.dumps(message) + "\n")
                process.stdin.flush()
            except (OSError, ValueError):  # the process died; the reader reports it
                return

    def _read_loop(self, connection: Connection, stderr_reader: threading.Thread) -> None:
        process = connection.process
        assert process.stdout is not None  # started with stdout=PIPE
        for line in process.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue  # not ours (a stray print); the protocol is one JSON object a line
            if isinstance(message, dict):
                self._handle(message)
        code = process.wait()
        stderr_reader.join(timeout=2.0)  # its last words may still be in the pipe
        ended = exit_message(code, list(connection.stderr_tail), self.command[0])
        with self._lock:
            connection.exit_message = ended
            failed = [r for r in self._pending.values() if r.connection is connection]
            for request in failed:
                del self._pending[request.id]
            if connection is self._connection:  # else stop() ended it, or a new process replaced it
                self.state, self.progress, self.message = ERROR, None, ended  # before a new start() can run
                self._connection = None
        for request in failed:
            if not request.cancelled:
                self._outbox.put((request, None, ended + EXITED_NOTE))

    def _stderr_loop(self, connection: Connection) -> None:
        stderr = connection.process.stderr
        assert stderr is not None  # started with stderr=PIPE
        for line in stderr:
            if line.strip():
                connection.stderr_tail.append(line.strip())

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
