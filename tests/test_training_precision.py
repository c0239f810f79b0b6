"""The training number format follows the machine: bf16 autocast only where bfloat16 is native."""
from pathlib import Path

import pytest

import training.train as train
from training.stages.config import load_config


@pytest.mark.parametrize("native,expected", [(True, "bf16"), (False, "no")])
def test_auto_precision_is_bf16_only_where_native(monkeypatch, native, expected):
    monkeypatch.setattr(train, "native_bf16", lambda device: native)
    assert train.resolve_precision("auto") == expected
    assert train.resolve_precision("fp16") == "fp16" and train.resolve_precision("no") == "no"


@pytest.mark.parametrize("name", ["default_cpu", "default_cpu_continue", "default_cpu_continue2"])
def test_cpu_configs_choose_their_precision_at_run_time(name):
    config = load_config(Path(__file__).parents[1] / "training" / "configs" / f"{name}.yaml")
    assert config.run.mixed_precision == "auto"
