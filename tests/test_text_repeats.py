"""Text answers leave out sentences and clauses that repeat an earlier one (backend/model/repeats.py)."""
import torch

from backend.model import UniPose
from backend.model.decoding import Generated
from backend.model.repeats import without_repeated_clauses
from backend.model.vocab import POSE_PLACEHOLDER
from support.tiny_model import make_tiny_checkpoint


def test_a_repeated_sentence_is_left_out():
    text = ("The right hand is higher than the right shoulder. The right hand is higher than the right shoulder. "
            "The left hand is higher than the waist.")
    assert without_repeated_clauses(text) == ("The right hand is higher than the right shoulder. "
                                              "The left hand is higher than the waist.")


def test_a_repeated_clause_is_left_out_and_its_sentence_mended():
    text = ("The left hand is to the left of the left shoulder. The left hand is to the left of the left shoulder; "
            "the right hand is to the right of the right shoulder. The right hand is higher than the waist, "
            "the left hand is to the left of the left shoulder, and the left knee is bent.")
    assert without_repeated_clauses(text) == (
        "The left hand is to the left of the left shoulder. The right hand is to the right of the right shoulder. "
        "The right hand is higher than the waist, and the left knee is bent.")


def test_a_fact_said_again_in_other_words_is_left_out():
    text = ("The left hand is out to the left of the left shoulder. The right hand is raised above the waist. "
            "The left hand is to the left of the left shoulder.")
    assert without_repeated_clauses(text) == ("The left hand is out to the left of the left shoulder. "
                                              "The right hand is raised above the waist.")


def test_a_clause_whose_facts_were_stated_is_left_out():
    text = ("The hands are below the shoulders. The left hand is below the left shoulder, "
            "the right hand is in front of the chest.")
    assert without_repeated_clauses(text) == ("The hands are below the shoulders. "
                                              "The right hand is in front of the chest.")


def test_a_clause_that_leans_on_its_neighbour_is_kept():
    # cut at "and", "the left" reads as nothing on its own, so the sentence is judged by its words
    text = "The right hand is above the head. The left and right hands are above the head."
    assert without_repeated_clauses(text) is text


def test_a_text_without_repeats_is_returned_exactly():
    for text in ("Both hands are above the pelvis; the hands are below the shoulders while the right forearm is "
                 "parallel to the ground. The hands are forward of the chest.", "  Here it is: ", "",
                 "Left, right and left again."):
        assert without_repeated_clauses(text) is text


def test_the_model_leaves_repeats_out_of_each_text_piece_and_keeps_its_poses(tmp_path):
    model = UniPose.from_pretrained(make_tiny_checkpoint(tmp_path, seed=0), dtype="float32")
    said = model.text_tokenizer.encode("The left knee is bent. The left knee is bent. ", add_special_tokens=False)
    codes = torch.zeros(model.vocab.num_pose_tokens, dtype=torch.long)
    output = model._task_output([Generated(pieces=[said, codes, said], code_probs=[None], unguided=[None])])
    assert output.text == f"The left knee is bent.{POSE_PLACEHOLDER}The left knee is bent."
    assert len(output.poses) == 1 and output.poses[0].shape == (22, 3)
