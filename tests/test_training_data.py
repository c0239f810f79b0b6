"""Configs, corpus reading and task records."""
from pathlib import Path

import numpy as np
import pytest

from training.task_records import load_corpus, stage_datasets, task_records
from backend.tasks import TASKS
from training.stages.config import config_from_dict, load_config
from support.toy_corpus import write_toy_corpus


@pytest.mark.parametrize("name", ["tiny", "default", "paper"])
def test_configs_load(name):
    config = load_config(f"training/configs/{name}.yaml")
    assert list(config.stages) == ["stage1", "stage2", "stage3"]
    assert set(config.stages["stage1"].tasks) == {"text_to_pose", "pose_to_text", "pose_diff", "edit_pose"}
    assert set(config.stages["stage3"].tasks) == set(TASKS)
    assert config.stages["stage2"].trainable == ("projector",)


@pytest.mark.parametrize("name", ["default_cpu", "default_cpu_continue"])
def test_cpu_configs_load_with_capped_stages(name):
    config = load_config(f"training/configs/{name}.yaml")
    assert config.model["backbone"] == "smollm2" and config.stages
    assert all(stage.max_steps for stage in config.stages.values())


def test_paper_config_matches_the_paper():
    stages = load_config("training/configs/paper.yaml").stages
    assert [stages[s].batch_size for s in stages] == [24, 8, 8]
    assert [stages[s].lr for s in stages] == [1.5e-4, 5e-5, 5e-5]
    assert [stages[s].epochs for s in stages] == [6, 2, 2]
    assert all(stages[s].scheduler == "cosine" and stages[s].warmup_ratio == 0.03 for s in stages)


def test_config_rejects_unknown_keys_and_tasks():
    base = {"name": "x", "corpus": "c", "model": {}, "tokenizer": {}}
    with pytest.raises(ValueError, match="unknown keys"):
        config_from_dict({**base, "stages": {"stage1": {"tasks": {"text_to_pose": 1}, "trainable": [], "lrr": 1}}})
    with pytest.raises(ValueError, match="unknown tasks"):
        config_from_dict({**base, "stages": {"stage1": {"tasks": {"dance": 1}, "trainable": []}}})


def test_corpus_records_and_splits(tmp_path):
    corpus = load_corpus(write_toy_corpus(tmp_path))
    train, test = set(corpus.split_ids("train")), set(corpus.split_ids("test"))
    assert train and test and not train & test
    assert not {corpus.clip_ids[corpus.index[i]] for i in train} & {corpus.clip_ids[corpus.index[i]] for i in test}
    records = task_records(corpus, "text_to_pose", "train")
    assert len(records) == 3 * len(train)                      # one record per caption
    assert records[0]["pose"].shape == (22, 3) and records[0]["text"] in records[0]["references"]
    evaluation = task_records(corpus, "edit_pose", "test", evaluation=True, max_items=5)
    assert len(evaluation) == 5 and all(r["pose_a"].shape == r["pose_b"].shape == (22, 3) for r in evaluation)
    assert all(r["id"].split("->")[0] in test for r in evaluation)
    data = stage_datasets(corpus, {"pose_diff": 1.0, "image_to_text": 0.0})
    assert list(data) == ["pose_diff"]


def test_augmented_poses_are_excluded_from_evaluation(tmp_path):
    folder = write_toy_corpus(tmp_path)
    with np.load(folder / "poses.npz") as npz:
        arrays = dict(npz)
    arrays["augmented"][:] = True
    np.savez(folder / "poses.npz", **arrays)
    corpus = load_corpus(folder)
    assert task_records(corpus, "pose_to_text", "test", evaluation=True) == []
    assert task_records(corpus, "pose_to_text", "test")


def test_release_corpus_from_posescript_and_posefix_files(tmp_path):
    import json
    import shutil
    from training.task_records import load_release_corpus

    fixture = Path("/work/shared/data/fixtures/amass_sample.npz")
    if not fixture.is_file():
        pytest.skip("the AMASS fixture is not on this machine")
    amass = tmp_path / "amass" / "CMU" / "01"
    amass.mkdir(parents=True)
    shutil.copy(fixture, amass / "01_01_poses.npz")

    def write(name, value):
        (tmp_path / name).write_text(json.dumps(value))
        return str(tmp_path / name)

    index = {str(i): ["CMU", "01/01_01_poses.npz", 10 * i] for i in range(6)}
    sources = {
        "amass": str(tmp_path / "amass"),
        "posescript": {"ids": write("ps_ids.json", index),
                       "captions": [write("ps_caps.json", {str(i): f"pose {i}" for i in range(6)})],
                       "splits": {"train": write("ps_train.json", [0, 1, 2, 3]),
                                  "test": write("ps_test.json", [4, 5])}},
        "posefix": {"ids": write("pf_ids.json", index), "pairs": write("pf_pairs.json", [[0, 1], [4, 5]]),
                    "captions": [write("pf_caps.json", {"0": ["bend more"], "1": "straighten"})],
                    "splits": {"train": write("pf_train.json", [0]), "test": write("pf_test.json", [1])}},
    }
    corpus = load_release_corpus(sources)
    assert corpus.rotations.shape == (6 + 4, 22, 3)
    assert corpus.captions["posescript:2"] == ["pose 2"]
    assert np.allclose(corpus.pose("posescript:4"), corpus.pose("posefix:4"))   # same AMASS frame
    assert not np.allclose(corpus.pose("posescript:3"), corpus.pose("posescript:4"))
    assert len(task_records(corpus, "text_to_pose", "train")) == 4
    assert [r["text"] for r in task_records(corpus, "edit_pose", "test")] == ["straighten"]
