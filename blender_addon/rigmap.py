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
from typing import cast

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
        found = deltas[b]
        if found is None:
            p = int(parents[b])
            found = deltas[b] = own[b] if b in own else local[b] if p < 0 else delta(p) @ local[b]
        return found

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
    moved = rotations.slerp_rotmat(current, target, factor)
    return np.where(np.asarray(mask, bool)[:, None, None], moved, current)


# ----- any humanoid rig: chains of bones per joint and rest poses that differ from SMPL's ------------
#
# A mapped bone b of joint j (chain position k of m) is turned to T_b = G_parent(j) @ L_j^(k/m) (the
# joint's global rotation for its last bone), times a rest alignment A_b: the smallest rotation taking the
# rig's rest direction of the bone to the SMPL rest direction of the joint. Its armature-space delta is
# D_b = W F T_b A_b F^T, so the bone points where the SMPL bone points and twists with the joint. With
# every A_b = I and one bone per joint this is exactly the SMPL path above.

MAIN_CHILD = {0: 3, 9: 12}  # joints with several children: the child that gives their direction
SPINE_LINE = (0, 3, 6, 9, 12, 15)  # pelvis, spine1..3, neck, head: where joints without bones get interpolated


def _main_child(j: int) -> int | None:
    if j in MAIN_CHILD:
        return MAIN_CHILD[j]
    kids = [k for k in skeleton.children(j) if k < NUM_POSE_JOINTS]
    return kids[0] if kids else None


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3, 3) turning direction a (3,) onto direction b (3,)."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis), float(np.dot(a, b))
    if sin < 1e-12:
        if cos > 0:
            return np.eye(3)
        other = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        axis = np.cross(a, other)
        return rotations.axis_angle_to_rotmat(axis / np.linalg.norm(axis) * np.pi)
    return rotations.axis_angle_to_rotmat(axis / sin * np.arctan2(sin, cos))


def joint_heads(chains: list, heads: np.ndarray) -> np.ndarray:
    """(22, 3) rest position of every joint: its first bone's head, else (no bone) the next joint's up
    the spine line. chains: (22,) lists of bone indices; heads: (B, 3)."""
    out = np.zeros((NUM_POSE_JOINTS, 3))
    for j in reversed(range(NUM_POSE_JOINTS)):
        if chains[j]:
            out[j] = heads[chains[j][0]]
        else:
            out[j] = out[_main_child(j)]  # only spine and neck joints may lack bones; their child comes later
    return out


def rest_alignments(chains: list, heads: np.ndarray, frame: np.ndarray, smpl_rest: np.ndarray) -> list:
    """A_b (3, 3) per chain bone, in the SMPL frame: chains (22,) lists of bone indices, heads (B, 3) rest
    heads in armature space, smpl_rest (24, 3) SMPL rest joints. End bones (head, toes, hands) keep the
    alignment of their parent joint, so they keep their rest angle to it."""
    points = joint_heads(chains, heads)
    size = np.ptp(points, axis=0).max()
    align: list[list[np.ndarray]] = [[] for _ in range(NUM_POSE_JOINTS)]
    for j in range(NUM_POSE_JOINTS):
        parent_align = align[skeleton.PARENTS[j]][-1] if j > 0 and align[skeleton.PARENTS[j]] else np.eye(3)
        child = _main_child(j)
        for k, bone in enumerate(chains[j]):
            if child is None:
                align[j].append(parent_align)
                continue
            target, smpl_target = None, None
            walker: int | None = child
            if k + 1 < len(chains[j]):
                target = heads[chains[j][k + 1]]
            while target is None or np.linalg.norm(target - heads[bone]) < 0.01 * size:
                if walker is None:
                    break
                target, smpl_target, walker = points[walker], smpl_rest[walker], _main_child(walker)
            if target is None or np.linalg.norm(target - heads[bone]) < 0.01 * size:
                align[j].append(parent_align)
                continue
            smpl_direction = (smpl_rest[child] if smpl_target is None else smpl_target) - smpl_rest[j]
            align[j].append(_rotation_between(frame.T @ (target - heads[bone]), smpl_direction))
    return align


def _power(rotmat: np.ndarray, fraction: float) -> np.ndarray:
    if fraction == 1.0:
        return rotmat
    return rotations.axis_angle_to_rotmat(rotations.rotmat_to_axis_angle(rotmat) * fraction)


def _plan(chains: list, align: list | None):
    """Flatten chains: (bone, joint, fraction, A) per mapped bone."""
    plan = []
    for j, chain in enumerate(chains):
        for k, bone in enumerate(chain):
            plan.append((bone, j, (k + 1) / len(chain), np.eye(3) if align is None else align[j][k]))
    return plan


def chain_targets(local_rotmats, carrier, chains, frame, align=None) -> list:
    """What every mapped bone's armature-space delta D_b should be for an SMPL pose.

    local_rotmats: (22, 3, 3) SMPL local rotations; carrier: (3, 3) W; chains: (22,) lists of bone indices;
    frame: F; align: `rest_alignments` or None. Returns [(bone index, joint, (3, 3) D_b)] root-most first.
    """
    globals_ = smpl_globals(local_rotmats)
    out = []
    for bone, j, fraction, a in _plan(chains, align):
        parent_global = globals_[skeleton.PARENTS[j]] if j > 0 else np.eye(3)
        target = globals_[j] if fraction == 1.0 else parent_global @ _power(local_rotmats[j], fraction)
        out.append((bone, j, carrier @ frame @ target @ a @ frame.T))
    return out


def chain_bases_from_smpl(local_rotmats, rest_rot, basis_rot, parents, chains, frame, align=None):
    """Pose-bone rotations M for every mapped bone (the chain form of `bone_bases_from_smpl`), for rigs
    whose bones follow their parents without constraints (Blender solves constrained rigs bone by bone).

    Args:
        local_rotmats: (22, 3, 3) SMPL local rotations; rest_rot, basis_rot: (B, 3, 3) Q and current M;
        parents: (B,); chains: (22,) lists of bone indices; frame: F; align: `rest_alignments` or None.
    Returns:
        list of (bone index, joint, (3, 3) M) for every mapped bone.
    """
    local = _local_deltas(rest_rot, basis_rot)
    carrier = _parent_delta(_walk(parents, {}, local), parents, chains[0][0])  # W
    targets = chain_targets(local_rotmats, carrier, chains, frame, align)
    wanted = {bone: d for bone, _, d in targets}
    deltas = _walk(parents, wanted, local)
    return [(bone, j, rest_rot[bone].T @ _parent_delta(deltas, parents, bone).T @ d @ rest_rot[bone])
            for bone, j, d in targets]


def read_chain_locals(rest_rot, basis_rot, parents, chains, frame, align=None) -> np.ndarray:
    """The SMPL pose (22, 3, 3) local rotations of a mapped rig (the chain form of `read_smpl_locals`)."""
    deltas = np.stack(_walk(parents, {}, _local_deltas(rest_rot, basis_rot)))
    return locals_from_deltas(deltas, parents, chains, frame, align)


def locals_from_deltas(deltas, parents, chains, frame, align=None) -> np.ndarray:
    """SMPL local rotations (22, 3, 3) from every bone's armature-space delta D (B, 3, 3). A joint without
    bones (a spine or neck joint the rig lacks) gets its share of the rotation between its neighbours on
    the spine line."""
    carrier = _parent_delta(deltas, parents, chains[0][0])
    globals_: list[np.ndarray | None] = [None] * NUM_POSE_JOINTS
    for j, chain in enumerate(chains):
        if chain:
            a = np.eye(3) if align is None else align[j][-1]
            globals_[j] = frame.T @ carrier.T @ deltas[chain[-1]] @ frame @ a.T
    line = list(SPINE_LINE)
    for i, j in enumerate(line):
        if globals_[j] is None:
            below = max(k for k in range(i) if globals_[line[k]] is not None)
            above = min(k for k in range(i + 1, len(line)) if globals_[line[k]] is not None)
            low, high = globals_[line[below]], globals_[line[above]]
            assert low is not None and high is not None  # chosen among the set ones
            globals_[j] = low @ _power(low.T @ high, (i - below) / (above - below))
    stacked = np.stack(cast(list[np.ndarray], globals_))  # every joint is set by now
    parent_globals = np.stack([np.eye(3)] + [stacked[skeleton.PARENTS[j]] for j in range(1, NUM_POSE_JOINTS)])
    return np.swapaxes(parent_globals, -1, -2) @ stacked


def posed_directions(local_rotmats: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """(22, 3) unit directions in armature axes of the SMPL bones (joint -> main child, end joints: their
    parent's) for a pose, with W = I: what a mapped rig's bones should point along."""
    globals_ = smpl_globals(local_rotmats)
    rest = np.asarray(skeleton.NEUTRAL_REST_JOINTS)
    out = np.zeros((NUM_POSE_JOINTS, 3))
    for j in range(NUM_POSE_JOINTS):
        child = _main_child(j)
        direction = rest[child] - rest[j] if child is not None else rest[j] - rest[skeleton.PARENTS[j]]
        g = globals_[j] if child is not None else globals_[skeleton.PARENTS[j]]
        out[j] = frame @ g @ (direction / np.linalg.norm(direction))
    return out
