"""Pose tokenizer benchmark: encode/decode throughput (poses/s) and reconstruction error.

    python bench/tokenizer.py [--poses data/corpus/v1/poses.npz] [--device cpu] [--threads 2]

Rows: the shipped default tokenizer (checkpoints/default/tokenizer, when present) and the paper-sized
configuration with random weights (its throughput is meaningful, its error is not). Errors are measured
on the corpus test split, or on any npz with `rotations` (N, 22, 3).
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch

from backend.paths import REPO_ROOT
from backend.tokenizer import PoseTokenizer
from backend.tokenizer.evaluation import evaluate_tokenizer
from training.stages.tokenizer import load_tokenizer_config

DEFAULT_TOKENIZER = REPO_ROOT / "checkpoints" / "default" / "tokenizer"
PAPER_CONFIG = REPO_ROOT / "training" / "configs" / "tokenizer_paper.yaml"
CORPUS = REPO_ROOT / "data" / "corpus" / "v1" / "poses.npz"


def _load_poses(path: Path, limit: int) -> np.ndarray:
    with np.load(path, allow_pickle=False) as npz:
        rotations = np.asarray(npz["rotations"], dtype=np.float32)
        if "split" in npz.files:
            rotations = rotations[np.asarray(npz["split"]) == "test"]
    return rotations[:limit]


def _throughput(fn, batch: torch.Tensor, repeats: int) -> float:
    """Poses per second of fn(batch), after one warm-up call."""
    fn(batch)
    if batch.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn(batch)
    if batch.is_cuda:
        torch.cuda.synchronize()
    return repeats * len(batch) / (time.perf_counter() - start)


def bench_row(name: str, tokenizer: PoseTokenizer, poses: np.ndarray, batch_size: int, repeats: int) -> dict:
    tokenizer.eval()
    batch = torch.as_tensor(poses[:batch_size], device=tokenizer.device)
    ids = tokenizer.encode(batch)
    result = evaluate_tokenizer(tokenizer, poses)
    return {
        "tokenizer": name,
        "params_M": sum(p.numel() for p in tokenizer.parameters()) / 1e6,
        "encode_per_s": _throughput(tokenizer.encode, batch, repeats),
        "decode_per_s": _throughput(tokenizer.decode, ids, repeats),
        "encode1_ms": 1000 / _throughput(tokenizer.encode, batch[:1], repeats),
        "mpjpe_mm": result.mpjpe_mm,
        "pa_mpjpe_mm": result.pa_mpjpe_mm,
        "codes_used": result.codes_used,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=Path, default=CORPUS)
    parser.add_argument("--limit", type=int, default=2000, help="poses used for the error columns")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    poses = _load_poses(args.poses, args.limit)
    rows = []
    if (DEFAULT_TOKENIZER / "config.json").is_file():
        rows.append(bench_row("default (trained)", PoseTokenizer.from_pretrained(DEFAULT_TOKENIZER, args.device), poses,
                              args.batch_size, args.repeats))
    paper = PoseTokenizer(load_tokenizer_config(PAPER_CONFIG).model).to(args.device)
    rows.append(bench_row("paper (random weights)", paper, poses, args.batch_size, args.repeats))

    print(f"device={args.device} threads={args.threads} batch={args.batch_size} poses={len(poses)} ({args.poses})")
    header = (f"{'tokenizer':<24}{'params_M':>9}{'encode/s':>11}{'decode/s':>11}{'encode1_ms':>11}"
              f"{'MPJPE_mm':>10}{'PA_mm':>8}{'codes':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['tokenizer']:<24}{r['params_M']:>9.2f}{r['encode_per_s']:>11.0f}{r['decode_per_s']:>11.0f}"
              f"{r['encode1_ms']:>11.2f}{r['mpjpe_mm']:>10.2f}{r['pa_mpjpe_mm']:>8.2f}{r['codes_used']:>7d}")


if __name__ == "__main__":
    main()
