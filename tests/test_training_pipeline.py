"""The tiny config end to end: stages 0-3 on a synthetic corpus, exact resume of a real UniPose stage, and
the evaluation report."""
import dataclasses
import filecmp
import json
import shutil

import numpy as np
import pytest
from safetensors.torch import load_file

from training.stages.config import load_config
from training.stages.logger import read_metrics
from support.toy_corpus import write_toy_corpus

TINY = "training/configs/tiny.yaml"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_toy_corpus(tmp_path_factory.mktemp("corpus"))


def _parts(folder):
    from safetensors.numpy import load_file
    return {"adapter": load_file(folder / "adapter" / "adapter_model.safetensors"),
            "rows": load_file(folder / "new_tokens.safetensors"),
            "projector": load_file(folder / "projector" / "projector.safetensors")}


def _same(a, b) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_tiny_config_trains_resumes_and_evaluates(tmp_path, corpus):
    from training.evaluate import REPORT_NAME, evaluate_checkpoint
    from training.train import train_all

    config = load_config(TINY)
    full = train_all(config, tmp_path / "full", corpus)
    assert (tmp_path / "full" / "checkpoint" / "unipose" / "config.json").is_file()
    for stage in ("stage1", "stage3"):                      # the LLM stages learn
        losses = [r["loss"] for r in read_metrics(tmp_path / "full" / stage)]
        assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.1, (stage, losses)
    assert full["stages"]["stage0"]["mpjpe_mm"] > 0
    # What trains where: stage 2 only the projector; stage 3 LoRA, new token rows and projector.
    parts = {stage: _parts(tmp_path / "full" / stage / "final" / "unipose") for stage in ("stage1", "stage2", "stage3")}
    assert _same(parts["stage1"]["adapter"], parts["stage2"]["adapter"])
    assert _same(parts["stage1"]["rows"], parts["stage2"]["rows"])
    assert not _same(parts["stage1"]["projector"], parts["stage2"]["projector"])
    assert not _same(parts["stage2"]["adapter"], parts["stage3"]["adapter"])
    assert not _same(parts["stage2"]["projector"], parts["stage3"]["projector"])

    # Interrupt stage 1 after step 25 (last checkpoint: step 20), then resume with a fresh process state.
    split = tmp_path / "split"
    shutil.copytree(tmp_path / "full" / "tokenizer", split / "tokenizer")   # stage 0 is not retrained
    train_all(config, split, corpus, stages=["stage1"], stop_after=25)
    assert not (split / "stage1" / "done.json").exists()
    resumed = train_all(config, split, corpus, stages=["stage1"])
    assert resumed["stages"]["stage1"]["resumed_from"] == 20
    reference = [r["loss"] for r in read_metrics(tmp_path / "full" / "stage1")]
    again = [r["loss"] for r in read_metrics(split / "stage1")]
    assert again[20] == pytest.approx(reference[20], abs=1e-5)   # the next step after the checkpoint
    assert again == pytest.approx(reference, abs=1e-4)

    # Continue the finished model with a one-stage config: it starts from the checkpoint, keeps its tokenizer,
    # and grows the joint features the config asks for (a map at zero that then trains).
    stage3 = config.stages["stage3"]
    more = dataclasses.replace(config, model={**config.model, "joint_features": True}, stages={
        "stage3": dataclasses.replace(stage3, max_steps=3, trainable=(*stage3.trainable, "joint_features"))})
    continued = train_all(more, tmp_path / "more", corpus, init=tmp_path / "full" / "checkpoint")
    assert continued["init"] == str(tmp_path / "full" / "checkpoint")
    assert list(continued["stages"]) == ["stage0", "stage3"]
    first = [r["loss"] for r in read_metrics(tmp_path / "more" / "stage3")][0]
    assert first < [r["loss"] for r in read_metrics(tmp_path / "full" / "stage1")][0] - 0.1   # not a fresh model
    after = _parts(tmp_path / "more" / "checkpoint" / "unipose")
    assert load_file(str(tmp_path / "more" / "checkpoint" / "unipose" / "joint_features.safetensors"))["weight"].any()
    assert not _same(after["adapter"], parts["stage3"]["adapter"])
    assert filecmp.cmp(tmp_path / "more" / "checkpoint" / "tokenizer" / "model.safetensors",
                       tmp_path / "full" / "checkpoint" / "tokenizer" / "model.safetensors", shallow=False)

    results = evaluate_checkpoint(tmp_path / "full" / "checkpoint", config, tmp_path / "eval", corpus_dir=corpus,
                                  run_dir=tmp_path / "full", max_samples=8)
    assert {"text_to_pose", "edit_pose", "pose_to_text", "pose_diff"} <= set(results)
    assert np.isfinite(results["text_to_pose"]["mpjpe_mm"])
    report = (tmp_path / "eval" / REPORT_NAME).read_text()
    assert "Different dataset" in report and "308.6" in report and "examples.png" in report
    assert (tmp_path / "eval" / "examples.png").stat().st_size > 1000
    assert (tmp_path / "eval" / "training_curves.png").is_file()
    assert json.loads((tmp_path / "eval" / "results.json").read_text()).keys() == results.keys()
