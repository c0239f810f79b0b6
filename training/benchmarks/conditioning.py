"""Does a model use its input? Held-out loss of each target given its own input against the same target given
another sample's input (a shuffled pairing). A model that ignores its input shows no gap."""
import numpy as np
import torch

from training.stages.model_setup import record_inputs

BATCH = 8
# task -> (the input that is swapped, the loss part that is compared, its unit)
GAP_TASKS = {"text_to_pose": ("text", "pose_loss", "nats / pose token"),
             "pose_to_text": ("pose", "text_loss", "nats / text token")}


def mean_loss(model, records: list[dict], part: str) -> float:
    """Mean cross-entropy of `part` ("pose_loss" or "text_loss") over the records (template 0), batched."""
    values, weights = [], []
    for start in range(0, len(records), BATCH):
        chunk = records[start:start + BATCH]
        samples = [model.build_sample(r["task"], template=0, **record_inputs(r, None)) for r in chunk]
        with torch.no_grad():
            out = model(model.collate(samples))
        values.append(float(getattr(out, part)))
        weights.append(len(chunk))
    return float(np.average(values, weights=weights))


def mismatched(records: list[dict], key: str, seed: int) -> list[dict]:
    """The same targets, each given the `key` input of another record (a random derangement)."""
    order = np.random.default_rng(seed).permutation(len(records))
    swapped = [dict(r) for r in records]
    for target, donor in zip(order, np.roll(order, 1)):
        swapped[target][key] = records[donor][key]
    return swapped


def conditioning_gap(model, records: list[dict], seed: int = 0) -> tuple[float, float]:
    """(loss with the own input, loss with another sample's input) for records of one GAP_TASKS task."""
    key, part, _ = GAP_TASKS[records[0]["task"]]
    return mean_loss(model, records, part), mean_loss(model, mismatched(records, key, seed), part)
