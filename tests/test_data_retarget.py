"""Retargeting BVH skeletons onto SMPL, judged by bone directions."""
import json
from pathlib import Path

import numpy as np
import pytest

from backend.body.kinematics import pose_joints
from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_euler
from backend.body.skeleton import JOINT_INDEX, JOINT_NAMES, NEUTRAL_REST_JOINTS, PARENTS
from training.data.bvh import parse_bvh, read_bvh
from training.data.retarget import (LIMB_BONES, SkeletonMap, SkeletonMapError, bone_direction_errors,
                                    detect_skeleton_map, retarget)

FIXTURES = Path(__file__).parent / "fixtures" / "bvh"
CONVENTIONS = {"cmu_daz_02_01.bvh": "cmu_daz", "cmu_daz_salsa_01.bvh": "cmu_daz",
               "cmu_raw_16_01.bvh": "cmu_raw", "cc_002_01.bvh": "character_creator"}


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_limb_directions_match_within_5_degrees(name):
    bvh = read_bvh(FIXTURES / name)
    result = retarget(bvh)
    assert result.skeleton_map == CONVENTIONS[name]
    assert result.axis_angle.shape == (40, 22, 3)
    errors = bone_direction_errors(result.axis_angle, result.target_joints)
    limbs = {b: e.mean() for b, e in errors.items() if b.split("->")[0] in LIMB_BONES}
    assert len(limbs) == 8
    assert max(limbs.values()) < 5.0, limbs
    # the whole chain from pelvis to wrists, ankles and head follows the BVH
    for bone in ("spine3->neck", "neck->head", "left_ankle->left_foot", "right_wrist->right_hand"):
        assert errors[bone].mean() < 5.0


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_left_is_left_and_knees_bend_forward(name):
    result = retarget(read_bvh(FIXTURES / name))
    joints = pose_joints(result.axis_angle)  # (T, 24, 3)
    rot0 = axis_angle_to_rotmat(result.axis_angle[:, 0])
    left = rot0[:, :, 0]  # the body's +X (its left) in the world
    hips = joints[:, JOINT_INDEX["left_hip"]] - joints[:, JOINT_INDEX["right_hip"]]
    assert np.all(np.sum(left * hips, -1) > 0)
    # toes point to the body's front (+Z of the pelvis frame)
    feet = joints[:, JOINT_INDEX["left_foot"]] - joints[:, JOINT_INDEX["left_ankle"]]
    assert np.mean(np.sum(rot0[:, :, 2] * feet, -1) > 0) > 0.9
    # knees are hinges about +X with positive flexion, elbows about Y (left -, right +)
    knee = result.axis_angle[:, [JOINT_INDEX["left_knee"], JOINT_INDEX["right_knee"]]]
    bent = np.linalg.norm(knee, axis=-1) > np.radians(20)
    assert np.all(knee[..., 0][bent] > 0)
    assert np.all(np.abs(knee[..., 0][bent]) > 2 * np.abs(knee[..., 1:][bent]).max(-1))


def _smpl_bvh(axis_angle: np.ndarray) -> str:
    """A BVH of the project's own skeleton (cm, ZYX channels: R = Rz Ry Rx) posed with the given SMPL poses."""
    lines, order = ["HIERARCHY"], []
    children = {j: [c for c in range(24) if PARENTS[c] == j] for j in range(24)}

    def emit(j: int, depth: int) -> None:
        pad = "  " * depth
        order.append(j)
        offset = NEUTRAL_REST_JOINTS[j] - (NEUTRAL_REST_JOINTS[PARENTS[j]] if j else 0)
        lines.append(f"{pad}{'ROOT' if j == 0 else 'JOINT'} {JOINT_NAMES[j]}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v * 100:.5f}' for v in offset)}")
        pos = "Xposition Yposition Zposition " if j == 0 else ""
        lines.append(f"{pad}  CHANNELS {6 if j == 0 else 3} {pos}Zrotation Yrotation Xrotation")
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            lines.extend([f"{pad}  End Site", pad + "  {", f"{pad}    OFFSET 0 5 0", pad + "  }"])
        lines.append(pad + "}")

    emit(0, 0)
    rot = axis_angle_to_rotmat(np.concatenate([axis_angle, np.zeros(axis_angle.shape[:-2] + (2, 3))], -2))
    euler = np.degrees(rotmat_to_euler(rot))  # (x, y, z) with R = Rz Ry Rx
    zyx = euler[..., ::-1]
    lines += ["MOTION", f"Frames: {len(axis_angle)}", "Frame Time: 0.0333333"]
    for t in range(len(axis_angle)):
        values = [0.0, 96.0, 0.0] + zyx[t, order].reshape(-1).tolist()
        lines.append(" ".join(f"{v:.6f}" for v in values))
    return "\n".join(lines) + "\n"


def test_custom_skeleton_map_recovers_the_pose_geometry(tmp_path):
    rng = np.random.default_rng(0)
    scale = np.full(22, 0.4)
    scale[0] = 0.5  # tilted, but mostly upright so that the up axis is found
    scale[[JOINT_INDEX[n] for n in ("spine1", "spine2", "spine3", "left_collar", "right_collar")]] = 0.06
    poses = rng.normal(size=(12, 22, 3)) * scale[:, None]
    bvh = parse_bvh(_smpl_bvh(poses))
    positions = bvh.world_positions()[:, [bvh.index(n) for n in JOINT_NAMES]]
    np.testing.assert_allclose(positions - positions[:, :1], pose_joints(poses), atol=1e-4)  # the writer is right
    mapping = {"name": "smpl_test", "detect": ["pelvis"], "joints": {n: n for n in JOINT_NAMES}, "markers": {}}
    path = tmp_path / "smpl.json"
    path.write_text(json.dumps(mapping))
    with pytest.raises(SkeletonMapError):
        detect_skeleton_map(bvh)  # none of the built-in maps fits
    result = retarget(bvh, SkeletonMap.load(path))
    # same skeleton: limbs exactly, the trunk nearly (its rotations come from hip and shoulder lines)
    errors = bone_direction_errors(result.axis_angle, result.target_joints)
    assert max(errors[b].max() for b in errors if b.split("->")[0] in LIMB_BONES) < 0.1
    assert max(e.mean() for e in errors.values()) < 5.0
    mpjpe = np.linalg.norm(pose_joints(result.axis_angle) - pose_joints(poses), axis=-1).mean()
    assert mpjpe < 0.02
