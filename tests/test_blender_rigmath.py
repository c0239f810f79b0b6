"""Rig I/O math (blender_addon.rigmap) against a numpy model of Blender's pose evaluation (no bpy)."""
import numpy as np
import pytest

from backend.body import kinematics, rotations, skeleton
from blender_addon import capsules, rigmap


def blender_pose_matrices(rest, basis, parents):
    """Blender's rule for posed bone matrices (armature space), 4x4: P = P_parent @ R_parent^-1 @ R @ M.
    rest, basis: (B, 4, 4)."""
    posed = [None] * len(parents)

    def pose(b):
        if posed[b] is None:
            p = parents[b]
            local = rest[b] @ basis[b]
            posed[b] = local if p < 0 else pose(p) @ np.linalg.inv(rest[p]) @ local
        return posed[b]

    return np.stack([pose(b) for b in range(len(parents))])


def random_rotation(rng, n):
    return rotations.axis_angle_to_rotmat(rng.normal(0, 1.5, (n, 3)))


def make_rig(rng, frame, root_bone, helper_bone):
    """A rig: SMPL joints (optionally under a posed root bone, with a helper bone between spine3 and
    the left collar), random rolls (random rest rotations), in armature axes `frame`."""
    heads = skeleton.NEUTRAL_REST_JOINTS @ frame.T
    parents = list(skeleton.PARENTS)
    joint_bones = list(range(24))
    if helper_bone:  # bone 24: child of spine3, parent of left_collar
        heads = np.vstack([heads, heads[9] + 0.01])
        parents = parents + [9]
        parents[13] = 24
    if root_bone:
        heads = np.vstack([heads, [[0.0, 0.0, -1.0]]])
        root = len(parents)
        parents = parents + [-1]
        parents[0] = root
    count = len(parents)
    rest = np.tile(np.eye(4), (count, 1, 1))
    rest[:, :3, :3] = random_rotation(rng, count)
    rest[:, :3, 3] = heads
    basis = np.tile(np.eye(4), (count, 1, 1))
    basis[:, :3, :3] = random_rotation(rng, count)  # whatever pose the rig had before
    if helper_bone:  # an unposed helper (a posed one moves the collar's head, which SMPL cannot say)
        basis[24] = np.eye(4)
    return rest, basis, np.array(parents), np.array(joint_bones[:22])


@pytest.mark.parametrize("root_bone,helper_bone", [(False, False), (True, False), (True, True)])
def test_written_pose_matches_fk_and_reads_back(root_bone, helper_bone):
    rng = np.random.default_rng(1)
    frame = rigmap.SMPL_TO_BLENDER
    rest, basis, parents, joint_bones = make_rig(rng, frame, root_bone, helper_bone)
    assert np.allclose(rigmap.smpl_frame(rest[:24, :3, 3]), frame)
    for _ in range(5):
        pose = rng.normal(0, 0.8, (22, 3))
        local = rotations.axis_angle_to_rotmat(pose)
        new = rigmap.bone_bases_from_smpl(local, rest[:, :3, :3], basis[:, :3, :3], parents, joint_bones, frame)
        basis[joint_bones, :3, :3] = new
        posed = blender_pose_matrices(rest, basis, parents)
        # the joints where SMPL's forward kinematics put them, carried by the root bone's pose
        carrier = posed[parents[0]] @ np.linalg.inv(rest[parents[0]]) if root_bone else np.eye(4)
        fk, _ = kinematics.forward_kinematics(kinematics.pad_pose_rotmats(local), skeleton.NEUTRAL_REST_JOINTS)
        expected = (fk @ frame.T) @ carrier[:3, :3].T + carrier[:3, 3]
        assert np.abs(posed[:24, :3, 3] - expected).max() < 1e-9
        back = rigmap.read_smpl_locals(rest[:, :3, :3], basis[:, :3, :3], parents, joint_bones, frame)
        assert np.abs(back - local).max() < 1e-9


def test_frame_detection_for_y_up_and_rotated_rigs():
    assert np.allclose(rigmap.smpl_frame(skeleton.NEUTRAL_REST_JOINTS), np.eye(3))
    turn = rotations.axis_angle_to_rotmat(np.array([0.0, 0.0, np.pi / 2]))  # lying on its side
    assert np.allclose(rigmap.smpl_frame(skeleton.NEUTRAL_REST_JOINTS @ turn.T), turn, atol=1e-12)


@pytest.mark.parametrize("style", rigmap.BONE_NAME_STYLES)
def test_bone_names_round_trip(style):
    names = [rigmap.styled_bone_name(n, style) for n in skeleton.JOINT_NAMES]
    assert rigmap.match_bones(names) == dict(enumerate(names))
    assert rigmap.missing_pose_joints(rigmap.match_bones(names[:5])) == list(skeleton.JOINT_NAMES[5:22])


def test_common_names_match():
    for name, joint in [("m_avg_L_Hip", "left_hip"), ("f_avg_R_Wrist", "right_wrist"), ("Spine3", "spine3"),
                        ("left_collar", "left_collar"), ("Pelvis", "pelvis")]:
        assert rigmap.canonical_joint_name(name) == joint
    assert rigmap.canonical_joint_name("mixamorig:Hips") is None


def test_blend_and_mask():
    rng = np.random.default_rng(2)
    current, target = random_rotation(rng, 22), random_rotation(rng, 22)
    mask = np.zeros(22, bool)
    mask[[3, 7]] = True
    assert np.allclose(rigmap.blend_locals(current, target, 1.0, mask)[mask], target[mask])
    assert np.allclose(rigmap.blend_locals(current, target, 1.0, mask)[~mask], current[~mask])
    half = rigmap.blend_locals(current, target, 0.5, np.ones(22, bool))
    angle = lambda a, b: np.linalg.norm(rotations.rotmat_to_axis_angle(np.swapaxes(a, -1, -2) @ b), axis=-1)  # noqa: E731
    assert np.allclose(angle(current, half), angle(half, target), atol=1e-9)


def test_capsule_body_is_closed_and_bound_to_bones():
    verts, faces, bone_of_vertex, materials = capsules.body_capsules(skeleton.NEUTRAL_REST_JOINTS)
    edges = {}
    for face in faces:
        for a, b in zip(face, face[1:] + face[:1]):
            edges[tuple(sorted((a, b)))] = edges.get(tuple(sorted((a, b))), 0) + 1
    assert set(edges.values()) == {2}  # every capsule is watertight
    assert len(bone_of_vertex) == len(verts) and set(np.unique(bone_of_vertex)) == set(range(24))
    assert len(materials) == len(faces) and set(np.unique(materials)) == {0, 1, 2}
    assert verts[:, 1].min() < skeleton.NEUTRAL_REST_JOINTS[:, 1].min()  # soles below the ankles
