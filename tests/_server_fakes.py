"""Test helpers for the engine and server tests: a fake UniPose model, image files, request builders.

Run as a script (`python tests/_server_fakes.py`) it is a JSON-RPC server over stdio backed by the fake
model, so protocol tests can drive a real process without a checkpoint.
"""
import itertools
import json
import os
import queue
import struct
import subprocess
import sys
import tempfile
import threading
import zlib
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image

from backend.sampling import Sampling
from backend.tasks import TEXT_TASKS


class FakeModel:
    """Same `run` signature as UniPose. Text "explode" raises; text "shout" prints to stdout;
    text "nan" returns a non-finite pose."""

    def __init__(self):
        self.calls = []
        self.int8_text_steps = False  # text steps in full precision (backend/model/int8_steps.py)

    def run(self, task, text=None, poses=(), images=(), sampling=None, **settings):
        s = replace(sampling or Sampling(), **settings)
        num_samples, seed = s.num_samples, s.seed
        guidance = {} if s.guidance is None else {"guidance": s.guidance}
        self.calls.append(dict(task=task, text=text, poses=poses, images=images, num_samples=num_samples,
                               temperature=s.temperature, top_p=s.top_p, seed=seed, **guidance))
        if text == "explode":
            raise RuntimeError("boom")
        if text == "shout":
            print("noise on stdout from a library")
        rng = np.random.default_rng(seed)
        if task in TEXT_TASKS:
            return SimpleNamespace(text=f"{task} with {len(poses)} poses and {len(images)} images", poses=[])
        out = [rng.normal(0.0, 0.2, size=(22, 3)) for _ in range(num_samples)]
        if text == "nan":
            out[0][3, 1] = np.nan
        return SimpleNamespace(text=None, poses=out)


def zero_pose_dict() -> dict:
    from backend.posefile import Pose, pose_to_dict
    return pose_to_dict(Pose(np.zeros((22, 3))))


def write_images(folder: Path) -> dict[str, str]:
    """Valid and invalid image files for tests: name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, size in (("person", (64, 48)), ("other", (32, 40))):
        paths[name] = str(folder / f"{name}.png")
        Image.new("RGB", size, (200, 120, 40)).save(paths[name])
    paths["tiny"] = str(folder / "tiny.png")
    Image.new("RGB", (4, 4)).save(paths["tiny"])
    paths["text"] = str(folder / "notes.png")
    Path(paths["text"]).write_text("not an image")
    paths["truncated"] = str(folder / "truncated.png")
    Path(paths["truncated"]).write_bytes(Path(paths["person"]).read_bytes()[:60])
    paths["huge"] = str(folder / "huge.png")  # header claims 5000 x 4000 pixels; no pixel data needed
    header = struct.pack(">IIBBBBB", 5000, 4000, 8, 2, 0, 0, 0)
    chunks = [(b"IHDR", header), (b"IDAT", zlib.compress(b"")), (b"IEND", b"")]
    Path(paths["huge"]).write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks))
    paths["folder"] = str(folder)
    paths["missing"] = str(folder / "missing.png")
    return paths


REPO = Path(__file__).resolve().parents[1]
FAKE_SERVER = [sys.executable, str(Path(__file__).resolve())]


class ServerProcess:
    """A server subprocess driven over pipes; a reader thread makes every read time out instead of hang."""

    def __init__(self, command: list[str], timeout: float = 60.0, **popen):
        self.timeout = timeout
        self.ids = itertools.count()
        self.stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server never blocks on it
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, **popen)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.ready = self.read_until(lambda m: m.get("method") == "ready")[-1]

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read(self) -> dict | list | None:
        """The next stdout message (None at EOF); fails if a line is not JSON."""
        line = self.lines.get(timeout=self.timeout)
        return None if line is None else json.loads(line)

    def read_until(self, done) -> list:
        messages = []
        while True:
            message = self.read()
            if message is None:
                raise EOFError(f"server exited with {self.proc.wait(5)}: {self.log()[-2000:]}")
            messages.append(message)
            if done(message):
                return messages

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def send_raw(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def call(self, method: str, params: dict | None = None) -> tuple[dict, list]:
        """Send one request; return (its response, the notifications before it)."""
        request_id = f"call-{next(self.ids)}"
        request = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            request["params"] = params
        self.send_raw(json.dumps(request).encode() + b"\n")
        messages = self.read_until(lambda m: isinstance(m, dict) and m.get("id") == request_id)
        return messages[-1], messages[:-1]

    def close(self) -> int:
        if self.proc.poll() is None:
            self.proc.stdin.close()
        code = self.proc.wait(self.timeout)
        self.proc.stdout.close()
        return code


def main() -> int:
    from backend.engine import UniPoseEngine
    from backend.server import run_stdio

    def load(progress):
        progress("fake model", 0.5)
        return UniPoseEngine(FakeModel(), checkpoint="fake", device="cpu")

    return run_stdio(load, checkpoint="fake", device="cpu")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
