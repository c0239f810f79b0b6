"""One training stage on accelerate: task-mixed batches, gradient accumulation, mixed precision,
periodic checkpoints with exact resume, tqdm with loss and tokens/s, JSONL + TensorBoard metrics.

The loop knows nothing about UniPose or the pose tokenizer: it takes a model whose trainable parameters
already have requires_grad set, a `collate(records) -> batch` and a `loss_fn(model, batch, step) -> scalar loss`
(or `(loss, {name: float})`, which also logs those figures), `step` being the optimizer steps done so far.
An optional `evaluate(model) -> {name: float}` adds held-out figures to the log now and then. Every stage runs
on it: stage 0 (the pose tokenizer) and stages 1-3 (the LLM).
The same script runs on one CPU, one GPU or many GPUs under `accelerate launch`.
"""
import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import torch
from tqdm.auto import tqdm

from training.stages.config import RunConfig
from training.stages.logger import MetricsLog
from training.stages.mixing import MixedTaskDataset, epoch_batches
from training.stages.schedule import make_scheduler
from training.stages.state import latest_checkpoint, load_training_state, prune_checkpoints, save_training_state

DONE_JSON = "done.json"


class LoopConfig(Protocol):
    """What the loop reads of a stage's config: StageConfig (stages 1-3), TokenizerTrainConfig (stage 0)."""
    batch_size: int                    # per device, per micro-step
    grad_accum: int
    lr: float
    betas: tuple[float, float]
    weight_decay: float
    epochs: float | None               # None: max_steps alone sets the length
    max_steps: int | None
    warmup_ratio: float
    scheduler: str
    max_grad_norm: float


@dataclasses.dataclass
class StageResult:
    name: str
    steps: int
    losses: list[float]              # per optimizer step run in this call (after any resume)
    first_loss: float | None
    last_loss: float | None
    tokens_per_s: float
    resumed_from: int


def to_device(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch.to(device) if hasattr(batch, "to") else batch


def count_tokens(batch) -> int:
    """Non-padding tokens of a batch (attention_mask or `valid`), else its first tensor's batch size."""
    if torch.is_tensor(getattr(batch, "valid", None)):
        return int(batch.valid.sum())
    if isinstance(batch, dict) and torch.is_tensor(batch.get("attention_mask")):
        return int(batch["attention_mask"].sum())
    if isinstance(batch, dict) and torch.is_tensor(batch.get("input_ids")):
        return int(batch["input_ids"].numel())
    first = next((v for v in (batch.values() if isinstance(batch, dict) else [batch]) if torch.is_tensor(v)), None)
    return int(first.shape[0]) if first is not None else 0


def total_steps(config: LoopConfig, steps_per_epoch: int) -> int:
    if config.epochs is None:
        return config.max_steps
    by_epochs = math.ceil(config.epochs * steps_per_epoch)
    return min(by_epochs, config.max_steps) if config.max_steps else by_epochs


def make_optimizer(model: torch.nn.Module, config: LoopConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters for this stage")
    return torch.optim.AdamW(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)


def _configure_deepspeed(accelerator, config: LoopConfig) -> bool:
    """Fill the DeepSpeed config's "auto" batch fields for this stage (no dataloader is prepared)."""
    plugin = getattr(accelerator.state, "deepspeed_plugin", None)
    if plugin is None:
        return False
    plugin.deepspeed_config.update({
        "train_micro_batch_size_per_gpu": config.batch_size, "gradient_accumulation_steps": config.grad_accum,
        "train_batch_size": config.batch_size * config.grad_accum * accelerator.num_processes,
        "gradient_clipping": config.max_grad_norm})
    return True


def run_stage(name: str, config: LoopConfig, run: RunConfig, out_dir: Path, model: torch.nn.Module,
              dataset: MixedTaskDataset, collate: Callable, loss_fn: Callable, accelerator,
              stop_after: int | None = None, resume: bool = True, deadline: float | None = None,
              evaluate: Callable[[torch.nn.Module], dict] | None = None, evaluate_every: int = 0) -> StageResult:
    """Train one stage into out_dir (checkpoints/, metrics.jsonl, tensorboard/). Resumes from the newest
    checkpoint in out_dir when `resume`. `stop_after` ends the call after that optimizer step (tests);
    `deadline` (a time.time() value) ends it after the step that passes it, with a checkpoint saved at that
    step (a time-boxed run loses nothing); a later call resumes. A log record holds the means of the loss and
    the loss_fn's figures over the steps since the previous record. `evaluate` runs on the main process, the
    model in eval mode, every `evaluate_every` optimizer steps and after the last; its figures join that
    step's record."""
    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    world, rank = accelerator.num_processes, accelerator.process_index
    micro_per_epoch = len(epoch_batches(dataset.epoch_order(0), config.batch_size, world, rank, config.grad_accum))
    if micro_per_epoch == 0:
        raise ValueError(f"{name}: {dataset.epoch_size()} samples per epoch is less than one batch of "
                         f"{config.batch_size} x {world} processes x {config.grad_accum} accumulation steps")
    steps_per_epoch = micro_per_epoch // config.grad_accum
    n_steps = total_steps(config, steps_per_epoch)

    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, n_steps, config.warmup_ratio, config.scheduler)
    deepspeed = _configure_deepspeed(accelerator, config)
    model, optimizer = accelerator.prepare(model, optimizer)
    step = 0
    checkpoint = latest_checkpoint(ckpt_dir) if resume else None
    if checkpoint is not None and deepspeed:
        accelerator.load_state(str(checkpoint / "deepspeed"))
        scheduler.load_state_dict(json.loads((checkpoint / "state.json").read_text())["scheduler"])
        step = json.loads((checkpoint / "state.json").read_text())["progress"]["step"]
    elif checkpoint is not None:
        step = load_training_state(checkpoint, accelerator.unwrap_model(model), optimizer, scheduler)["step"]
    resumed_from = step
    # DeepSpeed's engine scales the loss for accumulation itself and steps inside backward().
    loss_scale = 1.0 if deepspeed else 1.0 / config.grad_accum

    log = MetricsLog(out_dir, resume_step=step, enabled=accelerator.is_main_process)
    if accelerator.is_main_process:
        (out_dir / "stage.json").write_text(json.dumps(
            {"name": name, "config": dataclasses.asdict(config), "total_steps": n_steps,
             "steps_per_epoch": steps_per_epoch, "task_sizes": dataset.counts(), "world_size": world}, indent=1))
    bar = tqdm(total=n_steps, initial=step, desc=name, disable=not accelerator.is_local_main_process,
               dynamic_ncols=True)
    losses: list[float] = []
    tokens_total, time_total = 0, 0.0
    window: dict[str, float] = {}      # sums over the steps since the last log record
    cached_epoch, batches = -1, []
    model.train()
    while step < n_steps and (stop_after is None or step < stop_after):
        micro = step * config.grad_accum
        epoch, position = divmod(micro, micro_per_epoch)
        if epoch != cached_epoch:
            batches = epoch_batches(dataset.epoch_order(epoch), config.batch_size, world, rank, config.grad_accum)
            cached_epoch = epoch
        started = time.perf_counter()
        step_loss, step_tokens, extras = torch.zeros((), device=accelerator.device), 0, {}
        for i, indices in enumerate(batches[position:position + config.grad_accum]):
            batch = to_device(collate([dataset[int(j)] for j in indices]), accelerator.device)
            step_tokens += count_tokens(batch)
            last = i == config.grad_accum - 1
            with contextlib.nullcontext() if last else accelerator.no_sync(model):
                with accelerator.autocast():
                    loss = loss_fn(model, batch, step)
                if isinstance(loss, tuple):  # (loss, {name: float}) logs the parts too
                    loss, parts = loss
                    for key, value in parts.items():
                        extras[key] = extras.get(key, 0.0) + float(value) / config.grad_accum
                accelerator.backward(loss * loss_scale)
            step_loss += loss.detach().float() / config.grad_accum
        if config.max_grad_norm:
            accelerator.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1

        mean_loss = accelerator.reduce(step_loss, "mean").item()
        tokens = int(accelerator.reduce(torch.tensor(step_tokens, device=accelerator.device), "sum").item())
        elapsed = time.perf_counter() - started
        tokens_total, time_total = tokens_total + tokens, time_total + elapsed
        losses.append(mean_loss)
        bar.update(1)
        bar.set_postfix(loss=f"{mean_loss:.4f}", tok_s=f"{tokens / max(elapsed, 1e-9):.0f}")
        for key, value in {"steps": 1, "loss": mean_loss, **extras, "tokens": tokens, "seconds": elapsed}.items():
            window[key] = window.get(key, 0.0) + value
        evaluating = evaluate is not None and (step == n_steps or evaluate_every > 0 and step % evaluate_every == 0)
        if step % run.log_every == 0 or step == n_steps or evaluating:
            means = {k: v / window["steps"] for k, v in window.items() if k not in ("steps", "seconds")}
            record = {"step": step, "epoch": step / steps_per_epoch, **means, "lr": scheduler.get_last_lr()[0],
                      "tokens_per_s": window["tokens"] / max(window["seconds"], 1e-9), "time": time.time()}
            if evaluating and accelerator.is_main_process:
                model.eval()
                record.update(evaluate(accelerator.unwrap_model(model)))
                model.train()
            log.log(record)
            window = {}
        timed_out = deadline is not None and time.time() >= deadline and step < n_steps
        if (run.checkpoint_every and step % run.checkpoint_every == 0 or timed_out) and step < n_steps:
            accelerator.wait_for_everyone()
            progress = {"step": step, "epoch": epoch, "micro_batch": position + config.grad_accum,
                        "total_steps": n_steps}
            if deepspeed:  # ZeRO shards the optimizer: DeepSpeed's own checkpoint format, written by every rank
                folder = ckpt_dir / f"step-{step:07d}"
                accelerator.save_state(str(folder / "deepspeed"))
                if accelerator.is_main_process:
                    sched = {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"}
                    (folder / "state.json").write_text(json.dumps({"progress": progress, "scheduler": sched}))
                    prune_checkpoints(ckpt_dir, run.keep_checkpoints)
            elif accelerator.is_main_process:
                save_training_state(ckpt_dir / f"step-{step:07d}", accelerator.unwrap_model(model), optimizer,
                                    scheduler, progress)
                prune_checkpoints(ckpt_dir, run.keep_checkpoints)
        if timed_out:
            break
    bar.close()
    log.close()
    accelerator.unwrap_model(model, keep_fp32_wrapper=False)  # drops accelerate's autocast forward wrapper
    result = StageResult(name=name, steps=step, losses=losses, first_loss=losses[0] if losses else None,
                         last_loss=losses[-1] if losses else None,
                         tokens_per_s=tokens_total / time_total if time_total else 0.0, resumed_from=resumed_from)
    if step >= n_steps and accelerator.is_main_process:
        (out_dir / DONE_JSON).write_text(json.dumps(dataclasses.asdict(result) | {"losses": None}, indent=1))
    return result
