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

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.paths import DEFAULT_CHECKPOINT  # noqa: E402
from training.task_records import load_corpus, task_records  # noqa: E402
from training.stages.model_setup import record_inputs  # noqa: E402

BATCH = 8


def _loss(model, records: list[dict], part: str) -> float:
    """Mean cross-entropy of `part` ("pose_loss" or "text_loss") over the records, batched."""
    values, weights = [], []
    for start in range(0, len(records), BATCH):
        chunk = records[start:start + BATCH]
        samples = [model.build_sample(r["task"], template=0, **record_inputs(r, None)) for r in chunk]
        with torch.no_grad():
            out = model(model.collate(samples))
        values.append(float(getattr(out, part)))
        weights.append(len(chunk))
    return float(np.average(values, weights=weights))


def _mismatched(records: list[dict], key: str, seed: int) -> list[dict]:
    """The same targets, each given the `key` input of another record (a random derangement)."""
    order = np.random.default_rng(seed).permutation(len(records))
    swapped = [dict(r) for r in records]
    for target, donor in zip(order, np.roll(order, 1)):
        swapped[target][key] = records[donor][key]
    return swapped


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
    for task, swap, part, unit in (("text_to_pose", "text", "pose_loss", "nats / pose token"),
                                   ("pose_to_text", "pose", "text_loss", "nats / text token")):
        records = task_records(corpus, task, "test", evaluation=True, max_items=args.samples, seed=args.seed)
        right = _loss(model, records, part)
        wrong = _loss(model, _mismatched(records, swap, args.seed), part)
        rows.append((task, len(records), right, wrong, unit))

    print(f"checkpoint: {args.checkpoint}")
    print("| task | samples | loss, own input | loss, another sample's input | gap | unit |")
    print("| --- | --- | --- | --- | --- | --- |")
    for task, count, right, wrong, unit in rows:
        print(f"| {task} | {count} | {right:.3f} | {wrong:.3f} | {wrong - right:+.3f} | {unit} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
