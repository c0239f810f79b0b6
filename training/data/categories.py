"""Coarse pose categories from joint geometry, for coverage reports and balanced sampling.

Works on joint positions in the SMPL frame (+Y up). Heights are measured above the lowest joint, since a
pose carries no ground contact; thresholds are for the project's 1.7 m neutral skeleton.
"""
import numpy as np

from backend.body.kinematics import pose_joints
from backend.body.skeleton import JOINT_INDEX

CATEGORIES = ("standing", "bending", "lunging", "squatting", "sitting", "kneeling", "lying", "plank", "all_fours",
              "inverted", "other")
_J = JOINT_INDEX


def _incline_deg(joints: np.ndarray) -> np.ndarray:
    """Angle between the torso (pelvis -> neck) and +Y, degrees. (N, 24, 3) -> (N,)."""
    torso = joints[:, _J["neck"]] - joints[:, _J["pelvis"]]
    cos = torso[:, 1] / np.maximum(np.linalg.norm(torso, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def categorize_joints(joints: np.ndarray) -> np.ndarray:
    """(N, 24, 3) joint positions -> (N,) category names (from CATEGORIES)."""
    ground = joints[:, :, 1].min(axis=1)
    height = joints[:, :, 1] - ground[:, None]  # (N, 24)
    pelvis = height[:, _J["pelvis"]]
    knee = np.minimum(height[:, _J["left_knee"]], height[:, _J["right_knee"]])
    knee_mean = 0.5 * (height[:, _J["left_knee"]] + height[:, _J["right_knee"]])
    hands = height[:, [_J["left_wrist"], _J["right_wrist"], _J["left_hand"], _J["right_hand"]]].min(-1)
    feet = height[:, [_J["left_ankle"], _J["right_ankle"], _J["left_foot"], _J["right_foot"]]].min(-1)
    incline = _incline_deg(joints)
    left = joints[:, _J["left_hip"]] - joints[:, _J["right_hip"]]
    front = np.cross(left, joints[:, _J["neck"]] - joints[:, _J["pelvis"]])  # +Z for the rest pose
    face_down = front[:, 1] / np.maximum(np.linalg.norm(front, axis=-1), 1e-9) < -0.5
    thigh = joints[:, [_J["left_knee"], _J["right_knee"]]] - joints[:, [_J["left_hip"], _J["right_hip"]]]
    thigh_flat = np.abs(thigh[..., 1]) / np.maximum(np.linalg.norm(thigh, axis=-1), 1e-9) < 0.5  # (N, 2)

    out = np.full(len(joints), "other", dtype=object)
    upright = incline < 50
    out[upright & (pelvis > 0.75)] = "standing"
    out[upright & (pelvis <= 0.75) & thigh_flat.any(-1)] = "sitting"
    out[upright & (pelvis <= 0.75) & (pelvis < knee_mean + 0.02) & (feet < 0.15)] = "squatting"
    out[upright & (pelvis < 0.25)] = "sitting"  # on the floor
    out[upright & (knee < 0.12) & (pelvis > 0.25)] = "kneeling"
    stance = np.linalg.norm(joints[:, _J["left_ankle"]] - joints[:, _J["right_ankle"]], axis=-1)
    out[upright & (pelvis <= 0.8) & (pelvis > 0.25) & (stance > 0.6) & (knee >= 0.12)] = "lunging"
    horizontal = (incline >= 50) & (incline <= 130)
    rules = (  # first match wins
        ("all_fours", face_down & (hands < 0.1) & (knee < 0.15) & (pelvis > 0.3)),
        ("plank", face_down & (hands < 0.12) & (feet < 0.15) & (pelvis > 0.2) & (knee > 0.15)),
        ("lying", pelvis <= 0.35),
        ("bending", (feet < 0.15) & (pelvis > 0.55)),
    )
    decided = ~horizontal
    for name, rule in rules:
        hit = horizontal & rule & ~decided
        out[hit] = name
        decided |= hit
    out[horizontal & ~decided] = "other"
    out[incline > 130] = "inverted"
    return out


def categorize(axis_angle: np.ndarray) -> np.ndarray:
    """(N, 22, 3) poses -> (N,) category names."""
    return categorize_joints(pose_joints(axis_angle))
