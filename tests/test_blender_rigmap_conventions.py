"""Mapping any humanoid rig to SMPL (blender_addon.rignames, rigmap's chain functions), in numpy: every
convention maps all 22 joints, written poses point every mapped bone along the SMPL bone, read back."""
import numpy as np
import pytest

from backend.body import example_poses, rotations, skeleton
from blender_addon import rigmap, rignames
import _rig_conventions as rc
from test_blender_rigmath import blender_pose_matrices

CONVENTIONS = sorted(rc.CONVENTIONS)
POSES = [example_poses.EXAMPLE_POSES[name] for name in ("sitting", "lunge", "waving_right_hand", "squat")]


def angle_deg(a, b):
    a, b = a / np.linalg.norm(a, axis=-1, keepdims=True), b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.degrees(np.arccos(np.clip((a * b).sum(-1), -1.0, 1.0)))


def rotation_error_deg(a, b):
    return np.degrees(np.linalg.norm(rotations.rotmat_to_axis_angle(np.swapaxes(a, -1, -2) @ b), axis=-1))


def mapped(convention):
    names, parents, heads, tails, rolls, yup, expected = rc.build(convention, np.random.default_rng(3))
    mapping = rignames.detect_mapping(names, parents, heads)
    index = {n: i for i, n in enumerate(names)}
    chains = [[index[b] for b in chain] for chain in mapping.chains]
    return names, parents, heads, rc.rest_matrices(heads, tails, rolls), mapping, chains, expected


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_names_map_all_joints_to_the_expected_bones(convention):
    names, parents, heads, rest, mapping, chains, expected = mapped(convention)
    assert mapping.missing() == [] and mapping.convention not in ("names", "structure")
    assert {skeleton.JOINT_NAMES[j]: list(c) for j, c in enumerate(mapping.chains)} == expected


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_written_poses_point_bones_like_smpl_and_read_back(convention):
    names, parents, heads, rest, mapping, chains, _ = mapped(convention)
    joints = rigmap.joint_heads(chains, heads)
    frame = rigmap.smpl_frame(joints)
    align = rigmap.rest_alignments(chains, heads, frame, np.asarray(skeleton.NEUTRAL_REST_JOINTS))
    basis = np.tile(np.eye(4), (len(names), 1, 1))
    for pose in POSES:
        local = rotations.axis_angle_to_rotmat(pose)
        for bone, _, m in rigmap.chain_bases_from_smpl(local, rest[:, :3, :3], basis[:, :3, :3], parents, chains,
                                                       frame, align):
            basis[bone, :3, :3] = m
        posed = blender_pose_matrices(rest, basis, parents)[:, :3, 3]
        points = rigmap.joint_heads(chains, posed)
        wanted = rigmap.posed_directions(local, frame)
        for j in range(22):
            child = rigmap._main_child(j)
            if child is not None and len(chains[j]) == 1 and np.linalg.norm(joints[child] - joints[j]) > 1e-6:
                assert angle_deg(points[child] - points[j], wanted[j]) < 0.01, (skeleton.JOINT_NAMES[j])
        back = rigmap.read_chain_locals(rest[:, :3, :3], basis[:, :3, :3], parents, chains, frame, align)
        assert rotation_error_deg(back, local).max() < 1e-6


def test_rest_pose_becomes_the_smpl_t_pose():
    names, parents, heads, rest, mapping, chains, _ = mapped("mixamo")
    frame = rigmap.smpl_frame(rigmap.joint_heads(chains, heads))
    align = rigmap.rest_alignments(chains, heads, frame, np.asarray(skeleton.NEUTRAL_REST_JOINTS))
    basis = np.tile(np.eye(3), (len(names), 1, 1))
    back = rigmap.read_chain_locals(rest[:, :3, :3], basis, parents, chains, frame, align)
    left_arm = skeleton.JOINT_INDEX["left_shoulder"]
    assert 30 < rotation_error_deg(back[left_arm], np.eye(3)) < 50  # the A-pose reads as arms 40 degrees down


@pytest.mark.parametrize("convention", ["mixamo", "ue5", "rigify_deform"])
def test_structure_maps_unnamed_rigs(convention):
    names, parents, heads, tails, rolls, yup, expected = rc.build(convention)
    generic = [f"Bone.{i:03d}" + ("_end" if name.endswith("_End") else "") for i, name in enumerate(names)]
    mapping = rignames.detect_mapping(generic, parents, heads)
    assert mapping.convention == "structure" and mapping.missing() == []
    by_name = dict(zip(generic, names))
    for joint in ("pelvis", "left_hip", "right_knee", "left_shoulder", "right_wrist", "head", "left_collar"):
        assert [by_name[b] for b in mapping.chains[skeleton.JOINT_INDEX[joint]]] == expected[joint], joint


def test_quadruped_and_chain_are_refused_naming_what_is_missing():
    # a chain of five bones
    heads = np.array([[0, 0, i * 0.2] for i in range(5)], float)
    with pytest.raises(rignames.MappingError, match="missing joints: pelvis"):
        rignames.detect_mapping([f"Bone.{i}" for i in range(5)], np.array([-1, 0, 1, 2, 3]), heads)
    # a quadruped: horizontal spine, four legs down, a neck and head forward
    names, parents, heads = ["hips"], [-1], [[0, 0, 1.0]]

    def add(name, parent, head):
        names.append(name)
        parents.append(names.index(parent))
        heads.append(head)
    for k in range(3):
        add(f"spine{k}", "hips" if k == 0 else f"spine{k - 1}", [0, -0.3 * (k + 1), 1.0])
    for end, base in (("hind", "hips"), ("front", "spine2")):
        for side, x in (("L", 0.2), ("R", -0.2)):
            y = heads[names.index(base)][1]
            for k, part in enumerate(("thigh", "shin", "foot", "toe")):
                add(f"{end}_{part}.{side}", base if k == 0 else f"{end}_{('thigh', 'shin', 'foot')[k - 1]}.{side}",
                    [x, y - 0.05 * k, 1.0 - 0.3 * k])
    add("neck", "spine2", [0, -1.0, 1.2])
    add("head", "neck", [0, -1.2, 1.4])
    with pytest.raises(rignames.MappingError, match="missing joints"):
        rignames.detect_mapping(names, np.array(parents), np.array(heads, float))


def test_preset_round_trip_and_errors():
    names, parents, heads, rest, mapping, chains, _ = mapped("daz")
    again = rignames.RigMapping.from_json(mapping.to_json())
    assert again.chains == mapping.chains and again.convention == mapping.convention
    assert rignames.validate(again, names) == []
    assert rignames.validate(again, names[:5])[0].startswith("no bone")
    with pytest.raises(rignames.PresetError, match="not a mapping preset"):
        rignames.RigMapping.from_json('{"joints": 3}')


def test_side_markers():
    for name, expected in [("mixamorig:LeftUpLeg", ("left", "upleg")), ("thigh_fk.L", ("left", "thighfk")),
                           ("CC_Base_R_Thigh", ("right", "thigh")), ("lShldrBend", ("left", "shldrbend")),
                           ("J_Bip_C_Head", (None, "head")), ("calf_r", ("right", "calf")),
                           ("Bip01 L Thigh", ("left", "thigh")), ("LowerBack", (None, "lowerback"))]:
        assert rignames.split_side(name) == expected, name
    assert rignames.role_of("DEF-upper_arm.L.001") == (None, False)  # twist bones are not mapped
    assert rignames.role_of("thigh_ik.L") == (None, False)
    assert rignames.role_of("c_thigh_fk.l") == ("left_hip", True)
