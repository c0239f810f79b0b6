"""Posecodes: categorical facts about a pose computed from its 3D joints (PoseScript-style).

Every posecode measures one number per pose (an elbow angle, a distance between two joints, a height
difference, ...) and bins it into named categories. A value closer than `margin` to a category border is
*ambiguous* (code -1): captions only state clear facts, so each stated category holds with room to spare.

Frames. Up/down is always the world's +Y. Left/right and front/back are the body's own: the left axis is
the hip axis (right hip -> left hip); the front axis is perpendicular to it and to a "body up" that is the
world up for upright bodies and the torso direction for lying or inverted ones (blended in between), so
"in front of" means in front of the torso whether the person stands, lies on their back or does a handstand,
and the global yaw never matters.

Super-posecodes (kneeling, lying on the back, squatting, ...) are conjunctions of clear base categories,
so they are clear when all their conditions are clear and clearly false when one condition is.
"""
from dataclasses import dataclass

import numpy as np

from backend.body.skeleton import JOINT_INDEX

AMBIGUOUS = -1
UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class Posecode:
    """One measured quantity and its categories.

    `thresholds` are the ascending borders between `categories` (len(categories) - 1 of them); `said` lists
    the categories worth stating in a caption (the others are facts too, used for pairs and supers).
    """

    name: str  # "angle:left_knee", "relpos_y:left_wrist:head", "super:kneeling"
    kind: str
    joints: tuple[str, ...]
    categories: tuple[str, ...]
    thresholds: tuple[float, ...]
    margin: float
    said: tuple[str, ...]

    def category_index(self, category: str) -> int:
        return self.categories.index(category)


ANGLE = (("completely bent", "almost completely bent", "bent at a right angle", "partially bent",
          "slightly bent", "straight"), (45.0, 75.0, 105.0, 135.0, 160.0), 5.0)
DISTANCE = (("close", "shoulder width", "spread", "wide"), (0.20, 0.40, 0.80), 0.05)
# clear beyond +-0.15 m, "same level" inside +-0.05 m (the PoseScript figures)
RELPOS = {
    "relpos_x": ("right of", "level", "left of"),
    "relpos_y": ("below", "level", "above"),
    "relpos_z": ("behind", "level", "in front of"),
}
RELPOS_THRESHOLDS, RELPOS_MARGIN = (-0.10, 0.10), 0.05
PITCH = (("vertical", "oblique", "horizontal"), (15.0, 75.0), 5.0)  # angle from vertical, degrees
GROUND = (("on ground", "off ground"), (0.15,), 0.05)  # height above the lowest joint, metres


def _side(name: str) -> tuple[str, ...]:
    return (f"left_{name}", f"right_{name}")


def _build_posecodes() -> tuple[Posecode, ...]:
    codes: list[Posecode] = []

    def add(kind, joints, spec, said):
        cats, thr, margin = spec
        codes.append(Posecode(":".join((kind,) + tuple(joints)), kind, tuple(joints), cats, thr, margin,
                              tuple(said)))

    for joint in _side("elbow") + _side("knee"):
        add("angle", (joint,), ANGLE, ANGLE[0])
    for part in ("wrist", "elbow", "knee", "ankle"):  # left vs right: every category is worth saying
        add("distance", _side(part), DISTANCE, DISTANCE[0])
    near_pairs = [("wrist", "head"), ("wrist", "hip"), ("wrist", "knee"), ("wrist", "ankle")]
    for side, other in (("left", "right"), ("right", "left")):
        for a, b in near_pairs:
            add("distance", (f"{side}_{a}", "head" if b == "head" else f"{side}_{b}"), DISTANCE, ("close",))
        add("distance", (f"{side}_wrist", f"{other}_shoulder"), DISTANCE, ("close",))
        add("distance", (f"{side}_ankle", f"{other}_knee"), DISTANCE, ("close",))

    def relpos(kind, a, b, said):
        add(kind, (a, b), (RELPOS[kind], RELPOS_THRESHOLDS, RELPOS_MARGIN), said)

    relpos("relpos_x", "left_wrist", "right_wrist", ("right of",))  # crossed hands
    relpos("relpos_x", "left_ankle", "right_ankle", ("right of",))  # crossed legs
    relpos("relpos_x", "left_wrist", "left_shoulder", ("left of",))  # hand out to the side
    relpos("relpos_x", "right_wrist", "right_shoulder", ("right of",))
    for s in ("left", "right"):
        relpos("relpos_y", f"{s}_wrist", "head", ("above",))
        relpos("relpos_y", f"{s}_wrist", f"{s}_shoulder", ("above", "below"))
        relpos("relpos_y", f"{s}_wrist", "pelvis", ("above", "below"))
        relpos("relpos_y", f"{s}_elbow", f"{s}_shoulder", ("above",))
        relpos("relpos_y", f"{s}_knee", f"{s}_hip", ("above",))
        relpos("relpos_y", f"{s}_ankle", f"{s}_knee", ("above",))
        relpos("relpos_y", f"{s}_ankle", "pelvis", ("above",))
    relpos("relpos_y", "left_ankle", "right_ankle", ("above", "below"))
    relpos("relpos_y", "head", "pelvis", ("below",))
    for s in ("left", "right"):
        relpos("relpos_z", f"{s}_wrist", "spine3", ("in front of", "behind"))
        relpos("relpos_z", f"{s}_elbow", "spine3", ("behind",))
        relpos("relpos_z", f"{s}_ankle", "pelvis", ("in front of", "behind"))
    relpos("relpos_z", "left_ankle", "right_ankle", ("in front of", "behind"))
    for limb in ("upper_arm", "forearm", "thigh", "shin"):
        for joint in _side(limb):
            add("pitch", (joint,), PITCH, ("vertical", "horizontal"))
    for joint in _side("wrist") + _side("elbow") + _side("knee") + ("head",):
        add("ground", (joint,), GROUND, ("on ground",))
    # helpers for the super-posecodes and pairs; the torso ones are also said in captions
    add("torso_tilt", ("torso",), (("upright", "tilted", "horizontal", "tilted down", "upside down"),
                                   (25.0, 65.0, 115.0, 155.0), 5.0), ("horizontal", "upside down"))
    add("incline_fwd", ("torso",), (("backward", "upright", "forward", "far forward"),
                                    (-12.0, 12.0, 35.0), 4.0), ("backward", "upright", "forward", "far forward"))
    add("incline_side", ("torso",), (("right", "upright", "left"), (-12.0, 12.0), 4.0), ("right", "left"))
    add("pelvis_height", ("pelvis",), (("ground", "low", "high"), (0.20, 0.65), 0.05), ())
    add("torso_height", ("torso",), (("ground", "low", "high"), (0.35, 0.80), 0.05), ())
    add("facing", ("torso",), (("down", "sideways", "up"), (-0.7, 0.7), 0.1), ())
    add("hip_axis", ("pelvis",), (("right up", "level", "left up"), (-0.7, 0.7), 0.1), ())
    add("head_turn", ("head",), (("right", "straight", "left"), (-25.0, 25.0), 5.0), ("right", "left"))
    add("head_pitch", ("head",), (("down", "level", "up"), (-20.0, 20.0), 5.0), ("down", "up"))
    add("head_tilt", ("head",), (("right", "straight", "left"), (-15.0, 15.0), 5.0), ("right", "left"))
    return tuple(codes)


BASE_POSECODES: tuple[Posecode, ...] = _build_posecodes()

# Super-posecodes: name -> conditions (base posecode name, allowed categories); all must hold clearly.
_BENT = ("completely bent", "almost completely bent", "bent at a right angle", "partially bent")
_DEEP = ("completely bent", "almost completely bent")
SUPER_CONDITIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "kneeling": (("ground:left_knee", ("on ground",)), ("ground:right_knee", ("on ground",)),
                 ("angle:left_knee", _BENT), ("angle:right_knee", _BENT), ("torso_tilt:torso", ("upright",)),
                 ("pelvis_height:pelvis", ("low", "high"))),
    "kneeling_left": (("ground:left_knee", ("on ground",)), ("ground:right_knee", ("off ground",)),
                      ("angle:left_knee", _BENT), ("torso_tilt:torso", ("upright",))),
    "kneeling_right": (("ground:right_knee", ("on ground",)), ("ground:left_knee", ("off ground",)),
                       ("angle:right_knee", _BENT), ("torso_tilt:torso", ("upright",))),
    "all_fours": (("ground:left_knee", ("on ground",)), ("ground:right_knee", ("on ground",)),
                  ("ground:left_wrist", ("on ground",)), ("ground:right_wrist", ("on ground",)),
                  ("torso_tilt:torso", ("horizontal",)), ("facing:torso", ("down",)),
                  ("pelvis_height:pelvis", ("low", "high"))),
    "lying_back": (("torso_tilt:torso", ("horizontal",)), ("facing:torso", ("up",)),
                   ("torso_height:torso", ("ground",))),
    "lying_front": (("torso_tilt:torso", ("horizontal",)), ("facing:torso", ("down",)),
                    ("torso_height:torso", ("ground",))),
    "lying_left_side": (("torso_tilt:torso", ("horizontal",)), ("hip_axis:pelvis", ("right up",)),
                        ("torso_height:torso", ("ground",))),
    "lying_right_side": (("torso_tilt:torso", ("horizontal",)), ("hip_axis:pelvis", ("left up",)),
                         ("torso_height:torso", ("ground",))),
    "squatting": (("angle:left_knee", _DEEP), ("angle:right_knee", _DEEP), ("ground:left_knee", ("off ground",)),
                  ("ground:right_knee", ("off ground",)), ("pelvis_height:pelvis", ("low",)),
                  ("torso_tilt:torso", ("upright", "tilted"))),
    "sitting": (("pitch:left_thigh", ("horizontal",)), ("pitch:right_thigh", ("horizontal",)),
                ("angle:left_knee", ("almost completely bent", "bent at a right angle", "partially bent")),
                ("angle:right_knee", ("almost completely bent", "bent at a right angle", "partially bent")),
                ("torso_tilt:torso", ("upright",)), ("pelvis_height:pelvis", ("low",))),
    "sitting_floor": (("pelvis_height:pelvis", ("ground",)), ("torso_tilt:torso", ("upright",))),
    "arms_crossed": (("relpos_x:left_wrist:right_wrist", ("right of",)), ("angle:left_elbow", _BENT),
                     ("angle:right_elbow", _BENT), ("relpos_z:left_wrist:spine3", ("in front of",)),
                     ("relpos_z:right_wrist:spine3", ("in front of",))),
    "arms_out": (("pitch:left_upper_arm", ("horizontal",)), ("pitch:right_upper_arm", ("horizontal",)),
                 ("angle:left_elbow", ("straight",)), ("angle:right_elbow", ("straight",)),
                 ("relpos_x:left_wrist:left_shoulder", ("left of",)),
                 ("relpos_x:right_wrist:right_shoulder", ("right of",))),
    "standing_left_leg": (("relpos_y:left_ankle:right_ankle", ("below",)), ("torso_tilt:torso", ("upright",)),
                          ("pelvis_height:pelvis", ("high",)), ("angle:left_knee", ("slightly bent", "straight"))),
    "standing_right_leg": (("relpos_y:left_ankle:right_ankle", ("above",)), ("torso_tilt:torso", ("upright",)),
                           ("pelvis_height:pelvis", ("high",)), ("angle:right_knee", ("slightly bent", "straight"))),
}

SUPER_POSECODES: tuple[Posecode, ...] = tuple(
    Posecode(f"super:{name}", "super", (name,), ("no", "yes"), (0.5,), 0.0, ("yes",)) for name in SUPER_CONDITIONS
)
POSECODES: tuple[Posecode, ...] = BASE_POSECODES + SUPER_POSECODES
POSECODE_INDEX: dict[str, int] = {p.name: i for i, p in enumerate(POSECODES)}
NUM_POSECODES = len(POSECODES)
LIMB_JOINTS = {"upper_arm": ("shoulder", "elbow"), "forearm": ("elbow", "wrist"), "thigh": ("hip", "knee"),
               "shin": ("knee", "ankle")}


def _j(name: str) -> int:
    return JOINT_INDEX[name]


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1)


def _orthogonal(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Unit part of v (N, 3) perpendicular to the unit axis (N, 3)."""
    return _normalize(v - _dot(v, axis)[:, None] * axis)


def body_frame(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The body's left and front axes and how upright the body is.

    joints: (N, 24, 3) -> left (N, 3), front (N, 3) unit vectors, upright (N,) in [0, 1]: 1 when the
    torso or the whole body is within 30 deg of vertical (front is then horizontal), 0 beyond 60 deg
    (front is then the torso's own front).
    """
    left = _normalize(joints[:, _j("left_hip")] - joints[:, _j("right_hip")])
    torso = _normalize(joints[:, _j("neck")] - joints[:, _j("pelvis")])
    feet = 0.5 * (joints[:, _j("left_ankle")] + joints[:, _j("right_ankle")])
    whole = _normalize(joints[:, _j("neck")] - feet)
    # weight of the world up: 1 when the torso or the whole body is within 30 deg of vertical, 0 beyond 60
    upright = np.maximum(torso[:, 1], whole[:, 1])
    w = np.clip((upright - 0.5) / (np.cos(np.radians(30)) - 0.5), 0.0, 1.0)[:, None]
    body_up = _orthogonal(w * UP + (1.0 - w) * torso, left)
    return left, np.cross(left, body_up), w[:, 0]


def torso_frame(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper-torso axes from the collars and spine: left, up, front, each (N, 3)."""
    left = _normalize(joints[:, _j("left_collar")] - joints[:, _j("right_collar")])
    up = _orthogonal(joints[:, _j("neck")] - joints[:, _j("spine1")], left)
    return left, up, np.cross(left, up)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between vectors (N, 3), degrees."""
    return np.degrees(np.arccos(np.clip(_dot(_normalize(a), _normalize(b)), -1.0, 1.0)))


def posecode_values(joints: np.ndarray, head_forward: np.ndarray | None = None) -> np.ndarray:
    """The measured value of every base posecode.

    Args:
        joints: (N, 24, 3) joint positions in the SMPL frame (+Y up), any global yaw and translation.
        head_forward: optional (N, 3) unit direction the face points to (the head's +Z); without it the
            head turn and pitch are NaN (unknown).
    Returns:
        (N, len(BASE_POSECODES)) float64; NaN where a posecode does not apply.
    """
    joints = np.asarray(joints, dtype=np.float64)
    n = joints.shape[0]
    left, front, upright = body_frame(joints)
    t_left, t_up, t_front = torso_frame(joints)
    height = joints[..., 1] - joints[..., 1].min(axis=1, keepdims=True)  # (N, 24) above the lowest joint
    torso = _normalize(joints[:, _j("neck")] - joints[:, _j("pelvis")])
    # yaw-only frame for the incline: horizontal left axis, horizontal front
    left_h = _normalize(left * np.array([1.0, 0.0, 1.0]))
    front_h = np.cross(left_h, UP)
    level_hips = np.abs(left[:, 1]) < 0.5
    tilt = _angle_deg(torso, np.broadcast_to(UP, torso.shape))
    values = np.full((n, len(BASE_POSECODES)), np.nan)
    for k, code in enumerate(BASE_POSECODES):
        idx = [_j(name) for name in code.joints if name in JOINT_INDEX]
        if code.kind == "angle":
            parent, child = (("shoulder", "wrist") if "elbow" in code.joints[0] else ("hip", "ankle"))
            side = code.joints[0].split("_")[0]
            mid = joints[:, idx[0]]
            values[:, k] = _angle_deg(joints[:, _j(f"{side}_{parent}")] - mid, joints[:, _j(f"{side}_{child}")] - mid)
        elif code.kind == "distance":
            values[:, k] = np.linalg.norm(joints[:, idx[0]] - joints[:, idx[1]], axis=-1)
        elif code.kind in RELPOS:
            diff = joints[:, idx[0]] - joints[:, idx[1]]
            axis = {"relpos_x": left, "relpos_y": np.broadcast_to(UP, left.shape), "relpos_z": front}[code.kind]
            values[:, k] = _dot(diff, axis)
            if code.kind == "relpos_z":  # "in front of" reads wrongly for lying, bent or inverted bodies
                values[:, k] = np.where(upright >= 1.0, values[:, k], np.nan)
        elif code.kind == "pitch":
            side, limb = code.joints[0].split("_", 1)
            a, b = LIMB_JOINTS[limb]
            values[:, k] = _angle_deg(joints[:, _j(f"{side}_{b}")] - joints[:, _j(f"{side}_{a}")],
                                      np.broadcast_to(UP, left.shape))
            values[:, k] = np.minimum(values[:, k], 180.0 - values[:, k])
        elif code.kind == "ground":
            values[:, k] = height[:, idx[0]]
        elif code.kind == "torso_tilt":
            values[:, k] = tilt
        elif code.kind == "incline_fwd":
            values[:, k] = np.where(level_hips & (tilt < 70), np.degrees(np.arctan2(_dot(torso, front_h), torso[:, 1])),
                                    np.nan)
        elif code.kind == "incline_side":
            values[:, k] = np.where(level_hips & (tilt < 70), np.degrees(np.arctan2(_dot(torso, left_h), torso[:, 1])),
                                    np.nan)
        elif code.kind == "pelvis_height":
            values[:, k] = height[:, _j("pelvis")]
        elif code.kind == "torso_height":
            values[:, k] = height[:, [_j("pelvis"), _j("spine3"), _j("neck")]].max(axis=1)
        elif code.kind == "facing":
            values[:, k] = (np.cross(left, torso)[:, 1]
                            / np.maximum(np.linalg.norm(np.cross(left, torso), axis=-1), 1e-9))
        elif code.kind == "hip_axis":
            values[:, k] = left[:, 1]
        elif code.kind == "head_tilt":
            neck_head = joints[:, _j("head")] - joints[:, _j("neck")]
            values[:, k] = np.degrees(np.arctan2(_dot(neck_head, t_left), _dot(neck_head, t_up)))
        elif code.kind in ("head_turn", "head_pitch") and head_forward is not None:
            hf = _normalize(np.asarray(head_forward, dtype=np.float64))
            if code.kind == "head_turn":
                values[:, k] = np.degrees(np.arctan2(_dot(hf, t_left), _dot(hf, t_front)))
            else:
                values[:, k] = np.degrees(np.arcsin(np.clip(_dot(hf, t_up), -1.0, 1.0)))
    return values


def categorize(values: np.ndarray, codes: tuple[Posecode, ...] = BASE_POSECODES) -> np.ndarray:
    """Bin values (N, K) into category indices (N, K) int8; AMBIGUOUS near a border or for NaN."""
    out = np.full(values.shape, AMBIGUOUS, dtype=np.int8)
    for k, code in enumerate(codes):
        v = values[:, k]
        thr = np.asarray(code.thresholds)
        cat = np.searchsorted(thr, v)
        near = np.min(np.abs(v[:, None] - thr[None, :]), axis=1) < code.margin
        out[:, k] = np.where(np.isnan(v) | near, AMBIGUOUS, cat)
    return out


def super_codes(base: np.ndarray) -> np.ndarray:
    """Super-posecodes from base codes (N, len(BASE_POSECODES)) -> (N, len(SUPER_POSECODES)) int8.

    1 when every condition clearly holds, 0 when one clearly fails, AMBIGUOUS otherwise.
    """
    out = np.empty((base.shape[0], len(SUPER_POSECODES)), dtype=np.int8)
    for s, conditions in enumerate(SUPER_CONDITIONS.values()):
        holds = np.ones(base.shape[0], dtype=bool)
        fails = np.zeros(base.shape[0], dtype=bool)
        for name, allowed in conditions:
            code = POSECODES[POSECODE_INDEX[name]]
            col = base[:, POSECODE_INDEX[name]]
            ok = np.isin(col, [code.category_index(c) for c in allowed])
            holds &= ok
            fails |= (col != AMBIGUOUS) & ~ok
        out[:, s] = np.where(holds, 1, np.where(fails, 0, AMBIGUOUS))
    return out


def compute_posecodes(joints: np.ndarray, head_forward: np.ndarray | None = None) -> np.ndarray:
    """All posecodes (base then super) of a batch: joints (N, 24, 3) -> (N, NUM_POSECODES) int8 categories."""
    base = categorize(posecode_values(joints, head_forward))
    return np.concatenate([base, super_codes(base)], axis=1)


def pose_geometry(axis_angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joints and face direction of poses. axis_angle (N, 22, 3) -> joints (N, 24, 3), head_forward (N, 3)."""
    from backend.body.kinematics import forward_kinematics, pad_pose_rotmats
    from backend.body.rotations import axis_angle_to_rotmat

    rotmats = pad_pose_rotmats(axis_angle_to_rotmat(np.asarray(axis_angle, dtype=np.float64)))
    joints, global_rot = forward_kinematics(rotmats)
    return joints, global_rot[:, _j("head"), :, 2]
