"""Prompt guidance weight vs. held-out text->pose quality: choose the checkpoint's default guidance here.

    .venv/bin/python bench/guidance.py [--checkpoint DIR] [--weights 1,2,3,4] [--samples 64] [--split val]

Runs `UniPose.run("text_to_pose", guidance=w)` (the product path) on held-out captions for each weight, with
both pose decodings (`expected`: expected code vectors, the default; `codes`: the likeliest code per token), and
scores the poses as the evaluation does: R-precision top-1/2/3 and recall@10 against 31 distractors with the
retrieval judge (docs/eval/retrieval, trained on first use), MPJPE, and the spread of the answers (mean
per-joint standard deviation across samples: 0 when every prompt gets the same pose) and the share of upright
answers (head 0.3 m above the pelvis) and of contorted ones (a joint past its anatomical limit,
backend/contact/limits.py), each beside the ground truth's. Choose on the validation split, quote the test split.
Needs a checkpoint with pose priors (`python -m training.pose_prior`). Prints a table.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.body.kinematics import pose_joints  # noqa: E402
from backend.body.skeleton import JOINT_INDEX  # noqa: E402
from backend.contact.limits import limit_violations  # noqa: E402
from backend.paths import DEFAULT_CHECKPOINT  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--corpus", default="data/corpus/v1")
    parser.add_argument("--retrieval", default="docs/eval/retrieval", help="retrieval judge folder (cached)")
    parser.add_argument("--weights", default="1,2,3,4,6")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--split", default="test", choices=["val", "test"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from backend.model.unipose import UniPose
    from training.task_records import load_corpus, task_records
    from training.metrics.tasks import score_poses
    from training.retrieval.fit import POSE_TEXT, TextEmbeddings, fit_retrieval_models

    corpus = load_corpus(args.corpus)
    judge = fit_retrieval_models(corpus, Path(args.retrieval), epochs=20, max_items=4000)[POSE_TEXT]
    embed = TextEmbeddings()
    model = UniPose.from_pretrained(args.checkpoint)
    if "text_to_pose" not in model.pose_priors:
        raise SystemExit(f"{args.checkpoint} has no text_to_pose prior: run `python -m training.pose_prior`")
    records = task_records(corpus, "text_to_pose", args.split, evaluation=True, max_items=args.samples, seed=args.seed)
    texts = [r["text"] for r in records]
    target = np.stack([r["pose"] for r in records])
    print(f"checkpoint: {args.checkpoint} (default guidance {model.config.guidance}); {len(records)} held-out "
          f"{args.split} captions")
    print(f"ground truth: upright {_upright(target):.0f} %, past limits {_past_limits(target):.0f} %")
    print("| guidance | decoding | R-precision top-1 / 2 / 3 % | recall@10 text->pose % | MPJPE mm | spread mm | "
          "upright % | past limits % | ground-truth top-3 % |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for weight in (float(w) for w in args.weights.split(",")):
        for decoding in ("expected", "codes"):
            with torch.no_grad():
                poses = np.stack([model.run("text_to_pose", text=t, guidance=weight,
                                            expected_pose=decoding == "expected").poses[0] for t in texts])
            scores = score_poses(poses, target, texts, judge, embed)
            spread = 1000.0 * pose_joints(poses)[:, :22].std(axis=0).mean()
            top = " / ".join(f"{scores[f'r_precision_top{k}']:.1f}" for k in (1, 2, 3))
            print(f"| {weight:g} | {decoding} | {top} | {scores['recall_t2p@10']:.1f} | {scores['mpjpe_mm']:.0f} | "
                  f"{spread:.0f} | {_upright(poses):.0f} | {_past_limits(poses):.0f} | "
                  f"{scores['real_r_precision_top3']:.1f} |", flush=True)
    return 0


def _upright(poses: np.ndarray) -> float:
    """% of (N, 22, 3) poses with the head 0.3 m above the pelvis."""
    joints = pose_joints(poses)
    return 100.0 * float(np.mean(joints[:, JOINT_INDEX["head"], 1] - joints[:, JOINT_INDEX["pelvis"], 1] > 0.3))


def _past_limits(poses: np.ndarray) -> float:
    """% of poses with a joint past its anatomical limit."""
    return 100.0 * float(np.mean([bool(limit_violations(p)) for p in poses]))


if __name__ == "__main__":
    raise SystemExit(main())
