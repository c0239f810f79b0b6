"""Truth and coverage of a pose description, statement by statement.

A description is cut into sentences; each is read back into posecode facts with the parser that checks
the generated captions (`backend.facts.parse`). A sentence the parser cannot read is cut into clauses
and each clause is read on its own; a clause that still cannot be read counts as one statement that is not
true ("unreadable"). A fact is true when the pose is not clearly outside the stated category: its value
lies inside the category's range widened by the posecode's margin (the same margin that keeps the captions
off the borders), and a super-posecode ("kneeling") is true unless one of its conditions clearly fails.
A fact whose value does not apply to the pose (e.g. "in front of" for a lying body) is not true.

Salient posecodes are the facts a person would expect a description to mention: whole-body states, a
horizontal or inverted torso, a clear lean, deeply bent elbows or knees, a hand above the head, a hand,
elbow, knee or the head on the floor, hands close together, hands or feet crossed, a hand at the head.
"""
import re
from dataclasses import dataclass, field

import numpy as np

from backend.facts.parse import ParseError, parse_caption
from backend.facts.posecodes import (
    AMBIGUOUS, POSECODE_INDEX, POSECODES, SUPER_CONDITIONS, compute_posecodes, posecode_values,
    pose_geometry,
)

Fact = tuple[str, str]
_SENTENCE_RE = re.compile(r"[.;!?\n]+")
_CLAUSE_RE = re.compile(r",|\bwhile\b|\band\b")
_DEEP = ("completely bent", "almost completely bent", "bent at a right angle")
_SALIENT = {
    "super": ("yes",),
    "torso_tilt": ("horizontal", "upside down"),
    "incline_fwd": ("backward", "forward", "far forward"),
    "incline_side": ("left", "right"),
    "angle": _DEEP,
    "ground": ("on ground",),
}
_SALIENT_NAMES = {  # posecode name -> salient categories, for kinds where only some joint pairs matter
    **{f"relpos_y:{s}_wrist:head": ("above",) for s in ("left", "right")},
    "relpos_x:left_wrist:right_wrist": ("right of",),
    "relpos_x:left_ankle:right_ankle": ("right of",),
    "distance:left_wrist:right_wrist": ("close",),
    **{f"distance:{s}_wrist:head": ("close",) for s in ("left", "right")},
}


@dataclass
class PoseFacts:
    """What can be checked about one pose: posecode values (base) and categories (base + super)."""
    values: np.ndarray   # (len(BASE_POSECODES),) float, NaN where a posecode does not apply
    codes: np.ndarray    # (NUM_POSECODES,) int8 categories, AMBIGUOUS near a border

    @classmethod
    def of_poses(cls, poses: np.ndarray) -> list["PoseFacts"]:
        """(N, 22, 3) axis-angle -> N PoseFacts."""
        joints, head = pose_geometry(np.asarray(poses, np.float64))
        values = posecode_values(joints, head)
        codes = compute_posecodes(joints, head)
        return [cls(v, c) for v, c in zip(values, codes)]


def fact_is_true(fact: Fact, pose: PoseFacts) -> bool:
    """True unless the pose is clearly outside the stated category (or the posecode does not apply)."""
    name, category = fact
    k = POSECODE_INDEX[name]
    code = POSECODES[k]
    if code.kind == "super":
        return category == "yes" and int(pose.codes[k]) != 0
    value = pose.values[k]
    if np.isnan(value):
        return False
    c = code.category_index(category)
    low = code.thresholds[c - 1] - code.margin if c > 0 else -np.inf
    high = code.thresholds[c] + code.margin if c < len(code.thresholds) else np.inf
    return bool(low <= value <= high)


@dataclass
class Statements:
    """A description read back: the facts it states (in order) and the clauses nobody could read."""
    facts: list[Fact] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def read_statements(text: str) -> Statements:
    """Facts of a description, sentence by sentence, falling back to clauses for unreadable sentences."""
    out = Statements()
    for sentence in _SENTENCE_RE.split(text):
        if not sentence.strip():
            continue
        try:
            out.facts += parse_caption(sentence)
            continue
        except ParseError:
            pass
        for clause in _CLAUSE_RE.split(sentence):
            if not clause.strip():
                continue
            try:
                out.facts += parse_caption(clause)
            except ParseError:
                out.unreadable.append(clause.strip())
    return out


def salient_facts(codes: np.ndarray) -> list[Fact]:
    """The facts of a pose a description should mention (clear ones only), without those a holding
    super-posecode already implies. codes: (NUM_POSECODES,) int8."""
    facts = []
    for k in np.flatnonzero(codes != AMBIGUOUS):
        code = POSECODES[k]
        category = code.categories[codes[k]]
        wanted = _SALIENT_NAMES.get(code.name, _SALIENT.get(code.kind, ()))
        if category in wanted:
            facts.append((code.name, category))
    holding = [name.split(":", 1)[1] for name, cat in facts if name.startswith("super:")]
    implied = {n for s in holding for n, _ in SUPER_CONDITIONS[s]}
    return [f for f in facts if f[0] not in implied]


@dataclass
class DescriptionScore:
    statements: int   # facts stated + unreadable clauses
    true: int
    unreadable: int
    salient: int      # salient facts of the pose
    covered: int      # salient facts the description states


def score_description(text: str, pose: PoseFacts) -> DescriptionScore:
    """How truthful and how complete one description of one pose is."""
    read = read_statements(text or "")
    true = sum(fact_is_true(f, pose) for f in read.facts)
    stated = set(read.facts)
    salient = salient_facts(pose.codes)
    return DescriptionScore(statements=len(read.facts) + len(read.unreadable), true=true,
                            unreadable=len(read.unreadable), salient=len(salient),
                            covered=sum(f in stated for f in salient))


def summarize(scores: list[DescriptionScore]) -> dict[str, float]:
    """Micro-averaged percentages over all statements / all salient facts of a set of descriptions."""
    def total(key: str) -> int:
        return sum(getattr(s, key) for s in scores)

    statements, salient = total("statements"), total("salient")
    return {"true": 100.0 * total("true") / max(statements, 1),
            "unreadable": 100.0 * total("unreadable") / max(statements, 1),
            "covered": 100.0 * total("covered") / max(salient, 1),
            "statements_per_text": statements / max(len(scores), 1)}
