"""`unipose tokenizer-eval`: round-trip a pose file through the pose tokenizer and report joint errors."""
import argparse
from pathlib import Path

from backend.cli import CommandError

TOKENIZER_SUBDIR = "tokenizer"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tokenizer-eval",
        help="MPJPE / PA-MPJPE of poses after a tokenizer round trip",
        description="Encode every pose of POSES.npz to tokens, decode them, and print per-joint errors; "
        "the last line is `MPJPE_mm=<x> PA_MPJPE_mm=<y>`.",
    )
    parser.add_argument("poses", type=Path, help="npz with `rotations` (N, 22, 3) axis-angle (and `fps`)")
    parser.add_argument("--checkpoint", type=Path, help="tokenizer folder, or a checkpoint holding tokenizer/ "
                        "(default: the shipped checkpoint)")
    parser.add_argument("--worst-png", type=Path, help="also draw the 8 worst reconstructions into this PNG")
    parser.add_argument("--device", default="cpu")
    parser.set_defaults(func=handle)


def _tokenizer_dir(checkpoint: Path | None) -> Path:
    from backend.paths import default_checkpoint

    root = checkpoint if checkpoint is not None else default_checkpoint()
    for candidate in (root, root / TOKENIZER_SUBDIR):
        if (candidate / "config.json").is_file() and (candidate / "model.safetensors").is_file():
            return candidate
    raise CommandError(f"{root}: no tokenizer (config.json + model.safetensors) here or in {TOKENIZER_SUBDIR}/")


def _load_rotations(path: Path):
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as npz:
            if "rotations" not in npz.files:
                raise CommandError(f"{path}: no 'rotations' array (found: {', '.join(npz.files) or 'nothing'})")
            rotations = np.asarray(npz["rotations"], dtype=np.float32)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:
        raise CommandError(f"{path}: not a readable .npz file ({error})") from None
    if rotations.ndim != 3 or rotations.shape[1:] != (22, 3) or len(rotations) == 0:
        raise CommandError(f"{path}: 'rotations' has shape {rotations.shape}, expected (N, 22, 3) with N >= 1")
    if not np.all(np.isfinite(rotations)):
        raise CommandError(f"{path}: 'rotations' has non-finite values")
    return rotations


def handle(args: argparse.Namespace) -> int:
    rotations = _load_rotations(args.poses)
    directory = _tokenizer_dir(args.checkpoint)

    import torch

    from backend.body.skeleton import JOINT_NAMES
    from backend.tokenizer import PoseTokenizer
    from backend.tokenizer.evaluation import draw_worst_cases, evaluate_tokenizer

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError("CUDA is not available")
    tokenizer = PoseTokenizer.from_pretrained(directory, device=args.device)
    result = evaluate_tokenizer(tokenizer, rotations)
    print(f"tokenizer: {directory}  poses: {len(rotations)}")
    print(f"{'joint':<16}{'error_mm':>10}")
    for name, error in zip(JOINT_NAMES, result.per_joint_mm):
        print(f"{name:<16}{error:>10.2f}")
    print(f"codebook: {result.codes_used}/{result.codebook_size} codes used, perplexity {result.perplexity:.1f}")
    if args.worst_png is not None:
        draw_worst_cases(rotations, result, 8, args.worst_png)
        print(f"worst cases: {args.worst_png}")
    print(f"MPJPE_mm={result.mpjpe_mm:.2f} PA_MPJPE_mm={result.pa_mpjpe_mm:.2f}")
    return 0
