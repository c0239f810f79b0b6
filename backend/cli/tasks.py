"""The seven UniPose tasks on the command line, plus `batch` for JSON-RPC request files.

    unipose text2pose "PROMPT" [-o pose.json] [--preview pose.png] [--seed N] [--samples K] [--guidance W]
    unipose pose2text POSE              unipose posediff A B
    unipose edit POSE "INSTRUCTION" [-o pose.json] [--preview pose.png] [--whole-body]
    unipose image2pose IMG [-o pose.json]   unipose image2text IMG   unipose imagediff A B
    unipose batch REQUESTS.jsonl [-o RESPONSES.jsonl]

Pose results go to `-o FILE` (sample k > 1 to FILE-k.json) or, without -o, to stdout as one pose JSON
object per line. Text results go to stdout. Exit codes: 0 success, 1 the model failed (or, for batch,
some requests got error responses), 2 bad arguments or input files.
"""
import argparse
import json
import sys
from pathlib import Path

from backend.cli import CommandError, load_pose_file
from backend.cli.serve import add_model_options, checkpoint_and_threads
from backend.tasks import FLAGS, INPUTS, TASKS, Task


def _sampling_options(parser: argparse.ArgumentParser, samples: bool) -> None:
    parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable sampling)")
    parser.add_argument("--temperature", type=float, default=None,
                        help="sampling temperature; 0 = greedy (default: greedy; with --samples K > 1 the first pose "
                             "is greedy and the others are sampled at 0.7, top-p 0.9)")
    if samples:
        parser.add_argument("--samples", type=int, default=1, metavar="K", help="number of poses to sample")
        parser.add_argument("--guidance", type=float, default=None, metavar="W",
                            help="how strongly the pose follows the prompt: 1 = plain decoding, higher = stronger "
                                 "(default: the model's own, see README)")


def _pose_outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write the pose JSON here (default: stdout)")
    parser.add_argument("--preview", metavar="PNG", help="also render the best pose to this image")


def _command(subparsers, task: Task) -> None:
    parser = subparsers.add_parser(task.command, help=task.summary, description=task.summary)
    for name in task.inputs:
        parser.add_argument(name, metavar=INPUTS[name].metavar, help=INPUTS[name].help)
    produces_poses = task.output == "pose"
    if produces_poses:
        _pose_outputs(parser)
    for name in task.flags:
        parser.add_argument("--" + name.replace("_", "-"), action="store_true", help=FLAGS[name])
    _sampling_options(parser, samples=produces_poses)
    add_model_options(parser)
    parser.set_defaults(func=run_task, task=task.name, produces_poses=produces_poses)


def register(subparsers) -> None:
    for task in TASKS.values():
        _command(subparsers, task)

    parser = subparsers.add_parser(
        "batch", help="answer a file of JSON-RPC requests with one model load",
        description="Read JSON-RPC 2.0 requests (one per line, the `unipose serve` methods) and write one "
                    "response per line. Exit code 1 when any request got an error response.")
    parser.add_argument("requests", metavar="REQUESTS.jsonl", help="request file, or - for stdin")
    parser.add_argument("-o", "--output", metavar="RESPONSES.jsonl", help="response file (default: stdout)")
    add_model_options(parser)
    parser.set_defaults(func=run_batch)


def _load_engine(args: argparse.Namespace):
    from backend.engine import UniPoseEngine
    checkpoint = checkpoint_and_threads(args)
    try:
        return UniPoseEngine.load(checkpoint, args.device, text_steps=args.text_steps)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from None
    except Exception as error:
        raise CommandError(f"could not load the model from {checkpoint}: {type(error).__name__}: {error}", 1) from None


def _read_pose(path: str):
    return load_pose_file(path).rotations


def _task_inputs(args: argparse.Namespace) -> dict:
    """Command-line inputs -> the engine method's keyword arguments (files read, names mapped)."""
    from backend.engine import InvalidInput, check_image, check_text
    inputs = {}
    for name in TASKS[args.task].inputs:
        value, kind = getattr(args, name), INPUTS[name].kind
        try:
            if kind == "pose":
                inputs[name] = _read_pose(value)
            else:  # checked now so that bad input fails before the slow model load
                (check_image if kind == "image" else check_text)(value, name)
                inputs[name] = value
        except InvalidInput as error:
            raise CommandError(str(error)) from None
    return inputs


def run_task(args: argparse.Namespace) -> int:
    from backend.engine import InvalidInput, ModelError, check_sampling
    samples = getattr(args, "samples", 1)
    inputs = _task_inputs(args)
    try:
        sampling = check_sampling(seed=args.seed, num_samples=samples, temperature=args.temperature,
                                  guidance=getattr(args, "guidance", None))
    except InvalidInput as error:
        raise CommandError(str(error).replace("num_samples", "--samples").replace("guidance", "--guidance")) from None
    engine = _load_engine(args)
    try:
        flags = {name: getattr(args, name) for name in TASKS[args.task].flags}
        output = getattr(engine, args.task)(**inputs, sampling=sampling, **flags)
    except InvalidInput as error:
        raise CommandError(str(error)) from None
    except ModelError as error:
        raise CommandError(str(error), exit_code=1) from None
    if not args.produces_poses:
        print(output)
        return 0
    _write_poses(output, args.output)
    if args.preview:
        from backend.render import render_pose
        render_pose(output[0]).save(args.preview)
    return 0


def _write_poses(poses: list, output: str | None) -> None:
    from backend.posefile import Pose, pose_to_dict, save_pose
    if output is None:
        for rotations in poses:
            print(json.dumps(pose_to_dict(Pose(rotations))))
        return
    path = Path(output)
    for k, rotations in enumerate(poses, start=1):
        target = path if k == 1 else path.with_name(f"{path.stem}-{k}{path.suffix or '.json'}")
        try:
            save_pose(Pose(rotations), target)
        except OSError as error:
            raise CommandError(f"cannot write {target}: {error}") from None
        print(f"wrote {target}", file=sys.stderr)


def run_batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm
    from backend.server import RpcHandler
    try:
        lines = (sys.stdin.buffer.read() if args.requests == "-" else Path(args.requests).read_bytes()).splitlines()
    except OSError as error:
        raise CommandError(f"cannot read {args.requests}: {error}") from None
    lines = [line for line in lines if line.strip()]
    handler = RpcHandler(_load_engine(args))
    errors = 0
    try:
        sink = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {error}") from None
    with tqdm(total=len(lines), desc="requests", unit="req", file=sys.stderr) as bar:
        for line in lines:
            response = handler.handle_line(line)
            if response is not None:
                replies = response if isinstance(response, list) else [response]
                errors += sum("error" in reply for reply in replies)
                sink.write(json.dumps(response, allow_nan=False, separators=(",", ":")) + "\n")
                sink.flush()
            bar.update(1)
            if handler.shutdown_requested:
                break
    if sink is not sys.stdout:
        sink.close()
    if errors:
        print(f"unipose batch: {errors} of {len(lines)} requests failed", file=sys.stderr)
    return 1 if errors else 0
