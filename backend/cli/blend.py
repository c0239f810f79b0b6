"""`unipose blend (PROMPT | --pose POSE.json) -o OUT.blend [--rig IN.blend [--armature NAME]] [--preview OUT.png]`.

Runs headless Blender (the `bpy` module) in a subprocess, which takes an armature (a new SMPL rig, or the
one in IN.blend, mapped to SMPL automatically), poses it through the Blender add-on's own code (from a
`unipose serve` backend for a prompt, or from the pose file), stands it on the floor, saves the .blend and
renders a preview. A rig that cannot be mapped is a one-line error and nothing is written.
"""
import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from backend.cli import CommandError, load_pose_file
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
    if (args.prompt is None) == (args.pose is None):
        raise CommandError("give either a PROMPT or --pose POSE.json")
    if args.prompt is not None and not args.prompt.strip():
        raise CommandError("the prompt is empty")
    if args.checkpoint and not Path(args.checkpoint).is_dir():
        raise CommandError(f"checkpoint folder not found: {args.checkpoint}")
    if args.armature and not args.rig:
        raise CommandError("--armature needs --rig IN.blend")
    if args.rig and not Path(args.rig).is_file():
        raise CommandError(f"rig file not found: {args.rig}")
    command = [sys.executable, "-m", "blender_addon.headless"] + ([args.prompt] if args.prompt is not None else [])
    command += ["-o", str(Path(args.output).resolve()), "--cwd", str(REPO_ROOT)]
    if args.pose:
        load_pose_file(args.pose)  # validated here: one-line errors for bad files
        command += ["--pose", str(Path(args.pose).resolve())]
    if args.rig:
        command += ["--rig", str(Path(args.rig).resolve())] + (["--armature", args.armature] if args.armature else [])
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
          + (f" ({summary['armature']}, {summary['convention']} mapping)" if args.rig else "")
          + (f" (text_to_pose {summary['timing_ms']:.0f} ms)" if summary.get("timing_ms") else ""))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "blend", help="pose a character (SMPL or your own rig) from text or a pose file and save a .blend",
        description="In headless Blender, pose an armature (a new SMPL rig, or the one in --rig IN.blend, mapped "
                    "automatically) from PROMPT with the UniPose model or from --pose POSE.json (no model), stand "
                    "it on the floor, save OUT.blend and optionally a rendered PNG preview.")
    parser.add_argument("prompt", nargs="?", help='the pose in words, e.g. "a person kneeling on one knee"')
    parser.add_argument("--pose", metavar="POSE.json", help="pose from this file instead of a prompt (no model)")
    parser.add_argument("--rig", metavar="IN.blend", help="pose the armature in this .blend instead of a new SMPL rig")
    parser.add_argument("--armature", metavar="NAME", help="which armature of --rig (needed when it has several)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.blend", help="the .blend file to write")
    parser.add_argument("--preview", metavar="OUT.png", help="also render a preview image")
    parser.add_argument("--seed", type=int, default=None, help="sampling seed")
    parser.add_argument("--checkpoint", metavar="DIR", default=None, help="model checkpoint (default: the shipped one)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where to run the model (default: auto)")
    parser.add_argument("--threads", type=int, default=None, metavar="N", help="CPU threads for the model")
    parser.add_argument("-v", "--verbose", action="store_true", help="show Blender's and the backend's log")
    parser.set_defaults(func=handler)
