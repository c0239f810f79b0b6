"""Stage 0: augmentation really changes the batch, a few steps lower the loss, resume is exact, CLI contract,
decoder-only fine-tuning keeps every token id."""
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.body.rotations_torch import axis_angle_to_rotmat
from backend.cli import main as cli_main
from backend.tokenizer import PoseTokenizer
from backend.tokenizer.augment import AugmentConfig, augment_batch, jitter_global_orientation, joint_noise
from training.stages.logger import read_metrics
from training.stages.tokenizer import evaluate_stage, load_tokenizer_config, train

TINY_YAML = Path(__file__).resolve().parents[1] / "training" / "configs" / "tokenizer_tiny.yaml"


def _clean_batch(n: int = 64) -> torch.Tensor:
    return axis_angle_to_rotmat(torch.randn(n, 22, 3, generator=torch.Generator().manual_seed(0)) * 0.3)


def test_augmented_batch_differs_from_clean():
    clean = _clean_batch()
    torch.manual_seed(1)
    noisy, target = augment_batch(clean, AugmentConfig(root_jitter_prob=1.0), step=0)
    assert noisy.shape == target.shape == clean.shape
    assert not torch.allclose(target[:, 0], clean[:, 0], atol=1e-4)  # every root jittered
    assert torch.equal(target[:, 1:], clean[:, 1:])  # jitter leaves the body alone
    changed = (noisy - target).abs().amax((-1, -2)) > 1e-6  # (B, 22) joints that got noise
    assert 0.05 < changed.float().mean() < 0.4  # about noise_joint_prob = 0.2 of the joints
    eye = torch.eye(3).expand_as(noisy)
    assert torch.allclose(noisy @ noisy.transpose(-1, -2), eye, atol=1e-5)


def test_root_jitter_stays_within_limits():
    clean = axis_angle_to_rotmat(torch.zeros(2000, 22, 3))
    torch.manual_seed(2)
    jittered = jitter_global_orientation(clean, (20.0, 20.0, 45.0), prob=1.0)
    angle = torch.rad2deg(torch.arccos(((jittered[:, 0].diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2).clamp(-1, 1)))
    assert float(angle.max()) < np.sqrt(20**2 + 20**2 + 45**2) + 1e-3
    assert float(angle.max()) > 35.0
    assert torch.equal(jitter_global_orientation(clean, (20.0, 20.0, 45.0), prob=0.0), clean)


def test_joint_noise_scale_grows_over_training():
    config = AugmentConfig(noise_std_start=0.01, noise_std_growth=0.01, noise_every=100, noise_std_max=0.03)
    assert [config.noise_std(s) for s in (0, 99, 100, 250, 10_000)] == pytest.approx([0.01, 0.01, 0.02, 0.03, 0.03])
    clean = _clean_batch(512)
    torch.manual_seed(3)
    small = (joint_noise(clean, 0.01, 1.0) - clean).abs().mean()
    torch.manual_seed(3)
    large = (joint_noise(clean, 0.05, 1.0) - clean).abs().mean()
    assert large > 3 * small > 0


@pytest.fixture
def tiny_data(tmp_path) -> dict:
    rng = np.random.default_rng(0)
    rotations = (rng.normal(size=(300, 22, 3)) * 0.3).astype(np.float32)
    split = np.array(["train"] * 240 + ["val"] * 30 + ["test"] * 30)
    np.savez(tmp_path / "corpus.npz", rotations=rotations, split=split)
    return {"poses": str(tmp_path / "corpus.npz")}


def test_few_steps_lower_the_loss(tiny_data, tmp_path):
    config = load_tokenizer_config(TINY_YAML, {"data": tiny_data, "train": {"run_dir": str(tmp_path / "run"),
                                                                   "export_dir": str(tmp_path / "export")}})
    tokenizer = train(config, fresh=True)
    records = read_metrics(tmp_path / "run")
    assert [r["step"] for r in records] == [10, 20, 30, 40]
    assert records[-1]["loss"] < 0.9 * records[0]["loss"]
    assert {"pose", "joints", "commit", "perplexity", "codes_alive", "noise_std", "val_mpjpe_mm"} <= set(records[1])
    assert "val_mpjpe_mm" not in records[0]  # validation every val_every = 20 steps
    assert [p.name for p in (tmp_path / "run" / "checkpoints").iterdir()] == ["step-0000020"]
    exported = PoseTokenizer.from_pretrained(tmp_path / "export")
    poses = torch.randn(3, 22, 3) * 0.3
    assert torch.equal(exported.encode(poses), tokenizer.encode(poses))
    assert torch.equal(train(config).encode(poses), tokenizer.encode(poses))  # a finished run is reused
    assert len(read_metrics(tmp_path / "run")) == 4
    report = evaluate_stage(config, tokenizer)
    assert report["split"] == "test" and report["num_poses"] == 30 and report["mpjpe_mm"] > report["pa_mpjpe_mm"] > 0
    assert (tmp_path / "run" / "eval" / "worst_cases.png").stat().st_size > 0


@pytest.mark.slow
def test_resume_continues_exactly(tiny_data, tmp_path):
    def run(name: str, max_steps: int, fresh: bool) -> PoseTokenizer:
        overrides = {"data": tiny_data, "train": {"run_dir": str(tmp_path / name), "max_steps": max_steps}}
        return train(load_tokenizer_config(TINY_YAML, overrides), fresh=fresh)

    straight = run("straight", 40, fresh=True)
    run("resumed", 40, fresh=True)
    # Forget that the run finished: the second call resumes from its last checkpoint (step 20), EMA codebook included.
    (tmp_path / "resumed" / "done.json").unlink()
    resumed = run("resumed", 40, fresh=False)
    assert json.loads((tmp_path / "resumed" / "done.json").read_text())["resumed_from"] == 20
    for key, value in straight.state_dict().items():
        assert torch.allclose(value.float(), resumed.state_dict()[key].float(), atol=1e-6), key
    records = read_metrics(tmp_path / "resumed")
    assert [r["step"] for r in records] == [10, 20, 30, 40]


def test_cli_tokenizer_eval_prints_the_contract_line(tmp_path, capsys):
    torch.manual_seed(0)
    tokenizer = PoseTokenizer(load_tokenizer_config(TINY_YAML).model)
    tokenizer.save_pretrained(tmp_path / "ckpt" / "tokenizer")
    rotations = (np.random.default_rng(1).normal(size=(12, 22, 3)) * 0.3).astype(np.float32)
    np.savez(tmp_path / "poses.npz", rotations=rotations, fps=np.float32(30))
    assert cli_main(["tokenizer-eval", str(tmp_path / "poses.npz"), "--checkpoint", str(tmp_path / "ckpt")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("left_elbow") for line in lines)
    last = lines[-1].split()
    assert [part.split("=")[0] for part in last] == ["MPJPE_mm", "PA_MPJPE_mm"]
    mpjpe, pa = (float(part.split("=")[1]) for part in last)
    assert mpjpe > pa > 0


def test_cli_tokenizer_eval_reports_bad_input(tmp_path, capsys):
    np.savez(tmp_path / "bad.npz", poses=np.zeros((3, 66)))
    assert cli_main(["tokenizer-eval", str(tmp_path / "bad.npz"), "--checkpoint", str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rotations" in err[0]


def test_losses_use_paper_weights_and_optional_vertices():
    from backend.tokenizer.losses import LossWeights, pose_joints_from_rotmats, tokenizer_losses
    from backend.tokenizer.model import TokenizerOutput

    target = _clean_batch(4)
    predicted = (target + 0.05 * torch.randn(4, 22, 3, 3)).requires_grad_()
    rot6d = torch.cat([predicted[..., :, 0], predicted[..., :, 1]], -1)
    output = TokenizerOutput(rot6d, predicted, torch.zeros(4, 80, dtype=torch.long), torch.tensor(0.5),
                             torch.tensor(1.0))
    weights = LossWeights()
    assert (weights.pose, weights.joints, weights.vertices, weights.commit) == (20.0, 100.0, 100.0, 1.0)
    plain = tokenizer_losses(output, target, weights)
    assert set(plain) == {"pose", "joints", "commit", "total"}
    assert float(plain["commit"]) == pytest.approx(0.5)
    with_vertices = tokenizer_losses(output, target, weights, vertex_fn=pose_joints_from_rotmats)
    assert with_vertices["vertices"].item() == pytest.approx(with_vertices["joints"].item())
    with_vertices["total"].backward()
    assert predicted.grad is not None and predicted.grad.abs().sum() > 0


def test_decoder_fine_tuning_keeps_every_token_id(tiny_data, tmp_path):
    """trainable: decoder trains a wider decoder on frozen codes: the encoder, codebook and ids stay unchanged."""
    base = train(load_tokenizer_config(TINY_YAML, {"data": tiny_data, "train": {"run_dir": str(tmp_path / "base"),
                                                                       "export_dir": str(tmp_path / "base_export")}}),
                 fresh=True)
    overrides = {"data": tiny_data, "model": {"decoder_width": 24},
                 "train": {"run_dir": str(tmp_path / "decoder"), "init_from": str(tmp_path / "base_export"),
                           "trainable": "decoder", "lr": 1e-2}}
    tuned = train(load_tokenizer_config(TINY_YAML, overrides), fresh=True)

    assert tuned.decoder.stem.out_channels == 24 and tuned.encoder.stem.out_channels == 16
    for key, value in base.state_dict().items():
        if not key.startswith("decoder."):
            assert torch.equal(value, tuned.state_dict()[key]), key
    poses = torch.from_numpy(np.load(tiny_data["poses"])["rotations"][:50])
    ids = base.encode(poses)
    assert torch.equal(tuned.encode(poses), ids)
    assert not torch.allclose(tuned.decode(ids), base.decode(ids), atol=1e-3)
    records = read_metrics(tmp_path / "decoder")
    assert records[-1]["loss"] < records[0]["loss"]


def test_a_widened_decoder_computes_what_the_trained_one_did():
    from backend.tokenizer import PoseTokenizerConfig
    from backend.tokenizer.network import PoseDecoder
    from training.tokenizer_growth import widen_decoder

    torch.manual_seed(0)
    config = PoseTokenizerConfig(code_dim=8, width=16, res_blocks=2)
    trained, wider = PoseDecoder(config), PoseDecoder(dataclasses.replace(config, decoder_width=40))
    codes = torch.randn(4, 8, 80)
    assert not torch.allclose(wider(codes), trained(codes), atol=1e-3)
    widen_decoder(trained, wider)
    assert torch.allclose(wider(codes), trained(codes), atol=1e-6)
    with pytest.raises(ValueError, match="cannot widen"):
        widen_decoder(wider, trained)
    with pytest.raises(ValueError, match="depth"):
        widen_decoder(trained, PoseDecoder(dataclasses.replace(config, res_blocks=1)))


def test_decoder_fine_tuning_rejects_a_different_tokenizer(tiny_data, tmp_path):
    with pytest.raises(ValueError, match="init_from"):
        load_tokenizer_config(TINY_YAML, {"train": {"trainable": "decoder"}})
    PoseTokenizer(load_tokenizer_config(TINY_YAML).model).save_pretrained(tmp_path / "source")
    overrides = {"data": tiny_data, "model": {"code_dim": 12},
                 "train": {"run_dir": str(tmp_path / "run"), "init_from": str(tmp_path / "source"),
                           "trainable": "decoder"}}
    with pytest.raises(ValueError, match="beyond decoder_width"):
        train(load_tokenizer_config(TINY_YAML, overrides), fresh=True)


@pytest.mark.parametrize("path", sorted(TINY_YAML.parent.glob("tokenizer_*.yaml")), ids=lambda p: p.stem)
def test_every_tokenizer_config_loads(path):
    config = load_tokenizer_config(path)
    assert config.model.num_tokens == 80 and config.model.codebook_size == 2048
    if config.train.trainable == "decoder":
        assert config.train.export_dir != config.train.init_from  # never overwrite the tokenizer whose codes are kept
