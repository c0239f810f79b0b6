"""The shipped default tokenizer (checkpoints/default/tokenizer): contract, size and round-trip quality."""
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.body.example_poses import EXAMPLE_POSES
from backend.body.rotations_torch import axis_angle_to_rotmat
from backend.paths import REPO_ROOT
from backend.tokenizer import PoseTokenizer
from backend.tokenizer.evaluation import evaluate_tokenizer

SHIPPED = REPO_ROOT / "checkpoints" / "default" / "tokenizer"
AMASS_FIXTURE = Path("/work/shared/data/fixtures/amass_sample.npz")

pytestmark = pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason="no shipped tokenizer")


@pytest.fixture(scope="module")
def tokenizer() -> PoseTokenizer:
    return PoseTokenizer.from_pretrained(SHIPPED)


def test_contract_sizes_and_file_size(tokenizer):
    assert tokenizer.config.num_tokens == 80 and tokenizer.config.codebook_size == 2048
    assert (SHIPPED / "model.safetensors").stat().st_size < 20 * 2**20


def test_example_poses_round_trip(tokenizer):
    poses = np.stack(list(EXAMPLE_POSES.values())).astype(np.float32)  # (n, 22, 3)
    result = evaluate_tokenizer(tokenizer, poses)
    assert result.mpjpe_mm < 20.0


def test_global_orientation_survives_the_trip(tokenizer):
    pose = torch.as_tensor(np.stack(list(EXAMPLE_POSES.values()))[:1], dtype=torch.float32)  # (1, 22, 3)
    turned = axis_angle_to_rotmat(pose).clone()
    turned[:, 0] = axis_angle_to_rotmat(torch.tensor([0.0, 0.0, 0.5])) @ turned[:, 0]  # lean 29 deg sideways
    ids = tokenizer.encode(torch.cat([axis_angle_to_rotmat(pose), turned]))
    assert not torch.equal(ids[0], ids[1])
    decoded_root = tokenizer.decode(ids)[:, 0]  # (2, 3, 3)
    relative = decoded_root[1] @ decoded_root[0].T
    angle = torch.rad2deg(torch.arccos(((relative.trace() - 1) / 2).clamp(-1, 1)))
    assert abs(float(angle) - np.rad2deg(0.5)) < 5.0


@pytest.mark.skipif(not AMASS_FIXTURE.is_file(), reason="AMASS fixture not available")
def test_amass_fixture_round_trip(tokenizer):
    from backend.posefile import load_amass_npz, z_up_to_y_up
    from training.data.corpus import remove_heading

    rotations, _ = z_up_to_y_up(load_amass_npz(AMASS_FIXTURE).rotations)
    result = evaluate_tokenizer(tokenizer, remove_heading(rotations).astype(np.float32))
    assert result.mpjpe_mm < 35.0  # (poses turned to face +Z, as the corpus stores them)
