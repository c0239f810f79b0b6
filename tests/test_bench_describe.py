"""Statement truth scoring of pose descriptions (training/benchmarks/statements.py) on hand-made poses:
true statements pass, false ones fail, unreadable clauses are not true, salient facts count as covered
only when they are stated."""
import numpy as np
import pytest

from _bench_poses import pose
from backend.body.example_poses import EXAMPLE_POSES, pose_from_statements
from training.benchmarks.statements import (
    PoseFacts, fact_is_true, read_statements, salient_facts, score_description, summarize,
)
from training.captioning.captions import caption_pose

ARMS_DOWN = EXAMPLE_POSES["standing_arms_down"]
ARMS_UP = EXAMPLE_POSES["arms_raised"]


def _facts(pose) -> PoseFacts:
    return PoseFacts.of_poses(np.asarray(pose)[None])[0]


@pytest.mark.parametrize("name", ["t_pose", "arms_raised", "sitting", "squat", "lunge", "waving_right_hand"])
def test_generated_captions_are_all_true(name):
    pose = EXAMPLE_POSES[name]
    for caption in caption_pose(pose, n=3, seed=1):
        score = score_description(caption, _facts(pose))
        assert score.statements > 0 and score.true == score.statements and score.unreadable == 0, caption


@pytest.mark.parametrize("text, pose, true", [
    ("The left hand is raised above the head.", ARMS_UP, True),
    ("The left hand is raised above the head.", ARMS_DOWN, False),
    ("The right hand is higher than the right shoulder.", ARMS_DOWN, False),
    ("The person is lying on their back.", pose("lying_on_back"), True),
    ("The person is lying on their back.", ARMS_DOWN, False),
    ("Someone is kneeling.", pose("kneeling_on_both_knees"), True),
    ("Someone is kneeling.", pose("sitting_on_chair"), False),
    ("The knees are bent at a right angle.", pose("sitting_on_chair"), True),
    ("The knees are straight.", pose("sitting_on_chair"), False),
    ("The hands are close together.", ARMS_DOWN, False),
])
def test_a_statement_is_judged_on_the_pose(text, pose, true):
    score = score_description(text, _facts(pose))
    assert score.statements >= 1 and (score.true == score.statements) == true


def test_near_a_border_either_neighbouring_category_is_true():
    """Elbow bent 18 deg (interior 162, the straight/slightly-bent border is 160 +- 5): both readings are true,
    'partially bent' is clearly false."""
    facts = _facts(pose_from_statements({"left_elbow": [("y", -18)]}))
    assert fact_is_true(("angle:left_elbow", "straight"), facts)
    assert fact_is_true(("angle:left_elbow", "slightly bent"), facts)
    assert not fact_is_true(("angle:left_elbow", "partially bent"), facts)


def test_unreadable_clauses_count_as_statements_that_are_not_true():
    text = "The left hand is raised above the head. The person dances gracefully, and the vibes are good."
    read = read_statements(text)
    assert read.facts == [("relpos_y:left_wrist:head", "above")]
    assert len(read.unreadable) == 2
    score = score_description(text, _facts(ARMS_UP))
    assert (score.statements, score.true, score.unreadable) == (3, 1, 2)
    assert score_description("", _facts(ARMS_UP)).statements == 0


def test_coverage_counts_stated_salient_facts():
    kneel = _facts(pose("kneeling_on_both_knees"))
    assert ("super:kneeling", "yes") in salient_facts(kneel.codes)
    assert not any(name == "ground:left_knee" for name, _ in salient_facts(kneel.codes))  # implied by kneeling
    assert score_description("The person is kneeling.", kneel).covered == 1
    assert score_description("The left hand is below the left shoulder.", kneel).covered == 0
    up = _facts(ARMS_UP)
    assert set(salient_facts(up.codes)) >= {("relpos_y:left_wrist:head", "above"),
                                            ("relpos_y:right_wrist:head", "above")}
    assert score_description("The hands are raised above the head.", up).covered == 2
    assert salient_facts(_facts(ARMS_DOWN).codes) == []   # nothing unusual to mention


def test_summary_is_micro_averaged():
    up = _facts(ARMS_UP)
    scores = [score_description("The left hand is raised above the head.", up),
              score_description("The left hand is below the waist. The hands are above the head.", up)]
    s = summarize(scores)
    assert s["true"] == pytest.approx(100 * 3 / 4)
    assert s["covered"] == pytest.approx(100 * 3 / 4)
    assert s["statements_per_text"] == 2.0
