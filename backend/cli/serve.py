"""`unipose serve`: the JSON-RPC backend on stdin/stdout (see backend/server.py for the protocol)."""
import argparse

from backend.cli import CommandError

DEVICES = ("auto", "cpu", "cuda")  # = backend.engine.DEVICES; not imported so that --help stays fast
TEXT_STEPS = ("auto", "int8", "full")  # = backend.model.int8_steps.TEXT_STEPS, for the same reason


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", metavar="DIR", default=None,
                        help="UniPose checkpoint folder (default: $UNIPOSE_CHECKPOINT or checkpoints/default)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where to run the model (default: auto)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--text-steps", choices=TEXT_STEPS, default="auto",
                        help="run the one-token steps of written answers in int8 (faster on a CPU) or in full "
                             "precision; pose answers always use full precision (default: auto = int8 where the "
                             "CPU runs it)")


def checkpoint_and_threads(args: argparse.Namespace) -> str:
    """Apply --threads and return the checkpoint folder to load."""
    from backend.paths import default_checkpoint
    if args.threads is not None:
        if args.threads < 1:
            raise CommandError("--threads must be at least 1")
        import torch
        torch.set_num_threads(args.threads)
    return str(args.checkpoint or default_checkpoint())


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the model backend: JSON-RPC 2.0 over stdin/stdout",
        description="Load the model once, send a `ready` notification, then answer one JSON-RPC 2.0 request "
                    "per stdin line with one response per stdout line. Logs go to stderr. Methods: "
                    "text_to_pose, pose_to_text, pose_diff, edit_pose, image_to_pose, image_to_text, image_diff, "
                    "status, shutdown.")
    add_model_options(parser)
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from backend.server import main
    return main(checkpoint_and_threads(args), args.device, args.text_steps)
