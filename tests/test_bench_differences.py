"""Difference-text scoring (training/benchmarks/edits.py, score_differences) on example poses: the corpus's own
instruction for a pair is read and true from A to B, not true of the pair the other way round, and a text the
parser cannot read counts as not true."""
import numpy as np

from backend.body.example_poses import EXAMPLE_POSES
from training.benchmarks.edits import score_differences
from training.captioning.instructions import instruct

ARMS_DOWN, ARMS_UP = EXAMPLE_POSES["standing_arms_down"], EXAMPLE_POSES["arms_raised"]


def test_a_true_difference_is_read_and_true_and_reversed_it_is_not():
    text = instruct(ARMS_DOWN, ARMS_UP, n=1)[0]
    assert score_differences([text], ARMS_DOWN[None], ARMS_UP[None]) == {
        "readable": 100.0, "all_true": 100.0, "facts_true": 100.0}
    backward = score_differences([text], ARMS_UP[None], ARMS_DOWN[None])
    assert backward["readable"] == 100.0 and backward["all_true"] == 0.0 and backward["facts_true"] == 0.0


def test_an_unreadable_text_counts_as_not_true():
    text = instruct(ARMS_DOWN, ARMS_UP, n=1)[0]
    scores = score_differences(["Dance the tango.", text], np.stack([ARMS_DOWN] * 2), np.stack([ARMS_UP] * 2))
    assert scores == {"readable": 50.0, "all_true": 50.0, "facts_true": 100.0}
