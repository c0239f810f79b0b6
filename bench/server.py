"""Benchmark the backend server on CPU: cold start (spawn -> `ready`) and p50/p95 latency per method.

    .venv/bin/python bench/server.py [--checkpoint DIR] [--repeats 20] [--starts 2] [--threads N] [--json OUT]
                                     [--text-steps full,int8]
    .venv/bin/python bench/server.py --startup-vs REV [--starts 5]

--startup-vs REV compares start-up only, side by side with the code at git revision REV (checked out into a
temporary worktree, same Python environment and checkpoint): server spawn -> `ready` and one `unipose
text2pose` call from start to exit, runs alternating between the two trees after one warm-up each (which also
fills each tree's caches), medians.

Uses the default checkpoint (checkpoints/default or $UNIPOSE_CHECKPOINT); when it does not exist, says
so and measures a random tiny checkpoint instead, labelled as such in the table. Latency is the
client's round trip over the pipes; `server ms` is the `timing_ms` the server reports.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.paths import default_checkpoint  # noqa: E402


class Client:
    """A `unipose serve` process driven over its pipes."""

    def __init__(self, checkpoint: str, threads: int | None, tree: Path = REPO, text_steps: str | None = None):
        command = [sys.executable, "-m", "backend", "serve", "--checkpoint", checkpoint, "--device", "cpu"]
        if text_steps:
            command += ["--text-steps", text_steps]
        if threads:
            command += ["--threads", str(threads)]
        start = time.perf_counter()
        self.proc = subprocess.Popen(command, cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(tree)})
        self.ready = self._until(lambda m: m.get("method") == "ready")["params"]
        self.cold_start_s = time.perf_counter() - start
        if not self.ready["loaded"]:
            raise SystemExit(f"the server could not load {checkpoint}: {self.ready['error']}")
        self.next_id = 0

    def _until(self, done) -> dict:
        for line in self.proc.stdout:
            message = json.loads(line)
            if done(message):
                return message
        raise SystemExit("the server exited unexpectedly")

    def call(self, method: str, params: dict) -> tuple[dict, float]:
        self.next_id += 1
        request_id = self.next_id
        start = time.perf_counter()
        self.proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                                          "params": params}).encode() + b"\n")
        self.proc.stdin.flush()
        response = self._until(lambda m: m.get("id") == request_id)
        if "error" in response:
            raise SystemExit(f"{method} failed: {response['error']}")
        return response["result"], time.perf_counter() - start

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(60)


def inputs(folder: Path) -> dict[str, dict]:
    """One request per method: poses and images drawn from a fixed random pose."""
    from backend.posefile import Pose, pose_to_dict
    from backend.render import render_pose

    rng = np.random.default_rng(0)
    pose_a, pose_b = (rng.normal(0.0, 0.25, size=(22, 3)) for _ in range(2))
    image_a, image_b = str(folder / "a.png"), str(folder / "b.png")
    render_pose(pose_a, views=("front",)).save(image_a)
    render_pose(pose_b, views=("front",)).save(image_b)
    a, b = pose_to_dict(Pose(pose_a)), pose_to_dict(Pose(pose_b))
    return {"text_to_pose": {"text": "a person raises both arms above the head"},
            "edit_pose": {"pose": a, "instruction": "bend your left knee more"},
            "image_to_pose": {"image": image_a},
            "pose_to_text": {"pose": a}, "pose_diff": {"pose_a": a, "pose_b": b},
            "image_to_text": {"image": image_a}, "image_diff": {"image_a": image_a, "image_b": image_b},
            "status": {}}


def latencies(client: Client, requests: dict[str, dict], repeats: int) -> dict[str, dict]:
    """method -> {p50_ms, p95_ms, server_p50_ms}: `repeats` calls each (new seeds) after one warm-up."""
    rows = {}
    for method, params in requests.items():
        client.call(method, params)  # warm-up
        walls, server_ms = [], []
        for seed in range(repeats):
            result, wall = client.call(method, {**params, "seed": seed} if method != "status" else params)
            walls.append(wall * 1e3)
            server_ms.append(result["timing_ms"])
        rows[method] = {"p50_ms": float(np.percentile(walls, 50)), "p95_ms": float(np.percentile(walls, 95)),
                        "server_p50_ms": float(np.percentile(server_ms, 50))}
    return rows


def cli_seconds(tree: Path, checkpoint: str) -> float:
    """Wall seconds of one `unipose text2pose` process of `tree`, from start to exit."""
    command = [sys.executable, "-m", "backend", "text2pose", "raise both arms", "--checkpoint", checkpoint]
    start = time.perf_counter()
    subprocess.run(command, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def startup_versus(revision: str, checkpoint: str, runs: int) -> int:
    """Start-up of this tree and of `revision`, alternating; prints a table and a last line of figures."""
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(other), revision], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            trees = {"this tree": REPO, revision: other}
            times: dict[str, dict[str, list[float]]] = {name: {"ready": [], "cli": []} for name in trees}
            for run in range(runs + 1):  # run 0 warms caches and the page cache for both trees
                for name, tree in trees.items():
                    client = Client(checkpoint, None, tree)
                    ready = client.cold_start_s
                    client.close()
                    cli = cli_seconds(tree, checkpoint)
                    if run:
                        times[name]["ready"].append(ready)
                        times[name]["cli"].append(cli)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(other)], check=False)
            shutil.rmtree(other, ignore_errors=True)
    median = {name: {k: float(np.median(v)) for k, v in t.items()} for name, t in times.items()}
    print(f"\nStart-up, {runs} alternating runs each, medians ({os.cpu_count()} cores)\n")
    print("| code | server spawn -> ready (s) | `unipose text2pose` start to exit (s) |\n| --- | --- | --- |")
    for name, row in median.items():
        print(f"| {name} | {row['ready']:.2f} | {row['cli']:.2f} |")
    this, then = median["this tree"], median[revision]
    print(f"ready_s={this['ready']:.2f} ready_then_s={then['ready']:.2f} cli_s={this['cli']:.2f} "
          f"cli_then_s={then['cli']:.2f} ready_ratio={this['ready'] / then['ready']:.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="checkpoint folder (default: the shipped one)")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per method")
    parser.add_argument("--starts", type=int, default=2, help="cold starts to time")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads in the server")
    parser.add_argument("--text-steps", default="auto", metavar="MODES",
                        help="comma-separated `serve --text-steps` modes (auto, int8, full), measured one server "
                             "after the other: e.g. full,int8 for the two side by side")
    parser.add_argument("--json", metavar="OUT", help="also write the numbers as JSON")
    parser.add_argument("--startup-vs", metavar="REV", help="compare start-up only, with git revision REV")
    args = parser.parse_args()
    if args.startup_vs:
        return startup_versus(args.startup_vs, args.checkpoint or str(default_checkpoint()), max(args.starts, 1))

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint, label = args.checkpoint, None
        if checkpoint is None:
            checkpoint = str(default_checkpoint())
            if not Path(checkpoint).is_dir():
                print(f"no default checkpoint at {checkpoint}: measuring a random TINY checkpoint instead "
                      "(numbers say nothing about the real model)", file=sys.stderr)
                sys.path.insert(0, str(REPO / "tests"))
                from support.tiny_model import make_tiny_checkpoint
                checkpoint, label = str(make_tiny_checkpoint(Path(tmp) / "tiny")), "tiny random checkpoint"
        label = label or checkpoint
        requests = inputs(Path(tmp))

        starts = []
        for _ in range(max(args.starts, 1)):
            client = Client(checkpoint, args.threads)
            starts.append((client.cold_start_s, client.ready["load_ms"] / 1e3))
            client.close()

        modes = {}  # the server's text steps (as it reports them, e.g. auto -> int8) -> method -> latencies
        for requested in args.text_steps.split(","):
            client = Client(checkpoint, args.threads, text_steps=requested)
            modes[client.ready["text_steps"]] = latencies(client, requests, args.repeats)
            client.close()

    print(f"\nUniPose server on CPU ({label}; torch threads: {args.threads or 'default'}, "
          f"{os.cpu_count()} cores)\n")
    print("| cold start | spawn -> ready (s) | model load (s) |\n| --- | --- | --- |")
    for i, (total, load) in enumerate(starts, 1):
        print(f"| #{i} | {total:.2f} | {load:.2f} |")
    for mode, rows in modes.items():
        print(f"\n| method ({args.repeats} calls), text steps {mode} | p50 ms | p95 ms | server p50 ms |\n"
              "| --- | --- | --- | --- |")
        for method, row in rows.items():
            print(f"| {method} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} | {row['server_p50_ms']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"checkpoint": label, "cold_starts_s": starts, "methods": modes},
                                              indent=2))
    print(" ".join(f"{method}_{mode}_p50_ms={rows[method]['p50_ms']:.0f}" for mode, rows in modes.items()
                   for method in ("text_to_pose", "pose_to_text")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
