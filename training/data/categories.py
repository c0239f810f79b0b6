"""Coarse pose categories for coverage reports and balanced sampling, read off the body states.

Each category is a union of whole-body states of `training.captioning.states` (whose definitions were checked
on contact sheets), so a standing crouch is `crouching`, not `sitting`, and an inverted V (downward dog) is
`other`, not `plank`. Poses with no whole-body state are `other`.
"""
import numpy as np

from backend.body.kinematics import pose_joints

CATEGORIES = ("standing", "bending", "lunging", "crouching", "squatting", "sitting", "kneeling", "lying", "plank",
              "all_fours", "inverted", "other")
# body state -> category; states not listed fall into "other"
STATE_CATEGORY = {
    "standing": "standing", "standing_left_leg": "standing", "standing_right_leg": "standing",
    "leaning_back": "standing", "bending_forward": "bending", "lunging_left": "lunging", "lunging_right": "lunging",
    "crouching": "crouching", "squatting": "squatting", "sitting_chair": "sitting", "sitting_floor": "sitting",
    "sitting_cross_legged": "sitting", "kneeling_left": "kneeling", "kneeling_right": "kneeling",
    "kneeling_both": "kneeling", "lying_back": "lying", "lying_front": "lying", "lying_side_left": "lying",
    "lying_side_right": "lying", "plank": "plank", "all_fours": "all_fours", "upside_down": "inverted",
    "handstand": "inverted",
}


def categorize_joints(joints: np.ndarray) -> np.ndarray:
    """(N, 24, 3) joint positions -> (N,) category names (from CATEGORIES)."""
    from training.captioning.states import BODY_STATES, STATE_INDEX, state_table

    states = state_table(joints)
    out = np.full(len(joints), "other", dtype=object)
    for name in reversed(BODY_STATES):  # the first state in BODY_STATES order wins, as in the states
        category = STATE_CATEGORY.get(name)
        if category:
            out[states[:, STATE_INDEX[name]]] = category
    return out


def categorize(axis_angle: np.ndarray) -> np.ndarray:
    """(N, 22, 3) poses -> (N,) category names."""
    return categorize_joints(pose_joints(axis_angle))
