"""BVH reader: the three skeleton conventions of the corpus, units, line endings, channel orders."""
from pathlib import Path

import numpy as np
import pytest

from backend.body.rotations import euler_to_rotmat
from training.data.bvh import parse_bvh, read_bvh

FIXTURES = Path(__file__).parent / "fixtures" / "bvh"

TINY = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
  JOINT arm
  {
    OFFSET 0 100 0
    CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 0 50
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
0 90 0 0 0 0  0 0 0 0 0 0
10 90 0 90 0 0  0 10 0 0 -90 0
"""


@pytest.mark.parametrize("name,unit,fps,joints", [
    ("cmu_daz_02_01.bvh", "cm", 120.0, "lShldr"),
    ("cmu_daz_salsa_01.bvh", "cm", 120.0, "lThigh"),
    ("cmu_raw_16_01.bvh", "cmu", 30.0, "lhumerus"),
    ("cc_002_01.bvh", "cm", 60.0, "CC_Base_L_Upperarm"),
])
def test_fixture_conventions(name, unit, fps, joints):
    bvh = read_bvh(FIXTURES / name)
    assert bvh.unit == unit
    assert bvh.fps == pytest.approx(fps, rel=1e-3)
    assert bvh.num_frames == 40
    assert joints in bvh.names
    assert any(n.endswith("_End") for n in bvh.names)
    positions = bvh.world_positions()
    assert positions.shape == (40, len(bvh.names), 3)
    height = positions[:, :, 1].max(1) - positions[:, :, 1].min(1)
    assert np.all((height > 1.2) & (height < 2.2)), "a standing person is 1.2-2.2 m tall in metres"
    assert np.all(np.abs(np.linalg.det(bvh.rotations)) - 1 < 1e-6)


def test_crlf_and_lf_parse_the_same():
    text = (FIXTURES / "cmu_daz_02_01.bvh").read_text()
    a, b = parse_bvh(text), parse_bvh(text.replace("\n", "\r\n"))
    assert a.names == b.names
    np.testing.assert_allclose(a.rotations, b.rotations)
    np.testing.assert_allclose(a.translations, b.translations)


def test_channel_order_position_channels_and_end_sites():
    bvh = parse_bvh(TINY, unit="cm")
    assert bvh.names == ["root", "arm", "arm_End"]
    assert list(bvh.parents) == [-1, 0, 1]
    assert bvh.is_end_site.tolist() == [False, False, True]
    assert bvh.frame_time == pytest.approx(0.04)
    positions = bvh.world_positions()
    # frame 0: no rotation; the arm's position channels (all 0) add to its offset
    np.testing.assert_allclose(positions[0], [[0, 0.9, 0], [0, 1.9, 0], [0, 1.9, 0.5]], atol=1e-9)
    # frame 1: root yawed 90 deg about Y (first channel), arm translated 10 cm up and pitched -90 about X
    root = euler_to_rotmat(np.radians([0, 90, 0]))
    arm = euler_to_rotmat(np.radians([-90, 0, 0]))
    np.testing.assert_allclose(bvh.rotations[1, 0], root, atol=1e-9)
    np.testing.assert_allclose(bvh.rotations[1, 1], arm, atol=1e-9)
    expected_end = np.array([0.1, 0.9, 0]) + root @ (np.array([0, 1.1, 0]) + arm @ np.array([0, 0, 0.5]))
    np.testing.assert_allclose(positions[1, 2], expected_end, atol=1e-9)


def test_intrinsic_rotation_order():
    text = TINY.replace("0 90 0 0 0 0  0 0 0 0 0 0", "0 90 0 30 40 50  0 0 0 0 0 0")
    bvh = parse_bvh(text)
    y, x, z = (euler_to_rotmat(np.radians(v)) for v in ([0, 30, 0], [40, 0, 0], [0, 0, 50]))
    np.testing.assert_allclose(bvh.rotations[0, 0], y @ x @ z, atol=1e-9)


def test_unit_guess():
    metres = TINY.replace("OFFSET 0 100 0", "OFFSET 0 1 0").replace("OFFSET 0 0 50", "OFFSET 0 0 0.5")
    assert parse_bvh(metres).unit == "m"
