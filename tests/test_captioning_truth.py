"""Every emitted statement is true of its pose (or pair), checked two ways: the facts the generator
recorded must hold, and an independent parse of the text must give back exactly those facts."""

import numpy as np
import pytest

from training.captioning import captions, instructions
from training.captioning.captions import caption_batch, caption_pose, caption_records
from training.captioning.instructions import instruct, instruction_records
from training.captioning.paircodes import pair_fact_holds, select_pairs
from backend.facts.parse import ParseError, parse_caption, parse_instruction
from backend.facts.posecodes import POSECODE_INDEX, POSECODES, compute_posecodes, pose_geometry
from support.random_poses import sample_poses


def _poses(n_random: int, seed: int) -> np.ndarray:
    from training.data.keyposes import perturbed_keyposes

    key, _ = perturbed_keyposes(8, seed=seed)  # lying, kneeling, yoga... which random sampling misses
    return np.concatenate([sample_poses(n_random, seed=seed), key])


def caption_errors(poses: np.ndarray, n: int = 3) -> list[str]:
    codes = compute_posecodes(*pose_geometry(poses))
    errors = []
    for i in range(len(poses)):
        for text, facts in caption_records(codes[i], n, seed=i):
            for name, cat in facts:
                k = POSECODE_INDEX[name]
                if codes[i, k] < 0 or POSECODES[k].categories[codes[i, k]] != cat:
                    errors.append(f"false {name}={cat}: {text}")
            try:
                parsed = parse_caption(text)
            except ParseError as error:
                errors.append(f"unparsable ({error}): {text}")
                continue
            if sorted(parsed) != sorted(facts):
                errors.append(f"says {sorted(set(parsed) ^ set(facts))}: {text}")
    return errors


def instruction_errors(poses: np.ndarray) -> list[str]:
    joints, head = pose_geometry(poses)
    codes = compute_posecodes(joints, head)
    pairs, _, _ = select_pairs(joints, head)
    errors = []
    for a, b in pairs:
        for text, facts in instruction_records(codes[a], codes[b], 3, seed=int(a)):
            errors += [f"false {f}: {text}" for f in facts if not pair_fact_holds(f, codes[a], codes[b])]
            try:
                parsed = parse_instruction(text)
            except ParseError as error:
                errors.append(f"unparsable ({error}): {text}")
                continue
            if sorted(parsed) != sorted(facts):
                errors.append(f"says {sorted(set(parsed) ^ set(facts))}: {text}")
    return errors


def test_captions_are_true_and_parse_back():
    errors = caption_errors(_poses(400, seed=0))
    assert not errors, "\n".join(errors[:10])


def test_instructions_are_true_and_parse_back():
    errors = instruction_errors(_poses(600, seed=1))
    assert not errors, "\n".join(errors[:10])


@pytest.mark.slow
def test_truth_on_many_poses():
    assert not caption_errors(_poses(4000, seed=2))
    assert not instruction_errors(_poses(6000, seed=3))


def test_a_clause_about_a_part_without_that_posecode_is_unreadable():
    for text in ("The left forearm is partially bent.", "The right thigh is completely bent.",
                 "The left forearm is on the ground."):
        with pytest.raises(ParseError, match="no posecode"):
            parse_caption(text)
    assert parse_caption("The left elbow is partially bent.") == [("angle:left_elbow", "partially bent")]
    assert parse_caption("The right forearm is vertical.") == [("pitch:right_forearm", "vertical")]


def test_a_wrong_synonym_is_caught(monkeypatch):
    """The parser has its own vocabulary: filing "straight" under "completely bent" must fail."""
    phrases = dict(captions._PHRASES)
    phrases[("angle", "completely bent")] = ("straight",)
    monkeypatch.setattr(captions, "_PHRASES", phrases)
    poses = sample_poses(300, seed=4)
    assert any("says" in e for e in caption_errors(poses))


def test_a_wrong_instruction_template_is_caught(monkeypatch):
    templates = dict(instructions._TEMPLATES)
    templates[("angle", "less")] = ("straighten {s} a little",)
    monkeypatch.setattr(instructions, "_TEMPLATES", templates)
    assert any("says" in e for e in instruction_errors(sample_poses(300, seed=5)))


def test_captions_are_varied_deterministic_and_batch_consistent():
    poses = sample_poses(50, seed=6)
    batch = caption_batch(poses, n=3, seed=0)
    for caps in batch:
        assert len(caps) == 3 and len(set(caps)) == 3
    assert caption_batch(poses, n=3, seed=0) == batch
    assert caption_pose(poses[0], n=3, seed=0) == batch[0]
    assert caption_pose(poses[0], n=3, seed=1) != batch[0]
    joints, _ = pose_geometry(poses[:1])
    assert len(caption_pose(joints[0], n=3)) == 3  # joints work too


def test_instruct_turns_a_into_b():
    from support.random_poses import set_joint

    a = np.zeros((1, 22, 3))
    b = set_joint(a, "left_shoulder", (0, 0, 85))  # raise the left arm straight up
    texts = instruct(a[0], b[0], n=3, seed=0)
    assert len(texts) == 3
    assert all("left" in t.lower() and "right" not in t.lower() for t in texts), texts
    assert any("raise your left" in t.lower() or "above your" in t.lower() for t in texts), texts
    kneel = set_joint(set_joint(a, "left_knee", (90, 0, 0)), "right_knee", (90, 0, 0))
    assert all("knees" in t.lower() for t in instruct(a[0], kneel[0], n=3))
    assert instruct(a[0], a[0]) == []


