"""Short texts (the prompts people type) are true of their pose: every claim a text makes holds on the pose's
body states, and an independent parse of the text gives back exactly those claims. Mutants prove the check bites."""
import json
from pathlib import Path

import numpy as np
import pytest

from backend.cli import main
from training.captioning import short_texts as st
from backend.facts.parse import ParseError, parse_short_text
from support.random_poses import sample_poses
from training.captioning.short_texts import claim_holds, short_text_records, short_texts
from training.captioning.states import STATES, pose_states
from training.data.keyposes import combination_library, keypose, keypose_library, perturbed_keyposes

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "v2"


def _poses() -> np.ndarray:
    key, _ = keypose_library()
    combos, _ = combination_library()
    perturbed, _ = perturbed_keyposes(2, seed=3)
    return np.concatenate([key, combos, perturbed, sample_poses(150, seed=5)])


def short_text_errors(poses: np.ndarray, n: int = 8) -> list[str]:
    states = pose_states(poses)
    errors = []
    for i, row in enumerate(states):
        for text, claims in short_text_records(row, n, seed=i):
            if not 2 <= len(text.split()) <= 12:
                errors.append(f"{len(text.split())} words: {text}")
            errors += [f"false {c}: {text}" for c in claims if not claim_holds(c, row)]
            try:
                parsed = parse_short_text(text)
            except ParseError as error:
                errors.append(f"unparsable ({error}): {text}")
                continue
            if sorted(parsed) != sorted(claims):
                errors.append(f"says {parsed}, meant {claims}: {text}")
            errors += [f"parsed claim false {c}: {text}" for c in parsed if not claim_holds(c, row)]
        described = st.describe(row, seed=i)  # the phrase paired with CMU activity names
        if described:
            phrase, claims = described
            errors += [f"false {c}: {phrase}" for c in claims if not claim_holds(c, row)]
            if sorted(parse_short_text(phrase)) != sorted(claims):
                errors.append(f"describe says {parse_short_text(phrase)}, meant {claims}: {phrase}")
    return errors


@pytest.fixture(scope="module")
def poses() -> np.ndarray:
    return _poses()


def test_every_short_text_is_true_and_parses_back(poses):
    errors = short_text_errors(poses)
    assert not errors, errors[:10]


def test_texts_cover_the_forms_and_combinations():
    row = pose_states(keypose("kneeling_on_both_knees")[None])[0].copy()
    row[STATES.index("arms_up")] = True
    texts = [t for t, _ in short_text_records(row, n=12, seed=0)]
    assert any(" with " in t for t in texts)  # combination: "kneeling on both knees with both arms raised"
    assert any(t.startswith(("kneel", "get down")) for t in texts)  # imperative
    assert any(t.startswith(("a person", "someone", "person")) for t in texts)  # descriptive


def test_mutant_phrase_on_the_wrong_side_is_caught(monkeypatch):
    """A phrase table bug (the left-knee phrases filed under the right knee) makes false texts: the check fails."""
    pose = keypose("kneeling_on_one_knee")[None]  # down on the right knee
    assert not short_text_errors(pose)
    monkeypatch.setitem(st._BODY, "kneeling_right", st._BODY["kneeling_left"])
    errors = short_text_errors(pose)
    assert any("says" in e and "left" in e for e in errors)


def test_mutant_claim_not_held_is_caught(monkeypatch):
    """A generator bug that states an arm state the pose lacks is caught by the truth check."""
    pose = keypose("t_pose")[None]
    original = st._arm_states
    monkeypatch.setattr(st, "_arm_states", lambda states: ["arms_crossed"] + original(states))
    errors = short_text_errors(pose)
    assert any(e.startswith("false arms_crossed") for e in errors)


def test_mutant_one_leg_side_swap_is_caught_on_a_hand_made_pose(monkeypatch):
    """Naming the wrong leg of a one-leg stance fails the check of the tree pose's texts."""
    pose = keypose("tree_pose")[None]  # standing on the right leg, left foot up
    assert any("right" in t for t in short_texts(pose[0], n=12))
    monkeypatch.setitem(st._BODY, "standing_right_leg", st._BODY["standing_left_leg"])
    assert short_text_errors(pose)


def test_parser_is_strict():
    assert parse_short_text("kneeling on the left knee with both arms raised") == ["kneeling_left", "arms_up"]
    assert parse_short_text("sit cross-legged and cross your arms") == ["sitting_cross_legged", "arms_crossed"]
    assert parse_short_text("a T-pose") == ["standing", "t_arms"]
    for bad in ("kneeling on the left knee happily", "dance", ""):
        with pytest.raises(ParseError):
            parse_short_text(bad)


def _write(path, rotations):
    path.write_text(json.dumps({"format": "smpl-axis-angle", "rotations": np.asarray(rotations).tolist()}))
    return str(path)


def test_label_cli_contract(tmp_path, capsys):
    assert main(["label", _write(tmp_path / "kneel.json", keypose("kneeling_on_one_knee"))]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines and all(2 <= len(line.split()) <= 12 for line in lines)
    assert "right knee" in lines[0]  # most salient first: the whole-body state
    states = pose_states(keypose("kneeling_on_one_knee")[None])[0]
    assert all(claim_holds(c, states) for line in lines for c in parse_short_text(line))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "smpl-axis-angle", "rotations": [[0, 0]]}))
    assert main(["label", str(bad)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0]


@pytest.mark.slow
def test_corpus_v2_short_texts_are_all_true():
    """0 false statements on the whole shipped corpus: every stored text parses to claims its pose holds."""
    if not (CORPUS / "short_texts.jsonl").exists():
        pytest.skip("corpus v2 not built")
    data = np.load(CORPUS / "poses.npz")
    assert list(data["state_names"]) == list(STATES)
    row_of = {i: k for k, i in enumerate(data["ids"].tolist())}
    states = pose_states(data["rotations"].astype(np.float64))
    np.testing.assert_array_equal(states, data["states"])  # the stored states are today's definitions
    false, total = [], 0
    with open(CORPUS / "short_texts.jsonl", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            row = states[row_of[record["id"]]]
            for text in record["texts"]:
                total += 1
                false += [text for c in parse_short_text(text) if not claim_holds(c, row)]
    assert total > 40_000 and not false, false[:5]


def test_standing_means_straight_legs():
    """A dance frame with the knees bent 75 degrees and the pelvis still 0.84 m up is not "standing" (corpus v2
    called 13k such CMU frames standing, and the model learnt bent knees for "stand up straight")."""
    from backend.body.skeleton import JOINT_INDEX

    straight = keypose("standing")
    bent = straight.copy()
    for side in ("left", "right"):
        bent[JOINT_INDEX[f"{side}_hip"]], bent[JOINT_INDEX[f"{side}_knee"]] = (-0.6, 0.0, 0.0), (1.2, 0.0, 0.0)
    standing = pose_states(np.stack([straight, bent]))[:, STATES.index("standing")]
    assert standing.tolist() == [True, False]


def test_activity_names_are_kept_only_where_they_fit():
    from training.captioning.activity import activity_fits

    lying, standing = pose_states(np.stack([keypose("lying_on_back"), keypose("standing")]))
    t_pose = pose_states(keypose("t_pose")[None])[0]
    assert activity_fits("walk", standing) and not activity_fits("walk", lying)
    assert not activity_fits("sit on a chair", standing) and activity_fits("breakdance", lying)
    assert not activity_fits("basketball - dribble", t_pose)  # the calibration frame of a take
    assert activity_fits("airplane - arms out", t_pose)
