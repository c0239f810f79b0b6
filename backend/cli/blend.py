"""`unipose blend "PROMPT" -o out.blend [--preview out.png]`: a posed SMPL character from text, in Blender.

Runs headless Blender (the `bpy` module) in a subprocess, which creates an SMPL rig, poses it through the
Blender add-on's own code and a `unipose serve` backend, saves the .blend and renders a preview.
"""
import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from backend.cli import CommandError
from backend.cli.serve import DEVICES

REPO_ROOT = Path(__file__).resolve().parents[2]


def backend_command(args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "backend", "serve", "--device", args.device]
    if args.checkpoint:
        command += ["--checkpoint", str(Path(args.checkpoint).resolve())]
    if args.threads:
        command += ["--threads", str(args.threads)]
    return command


def handler(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("bpy") is None:
        raise CommandError("Blender's Python module is not installed: pip install bpy==4.5.15 (Python 3.11)")
    if not args.prompt.strip():
        raise CommandError("the prompt is empty")
    if args.checkpoint and not Path(args.checkpoint).is_dir():
        raise CommandError(f"checkpoint folder not found: {args.checkpoint}")
    command = [sys.executable, "-m", "blender_addon.headless", args.prompt, "-o", str(Path(args.output).resolve()),
               "--cwd", str(REPO_ROOT)]
    if args.preview:
        command += ["--preview", str(Path(args.preview).resolve())]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    run = subprocess.run(command + ["--"] + backend_command(args), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                         stderr=None if args.verbose else subprocess.PIPE, text=True)
    if run.returncode != 0:
        lines = [line for line in (run.stderr or "").splitlines() if line.startswith("error:")]
        raise CommandError(lines[-1][len("error: "):] if lines else f"headless Blender exited with {run.returncode}")
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"saved {summary['blend']}" + (f" and {summary['preview']}" if "preview" in summary else "")
          + (f" (text_to_pose {summary['timing_ms']:.0f} ms)" if summary.get("timing_ms") else ""))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "blend", help="pose an SMPL character from text and save a .blend (headless Blender)",
        description="Create an SMPL rig in headless Blender, pose it from PROMPT with the UniPose model through "
                    "the Blender add-on's code, save OUTPUT.blend and optionally a rendered PNG preview.")
    parser.add_argument("prompt", help='the pose in words, e.g. "a person kneeling on one knee"')
    parser.add_argument("-o", "--output", required=True, metavar="OUT.blend", help="the .blend file to write")
    parser.add_argument("--preview", metavar="OUT.png", help="also render a preview image")
    parser.add_argument("--seed", type=int, default=None, help="sampling seed")
    parser.add_argument("--checkpoint", metavar="DIR", default=None, help="model checkpoint (default: the shipped one)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where to run the model (default: auto)")
    parser.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for the model")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Blender's and the backend's log")
    parser.set_defaults(func=handler)
