"""Train UniPose end to end: stage 0 (pose tokenizer) and stages 1-3 (LLM), ending in a servable checkpoint.

    python -m training.train --config training/configs/tiny.yaml --out runs/tiny
    accelerate launch -m training.train --config training/configs/default.yaml --out runs/default

Every stage writes to OUT/stageK/ (metrics.jsonl, tensorboard/, checkpoints/, final/, done.json). Rerunning
the command resumes: finished stages are skipped and an interrupted stage continues from its newest
checkpoint with the same optimizer, scheduler, data position and RNG state. OUT/checkpoint/ is the servable
model (`unipose --checkpoint OUT/checkpoint ...`, `python -m training.evaluate OUT/checkpoint`).
"""
import argparse
import dataclasses
import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from backend.model.backbone import native_bf16
from training.stages.config import STAGE_NAMES, TrainConfig, config_to_dict, load_config

CHECKPOINT_DIR = "checkpoint"
TOKENIZER_DIR = "tokenizer"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_precision(mixed_precision: str) -> str:
    """"auto" -> "bf16" where bfloat16 is native (a GPU that supports it, a CPU with AVX512-BF16 or AMX), else
    "no": on an AVX2-only CPU, bf16 autocast is ~30x slower than float32. Other values pass through."""
    if mixed_precision != "auto":
        return mixed_precision
    return "bf16" if native_bf16("cuda" if torch.cuda.is_available() else "cpu") else "no"


def make_accelerator(config: TrainConfig):
    from accelerate import Accelerator, DistributedDataParallelKwargs
    precision = resolve_precision(config.run.mixed_precision)
    # Task-mixed batches may leave a trainable part unused (no image in the batch: no projector gradient).
    return Accelerator(mixed_precision=precision,
                       kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)])


def run_stage0(config: TrainConfig, poses_npz: Path, out: Path, device: str, log=print) -> Path:
    """Train (or reuse) the pose tokenizer on the run's device ("cpu", "cuda"); returns its folder OUT/tokenizer."""
    target = out / TOKENIZER_DIR
    if (target / "config.json").is_file():
        return target
    given = config.tokenizer.get("checkpoint")
    if given:
        shutil.copytree(given, target)
        return target
    from training.stages import tokenizer as tokenizer_stage
    overrides = {"data": {"poses": str(Path(poses_npz).resolve())},
                 "train": {"run_dir": str((out / "stage0").resolve()), "export_dir": str(target.resolve()),
                           "device": device}}
    if config.tokenizer.get("max_steps"):
        overrides["train"]["max_steps"] = int(config.tokenizer["max_steps"])
    tok_config = tokenizer_stage.load_tokenizer_config(config.tokenizer["config"], overrides)
    log(f"stage0: pose tokenizer, {tok_config.train.max_steps} steps")
    tokenizer = tokenizer_stage.train(tok_config)
    report = tokenizer_stage.evaluate_stage(tok_config, tokenizer)
    log(f"stage0: held-out MPJPE {report.get('mpjpe_mm', float('nan')):.1f} mm")
    return target


def _stage_texts(corpus) -> list[str]:
    return [t for texts in corpus.captions.values() for t in texts] + [t for *_, texts in corpus.pairs for t in texts]


def train_all(config: TrainConfig, out: Path, corpus_dir: Path | None = None, stages=None,
              stop_after: int | None = None, log=print, init: Path | None = None,
              budget_s: float | None = None) -> dict:
    """Run the configured stages in order; returns a summary (also written to OUT/train_summary.json).

    budget_s: wall-clock seconds for this call. When they run out, the stage in progress saves a checkpoint
    (a rerun resumes it) and its model as it is goes to OUT/checkpoint (summary "stopped_in": the stage).
    init: a UniPose checkpoint the first stage continues from instead of a fresh model (its pose tokenizer
    replaces stage 0), e.g. more training of a shipped model under another config; a config with
    `model.joint_features` gives a checkpoint without them a new map at zero.
    """
    from training.task_records import load_training_corpus, stage_datasets
    from training.stages.loop import DONE_JSON, run_stage
    from training.stages.mixing import MixedTaskDataset
    from training.stages.model_setup import config_image_source, make_collate, set_trainable, stage_loss

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    deadline = time.time() + budget_s if budget_s is not None else None
    if config.run.num_threads:
        torch.set_num_threads(config.run.num_threads)
    seed_everything(config.run.seed)
    corpus_dir = Path(corpus_dir or config.corpus)
    config = dataclasses.replace(config, corpus=str(corpus_dir))  # the saved config names the data used
    (out / "config.json").write_text(json.dumps(config_to_dict(config), indent=1))
    corpus = load_training_corpus(corpus_dir, config.sources)
    accelerator = make_accelerator(config)
    log(f"mixed precision: {accelerator.mixed_precision} (config: {config.run.mixed_precision})")
    wanted = stages or ["stage0", *config.stages]
    summary = {"config": config.name, "corpus": str(corpus_dir), "mixed_precision": accelerator.mixed_precision,
               "stages": {}}
    if init is not None:
        from backend.model.checkpoint import POSE_TOKENIZER_DIR
        tokenizer = {**config.tokenizer, "checkpoint": str(Path(init) / POSE_TOKENIZER_DIR)}
        config = dataclasses.replace(config, tokenizer=tokenizer)
        summary["init"] = str(init)

    poses_npz = corpus_dir / "poses.npz"
    if config.sources:  # the tokenizer stage reads one npz: write the release poses with their splits
        poses_npz = out / "release_poses.npz"
        split_of = {i: s for s, members in corpus.splits.items() for i in members}
        np.savez(poses_npz, rotations=corpus.rotations, ids=np.array(corpus.ids),
                 split=np.array([split_of.get(i, "unused") for i in corpus.ids]))
    tokenizer_dir = (run_stage0(config, poses_npz, out, accelerator.device.type, log) if "stage0" in wanted
                     else out / TOKENIZER_DIR)
    summary["stages"]["stage0"] = _read_json(out / "stage0" / "eval" / "eval.json")
    make_image = config_image_source(config.model)
    model, previous = None, init
    for name in STAGE_NAMES:
        if name not in config.stages or name not in wanted:
            continue
        stage = config.stages[name]
        stage_dir = out / name
        if (stage_dir / DONE_JSON).is_file() and (stage_dir / "final").is_dir():
            previous, model = stage_dir / "final", None
            summary["stages"][name] = _read_json(stage_dir / DONE_JSON)
            continue
        if model is None:
            model = _load_or_build(config, previous, tokenizer_dir, out, _stage_texts(corpus))
        count = set_trainable(model, stage.trainable)
        data = MixedTaskDataset(stage_datasets(corpus, stage.tasks), stage.tasks, seed=config.run.seed)
        log(f"{name}: {count:,} trainable parameters, tasks {data.counts()}")
        seed_everything(config.run.seed + STAGE_NAMES.index(name) + 1)
        result = run_stage(name, stage, config.run, stage_dir, model, data,
                           make_collate(model, make_image, config.run.max_length), stage_loss(stage), accelerator,
                           stop_after=stop_after, deadline=deadline)
        summary["stages"][name] = {k: v for k, v in dataclasses.asdict(result).items() if k != "losses"}
        if not (stage_dir / DONE_JSON).is_file():
            log(f"{name}: stopped at step {result.steps}; rerun the command to resume")
            if deadline is not None and time.time() >= deadline and accelerator.is_main_process:
                shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)  # out of time: still a servable model
                model.save_pretrained(out / CHECKPOINT_DIR)
                summary["checkpoint"], summary["stopped_in"] = str(out / CHECKPOINT_DIR), name
            break
        if accelerator.is_main_process:
            model.save_pretrained(stage_dir / "final")
        previous = stage_dir / "final"
        log(f"{name}: loss {result.first_loss:.3f} -> {result.last_loss:.3f}, {result.tokens_per_s:.0f} tokens/s")
    else:
        if previous is not None and accelerator.is_main_process:
            shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
            shutil.copytree(previous, out / CHECKPOINT_DIR)
            summary["checkpoint"] = str(out / CHECKPOINT_DIR)
    if accelerator.is_main_process:
        (out / "train_summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _load_or_build(config: TrainConfig, previous: Path | None, tokenizer_dir: Path, out: Path, texts: list[str]):
    seed_everything(config.run.seed)  # the fresh model's random parts do not depend on what ran before
    if previous is not None:
        from backend.model.unipose import UniPose
        model = UniPose.from_pretrained(previous, trainable=True, merge_lora=False)
        if config.model.get("joint_features") and model.joint_features is None:  # grown, answering as before
            model.add_joint_features()
        return model
    from training.stages.model_setup import build_unipose
    return build_unipose(config.model, tokenizer_dir, out, texts, seed=config.run.seed)


def with_overrides(config: TrainConfig, max_steps: int | None = None, tokenizer: str | None = None,
                   batch_size: int | None = None) -> TrainConfig:
    """Command-line overrides: a step cap and a batch size for every LLM stage, an existing tokenizer."""
    changes = {k: v for k, v in (("max_steps", max_steps), ("batch_size", batch_size)) if v}
    if changes:
        config = dataclasses.replace(config, stages={n: dataclasses.replace(s, **changes)
                                                     for n, s in config.stages.items()})
    if tokenizer:
        config = dataclasses.replace(config, tokenizer={**config.tokenizer, "checkpoint": tokenizer})
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="training/configs/{tiny,default,paper}.yaml")
    parser.add_argument("--out", required=True, help="run folder (resumed when it exists)")
    parser.add_argument("--corpus", help="corpus folder (default: the config's `corpus`)")
    parser.add_argument("--stages", help="comma-separated subset, e.g. stage0,stage1")
    parser.add_argument("--stop-after", type=int, help="stop each stage after this optimizer step (resume later)")
    parser.add_argument("--max-steps", type=int, help="cap every LLM stage at this many optimizer steps")
    parser.add_argument("--batch-size", type=int, help="per-device batch size of every LLM stage")
    parser.add_argument("--tokenizer", help="use this trained pose tokenizer folder instead of running stage 0")
    parser.add_argument("--init", type=Path, help="continue from this UniPose checkpoint instead of a fresh model")
    parser.add_argument("--budget-s", type=float, help="wall-clock seconds: then save, stop (resume by rerunning)")
    parser.add_argument("--evaluate", action="store_true", help="run training.evaluate on the final checkpoint")
    args = parser.parse_args(argv)
    config = with_overrides(load_config(args.config), args.max_steps, args.tokenizer, args.batch_size)
    summary = train_all(config, Path(args.out), args.corpus, args.stages.split(",") if args.stages else None,
                        args.stop_after, init=args.init, budget_s=args.budget_s)
    if args.evaluate and summary.get("checkpoint"):
        from training.evaluate import evaluate_checkpoint
        evaluate_checkpoint(Path(summary["checkpoint"]), config, Path(args.out) / "eval",
                            corpus_dir=args.corpus, run_dir=Path(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
