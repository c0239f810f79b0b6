"""PoseTokenizer interface: shapes, determinism, save/load identity, root sensitivity, input checks."""
import numpy as np
import pytest
import torch

from backend.body.rotations_torch import axis_angle_to_rotmat, rot6d_to_rotmat
from backend.tokenizer import PoseTokenizer, PoseTokenizerConfig
from backend.tokenizer.config import WEIGHTS_NAME
from backend.tokenizer.evaluation import evaluate_tokenizer, procrustes_align

TINY = PoseTokenizerConfig(code_dim=16, width=16, res_blocks=1)


def _poses(n: int, seed: int = 0, scale: float = 0.4) -> torch.Tensor:
    return torch.randn(n, 22, 3, generator=torch.Generator().manual_seed(seed)) * scale  # (n, 22, 3)


@pytest.fixture(scope="module")
def tokenizer() -> PoseTokenizer:
    torch.manual_seed(0)
    model = PoseTokenizer(TINY)
    model.train()
    model(model.to_rot6d(_poses(64, seed=1)))  # initialises the codebook from data
    return model.eval()


def test_shapes_and_orthonormal_output(tokenizer):
    ids = tokenizer.encode(_poses(5))
    assert ids.shape == (5, 80) and ids.dtype == torch.long
    assert int(ids.min()) >= 0 and int(ids.max()) < 2048
    rotmats = tokenizer.decode(ids)
    assert rotmats.shape == (5, 22, 3, 3)
    eye = torch.eye(3).expand(5, 22, 3, 3)
    assert torch.allclose(rotmats @ rotmats.transpose(-1, -2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(rotmats), torch.ones(5, 22), atol=1e-5)
    assert tokenizer.decode_axis_angle(ids).shape == (5, 22, 3)


def test_axis_angle_and_rotmat_inputs_agree(tokenizer):
    poses = _poses(4)
    assert torch.equal(tokenizer.encode(poses), tokenizer.encode(axis_angle_to_rotmat(poses)))


def test_deterministic_and_batch_independent(tokenizer):
    poses = _poses(6)
    ids = tokenizer.encode(poses)
    assert torch.equal(ids, tokenizer.encode(poses))
    # one pose alone gets the codes it gets in a batch, up to near-ties (float rounding differs across batch
    # shapes and CPU kernels): every code chosen in the batch is nearest to the pose's own encoding
    with torch.no_grad():
        alone = tokenizer.encoder(tokenizer.to_rot6d(poses[2:3]))[0].T  # (T, D)
    distance = torch.cdist(alone, tokenizer.codebook.codes).pow(2)  # (T, K)
    chosen = distance.gather(1, ids[2][:, None])[:, 0]
    assert torch.all(chosen <= distance.min(1).values + 1e-4)
    assert torch.allclose(tokenizer.decode(ids)[2], tokenizer.decode(ids[2:3])[0], atol=1e-6)


def test_expected_decoding_of_one_hot_codes_is_plain_decoding_and_mixes_in_latent_space(tokenizer):
    ids = tokenizer.encode(_poses(3, seed=2))
    one_hot = torch.nn.functional.one_hot(ids, TINY.codebook_size).float()  # (3, 80, K)
    assert torch.allclose(tokenizer.decode_expected(one_hot), tokenizer.decode(ids), atol=1e-5)
    half = 0.5 * (one_hot[:1] + one_hot[1:2])               # two poses' codes at every position, half each
    codes = 0.5 * (tokenizer.codebook.lookup(ids[0]) + tokenizer.codebook.lookup(ids[1]))  # (80, D)
    expected = tokenizer.decode_expected(half)[0]
    assert torch.allclose(expected, rot6d_to_rotmat(tokenizer.decoder(codes.T[None]))[0], atol=1e-5)
    assert not torch.allclose(expected, tokenizer.decode(ids[:1])[0], atol=1e-3)
    with pytest.raises(ValueError, match="code probabilities"):
        tokenizer.decode_expected(one_hot[:, :40])


def test_encode_decode_do_not_touch_the_codebook(tokenizer):
    before = {k: v.clone() for k, v in tokenizer.state_dict().items()}
    tokenizer.train()
    try:
        tokenizer.decode(tokenizer.encode(_poses(8, seed=5)))
    finally:
        tokenizer.eval()
    assert all(torch.equal(before[k], v) for k, v in tokenizer.state_dict().items())


def test_save_load_identity(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").is_file() and (tmp_path / WEIGHTS_NAME).is_file()
    loaded = PoseTokenizer.from_pretrained(tmp_path)
    assert loaded.config == tokenizer.config and not loaded.training
    for key, value in tokenizer.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    poses = _poses(7, seed=3)
    ids = tokenizer.encode(poses)
    assert torch.equal(ids, loaded.encode(poses))
    assert torch.equal(tokenizer.decode(ids), loaded.decode(ids))


def test_root_rotation_changes_tokens(tokenizer):
    pose = _poses(1, seed=4)
    turned = pose.clone()
    turned[0, 0] = torch.tensor([0.0, 1.2, 0.0])  # only the global orientation differs
    ids = tokenizer.encode(torch.cat([pose, turned]))
    assert not torch.equal(ids[0], ids[1])


def test_rejects_bad_shapes_and_ids(tokenizer):
    with pytest.raises(ValueError):
        tokenizer.encode(torch.zeros(2, 21, 3))
    with pytest.raises(ValueError):
        tokenizer.decode(torch.zeros(2, 79, dtype=torch.long))
    with pytest.raises(ValueError):
        tokenizer.decode(torch.full((1, 80), 2048))


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError):
        PoseTokenizerConfig.from_dict({"num_tokens": 80, "bogus": 1})


def test_procrustes_undoes_a_similarity_transform():
    source = torch.randn(3, 24, 3, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    q = q * torch.sign(torch.linalg.det(q))
    target = 1.7 * source @ q + torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)
    assert torch.allclose(procrustes_align(source, target), target, atol=1e-9)


def test_evaluation_is_zero_error_for_a_perfect_round_trip(tokenizer, monkeypatch):
    poses = _poses(3).numpy()
    monkeypatch.setattr(tokenizer, "decode",
                        lambda ids: axis_angle_to_rotmat(torch.as_tensor(poses, dtype=torch.float64)))
    result = evaluate_tokenizer(tokenizer, poses)
    assert result.mpjpe_mm < 1e-3 and result.pa_mpjpe_mm < 1e-3
    assert result.per_joint_mm.shape == (24,) and result.per_pose_mm.shape == (3,)
    assert np.isclose(result.per_joint_mm[0], 0.0)  # the pelvis is the origin of both


def test_ema_codebook_moves_codes_to_cluster_means_and_reseeds_dead_codes():
    from backend.tokenizer.quantizer import EMACodebook

    torch.manual_seed(0)
    codebook = EMACodebook(size=64, dim=4, decay=0.0, dead_threshold=0.5).train()
    x = torch.randn(256, 4)
    out = codebook(x)
    assert out.ids.shape == (256,) and out.codes.shape == (256, 4) and float(out.perplexity) > 1
    for code in out.ids.unique():
        assert torch.allclose(codebook.codes[code], x[out.ids == code].mean(0), atol=1e-5)
    unused = torch.ones(64, dtype=torch.bool)
    unused[out.ids.unique()] = False
    if unused.any():  # codes nobody chose were re-seeded with batch vectors
        seeded = codebook.codes[unused]  # (u, 4)
        assert (seeded[:, None] - x[None]).norm(dim=-1).min(1).values.max() < 1e-6
    codebook.eval()
    frozen = codebook.codes.clone()
    codebook(torch.randn(32, 4))
    assert torch.equal(codebook.codes, frozen)
