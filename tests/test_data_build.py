"""`unipose data build` and `unipose data bvh2poses` on the fixture clips."""
import json
from pathlib import Path

import numpy as np
import pytest

from backend.cli import main
from training.data.build import BuildConfig, build_corpus

FIXTURES = Path(__file__).parent / "fixtures" / "bvh"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    config = BuildConfig(base_poses=60, keypose_variants=2, combination_variants=1, version="vtest")
    manifest = build_corpus(FIXTURES, out, config, progress=False, with_text=False)
    return out / "vtest", manifest


@pytest.mark.slow
def test_build_writes_a_consistent_versioned_folder(built):
    folder, manifest = built
    for name in ("poses.npz", "manifest.json", "report.md", "contact_sheet.png", "activities.jsonl",
                 "splits/train.txt", "splits/val.txt", "splits/test.txt", "splits/groups.json"):
        assert (folder / name).exists(), name
    data = np.load(folder / "poses.npz")
    n = len(data["ids"])
    assert data["rotations"].shape == (n, 22, 3) and data["rotations"].dtype == np.float32
    for key in ("clip_ids", "split", "source", "augmented", "category", "states"):
        assert len(data[key]) == n
    assert len(set(data["ids"].tolist())) == n
    assert manifest["counts"]["poses"] == n
    assert {s["skeleton_map"] for s in manifest["sources"]} == {"cmu_daz", "cmu_raw", "character_creator"}
    # augmented flags follow the source; key poses live in train only
    assert np.all(data["augmented"] == (data["source"] != "mocap"))
    # key poses live in train; body + arm-set combinations are split like clips (with their mirror images)
    key = np.char.startswith(data["source"], "keypose")
    combo = key & (np.char.find(data["source"], "+") >= 0)
    assert set(data["split"][key & ~combo]) == {"train"} and set(data["split"][combo]) == {"train", "val", "test"}
    assert data["states"].shape == (n, len(data["state_names"])) and (folder / "short_texts.jsonl").exists()
    # split files list exactly the poses of each split; a clip never spans two splits
    for split in ("train", "val", "test"):
        listed = (folder / "splits" / f"{split}.txt").read_text().split()
        assert sorted(listed) == sorted(data["ids"][data["split"] == split].tolist())
    clip_split = {}
    for clip, split in zip(data["clip_ids"], data["split"]):
        assert clip_split.setdefault(clip, split) == split
    groups = json.loads((folder / "splits" / "groups.json").read_text())
    assert groups["cmu_02_01"] in ("train", "val", "test")
    assert "Retargeting error" in (folder / "report.md").read_text()


def test_bvh2poses_cli(tmp_path, capsys):
    out = tmp_path / "poses.npz"
    assert main(["data", "bvh2poses", str(FIXTURES / "cc_002_01.bvh"), "-o", str(out)]) == 0
    data = np.load(out)
    assert data["rotations"].shape == (40, 22, 3)
    assert float(data["fps"]) == pytest.approx(60.0, rel=1e-3)
    assert main(["data", "bvh2poses", str(tmp_path / "missing.bvh"), "-o", str(out)]) != 0
    assert "no such file" in capsys.readouterr().err


def test_build_cli_rejects_a_missing_folder(tmp_path, capsys):
    assert main(["data", "build", "--bvh", str(tmp_path / "nope"), "--out", str(tmp_path)]) != 0
    assert "BVH folder not found" in capsys.readouterr().err
