"""Declarative training configuration: YAML -> frozen dataclasses, unknown keys rejected.

A config names the corpus, the stage-0 tokenizer config, the model (passed through to the model
builder), global training options and one section per LLM stage.
"""
import dataclasses
from pathlib import Path
from typing import Any

import yaml

from backend.tasks import TASKS

STAGE_NAMES = ("stage1", "stage2", "stage3")
TRAINABLE_GROUPS = ("lora", "pose_embeddings", "projector", "joint_features")


@dataclasses.dataclass(frozen=True)
class StageConfig:
    tasks: dict[str, float]            # task name -> mixing weight (samples drawn per epoch = weight x size)
    trainable: tuple[str, ...]         # subset of TRAINABLE_GROUPS
    batch_size: int = 8                # per device, per micro-step
    grad_accum: int = 1
    lr: float = 5e-5
    epochs: float = 1.0                # may be fractional; max_steps caps it
    max_steps: int | None = None       # optimizer steps; None = from epochs
    warmup_ratio: float = 0.03
    scheduler: str = "cosine"          # "cosine" | "linear" | "constant"
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float = 1.0
    joint_loss: float = 0.0            # weight of the expected-pose joint error (metres) beside the cross-entropy

    def __post_init__(self):
        unknown = set(self.tasks) - set(TASKS)
        if unknown:
            raise ValueError(f"unknown tasks {sorted(unknown)}; known: {tuple(TASKS)}")
        if any(w < 0 for w in self.tasks.values()) or not any(w > 0 for w in self.tasks.values()):
            raise ValueError(f"task weights must be >= 0 with one > 0: {self.tasks}")
        bad = set(self.trainable) - set(TRAINABLE_GROUPS)
        if bad:
            raise ValueError(f"unknown trainable groups {sorted(bad)}; known: {TRAINABLE_GROUPS}")
        if self.scheduler not in ("cosine", "linear", "constant"):
            raise ValueError(f"unknown scheduler {self.scheduler!r}")
        if self.batch_size < 1 or self.grad_accum < 1:
            raise ValueError("batch_size and grad_accum must be >= 1")
        if self.joint_loss < 0:
            raise ValueError(f"joint_loss is a weight, >= 0: {self.joint_loss}")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    seed: int = 0
    mixed_precision: str = "auto"      # "auto" (bf16 where native, train.resolve_precision) | "no" | "bf16" | "fp16"
    checkpoint_every: int = 200        # optimizer steps
    keep_checkpoints: int = 2
    log_every: int = 1
    deepspeed: str | None = None       # DeepSpeed JSON config (paper); used by `accelerate launch`
    max_length: int = 512              # tokens per sample after the prompt template
    num_threads: int | None = None     # torch CPU threads


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    max_samples: int = 500             # held-out samples per task
    retrieval_epochs: int = 30
    retrieval_batch: int = 64
    retrieval_max_items: int | None = None  # cap on training poses (pairs) of each retrieval model
    grid_rows: int = 6
    max_new_tokens: int = 96           # text answers


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    name: str
    corpus: str
    model: dict[str, Any]              # passed to the model builder as keyword arguments
    tokenizer: dict[str, Any]          # stage 0: {"config": path, "checkpoint": path or null}
    run: RunConfig
    stages: dict[str, StageConfig]
    eval: EvalConfig
    sources: dict[str, Any] = dataclasses.field(default_factory=dict)  # optional real dataset folders
    path: str | None = None


def _build(cls, values: dict, where: str):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    values = dict(values)
    for key in ("trainable", "betas"):
        if key in values:
            values[key] = tuple(values[key])
    return cls(**values)


def load_config(path: str | Path) -> TrainConfig:
    """Read and validate a YAML training config."""
    return config_from_dict(yaml.safe_load(Path(path).read_text()), str(path))


def config_from_dict(raw: dict, where: str = "config") -> TrainConfig:
    """Validate a config given as a dict (the YAML's content, or a run's saved config.json)."""
    raw = dict(raw)
    raw.pop("path", None)
    stages = raw.pop("stages", {}) or {}
    unknown = set(stages) - set(STAGE_NAMES)
    if unknown:
        raise ValueError(f"{where}: unknown stages {sorted(unknown)}")
    return _build(TrainConfig, {
        **raw,
        "run": _build(RunConfig, raw.get("run") or {}, f"{where}: run"),
        "eval": _build(EvalConfig, raw.get("eval") or {}, f"{where}: eval"),
        "stages": {name: _build(StageConfig, stages[name], f"{where}: {name}") for name in STAGE_NAMES
                   if name in stages},
        "path": where,
    }, where)


def config_to_dict(config: TrainConfig) -> dict:
    """JSON-able copy, saved next to every run."""
    return dataclasses.asdict(config)
