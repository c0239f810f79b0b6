"""Edit scoring (training/benchmarks/edits.py) on hand-made poses: a result that does what the instruction
says is followed, one that does not is not, and joints the instruction does not name count as drift."""
import numpy as np
import pytest

from backend.body.example_poses import EXAMPLE_POSES, pose_from_statements
from backend.body.skeleton import JOINT_INDEX
from training.benchmarks.edits import (
    EVERYDAY_EDITS, named_limbs, score_edit, start_poses, summarize, unnamed_joints,
)
from backend.facts.parse import parse_instruction
from backend.facts.posecodes import AMBIGUOUS, POSECODE_INDEX, POSECODES, compute_posecodes, pose_geometry

ARMS_DOWN = EXAMPLE_POSES["standing_arms_down"]
DOWN = {"left_shoulder": [("z", -78)], "right_shoulder": [("z", 78)],
        "left_elbow": [("y", -10)], "right_elbow": [("y", 10)]}
RIGHT_ARM_UP = pose_from_statements({**DOWN, "right_shoulder": [("z", -80)], "right_elbow": [("y", 0)]})
RIGHT_ARM_UP_KNEE_BENT = pose_from_statements({**DOWN, "right_shoulder": [("z", -80)], "right_elbow": [("y", 0)],
                                               "left_hip": [("x", -40)], "left_knee": [("x", 70)]})
LEFT_ARM_UP = pose_from_statements({**DOWN, "left_shoulder": [("z", 80)], "left_elbow": [("y", 0)]})
RAISE_RIGHT = [("relpos_y:right_wrist:head", "to:above")]


def test_everyday_table_is_possible_from_its_start_poses():
    """Each fact is clear on its start pose and can still change the way it says."""
    assert len(EVERYDAY_EDITS) >= 30
    starts = start_poses()
    names = sorted(starts)
    codes = dict(zip(names, compute_posecodes(*pose_geometry(np.stack([starts[n] for n in names]).astype(np.float64)))))
    for edit in EVERYDAY_EDITS:
        for name, change in edit.facts:
            k = POSECODE_INDEX[name]
            a = int(codes[edit.start][k])
            assert a != AMBIGUOUS, (edit.instruction, name)
            direction, _, category = change.partition(":")
            if direction == "to":
                assert POSECODES[k].categories[a] != category, edit.instruction
            elif direction == "from":
                assert POSECODES[k].categories[a] == category, edit.instruction
            else:
                assert (a < len(POSECODES[k].categories) - 1) if change == "more" else a > 0, edit.instruction


def test_a_correct_edit_is_followed_without_drift():
    score = score_edit(ARMS_DOWN, RIGHT_ARM_UP, RAISE_RIGHT)
    assert score.followed and score.facts_held == score.facts == 1
    assert score.drift_cm == pytest.approx(0.0, abs=0.5)


@pytest.mark.parametrize("result", [ARMS_DOWN, LEFT_ARM_UP])
def test_a_wrong_edit_is_not_followed(result):
    assert not score_edit(ARMS_DOWN, result, RAISE_RIGHT).followed


def test_moving_a_joint_the_instruction_does_not_name_is_drift():
    score = score_edit(ARMS_DOWN, RIGHT_ARM_UP_KNEE_BENT, RAISE_RIGHT)
    assert score.followed and score.drift_cm > 3.0
    assert score_edit(ARMS_DOWN, LEFT_ARM_UP, RAISE_RIGHT).drift_cm > 3.0   # the other arm moved


def test_corpus_instructions_read_as_facts_and_scored():
    facts = parse_instruction("Bend your left knee more.")
    assert facts == [("angle:left_knee", "less")]
    bent = pose_from_statements({**DOWN, "left_knee": [("x", 80)]})
    assert score_edit(ARMS_DOWN, bent, facts).followed
    assert not score_edit(bent, ARMS_DOWN, facts).followed


def test_named_limbs():
    assert named_limbs(RAISE_RIGHT) == {"right_arm", "head"}
    assert named_limbs([("angle:left_knee", "less")]) == {"left_leg"}
    assert named_limbs([("super:kneeling", "to:yes")]) is None
    assert named_limbs([("incline_fwd:torso", "more")]) is None
    joints = unnamed_joints([("angle:left_elbow", "less")])
    assert JOINT_INDEX["left_wrist"] not in joints and JOINT_INDEX["right_wrist"] in joints
    assert JOINT_INDEX["pelvis"] not in joints
    assert score_edit(ARMS_DOWN, EXAMPLE_POSES["squat"], [("super:squatting", "to:yes")]).drift_cm is None


def test_summary():
    scores = [score_edit(ARMS_DOWN, RIGHT_ARM_UP, RAISE_RIGHT), score_edit(ARMS_DOWN, ARMS_DOWN, RAISE_RIGHT),
              score_edit(ARMS_DOWN, RIGHT_ARM_UP_KNEE_BENT, RAISE_RIGHT)]
    s = summarize(scores)
    assert s["followed"] == pytest.approx(200 / 3)
    assert s["with_drift"] == 3 and s["drift_p90"] > s["drift_p50"] >= 0.0
