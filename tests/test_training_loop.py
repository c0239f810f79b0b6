"""The generic stage loop: loss falls, checkpoints are safetensors + JSON, resume is exact (buffers included),
the loss sees the optimizer step and evaluations join the log."""
import json

import numpy as np
import pytest
import torch
from accelerate import Accelerator

from training.stages.config import RunConfig, StageConfig
from training.stages.loop import run_stage
from training.stages.mixing import MixedTaskDataset, epoch_batches
from training.stages.logger import read_metrics


class Toy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.frozen = torch.nn.Linear(4, 16)
        self.head = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(16, 1))
        self.frozen.requires_grad_(False)
        self.register_buffer("input_mean", torch.zeros(4))  # trains without gradients, like an EMA codebook

    def forward(self, x):  # (B, 4) -> (B,)
        if self.training:
            with torch.no_grad():
                self.input_mean.lerp_(x.mean(0), 0.1)
        return self.head(self.frozen(x - self.input_mean)).squeeze(-1)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    w = np.array([1.0, -2.0, 0.5, 3.0], np.float32)
    a = [{"x": x[i], "y": np.float32(x[i] @ w)} for i in range(40)]
    b = [{"x": x[i], "y": np.float32(x[i] @ w)} for i in range(40, 64)]
    return MixedTaskDataset({"text_to_pose": a, "pose_to_text": b}, {"text_to_pose": 1.0, "pose_to_text": 0.5}, seed=3)


def _collate(records):
    return {"x": torch.from_numpy(np.stack([r["x"] for r in records])),
            "y": torch.tensor([r["y"] for r in records])}


def _loss(model, batch, step):
    return torch.nn.functional.mse_loss(model(batch["x"]), batch["y"])


def _stage(**kw):
    values = dict(tasks={"text_to_pose": 1.0, "pose_to_text": 0.5}, trainable=("lora",), batch_size=4,
                  grad_accum=2, lr=5e-2, epochs=3, max_grad_norm=10.0, warmup_ratio=0.1)
    values.update(kw)
    return StageConfig(**values)


def _run(tmp, stop_after=None, **kw):
    torch.manual_seed(123)
    return run_stage("stage1", _stage(**kw), RunConfig(checkpoint_every=3, keep_checkpoints=2), tmp, Toy(), _data(),
                     _collate, _loss, Accelerator(cpu=True), stop_after=stop_after)


def test_mixing_counts_and_determinism():
    data = _data()
    order = data.epoch_order(0)
    assert len(order) == 40 + 12 == data.epoch_size()
    assert (order < 40).sum() == 40                       # the weight-1 task appears exactly once per sample
    assert np.array_equal(order, data.epoch_order(0)) and not np.array_equal(order, data.epoch_order(1))
    batches = epoch_batches(order, 4, world_size=2, rank=1, grad_accum=2)
    assert len(batches) == 6 and np.array_equal(batches[0], order[4:8])


def test_loss_falls_and_logs(tmp_path):
    result = _run(tmp_path)
    assert result.steps == 3 * (52 // 8)
    assert np.mean(result.losses[-3:]) < 0.5 * np.mean(result.losses[:3])
    records = read_metrics(tmp_path)
    assert [r["step"] for r in records] == list(range(1, result.steps + 1))
    assert all(r["tokens_per_s"] > 0 for r in records)
    assert (tmp_path / "done.json").is_file() and any((tmp_path / "tensorboard").iterdir())
    ckpt = sorted((tmp_path / "checkpoints").iterdir())
    assert len(ckpt) == 2                                  # pruned to keep_checkpoints
    names = {p.name for p in ckpt[-1].iterdir()}
    assert names == {"trainables.safetensors", "buffers.safetensors", "optimizer.safetensors", "rng.safetensors",
                     "state.json"}
    assert json.loads((ckpt[-1] / "state.json").read_text())["progress"]["step"] == 15


def test_resume_gives_identical_next_losses(tmp_path):
    full = _run(tmp_path / "full")
    first = _run(tmp_path / "split", stop_after=7)          # interrupted after step 7; last checkpoint at 6
    assert first.steps == 7
    second = _run(tmp_path / "split")                      # a fresh model object, resumed from step 6
    assert second.resumed_from == 6
    assert second.losses[0] == pytest.approx(full.losses[6], rel=0, abs=1e-7)
    assert second.losses == pytest.approx(full.losses[6:], rel=0, abs=1e-6)
    steps = [r["step"] for r in read_metrics(tmp_path / "split")]
    assert steps == list(range(1, full.steps + 1))


def test_loss_sees_the_step_and_evaluations_join_the_log(tmp_path):
    steps_seen, training_modes = [], []

    def loss(model, batch, step):
        steps_seen.append(step)
        return _loss(model, batch, step)

    def evaluate(model):
        training_modes.append(model.training)
        return {"val_offset": float(model.input_mean.abs().sum())}

    torch.manual_seed(123)
    result = run_stage("stage1", _stage(), RunConfig(checkpoint_every=0, log_every=5), tmp_path, Toy(), _data(),
                       _collate, loss, Accelerator(cpu=True), evaluate=evaluate, evaluate_every=4)
    assert steps_seen == [s for s in range(result.steps) for _ in range(2)]  # two micro-batches per step
    records = read_metrics(tmp_path)
    assert [r["step"] for r in records] == [4, 5, 8, 10, 12, 15, 16, 18]
    assert [r["step"] for r in records if "val_offset" in r] == [4, 8, 12, 16, 18]   # and after the last step
    assert training_modes == [False] * 5
    # A record holds the mean loss of the steps since the previous one.
    assert records[0]["loss"] == pytest.approx(np.mean(result.losses[:4]))
    assert records[2]["loss"] == pytest.approx(np.mean(result.losses[5:8]))


def test_stage_config_rejects_a_negative_joint_loss():
    assert _stage(joint_loss=10.0).joint_loss == 10.0
    with pytest.raises(ValueError, match="joint_loss"):
        _stage(joint_loss=-1.0)
