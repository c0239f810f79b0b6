"""Retarget a BVH skeleton onto SMPL's 22 pose joints, judged by geometry.

A skeleton map (JSON under `skeleton_maps/`) says which BVH joint (or a point between two joints) sits where each
SMPL joint sits, plus optional markers (eyes, index/pinky knuckles, thumb tip, head top) that fix the
twist of the head and hands. The retargeter never reads the BVH's joint frames, only world positions,
so rigs with odd rest poses or bone-aligned local frames (Character Creator) work like T-pose rigs:

1. world positions of the mapped points, converted to the SMPL frame (up axis found from the motion);
2. per SMPL joint, in tree order, the global rotation that points its primary child bone exactly along
   the BVH bone, with the twist about that bone taken from a secondary direction: the hip line and
   shoulder line for the pelvis and spine, the limb's bend plane for hips/knees/shoulders/elbows (so
   knees and elbows come out as hinges), eyes and knuckles for head and hands; where no secondary is
   defined (or a limb is straight) the joint keeps its parent's twist (minimal local rotation);
3. local = parent^T @ global, then axis-angle.

Collar joints are placed by SMPL's proportions in the spine3 frame rather than taken from the rig, and
a skeleton map may add a constant head pitch: rigs put the clavicle start and the eyes in different places.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.body.kinematics import forward_kinematics
from backend.body.rotations import rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX, JOINT_NAMES, NEUTRAL_REST_JOINTS, PARENTS
from training.data.bvh import Bvh

SKELETON_MAP_DIR = Path(__file__).parent / "skeleton_maps"
REST = NEUTRAL_REST_JOINTS  # (24, 3)
LIMB_BONES = ("left_hip", "right_hip", "left_knee", "right_knee", "left_shoulder", "right_shoulder",
              "left_elbow", "right_elbow")  # the parent end of the four long bones of each side
# Rest-pose direction of each marker from the joint it moves with (SMPL frame, T-pose, palms down).
EYE_MID_FROM_HEAD = np.array([0.0, 0.06, 0.09])
BEND_FULL_WEIGHT_DEG = (15.0, 35.0)  # a limb bent less than 15 deg gives no twist cue, above 35 full


class SkeletonMapError(ValueError):
    """A skeleton map that does not fit the BVH skeleton."""


@dataclass
class SkeletonMap:
    name: str
    joints: dict  # SMPL joint name -> BVH joint name or {"lerp": [a, b, t]}
    markers: dict  # marker name -> BVH joint name
    detect: list
    head_pitch_deg: float = 0.0  # constant forward tilt added to the head (eye markers sit differently per rig)

    @classmethod
    def load(cls, path: str | Path) -> "SkeletonMap":
        data = json.loads(Path(path).read_text())
        return cls(data["name"], data["joints"], data.get("markers", {}), data.get("detect", []),
                   float(data.get("head_pitch_deg", 0.0)))


def builtin_skeleton_maps() -> list[SkeletonMap]:
    return [SkeletonMap.load(p) for p in sorted(SKELETON_MAP_DIR.glob("*.json"))]


def detect_skeleton_map(bvh: Bvh, skeleton_maps: list[SkeletonMap] | None = None) -> SkeletonMap:
    """The first skeleton map whose `detect` names all occur in the BVH and whose joints all resolve."""
    names = set(bvh.names)
    for skeleton_map in skeleton_maps or builtin_skeleton_maps():
        needed = set(skeleton_map.detect) | set(_referenced_names(skeleton_map.joints.values()))
        if needed <= names:
            return skeleton_map
    raise SkeletonMapError("no skeleton map fits this skeleton; add one under training/data/skeleton_maps/")


def _referenced_names(specs) -> list[str]:
    out = []
    for spec in specs:
        out.extend(spec["lerp"][:2] if isinstance(spec, dict) else [spec])
    return out


def _point(positions: np.ndarray, bvh: Bvh, spec) -> np.ndarray:
    """positions (T, J, 3) -> (T, 3) for a joint name or {"lerp": [a, b, t]}."""
    if isinstance(spec, dict):
        a, b, t = spec["lerp"]
        return (1 - t) * positions[:, bvh.index(a)] + t * positions[:, bvh.index(b)]
    return positions[:, bvh.index(spec)]


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _axis_rotation(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues for unit axes. axis (..., 3), angle (...) -> (..., 3, 3)."""
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2)
    s, c = np.sin(angle)[..., None, None], np.cos(angle)[..., None, None]
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def swing_rotation(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Smallest rotation taking unit u to unit v. (..., 3), (..., 3) -> (..., 3, 3)."""
    axis = np.cross(u, v)
    sin = np.linalg.norm(axis, axis=-1)
    cos = np.sum(u * v, axis=-1)
    # antiparallel: any axis perpendicular to u
    fallback = np.cross(u, np.where(np.abs(u[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))
    axis = np.where((sin < 1e-6)[..., None], fallback, axis)
    return _axis_rotation(_normalize(axis), np.arctan2(sin, cos))


def align(reference: np.ndarray, primary_rest: np.ndarray, primary: np.ndarray,
          secondary_rest: np.ndarray | None = None, secondary: np.ndarray | None = None,
          weight: np.ndarray | float = 1.0) -> np.ndarray:
    """Global rotation (T, 3, 3) that maps primary_rest exactly onto the primary direction.

    Starts from `reference` (T, 3, 3) swung minimally; then twists about the primary direction by
    `weight` times the angle that best brings secondary_rest onto the secondary direction (both taken
    perpendicular to the primary). Directions: rest (3,), targets (T, 3).
    """
    p = _normalize(primary)
    rotated = reference @ _normalize(primary_rest)
    rot = swing_rotation(rotated, p) @ reference
    if secondary is None:
        return rot
    s_now = rot @ secondary_rest  # (T, 3)
    s_now = s_now - np.sum(s_now * p, -1, keepdims=True) * p
    s_tgt = secondary - np.sum(secondary * p, -1, keepdims=True) * p
    valid = (np.linalg.norm(s_now, axis=-1) > 1e-6) & (np.linalg.norm(s_tgt, axis=-1) > 1e-6)
    angle = np.arctan2(np.sum(np.cross(s_now, s_tgt) * p, -1), np.sum(s_now * s_tgt, -1))
    angle = np.where(valid, angle * weight, 0.0)
    return _axis_rotation(p, angle) @ rot


def _bend_weight(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """0 for a straight limb, rising to 1 once it bends BEND_FULL_WEIGHT_DEG[1]. (T, 3) x2 -> (T,)."""
    angle = np.degrees(np.arccos(np.clip(np.sum(_normalize(upper) * _normalize(lower), -1), -1, 1)))
    lo, hi = BEND_FULL_WEIGHT_DEG
    return np.clip((angle - lo) / (hi - lo), 0.0, 1.0)


def up_axis_rotation(points: np.ndarray) -> np.ndarray:
    """(3, 3) rotation taking the BVH world to a +Y-up frame, from mapped SMPL points (T, 24, 3).

    The up axis is the signed coordinate axis nearest to the mean pelvis-to-neck direction.
    """
    up = np.mean(_normalize(points[:, JOINT_INDEX["neck"]] - points[:, JOINT_INDEX["pelvis"]]), axis=0)
    k = int(np.argmax(np.abs(up)))
    axis = np.zeros(3)
    axis[k] = np.sign(up[k])
    if k == 1:
        return np.eye(3) if axis[1] > 0 else np.diag([-1.0, -1.0, 1.0])
    return swing_rotation(axis, np.array([0.0, 1.0, 0.0]))


def mapped_points(bvh: Bvh, skeleton_map: SkeletonMap) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """World positions of the 24 SMPL joints (T, 24, 3) and the markers {name: (T, 3)}, BVH frame."""
    positions = bvh.world_positions()
    points = np.stack([_point(positions, bvh, skeleton_map.joints[name]) for name in JOINT_NAMES], axis=1)
    markers = {k: _point(positions, bvh, v) for k, v in skeleton_map.markers.items() if v in bvh.names}
    return points, markers


def _vec(points: np.ndarray, a: str, b: str) -> np.ndarray:
    return points[:, JOINT_INDEX[b]] - points[:, JOINT_INDEX[a]]


def _rest(a: str, b: str) -> np.ndarray:
    return REST[JOINT_INDEX[b]] - REST[JOINT_INDEX[a]]


def place_collars(points: np.ndarray, spine3_rot: np.ndarray) -> np.ndarray:
    """Move the collar targets to where SMPL's proportions put them in the spine3 frame. (T, 24, 3) -> copy.

    Rigs disagree on where the clavicle starts (at the sternum, at the spine, beside it), which would
    otherwise turn every collar (and with it the shoulder) by a rig-dependent constant.
    """
    out = points.copy()
    spine3, neck = JOINT_INDEX["spine3"], JOINT_INDEX["neck"]
    scale = np.linalg.norm(points[:, neck] - points[:, spine3], axis=-1) / np.linalg.norm(REST[neck] - REST[spine3])
    for side in ("left", "right"):
        c = JOINT_INDEX[f"{side}_collar"]
        out[:, c] = points[:, spine3] + scale[:, None] * (spine3_rot @ (REST[c] - REST[spine3]))
    return out


def solve_global_rotations(points: np.ndarray, markers: dict[str, np.ndarray],
                           head_pitch_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Global rotations (T, 22, 3, 3) of SMPL's pose joints from target positions (T, 24, 3), SMPL frame.

    Returns the rotations and the targets actually used (collars placed by `place_collars`)."""
    t = points.shape[0]
    g: dict[str, np.ndarray] = {}
    eye = np.broadcast_to(np.eye(3), (t, 3, 3))
    hip_line, hip_line_rest = _vec(points, "right_hip", "left_hip"), _rest("right_hip", "left_hip")
    sh_line, sh_line_rest = (_vec(points, "right_shoulder", "left_shoulder"),
                             _rest("right_shoulder", "left_shoulder"))
    hip_dir, sh_dir = _normalize(hip_line), _normalize(sh_line)

    # the pelvis tilt follows the lower torso (pelvis to spine3), not the first spine segment, whose
    # direction depends on where each rig puts its lumbar joint
    g["pelvis"] = align(eye, hip_line_rest, hip_line, _rest("pelvis", "spine3"), _vec(points, "pelvis", "spine3"))
    for joint, child, mix in (("spine1", "spine2", 1 / 3), ("spine2", "spine3", 2 / 3), ("spine3", "neck", 1.0)):
        parent = JOINT_NAMES[PARENTS[JOINT_INDEX[joint]]]
        across = (1 - mix) * hip_dir + mix * sh_dir
        g[joint] = align(g[parent], _rest(joint, child), _vec(points, joint, child), sh_line_rest, across)

    points = place_collars(points, g["spine3"])
    has_eyes = "left_eye" in markers and "right_eye" in markers
    eyes = markers["left_eye"] - markers["right_eye"] if has_eyes else None
    g["neck"] = align(g["spine3"], _rest("neck", "head"), _vec(points, "neck", "head"),
                      np.array([1.0, 0.0, 0.0]) if has_eyes else None, eyes, 0.5)
    head = points[:, JOINT_INDEX["head"]]
    if has_eyes:
        eye_mid = 0.5 * (markers["left_eye"] + markers["right_eye"]) - head
        g["head"] = align(g["neck"], np.array([1.0, 0.0, 0.0]), eyes, EYE_MID_FROM_HEAD, eye_mid)
    elif "head_top" in markers:
        g["head"] = align(g["neck"], np.array([0.0, 1.0, 0.0]), markers["head_top"] - head)
    else:
        g["head"] = g["neck"]
    if head_pitch_deg:
        g["head"] = g["head"] @ _axis_rotation(np.array([1.0, 0.0, 0.0]), np.radians(head_pitch_deg))

    for side in ("left", "right"):
        g[f"{side}_collar"] = align(g["spine3"], _rest(f"{side}_collar", f"{side}_shoulder"),
                                    _vec(points, f"{side}_collar", f"{side}_shoulder"))
        for root, mid, end, parent, bend in (
            ("shoulder", "elbow", "wrist", f"{side}_collar", np.array([0.0, 0.0, 1.0])),
            ("hip", "knee", "ankle", "pelvis", np.array([0.0, 0.0, -1.0])),
        ):
            a, b, c = f"{side}_{root}", f"{side}_{mid}", f"{side}_{end}"
            upper, lower = _vec(points, a, b), _vec(points, b, c)
            normal = np.cross(upper, lower)
            normal_rest = np.cross(_normalize(_rest(a, b)), bend)  # the hinge axis of a forward/back bend
            weight = _bend_weight(upper, lower)
            g[a] = align(g[parent], _rest(a, b), upper, normal_rest, normal, weight)
            g[b] = align(g[a], _rest(b, c), lower, normal_rest, normal, weight)
        g[f"{side}_ankle"] = align(g[f"{side}_knee"], _rest(f"{side}_ankle", f"{side}_foot"),
                                   _vec(points, f"{side}_ankle", f"{side}_foot"))
        g[f"{side}_foot"] = g[f"{side}_ankle"]
        across = None
        if f"{side}_index" in markers and f"{side}_pinky" in markers:
            across = markers[f"{side}_index"] - markers[f"{side}_pinky"]
        elif f"{side}_thumb" in markers:
            across = markers[f"{side}_thumb"] - points[:, JOINT_INDEX[f"{side}_wrist"]]
        g[f"{side}_wrist"] = align(g[f"{side}_elbow"], _rest(f"{side}_wrist", f"{side}_hand"),
                                   _vec(points, f"{side}_wrist", f"{side}_hand"),
                                   np.array([0.0, 0.0, 1.0]) if across is not None else None, across)
    return np.stack([g[name] for name in JOINT_NAMES[:22]], axis=1), points


def global_to_local(global_rot: np.ndarray) -> np.ndarray:
    """(T, 22, 3, 3) global -> local rotations (local = parent^T @ global)."""
    local = global_rot.copy()
    for j in range(1, global_rot.shape[1]):
        local[:, j] = np.swapaxes(global_rot[:, PARENTS[j]], -1, -2) @ global_rot[:, j]
    return local


@dataclass
class Retargeted:
    axis_angle: np.ndarray  # (T, 22, 3) local rotations, SMPL frame
    transl: np.ndarray  # (T, 3) pelvis position, SMPL frame, metres
    target_joints: np.ndarray  # (T, 24, 3) the BVH's mapped joint positions, SMPL frame, pelvis at 0
    skeleton_map: str


def retarget(bvh: Bvh, skeleton_map: SkeletonMap | None = None) -> Retargeted:
    """BVH motion -> SMPL pose per frame."""
    skeleton_map = skeleton_map or detect_skeleton_map(bvh)
    points, markers = mapped_points(bvh, skeleton_map)
    to_smpl = up_axis_rotation(points)
    points = points @ to_smpl.T
    markers = {k: v @ to_smpl.T for k, v in markers.items()}
    global_rot, points = solve_global_rotations(points, markers, skeleton_map.head_pitch_deg)
    local = global_to_local(global_rot)
    pelvis = points[:, :1]
    return Retargeted(rotmat_to_axis_angle(local), pelvis[:, 0], points - pelvis, skeleton_map.name)


def bone_direction_errors(axis_angle: np.ndarray, target_joints: np.ndarray) -> dict[str, np.ndarray]:
    """Angle (degrees) between each posed SMPL bone and the matching BVH bone, per frame.

    axis_angle (T, 22, 3), target_joints (T, 24, 3). Keys: 'parent->child'. Bones of zero length in the
    BVH skeleton are left out.
    """
    from backend.body.kinematics import pad_pose_rotmats
    from backend.body.rotations import axis_angle_to_rotmat

    joints, _ = forward_kinematics(pad_pose_rotmats(axis_angle_to_rotmat(axis_angle)))
    errors = {}
    for child in range(1, 24):
        parent = PARENTS[child]
        target = target_joints[:, child] - target_joints[:, parent]
        if np.median(np.linalg.norm(target, axis=-1)) < 1e-3:
            continue
        posed = _normalize(joints[:, child] - joints[:, parent])
        cos = np.clip(np.sum(posed * _normalize(target), -1), -1.0, 1.0)
        errors[f"{JOINT_NAMES[parent]}->{JOINT_NAMES[child]}"] = np.degrees(np.arccos(cos))
    return errors
