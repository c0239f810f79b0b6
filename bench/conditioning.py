"""Does the model use its input? Held-out loss with the right input against the same target with another
sample's input (a shuffled pairing). A model that ignores its input (collapse to one pose / one caption) shows
no gap; the larger the gap, the more the answer depends on what was asked.

    .venv/bin/python bench/conditioning.py [--checkpoint DIR] [--samples 64] [--threads 2]

text_to_pose: pose-code cross-entropy (nats per pose token) given the caption vs. given another pose's caption.
pose_to_text: caption cross-entropy (nats per text token) given the pose vs. given another pose.
Prints a table; template 0 (the inference prompt) for every sample.
"""
import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.paths import DEFAULT_CHECKPOINT  # noqa: E402
from training.benchmarks.conditioning import GAP_TASKS, conditioning_gap  # noqa: E402
from training.task_records import load_corpus, task_records  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    parser.add_argument("--corpus", default="data/corpus/v1")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from backend.model.unipose import UniPose
    model = UniPose.from_pretrained(args.checkpoint, dtype="float32")
    corpus = load_corpus(args.corpus)
    rows = []
    for task, (_, _, unit) in GAP_TASKS.items():
        records = task_records(corpus, task, "test", evaluation=True, max_items=args.samples, seed=args.seed)
        right, wrong = conditioning_gap(model, records, args.seed)
        rows.append((task, len(records), right, wrong, unit))

    print(f"checkpoint: {args.checkpoint}")
    print("| task | samples | loss, own input | loss, another sample's input | gap | unit |")
    print("| --- | --- | --- | --- | --- | --- |")
    for task, count, right, wrong, unit in rows:
        print(f"| {task} | {count} | {right:.3f} | {wrong:.3f} | {wrong - right:+.3f} | {unit} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
