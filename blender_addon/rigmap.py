"""SMPL-like armatures as numbers: bone-name matching, the rig's SMPL frame, pose <-> bone rotations.

Pure numpy (no bpy), so every formula here is tested outside Blender. Notation, per bone:
  Q  (3, 3) the bone's rest rotation in armature space (`bone.matrix_local`, roll included);
  M  (3, 3) its pose rotation relative to rest (`pose_bone.matrix_basis`);
  D  (3, 3) how far the pose turned it, in armature space: Blender's posed bone matrix is D @ Q, and
     D_child = D_parent @ Q_child @ M_child @ Q_child^T.
  W  (3, 3) D of the pelvis bone's parent (a root bone), identity without one: it carries the body.
  F  (3, 3) maps SMPL coordinates (+Y up, +X the body's left, faces +Z) to armature coordinates.
SMPL rest bones are axis-aligned (identity rest rotation), so a joint's SMPL global rotation G relates to
D by D = W @ F @ G @ F^T, and a bone's basis is M = Q^T @ D_parent^T @ D @ Q. Rolls and the object's
transform drop out: the pose lives in armature space and the object matrix is applied after it.
"""
import re

import numpy as np

from .body import rotations, skeleton

NUM_POSE_JOINTS = skeleton.NUM_POSE_JOINTS  # 22 joints are required; the two hand joints are optional

_PREFIX = re.compile(r"^(?:[mfn]_avg_|smplx?_|smplh_)")
_SIDE = re.compile(r"^(l|r)_")

# Blender's Z-up armature space from the SMPL frame: (x, y, z)_smpl -> (x, -z, y)_blender.
SMPL_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

# Bone-name styles seen in SMPL rigs, for creating rigs; matching accepts any of them.
BONE_NAME_STYLES = ("smplx", "smpl", "m_avg")


def canonical_joint_name(bone_name: str) -> str | None:
    """`pelvis`, `Pelvis`, `L_Hip`, `m_avg_L_Hip`, `left_hip` ... -> the SMPL joint name, else None."""
    name = _PREFIX.sub("", bone_name.strip().lower())
    name = _SIDE.sub(lambda m: "left_" if m.group(1) == "l" else "right_", name)
    return name if name in skeleton.JOINT_INDEX else None


def styled_bone_name(joint_name: str, style: str) -> str:
    """The SMPL joint name in one of BONE_NAME_STYLES: `left_hip`, `L_Hip` or `m_avg_L_Hip`."""
    if style == "smplx":
        return joint_name
    side, rest = "", joint_name
    for word, letter in (("left_", "L_"), ("right_", "R_")):
        if joint_name.startswith(word):
            side, rest = letter, joint_name[len(word):]
    pascal = side + rest[:1].upper() + rest[1:]
    return pascal if style == "smpl" else "m_avg_" + pascal


def match_bones(bone_names: list[str]) -> dict[int, str]:
    """{SMPL joint index: bone name} for the bones that name an SMPL joint (first match wins)."""
    mapping: dict[int, str] = {}
    for bone_name in bone_names:
        joint = canonical_joint_name(bone_name)
        if joint is not None:
            mapping.setdefault(skeleton.JOINT_INDEX[joint], bone_name)
    return mapping


def missing_pose_joints(mapping: dict[int, str]) -> list[str]:
    """Names of the 22 required joints that the mapping lacks."""
    return [skeleton.JOINT_NAMES[j] for j in range(NUM_POSE_JOINTS) if j not in mapping]


def _nearest_axis(vector: np.ndarray, allowed: list[int]) -> np.ndarray:
    """The signed unit coordinate axis (among `allowed` indices) closest to `vector`."""
    best = max(allowed, key=lambda k: abs(vector[k]))
    axis = np.zeros(3)
    axis[best] = np.sign(vector[best]) or 1.0
    return axis


def smpl_frame(rest_heads: np.ndarray) -> np.ndarray:
    """F (3, 3) from a rig's rest joints in armature space, snapped to the nearest axis-aligned frame.

    rest_heads: (22+, 3) armature-space rest positions in SMPL joint order. Up is pelvis -> neck, left is
    right hip -> left hip (plus right -> left shoulder), forward completes a right-handed frame.
    """
    j = skeleton.JOINT_INDEX
    up = rest_heads[j["neck"]] - rest_heads[j["pelvis"]]
    left = (rest_heads[j["left_hip"]] - rest_heads[j["right_hip"]]
            + rest_heads[j["left_shoulder"]] - rest_heads[j["right_shoulder"]])
    up_axis = _nearest_axis(up, [0, 1, 2])
    left_axis = _nearest_axis(left, [k for k in range(3) if up_axis[k] == 0])
    return np.stack([left_axis, up_axis, np.cross(left_axis, up_axis)], axis=-1)


def _local_deltas(rest_rot: np.ndarray, basis_rot: np.ndarray) -> np.ndarray:
    """Q M Q^T per bone: its pose rotation in armature axes. (B, 3, 3) x 2 -> (B, 3, 3)."""
    return rest_rot @ basis_rot @ np.swapaxes(rest_rot, -1, -2)


def _walk(parents: np.ndarray, own: dict[int, np.ndarray], local: np.ndarray) -> list[np.ndarray]:
    """D of every bone: `own[b]` where given, else parent's D @ local[b]. Bones may come in any order."""
    deltas: list[np.ndarray | None] = [None] * len(parents)

    def delta(b: int) -> np.ndarray:
        if deltas[b] is None:
            p = int(parents[b])
            deltas[b] = own[b] if b in own else local[b] if p < 0 else delta(p) @ local[b]
        return deltas[b]

    return [delta(b) for b in range(len(parents))]


def _parent_delta(deltas: list[np.ndarray], parents: np.ndarray, bone: int) -> np.ndarray:
    return deltas[parents[bone]] if parents[bone] >= 0 else np.eye(3)


def smpl_globals(local_rotmats: np.ndarray) -> np.ndarray:
    """SMPL global rotations. local_rotmats: (J, 3, 3) in SMPL joint order, J <= 24 -> (J, 3, 3)."""
    globals_ = [local_rotmats[0]]
    for j in range(1, len(local_rotmats)):
        globals_.append(globals_[skeleton.PARENTS[j]] @ local_rotmats[j])
    return np.stack(globals_)


def read_smpl_locals(rest_rot, basis_rot, parents, joint_bones, frame) -> np.ndarray:
    """The pose on an armature as SMPL local rotations.

    Args:
        rest_rot, basis_rot: (B, 3, 3) Q and M of every bone; parents: (B,) bone index or -1.
        joint_bones: (22,) the bone index of each SMPL pose joint; frame: (3, 3) F.
    Returns:
        (22, 3, 3) local rotmats. Bones above the pelvis (a root bone) carry the whole body like the
        object transform does, so the global orientation is read relative to them.
    """
    deltas = _walk(parents, {}, _local_deltas(rest_rot, basis_rot))
    carrier = _parent_delta(deltas, parents, joint_bones[0])  # W
    globals_ = frame.T @ carrier.T @ np.stack([deltas[b] for b in joint_bones]) @ frame  # (22, 3, 3) G
    parent_globals = np.stack([np.eye(3)] + [globals_[skeleton.PARENTS[j]] for j in range(1, len(globals_))])
    return np.swapaxes(parent_globals, -1, -2) @ globals_


def bone_bases_from_smpl(local_rotmats, rest_rot, basis_rot, parents, joint_bones, frame) -> np.ndarray:
    """The pose-bone rotations M that make an armature's joints turn as the SMPL pose says.

    Args:
        local_rotmats: (22, 3, 3) SMPL local rotations to apply.
        rest_rot, basis_rot: (B, 3, 3) Q and current M of every bone; parents: (B,) bone index or -1.
        joint_bones: (22,) the bone index of each SMPL pose joint; frame: (3, 3) F.
    Returns:
        (22, 3, 3) new M for the joints' bones. Other bones keep their rotations; a bone between two
        joints (a twist or helper bone) is accounted for, and bones above the pelvis carry the body.
    """
    local = _local_deltas(rest_rot, basis_rot)
    carrier = _parent_delta(_walk(parents, {}, local), parents, joint_bones[0])  # W, unchanged by the pose
    wanted = carrier @ frame @ smpl_globals(local_rotmats) @ frame.T  # (22, 3, 3) D = W F G F^T
    deltas = _walk(parents, {b: wanted[j] for j, b in enumerate(joint_bones)}, local)
    q = rest_rot[joint_bones]  # (22, 3, 3)
    parent_deltas = np.stack([_parent_delta(deltas, parents, b) for b in joint_bones])
    return np.swapaxes(q, -1, -2) @ np.swapaxes(parent_deltas, -1, -2) @ wanted @ q


def blend_locals(current: np.ndarray, target: np.ndarray, factor: float, mask: np.ndarray) -> np.ndarray:
    """Move the masked joints from `current` towards `target` along the shortest rotation.

    current, target: (J, 3, 3); factor in [0, 1]; mask: (J,) bool. Returns (J, 3, 3).
    """
    step = rotations.rotmat_to_axis_angle(np.swapaxes(current, -1, -2) @ target) * factor  # (J, 3)
    moved = current @ rotations.axis_angle_to_rotmat(step)
    return np.where(np.asarray(mask, bool)[:, None, None], moved, current)
