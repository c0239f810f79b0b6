"""BlazePose world landmarks -> SMPL pose by direct inverse kinematics (bone-direction alignment).

A geometric baseline (how much pose the landmarks alone carry) and a fallback initialisation. Each body
part's global frame is fitted to two landmark directions with the TRIAD construction (a primary direction
matched exactly, a secondary one as closely as possible), e.g. the thigh to the thigh direction and the
knee's hinge axis; local rotations follow from parent and child frames. Spine and neck bends are spread
evenly over their joints; collars and feet (ball joints) stay at rest; points with low visibility leave
their joint at rest. The result's global orientation is relative to the camera: in the camera-aligned
SMPL frame (+X image right, +Y image up, the body facing +Z when it faces the camera).
"""
import numpy as np

from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS
from backend.vision.landmarks.definitions import pose_landmarks_smpl
from backend.vision.landmarks.schema import LANDMARK_INDEX, PoseLandmarks

CAMERA_TO_VIEW = np.diag([1.0, -1.0, -1.0])  # BlazePose camera axes (x right, y down, z away) -> SMPL-like
_REST = pose_landmarks_smpl(np.zeros((NUM_POSE_JOINTS, 3)))  # (33, 3)
_MIN_VISIBILITY = 0.3
_MIN_BEND = np.deg2rad(12.0)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(np.linalg.norm(v), 1e-9)


def triad(rest_primary, rest_secondary, primary, secondary) -> np.ndarray:
    """The rotation taking rest_primary exactly onto primary and rest_secondary as near secondary. (3, 3)"""
    def frame(a, b):
        a = _unit(a)
        c = _unit(np.cross(a, b))
        return np.stack([a, np.cross(c, a), c], axis=1)  # columns

    return frame(primary, secondary) @ frame(rest_primary, rest_secondary).T


def minimal_rotation(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction `source` onto `target`. (3, 3)"""
    a, b = _unit(source), _unit(target)
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis), float(np.clip(a @ b, -1.0, 1.0))
    if sin < 1e-9:
        if cos > 0:
            return np.eye(3)
        axis = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
    return axis_angle_to_rotmat(_unit(axis) * np.arctan2(sin, cos))


def _fraction(rotmat: np.ndarray, fraction: float) -> np.ndarray:
    return axis_angle_to_rotmat(rotmat_to_axis_angle(rotmat) * fraction)


def landmarks_to_pose(landmarks: PoseLandmarks) -> np.ndarray:
    """PoseLandmarks -> (22, 3) axis-angle; global orientation relative to the camera (module docstring)."""
    points = landmarks.world.astype(np.float64) @ CAMERA_TO_VIEW.T  # (33, 3)
    seen = landmarks.visibility >= _MIN_VISIBILITY
    p = {name: points[i] for name, i in LANDMARK_INDEX.items()}
    r = {name: _REST[i] for name, i in LANDMARK_INDEX.items()}
    ok = {name: bool(seen[i]) for name, i in LANDMARK_INDEX.items()}

    def mid(source, a, b):
        return (source[a] + source[b]) / 2

    local = np.tile(np.eye(3), (NUM_POSE_JOINTS, 1, 1))  # (22, 3, 3)
    up = mid(p, "left_shoulder", "right_shoulder") - mid(p, "left_hip", "right_hip")
    rest_up = mid(r, "left_shoulder", "right_shoulder") - mid(r, "left_hip", "right_hip")
    pelvis = triad(r["left_hip"] - r["right_hip"], rest_up, p["left_hip"] - p["right_hip"], up)
    torso = triad(r["left_shoulder"] - r["right_shoulder"], rest_up, p["left_shoulder"] - p["right_shoulder"], up)
    local[0] = pelvis
    spine_step = _fraction(pelvis.T @ torso, 1 / 3)
    for name in ("spine1", "spine2", "spine3"):
        local[JOINT_INDEX[name]] = spine_step
    head = torso
    if ok["left_ear"] and ok["right_ear"] and ok["nose"]:
        head = triad(r["left_ear"] - r["right_ear"], r["nose"] - mid(r, "left_ear", "right_ear"),
                     p["left_ear"] - p["right_ear"], p["nose"] - mid(p, "left_ear", "right_ear"))
    neck_step = _fraction(torso.T @ head, 1 / 2)
    local[JOINT_INDEX["neck"]] = local[JOINT_INDEX["head"]] = neck_step

    for side in ("left", "right"):
        _fit_limb(local, pelvis, p, r, ok, f"{side}_hip", f"{side}_knee", f"{side}_ankle", np.array([1.0, 0, 0]),
                  lambda a, b: np.cross(a, b))
        sign = -1.0 if side == "left" else 1.0
        upper = _fit_limb(local, torso, p, r, ok, f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist",
                          np.array([0, 1.0, 0]), lambda a, b, s=sign: s * np.cross(a, b))
        shin = _child_frame(local, pelvis, f"{side}_hip", f"{side}_knee")
        if ok[f"{side}_heel"] and ok[f"{side}_foot_index"]:
            foot = p[f"{side}_foot_index"] - p[f"{side}_heel"]
            rest_foot = r[f"{side}_foot_index"] - r[f"{side}_heel"]
            local[JOINT_INDEX[f"{side}_ankle"]] = minimal_rotation(rest_foot, shin.T @ foot)
        hand = ("index", "pinky")
        if upper is not None and all(ok[f"{side}_{h}"] for h in hand):
            forearm = upper @ local[JOINT_INDEX[f"{side}_elbow"]]
            direction = mid(p, f"{side}_index", f"{side}_pinky") - p[f"{side}_wrist"]
            rest_direction = mid(r, f"{side}_index", f"{side}_pinky") - r[f"{side}_wrist"]
            across = p[f"{side}_index"] - p[f"{side}_pinky"]
            rest_across = r[f"{side}_index"] - r[f"{side}_pinky"]
            palm = triad(rest_direction, rest_across, direction, across)
            local[JOINT_INDEX[f"{side}_wrist"]] = forearm.T @ palm
    return rotmat_to_axis_angle(local).astype(np.float32)


def _fit_limb(local, parent_global, p, r, ok, root, middle, end, rest_hinge, hinge_of) -> np.ndarray | None:
    """Set the local rotations of a two-bone limb (root joint, middle joint); returns the upper bone's global
    frame, or None when the limb is not seen well enough."""
    if not (ok[root] and ok[middle]):
        return None
    a, rest_a = p[middle] - p[root], r[middle] - r[root]
    hinge = hinge_of(_unit(a), _unit(p[end] - p[middle])) if ok[end] else np.zeros(3)
    bend = np.arcsin(np.clip(np.linalg.norm(hinge), 0.0, 1.0))
    if bend > _MIN_BEND and hinge @ (parent_global @ rest_hinge) > -0.2:
        upper = triad(rest_a, rest_hinge, a, hinge)
    else:  # straight (or ambiguous) limb: swing only, twist from the parent
        upper = minimal_rotation(parent_global @ rest_a, a) @ parent_global
    local[JOINT_INDEX[root]] = parent_global.T @ upper
    if ok[end]:
        local[JOINT_INDEX[middle]] = minimal_rotation(r[end] - r[middle], upper.T @ (p[end] - p[middle]))
    return upper


def _child_frame(local, parent_global, root, middle) -> np.ndarray:
    return parent_global @ local[JOINT_INDEX[root]] @ local[JOINT_INDEX[middle]]
