"""Training-token budget of a config: samples x tokens per sample x epochs for every LLM stage, and the
training throughput measured on this machine, so a run's wall time can be estimated before starting it.

    python -m training.budget --config training/configs/default.yaml
    python -m training.budget --config training/configs/default.yaml --measure-steps 0 --assume-tokens-per-s 60000

Tokens per sample are counted with the real sequence builder (chat template, 80-token pose spans, visual
slots) on a random sample of each stage's task mix. The pose tokenizer's weights do not change the
count, so an untrained tokenizer is used unless --tokenizer names a trained one.
"""
import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from training.stages.config import TrainConfig, load_config


def _pose_tokenizer(config: TrainConfig, tokenizer_dir: str | None, folder: Path) -> Path:
    if tokenizer_dir:
        return Path(tokenizer_dir)
    import yaml
    from backend.tokenizer import PoseTokenizer, PoseTokenizerConfig
    model_cfg = (yaml.safe_load(Path(config.tokenizer["config"]).read_text()) or {}).get("model") or {}
    PoseTokenizer(PoseTokenizerConfig.from_dict(model_cfg)).save_pretrained(folder / "tokenizer")
    return folder / "tokenizer"


def stage_budget(model, corpus, name: str, stage, make_image, seed: int = 0, probe: int = 64) -> dict:
    """Samples, tokens per sample and total tokens of one stage as configured."""
    from training.task_records import stage_datasets
    from training.stages.loop import total_steps
    from training.stages.mixing import MixedTaskDataset
    from training.stages.model_setup import record_inputs

    data = MixedTaskDataset(stage_datasets(corpus, stage.tasks), stage.tasks, seed=seed)
    order = data.epoch_order(0)[:probe]
    lengths = [len(model.build_sample(data[int(i)]["task"], **record_inputs(data[int(i)], make_image))) for i in order]
    per_step = stage.batch_size * stage.grad_accum
    steps = total_steps(stage, max(1, data.epoch_size() // per_step))
    samples = steps * per_step
    return {"stage": name, "epoch_samples": data.epoch_size(), "epochs": samples / max(data.epoch_size(), 1),
            "steps": steps, "samples": samples, "tokens_per_sample": float(np.mean(lengths)),
            "max_tokens_per_sample": int(np.max(lengths)), "tokens": samples * float(np.mean(lengths)), "data": data}


def measure_tokens_per_s(model, config: TrainConfig, name: str, data, make_image, steps: int,
                         batch: int | None) -> float:
    """Training throughput over `steps` optimizer steps after one warm-up step (this machine, this config)."""
    import dataclasses
    from accelerate import Accelerator
    from training.stages.logger import read_metrics
    from training.stages.loop import run_stage
    from training.stages.model_setup import make_collate, set_trainable, stage_loss

    stage = dataclasses.replace(config.stages[name], max_steps=steps + 1,
                                batch_size=batch or config.stages[name].batch_size, grad_accum=1)
    set_trainable(model, stage.trainable)
    run = dataclasses.replace(config.run, checkpoint_every=0)
    with tempfile.TemporaryDirectory() as tmp:
        run_stage(name, stage, run, Path(tmp), model, data, make_collate(model, make_image, run.max_length),
                  stage_loss(stage), Accelerator(), resume=False)
        records = read_metrics(Path(tmp))[1:]
    return float(sum(r["tokens"] for r in records) / max(sum(r["tokens"] / r["tokens_per_s"] for r in records), 1e-9))


def _rate(rate: float | None) -> str:
    return f"{rate:.0f}" if rate else "–"


def _hours(tokens: float, rate: float | None) -> str:
    return f"{tokens / rate / 3600:.1f} h" if rate else "–"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--corpus", help="corpus folder (default: the config's)")
    parser.add_argument("--tokenizer", help="a trained pose tokenizer folder (default: an untrained one)")
    parser.add_argument("--measure-steps", type=int, default=2, help="timed training steps per stage (0: skip)")
    parser.add_argument("--measure-batch", type=int, help="batch size for the timing (default: the stage's)")
    parser.add_argument("--assume-tokens-per-s", type=float, help="also estimate hours at this throughput (a GPU's)")
    args = parser.parse_args(argv)

    from training.task_records import load_training_corpus
    from training.stages.model_setup import build_unipose, config_image_source

    config = load_config(args.config)
    if config.run.num_threads:
        torch.set_num_threads(config.run.num_threads)
    corpus = load_training_corpus(args.corpus or config.corpus, config.sources)
    texts = [t for v in corpus.captions.values() for t in v]
    make_image = config_image_source(config.model)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = _pose_tokenizer(config, args.tokenizer, Path(tmp))
        model = build_unipose(config.model, tokenizer, Path(tmp), texts, seed=config.run.seed)
        rows = [stage_budget(model, corpus, name, stage, make_image, config.run.seed)
                for name, stage in config.stages.items()]
        for row in rows:
            row["measured"] = (measure_tokens_per_s(model, config, row["stage"], row["data"], make_image,
                                                    args.measure_steps, args.measure_batch)
                               if args.measure_steps > 0 else None)
    device = "GPU" if torch.cuda.is_available() else f"CPU ({torch.get_num_threads()} threads)"
    print(f"config {config.name}: backbone {config.model.get('backbone')}, corpus {args.corpus or config.corpus}")
    print("| stage | samples/epoch | epochs | steps | samples | tokens/sample (max) | tokens | measured tokens/s "
          f"on {device} | time at measured | time at assumed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    total = 0.0
    for r in rows:
        total += r["tokens"]
        print(f"| {r['stage']} | {r['epoch_samples']:,} | {r['epochs']:.2f} | {r['steps']:,} | {r['samples']:,} | "
              f"{r['tokens_per_sample']:.0f} ({r['max_tokens_per_sample']}) | {r['tokens'] / 1e6:.2f}M | "
              f"{_rate(r['measured'])} | {_hours(r['tokens'], r['measured'])} | "
              f"{_hours(r['tokens'], args.assume_tokens_per_s)} |")
    measured = [r for r in rows if r["measured"]]
    here = (f"; {sum(r['tokens'] / r['measured'] for r in measured) / 3600:.1f} h at the measured rates"
            if len(measured) == len(rows) else "")
    print(f"total: {total / 1e6:.2f}M training tokens{here}"
          + (f"; {total / args.assume_tokens_per_s / 3600:.1f} h at {args.assume_tokens_per_s:.0f} tokens/s"
             if args.assume_tokens_per_s else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
