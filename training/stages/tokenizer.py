"""Stage 0: train and evaluate the pose tokenizer (VQ-VAE), on the stage loop that the LLM stages use.

    python -m training.stages.tokenizer --config training/configs/tokenizer_default.yaml

Runs resume from the newest checkpoint in `train.run_dir` (pass --fresh to start over); a finished run is
reused. The run folder gets `metrics.jsonl` (losses, codebook usage, perplexity, validation errors),
`checkpoints/step-N/` (weights, EMA codebook buffers, optimizer and RNG state as safetensors + JSON), the
trained tokenizer under `tokenizer/`, and at the end `eval/` (held-out metrics as JSON, a picture of the worst
reconstructions). The trained tokenizer is also written to `train.export_dir` when set.
"""
import argparse
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from backend.body.rotations_torch import axis_angle_to_rotmat, rotmat_to_rot6d
from backend.paths import REPO_ROOT
from backend.tokenizer import PoseTokenizer, PoseTokenizerConfig
from backend.tokenizer.augment import AugmentConfig, augment_batch
from backend.tokenizer.config import WEIGHTS_NAME
from backend.tokenizer.evaluation import TokenizerEvaluation, draw_worst_cases, evaluate_tokenizer
from backend.tokenizer.losses import LossWeights, VertexFunction, tokenizer_losses
from training.stages.config import RunConfig
from training.stages.loop import DONE_JSON, run_stage
from training.stages.mixing import MixedTaskDataset
from training.tokenizer_growth import widen_decoder

TOKENIZER_SUBDIR = "tokenizer"  # the trained tokenizer in the run folder
POSES_TASK = "poses"  # the stage's one "task": clean training poses


@dataclasses.dataclass(frozen=True)
class DataConfig:
    poses: str  # corpus npz: `rotations` (N, 22, 3) axis-angle and `split` (N,) split names
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"  # held out: used only by the final evaluation
    amass_fixture: str | None = None  # AMASS motion for the round-trip check (never trained on)
    val_size: int = 2000  # poses of the validation split used by periodic validation


@dataclasses.dataclass(frozen=True)
class TokenizerTrainConfig:
    run_dir: str
    max_steps: int
    batch_size: int = 256
    grad_accum: int = 1
    epochs: float | None = None  # passes over the train split, capped by max_steps; None: max_steps alone
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    warmup_ratio: float = 0.02
    scheduler: str = "cosine"
    max_grad_norm: float = 1.0
    log_every: int = 50
    val_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    seed: int = 0
    num_threads: int = 2
    device: str = "cpu"  # "cpu", or a GPU ("cuda"); training.train uses its own run's device
    export_dir: str | None = None  # where the final tokenizer is saved (config.json + model.safetensors)
    smpl_model_dir: str | None = None  # real SMPL model files enable the vertex loss
    worst_cases: int = 8  # poses drawn in eval/worst_cases.png
    # Decoder fine-tuning: start from the tokenizer in `init_from` and train only its decoder. The encoder and
    # the codebook stay frozen, so every pose keeps its token ids and a language model trained on them stays valid.
    init_from: str | None = None
    trainable: str = "all"  # "all" or "decoder"

    def __post_init__(self):
        if self.trainable not in ("all", "decoder"):
            raise ValueError(f"train.trainable must be 'all' or 'decoder', got {self.trainable!r}")
        if self.trainable == "decoder" and not self.init_from:
            raise ValueError("train.trainable 'decoder' needs train.init_from (the tokenizer whose codes are kept)")


@dataclasses.dataclass(frozen=True)
class TokenizerStageConfig:
    model: PoseTokenizerConfig
    loss: LossWeights
    augment: AugmentConfig
    data: DataConfig
    train: TokenizerTrainConfig


def _section(cls, values: dict | None, name: str):
    values = dict(values or {})
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown keys in '{name}': {sorted(unknown)}")
    for key, value in values.items():
        if isinstance(value, list):
            values[key] = tuple(value)
    return cls(**values)


def load_tokenizer_config(path: str | Path, overrides: dict[str, dict[str, Any]] | None = None) -> TokenizerStageConfig:
    """YAML file -> config; `overrides` maps a section to replaced keys (e.g. {"train": {"max_steps": 10}})."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    unknown = set(raw) - {"model", "loss", "augment", "data", "train"}
    if unknown:
        raise ValueError(f"unknown sections in {path}: {sorted(unknown)}")
    for section, values in (overrides or {}).items():
        raw[section] = {**(raw.get(section) or {}), **values}
    return TokenizerStageConfig(
        model=PoseTokenizerConfig.from_dict(raw.get("model") or {}),
        loss=_section(LossWeights, raw.get("loss"), "loss"),
        augment=_section(AugmentConfig, raw.get("augment"), "augment"),
        data=_section(DataConfig, raw.get("data"), "data"),
        train=_section(TokenizerTrainConfig, raw.get("train"), "train"),
    )


def _path(path: str) -> Path:
    """Config paths are relative to the repository root."""
    return Path(path) if Path(path).is_absolute() else REPO_ROOT / path


def load_split(poses: str, split: str) -> np.ndarray:
    """Axis-angle poses (n, 22, 3) float32 of one split of a corpus npz."""
    with np.load(_path(poses), allow_pickle=False) as npz:
        rotations = np.asarray(npz["rotations"], dtype=np.float32)
        chosen = np.asarray(npz["split"]) == split
    if not chosen.any():
        raise ValueError(f"{poses}: no poses in split {split!r}")
    return rotations[chosen]


def _vertex_function(smpl_model_dir: str | None) -> VertexFunction | None:
    if smpl_model_dir is None:
        return None
    from backend.body.rotations_torch import rotmat_to_axis_angle
    from backend.body.smpl_model import SmplBodyModel

    body = SmplBodyModel.from_path(_path(smpl_model_dir))
    return lambda rotmats: body(rotmat_to_axis_angle(rotmats)).vertices  # (B, 22, 3, 3) -> (B, V, 3)


def _validate(tokenizer: PoseTokenizer, poses: np.ndarray) -> dict[str, float]:
    result = evaluate_tokenizer(tokenizer, poses)
    return {"val_mpjpe_mm": result.mpjpe_mm, "val_pa_mpjpe_mm": result.pa_mpjpe_mm, "val_codes_used": result.codes_used}


def _start_from(tokenizer: PoseTokenizer, directory: Path) -> None:
    """Copies a saved tokenizer into `tokenizer`; a wider decoder is grown from the saved one (same function)."""
    trained = PoseTokenizer.from_pretrained(directory, device=tokenizer.device)
    if trained.config != dataclasses.replace(tokenizer.config, decoder_width=trained.config.decoder_width):
        raise ValueError(f"{directory}: tokenizer sizes differ beyond decoder_width:\n{trained.config}\n"
                         f"{tokenizer.config}")
    tokenizer.encoder.load_state_dict(trained.encoder.state_dict())
    tokenizer.codebook.load_state_dict(trained.codebook.state_dict())
    widen_decoder(trained.decoder, tokenizer.decoder)


def make_loss(tokenizer: PoseTokenizer, config: TokenizerStageConfig, vertex_fn: VertexFunction | None):
    """The stage loop's loss_fn: augments a clean batch as due at `step`, reconstructs it, weighs the terms.

    Logs the terms, the batch's code perplexity, the live codes and the joint-noise scale.
    """
    frozen = (tokenizer.encoder, tokenizer.codebook) if config.train.trainable == "decoder" else ()

    def loss(model, rotmats: torch.Tensor, step: int):  # rotmats (B, 22, 3, 3)
        for part in frozen:  # the loop's model.train() reaches them too; a frozen codebook must not move with the EMA
            part.eval()
        noisy, target = augment_batch(rotmats, config.augment, step)
        output = model(rotmat_to_rot6d(noisy))
        terms = tokenizer_losses(output, target, config.loss, vertex_fn)
        codebook = tokenizer.codebook
        figures = {k: float(v.detach()) for k, v in terms.items() if k != "total"}
        return terms["total"], {**figures, "perplexity": float(output.perplexity),
                                "codes_alive": int((codebook.cluster_size > codebook.dead_threshold).sum()),
                                "noise_std": config.augment.noise_std(step)}

    return loss


def float32_accelerator(device: str):
    """Stage 0's accelerator: on the process's devices, but always in float32 whatever the process's mixed
    precision (the EMA codebook's nearest codes and counts need it)."""
    from accelerate import Accelerator
    from accelerate.utils import AutocastKwargs

    return Accelerator(cpu=device == "cpu", kwargs_handlers=[AutocastKwargs(enabled=False)])


def train(config: TokenizerStageConfig, fresh: bool = False) -> PoseTokenizer:
    """Trains (or resumes, or reuses when finished) a tokenizer as configured; returns it in eval mode."""
    tc = config.train
    torch.set_num_threads(tc.num_threads)
    run_dir = _path(tc.run_dir)
    if fresh:
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
        (run_dir / DONE_JSON).unlink(missing_ok=True)
    if (run_dir / DONE_JSON).is_file() and (run_dir / TOKENIZER_SUBDIR / WEIGHTS_NAME).is_file():
        tokenizer = PoseTokenizer.from_pretrained(run_dir / TOKENIZER_SUBDIR)
    else:
        tokenizer = _train_on_loop(config, run_dir)
    if tc.export_dir:
        tokenizer.save_pretrained(_path(tc.export_dir))
    return tokenizer


def _train_on_loop(config: TokenizerStageConfig, run_dir: Path) -> PoseTokenizer:
    tc = config.train
    torch.manual_seed(tc.seed)
    np.random.seed(tc.seed)
    accelerator = float32_accelerator(tc.device)
    train_rotmats = axis_angle_to_rotmat(torch.from_numpy(load_split(config.data.poses, config.data.train_split)))
    poses = MixedTaskDataset({POSES_TASK: train_rotmats}, {POSES_TASK: 1.0}, seed=tc.seed)  # items (22, 3, 3)
    val_poses = load_split(config.data.poses, config.data.val_split)[: config.data.val_size]

    tokenizer = PoseTokenizer(config.model)
    if tc.init_from:
        _start_from(tokenizer, _path(tc.init_from))
    if tc.trainable == "decoder":
        tokenizer.encoder.requires_grad_(False)  # frozen: no backward pass through it (the codebook has no parameters)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(_as_plain(config), sort_keys=False))
    run = RunConfig(log_every=tc.log_every, checkpoint_every=tc.checkpoint_every, keep_checkpoints=tc.keep_checkpoints)
    loss = make_loss(tokenizer, config, _vertex_function(tc.smpl_model_dir))
    run_stage("stage0", tc, run, run_dir, tokenizer, poses, torch.stack, loss, accelerator,
              evaluate=lambda model: _validate(model, val_poses), evaluate_every=tc.val_every)
    tokenizer.eval()
    if accelerator.is_main_process:
        tokenizer.save_pretrained(run_dir / TOKENIZER_SUBDIR)
    accelerator.wait_for_everyone()
    return tokenizer


def _as_plain(config: TokenizerStageConfig) -> dict:
    return {name: {k: list(v) if isinstance(v, tuple) else v
                   for k, v in dataclasses.asdict(getattr(config, name)).items()}
            for name in ("model", "loss", "augment", "data", "train")}


def evaluate_stage(config: TokenizerStageConfig, tokenizer: PoseTokenizer) -> dict:
    """Held-out (test split) metrics, the AMASS round trip and a worst-case picture, written to run_dir/eval."""
    out_dir = _path(config.train.run_dir) / "eval"
    out_dir.mkdir(parents=True, exist_ok=True)
    test_poses = load_split(config.data.poses, config.data.test_split)
    result = evaluate_tokenizer(tokenizer, test_poses)
    report = {"split": "test", "num_poses": len(test_poses), **result.summary()}
    if config.data.amass_fixture and _path(config.data.amass_fixture).is_file():
        for heading, name in ((True, "amass_round_trip"), (False, "amass_round_trip_heading_removed")):
            amass = amass_round_trip(tokenizer, _path(config.data.amass_fixture), keep_heading=heading)
            report[name] = {k: v for k, v in amass.summary().items() if k != "per_joint_mm"}
    (out_dir / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
    draw_worst_cases(test_poses, result, config.train.worst_cases, out_dir / "worst_cases.png")
    return report


def amass_round_trip(tokenizer: PoseTokenizer, path: Path, keep_heading: bool = True) -> TokenizerEvaluation:
    """Tokenizer round trip of an AMASS motion, its Z-up global orientation moved to the SMPL frame.

    keep_heading=False turns every pose to face +Z first, as the corpus stores its poses.
    """
    from backend.posefile import load_amass_npz, z_up_to_y_up
    from training.data.corpus import remove_heading

    rotations, _ = z_up_to_y_up(load_amass_npz(path).rotations)
    if not keep_heading:
        rotations = remove_heading(rotations)
    return evaluate_tokenizer(tokenizer, rotations.astype(np.float32))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="YAML file (training/configs/tokenizer_*.yaml)")
    parser.add_argument("--fresh", action="store_true", help="ignore existing checkpoints in the run folder")
    parser.add_argument("--max-steps", type=int, help="override train.max_steps")
    parser.add_argument("--eval-only", action="store_true", help="evaluate the exported tokenizer, no training")
    args = parser.parse_args(argv)
    overrides = {"train": {"max_steps": args.max_steps}} if args.max_steps else None
    config = load_tokenizer_config(args.config, overrides)
    if args.eval_only:
        tokenizer = PoseTokenizer.from_pretrained(_path(config.train.export_dir or ""))
    else:
        tokenizer = train(config, fresh=args.fresh)
    report = evaluate_stage(config, tokenizer)
    print(json.dumps({k: v for k, v in report.items() if k != "per_joint_mm"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
