"""Measure a checkpoint's pose priors for prompt guidance (backend/model/guidance.py) and store them in it.

    python -m training.pose_prior CHECKPOINT [--corpus data/corpus/v1] [--samples 256] [--guidance 3]
                                  [--edit-reference "Keep the same pose."] [--description-guidance 2]
                                  [--difference-guidance 1.5]

For each pose-output task the checkpoint supports, the mean code log-probabilities over `--samples` training
inputs (template 0, as at inference) go to CHECKPOINT/unipose/pose_prior.safetensors. --guidance also sets the
checkpoint's default guidance weight; choose it on held-out data with bench/guidance.py. --edit-reference sets
the neutral instruction edits are guided against instead of their task prior ("" goes back to the prior); compare
the two with bench/edits.py --edit-references. --description-guidance sets how strongly descriptions are guided
against a standing pose's (1: off); choose it with bench/describe.py --description-guidance.
--difference-guidance likewise for pose and image differences, against A to A; bench/differences.py.
"""
import argparse
import json
from pathlib import Path

import torch

from backend.tasks import POSE_TASKS



def measure_priors(model, corpus, samples: int, make_image, seed: int = 0, log=print) -> dict[str, torch.Tensor]:
    """Task -> (n, K) mean code log-probabilities over training inputs of that task."""
    from backend.model.guidance import mean_code_logprobs
    from training.task_records import task_records
    from training.stages.model_setup import record_inputs

    priors = {}
    for task in POSE_TASKS:
        if task.startswith("image") and model.vision is None:
            continue
        records = task_records(corpus, task, "train", evaluation=True, max_items=samples, seed=seed)
        if not records:
            continue
        built = [model.build_sample(task, template=0, **record_inputs(r, make_image)) for r in records]
        priors[task] = mean_code_logprobs(model, built)
        log(f"{task}: prior from {len(records)} training inputs")
    return priors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--corpus", default="data/corpus/v1")
    parser.add_argument("--samples", type=int, default=256, help="training inputs per task")
    parser.add_argument("--guidance", type=float, help="also set the checkpoint's default guidance weight")
    parser.add_argument("--edit-reference", help="guide edits against the answer to this instruction "
                                                   "(\"\": against the edit task's prior)")
    parser.add_argument("--description-guidance", type=float,
                        help="guide pose -> text against a standing pose's at this weight (1: off)")
    parser.add_argument("--difference-guidance", type=float,
                        help="guide pose and image differences against A to A at this weight (1: off)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    for flag, weight in (("--description-guidance", args.description_guidance),
                         ("--difference-guidance", args.difference_guidance)):
        if weight is not None and weight < 1.0:
            parser.error(f"{flag} is 1 (off) or more: below 1 it would weaken the input's say")
    torch.set_num_threads(args.threads)

    from backend.model.guidance import save_priors
    from backend.model.checkpoint import CONFIG_NAME, MODEL_DIR
    from backend.model.unipose import UniPose
    from training.task_records import load_corpus
    from training.stages.model_setup import image_source

    model = UniPose.from_pretrained(args.checkpoint, dtype="float32")
    kinds = [e["kind"] for e in model.vision.config()["encoders"]] if model.vision is not None else []
    with torch.no_grad():
        priors = measure_priors(model, load_corpus(args.corpus), args.samples,
                                image_source(kinds, args.image_size, seed=0))
    folder = args.checkpoint / MODEL_DIR
    print(f"wrote {save_priors(priors, folder)}")
    settings = {key: value for key, value in (("guidance", args.guidance), ("edit_reference", args.edit_reference),
                                              ("description_guidance", args.description_guidance),
                                              ("difference_guidance", args.difference_guidance))
                if value is not None}
    if settings:
        config = json.loads((folder / CONFIG_NAME).read_text())
        config.update(settings)
        (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
        print("set " + ", ".join(f"{key}: {value!r}" for key, value in settings.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
