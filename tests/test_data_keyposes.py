"""Hand-built key poses and body + arm-set combinations have the states they are named for."""
import numpy as np
import pytest

from training.captioning.states import BODY_STATES, STATES, pose_states, state_names
from training.data.augment import mirror
from training.data.keyposes import (
    ARM_SETS, ASYMMETRIC, COMBINATIONS, KEYPOSES, combination, keypose, perturbed_combinations, perturbed_keyposes,
)

EXPECTED = {
    "t_pose": {"standing", "t_arms"}, "a_pose": {"standing", "a_arms"}, "standing": {"standing", "arms_down"},
    "contrapposto": {"standing"}, "lying_on_back": {"lying_back"}, "lying_on_front": {"lying_front"},
    "lying_on_side": {"lying_side_left"}, "lying_on_side_head_on_arm": {"lying_side_left"},
    "kneeling_on_both_knees": {"kneeling_both"}, "kneeling_on_one_knee": {"kneeling_right"},
    "sitting_on_heels": {"kneeling_both"}, "sitting_cross_legged": {"sitting_cross_legged"},
    "sitting_on_floor_legs_straight": {"sitting_floor"}, "sitting_on_chair": {"sitting_chair"},
    "sitting_on_chair_hands_on_knees": {"sitting_chair"}, "sitting_on_chair_armrests": {"sitting_chair"},
    "sitting_on_chair_legs_crossed": {"sitting_chair"}, "squatting": {"squatting"}, "crouching": {"crouching"},
    "lunge": {"lunging_left", "arms_up"}, "warrior_one": {"lunging_left", "arms_up"}, "warrior_two": {"t_arms"},
    "triangle": {"right_arm_up"}, "tree_pose": {"standing_right_leg", "arms_up"},
    "tree_pose_praying": {"standing_right_leg", "hands_together"}, "standing_on_one_leg": {"standing_right_leg"},
    "downward_dog": {"downward_dog"}, "plank": {"plank"}, "push_up": {"plank"}, "push_up_down": {"plank"},
    "sit_up": {"hands_on_head"}, "crawling": {"all_fours"},
    "bending_to_touch_toes": {"bending_forward", "touching_toes", "reaching_down"},
    "bending_forward": {"bending_forward", "hands_on_hips"}, "bending_low": {"bending_forward", "reaching_down"},
    "reaching_down_to_floor": {"bending_forward", "reaching_down"}, "leaning_back": {"leaning_back", "arms_up"},
    "looking_over_shoulder": {"standing"}, "tuck_jump": {"jumping"}, "handstand": {"handstand", "upside_down"},
    "lying_on_back_arms_overhead": {"lying_back"}, "lying_on_back_knees_up": {"lying_back"},
    "sitting_leaning_back_on_hands": {"sitting_floor"}, "table_top": {"all_fours"},
    # no whole-body state names these (cobra is not "lying face down", child's pose not "lying", a bridge not
    # "lying on the back"): their short texts must not call them anything
    "cobra": set(), "childs_pose": set(), "bridge": set(),
}
# arm set -> the arm state it makes on an upright body
ARM_STATE = {"arms_up": "arms_up", "t_arms": "t_arms", "a_arms": "a_arms", "arms_forward": "arms_forward",
             "arms_crossed": "arms_crossed", "hands_on_hips": "hands_on_hips", "hands_on_head": "hands_on_head",
             "praying_hands": "hands_together", "pointing_left_forward": "pointing_left",
             "pointing_left_side": "pointing_left", "waving_left": "waving_left", "left_arm_up": "left_arm_up",
             "saluting_right": "saluting_right", "thinking_right": "thinking_right",
             "arms_down": "arms_down"}
UPRIGHT_BODIES = {"standing": "standing", "kneeling_on_both_knees": "kneeling_both",
                  "kneeling_on_one_knee": "kneeling_right", "sitting_on_chair_hands_on_knees": "sitting_chair",
                  "sitting_cross_legged": "sitting_cross_legged"}
_MIRROR = {"left": "right", "right": "left"}


def _mirrored(state: str) -> str:
    return "_".join(_MIRROR.get(part, part) for part in state.split("_"))


def test_every_key_pose_is_checked():
    assert set(EXPECTED) == set(KEYPOSES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_key_pose_states(name):
    pose = keypose(name)[None]
    held = set(state_names(pose_states(pose)[0]))
    assert EXPECTED[name] <= held, held
    if not EXPECTED[name]:
        assert not held & set(BODY_STATES), held
    if name in ASYMMETRIC:
        mirrored = set(state_names(pose_states(mirror(pose))[0]))
        assert {_mirrored(s) for s in EXPECTED[name]} <= mirrored


@pytest.mark.parametrize("body", sorted(UPRIGHT_BODIES))
def test_arm_sets_on_upright_bodies(body):
    for arms, state in ARM_STATE.items():
        held = set(state_names(pose_states(combination(body, arms)[None])[0]))
        assert {UPRIGHT_BODIES[body], state} <= held, (body, arms, held)


def test_combinations_name_known_parts():
    assert set(COMBINATIONS) <= set(KEYPOSES)
    assert {a for sets in COMBINATIONS.values() for a in sets} <= set(ARM_SETS)


def test_perturbed_copies_keep_their_states():
    poses, names = perturbed_keyposes(3, seed=1)
    states = pose_states(poses)
    first = {}
    for row, name in zip(states, names):
        first.setdefault(name, row)
        assert np.all(row >= first[name]), name  # every state of the unperturbed pose is kept
    assert len(set(names)) == len(KEYPOSES) + len(ASYMMETRIC)
    combos, combo_names = perturbed_combinations(2, seed=1)
    assert len(combos) == len(combo_names) >= len(set(combo_names))
    assert len(STATES) == states.shape[1]


def _mismatches() -> list[str]:
    names = sorted(EXPECTED)
    states = pose_states(np.stack([keypose(n) for n in names]))
    return [n for n, row in zip(names, states) if not EXPECTED[n] <= set(state_names(row))]


def test_mutant_definition_is_caught_by_the_key_poses(monkeypatch):
    """Texts are true by construction of the definitions, so a wrong definition must be caught here: with a
    "knee on the floor" threshold of 0.6 m a crouch counts as kneeling, and the key poses say so."""
    from training.captioning import states

    assert not _mismatches()
    monkeypatch.setitem(states.THRESHOLDS, "knee_down_m", 0.6)
    assert "crouching" in _mismatches()
