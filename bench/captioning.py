"""How fast the rule-based captioner words poses: the batched path the corpus build uses against captioning
one pose at a time (the trivial way), on the same random poses, side by side in one run.

    .venv/bin/python bench/captioning.py [--poses 10000] [--loop 1000]
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.random_poses import sample_poses  # noqa: E402
from training.captioning.captions import caption_batch, caption_pose  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=int, default=10_000, help="poses captioned by the batched path")
    parser.add_argument("--loop", type=int, default=1_000, help="poses captioned one at a time")
    args = parser.parse_args()
    poses = sample_poses(args.poses, seed=7)

    start = time.perf_counter()
    batched = caption_batch(poses, n=3)
    batch_s = time.perf_counter() - start
    start = time.perf_counter()
    for pose in poses[:args.loop]:
        caption_pose(pose, n=3)
    loop_s = time.perf_counter() - start

    batch_rate, loop_rate = len(batched) / batch_s, args.loop / loop_s
    print("| path | poses | seconds | poses/s |\n| --- | ---: | ---: | ---: |")
    print(f"| caption_batch (3 captions each) | {len(batched)} | {batch_s:.1f} | {batch_rate:.0f} |")
    print(f"| caption_pose, one pose at a time | {args.loop} | {loop_s:.1f} | {loop_rate:.0f} |")
    print(f"batch_poses_per_s={batch_rate:.0f} loop_poses_per_s={loop_rate:.0f} speedup={batch_rate / loop_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
