"""Pose captions from posecodes: selection, aggregation, synonyms, random omission, templates, ordering.

`caption_pose` describes one pose with n different captions; `caption_batch` does many poses (posecodes
are computed once, vectorised; only the wording runs per pose). `caption_records` also returns, for each
caption, the facts `(posecode name, category)` its sentences state, which the truth tests compare with
both the pose and an independent parse of the text.
"""
from dataclasses import dataclass

import numpy as np

from backend.facts.posecodes import (
    AMBIGUOUS, POSECODE_INDEX, POSECODES, SUPER_CONDITIONS, compute_posecodes, pose_geometry,
)

Fact = tuple[str, str]  # (posecode name, category)

# How interesting a stated category is (chance to be picked); missing categories weigh 1.
_WEIGHT = {
    ("angle", "straight"): 0.35, ("angle", "slightly bent"): 0.6, ("distance", "spread"): 0.35,
    ("distance", "shoulder width"): 0.8, ("pitch", "vertical"): 0.4, ("pitch", "horizontal"): 0.6,
    ("incline_fwd", "upright"): 0.25, ("head_turn", "left"): 0.6, ("head_turn", "right"): 0.6,
    ("head_pitch", "down"): 0.5, ("head_tilt", "left"): 0.4, ("head_tilt", "right"): 0.4,
    ("ground", "on ground"): 1.5, ("torso_tilt", "horizontal"): 2.0, ("torso_tilt", "upside down"): 2.5,
    ("relpos_x", "right of"): 1.3, ("relpos_y", "above"): 1.2,
}
_REGION = {"super": 0, "torso_tilt": 0, "incline_fwd": 1, "incline_side": 1, "head_turn": 2, "head_pitch": 2,
           "head_tilt": 2}
# --- words -------------------------------------------------------------------------------------------
_PART = {"wrist": ("hand",), "elbow": ("elbow",), "knee": ("knee",), "ankle": ("foot", "ankle"),
         "shoulder": ("shoulder",), "hip": ("hip",), "upper_arm": ("upper arm",), "forearm": ("forearm",),
         "thigh": ("thigh",), "shin": ("shin", "lower leg"), "head": ("head",), "spine3": ("chest", "torso"),
         "pelvis": ("pelvis", "waist")}
_PLURAL = {"foot": "feet", "lower leg": "lower legs"}
_ANGLE_LIMB = {"elbow": "arm", "knee": "leg"}
_PHRASES = {
    ("angle", "completely bent"): ("completely bent", "fully bent", "bent all the way"),
    ("angle", "almost completely bent"): ("almost completely bent", "deeply bent", "sharply bent"),
    ("angle", "bent at a right angle"): ("bent at a right angle", "bent at about ninety degrees",
                                         "bent at roughly 90 degrees"),
    ("angle", "partially bent"): ("partially bent", "partly bent", "half bent"),
    ("angle", "slightly bent"): ("slightly bent", "a little bent", "bent slightly"),
    ("angle", "straight"): ("straight", "extended", "straightened"),
    ("pair", "close"): ("close together", "near each other", "close to each other"),
    ("pair", "shoulder width"): ("about shoulder-width apart", "roughly shoulder width apart",
                                 "shoulder-width apart"),
    ("pair", "spread"): ("spread apart", "fairly far apart"),
    ("pair", "wide"): ("wide apart", "far apart", "very far apart"),
    ("distance", "close"): ("close to", "near", "next to"),
    ("relpos_y", "above"): ("above", "higher than", "raised above"),
    ("relpos_y", "below"): ("below", "lower than", "beneath"),
    ("relpos_z", "in front of"): ("in front of", "forward of"),
    ("relpos_z", "behind"): ("behind",),
    ("relpos_x", "left of"): ("to the left of", "out to the left of"),
    ("relpos_x", "right of"): ("to the right of", "on the right side of"),
    ("pitch", "vertical"): ("vertical", "perpendicular to the ground"),
    ("pitch", "horizontal"): ("horizontal", "parallel to the ground", "parallel to the floor"),
    ("ground", "on ground"): ("on the ground", "on the floor", "touching the floor", "resting on the ground"),
    ("torso_tilt", "horizontal"): ("the torso is horizontal", "the upper body is parallel to the floor",
                                   "{p} holds {their} torso horizontally"),
    ("torso_tilt", "upside down"): ("{p} {is} upside down", "the torso is upside down", "the body is inverted"),
    ("incline_fwd", "backward"): ("{p} {leans} back", "{p} {is} leaning backward", "the torso is tilted back"),
    ("incline_fwd", "upright"): ("the torso is upright", "{p} {holds} {their} upper body upright"),
    ("incline_fwd", "forward"): ("{p} {leans} forward", "{p} {is} leaning forward", "the torso is tilted forward"),
    ("incline_fwd", "far forward"): ("{p} {is} bent far forward", "{p} {leans} far forward",
                                     "the upper body is bent well forward"),
    ("incline_side", "left"): ("{p} {leans} to the left", "the torso is tilted to the left",
                               "the upper body leans to the left side"),
    ("incline_side", "right"): ("{p} {leans} to the right", "the torso is tilted to the right",
                                "the upper body leans to the right side"),
    ("head_turn", "left"): ("the head is turned to the left", "{p} {looks} to the left"),
    ("head_turn", "right"): ("the head is turned to the right", "{p} {looks} to the right"),
    ("head_pitch", "up"): ("{p} {looks} up", "{p} {is} looking upward", "the head is tilted back"),
    ("head_pitch", "down"): ("{p} {looks} down", "{p} {is} looking downward", "the head is bowed"),
    ("head_tilt", "left"): ("the head is tilted to the left", "{their} head leans to the left side"),
    ("head_tilt", "right"): ("the head is tilted to the right", "{their} head leans to the right side"),
    ("super", "kneeling"): ("{p} {is} kneeling", "{p} {kneels}", "{p} {is} on {their} knees"),
    ("super", "kneeling_left"): ("{p} {is} kneeling on {their} left knee", "{p} {kneels} on the left knee",
                                 "{p} {is} down on {their} left knee"),
    ("super", "kneeling_right"): ("{p} {is} kneeling on {their} right knee", "{p} {kneels} on the right knee",
                                  "{p} {is} down on {their} right knee"),
    ("super", "all_fours"): ("{p} {is} on all fours", "{p} {is} on {their} hands and knees"),
    ("super", "lying_back"): ("{p} {is} lying on {their} back", "{p} {lies} on {their} back",
                              "{p} {is} lying face up"),
    ("super", "lying_front"): ("{p} {is} lying on {their} stomach", "{p} {lies} face down",
                               "{p} {is} lying face down"),
    ("super", "lying_left_side"): ("{p} {is} lying on {their} left side", "{p} {lies} on {their} left side"),
    ("super", "lying_right_side"): ("{p} {is} lying on {their} right side", "{p} {lies} on {their} right side"),
    ("super", "squatting"): ("{p} {is} squatting", "{p} {squats}", "{p} {is} in a squat", "{p} {is} crouching"),
    ("super", "sitting"): ("{p} {is} in a sitting position", "{p} {is} posed as if sitting on a chair",
                           "{p} {is} in a seated position"),
    ("super", "sitting_floor"): ("{p} {is} sitting on the floor", "{p} {sits} on the ground",
                                 "{p} {is} seated on the floor"),
    ("super", "arms_crossed"): ("{p} {has} {their} arms crossed", "{their} arms are crossed",
                                "{p} {crosses} {their} arms"),
    ("super", "arms_out"): ("{p} {has} {their} arms stretched out to the sides",
                            "{their} arms are spread out to the sides", "{p} {holds} {their} arms out to the sides"),
    ("super", "standing_left_leg"): ("{p} {is} standing on {their} left leg", "{p} {balances} on {their} left foot",
                                     "{p} {stands} on the left leg"),
    ("super", "standing_right_leg"): ("{p} {is} standing on {their} right leg",
                                      "{p} {balances} on {their} right foot", "{p} {stands} on the right leg"),
}
# person subjects with their verb agreement
_PERSONS = (("the person", False), ("someone", False), ("this person", False), ("a person", False),
            ("the figure", False), ("they", True))
_VERBS = {"is": "are", "leans": "lean", "holds": "hold", "looks": "look", "kneels": "kneel", "lies": "lie",
          "squats": "squat", "sits": "sit", "has": "have", "crosses": "cross", "balances": "balance",
          "stands": "stand"}


@dataclass
class Statement:
    """One clause: facts that share a kind, a category and a wording (one side or both sides)."""

    facts: list[Fact]
    kind: str
    category: str
    subject: tuple[str, ...]  # joint or limb names (1, or 2 for an aggregated left/right pair)
    obj: tuple[str, ...]


def _mirror(name: str) -> str:
    swap = {"left": "right", "right": "left"}
    return ":".join("_".join(swap.get(w, w) for w in part.split("_")) for part in name.split(":"))


_MIRROR = {p.name: _mirror(p.name) for p in POSECODES}


def _fact_weight(code_index: int, category: str) -> float:
    kind = POSECODES[code_index].kind
    return 3.0 if kind == "super" else _WEIGHT.get((kind, category), 1.0)


def eligible_facts(codes: np.ndarray) -> list[tuple[int, str]]:
    """Sayable facts of one pose: codes (NUM_POSECODES,) int8 -> [(posecode index, category)]."""
    out = []
    for k in np.flatnonzero(codes != AMBIGUOUS):
        code = POSECODES[k]
        category = code.categories[codes[k]]
        if category in code.said:
            out.append((int(k), category))
    return out


def select_facts(codes: np.ndarray, rng: np.random.Generator) -> list[tuple[int, str]]:
    """Choose what one caption says: every super (rarely one is omitted) minus what they imply, then a
    random, interest-weighted subset of the remaining facts (random omission)."""
    facts = eligible_facts(codes)
    supers = [f for f in facts if POSECODES[f[0]].kind == "super" and rng.random() > 0.1]
    implied = {POSECODE_INDEX[n] for k, _ in supers for n, _ in SUPER_CONDITIONS[POSECODES[k].joints[0]]}
    rest = [f for f in facts if POSECODES[f[0]].kind != "super" and f[0] not in implied]
    if not rest:
        return supers
    weights = np.array([_fact_weight(k, c) for k, c in rest])
    count = min(len(rest), int(rng.integers(3, 7)) - min(len(supers), 2))
    keys = np.log(rng.random(len(rest))) / weights  # weighted sampling without replacement
    chosen = [rest[i] for i in np.argsort(-keys)[:max(count, 1)]]
    return supers + chosen


def aggregate(facts: list[tuple[int, str]], codes: np.ndarray, rng: np.random.Generator) -> list[Statement]:
    """Merge a fact with its left/right mirror when both say the same category (pulling the mirror in
    when it holds but was not picked), into statements."""
    chosen = {POSECODES[k].name: c for k, c in facts}
    statements, done = [], set()
    for k, category in facts:
        code = POSECODES[k]
        if code.name in done:
            continue
        done.add(code.name)
        mirror = _MIRROR[code.name]
        subject, obj = _subject_object(code)
        mk = POSECODE_INDEX.get(mirror)
        mirror_holds = (mk is not None and mirror != code.name and codes[mk] != AMBIGUOUS
                        and POSECODES[mk].categories[codes[mk]] == category and code.kind not in ("relpos_x", "super"))
        if mirror_holds and mirror not in done and (mirror in chosen or rng.random() < 0.6):
            done.add(mirror)
            m_subject, m_obj = _subject_object(POSECODES[mk])
            statements.append(Statement([(code.name, category), (mirror, category)], code.kind, category,
                                        subject + m_subject, obj + m_obj))
        else:
            statements.append(Statement([(code.name, category)], code.kind, category, subject, obj))
    return statements


def _subject_object(code) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if code.kind in ("angle", "pitch", "ground"):
        return code.joints, ()
    if code.kind in ("distance", "relpos_x", "relpos_y", "relpos_z"):
        return (code.joints[0],), (code.joints[1],)
    return (), ()


def _order(statements: list[Statement], rng: np.random.Generator) -> list[Statement]:
    """Posture first, then torso and head, then arms and legs (either order), shuffled inside a region."""
    legs_first = rng.random() < 0.35

    def region(s: Statement) -> float:
        if s.kind in _REGION:
            return _REGION[s.kind]
        joint = s.subject[0] if s.subject else ""
        is_leg = any(w in joint for w in ("knee", "ankle", "thigh", "shin", "hip"))
        return 3 + (is_leg != legs_first)

    keys = [(region(s), rng.random()) for s in statements]
    return [s for _, s in sorted(zip(keys, statements), key=lambda t: t[0])]


# --- realisation ---------------------------------------------------------------------------------------
def _noun(joint: str, rng, kind: str = "") -> tuple[str | None, str]:
    """(side, noun) for a joint or limb name: 'left_wrist' -> ('left', 'hand')."""
    side, _, part = joint.partition("_")
    if side not in ("left", "right"):
        side, part = None, joint
    if kind == "angle" and rng.random() < 0.4:
        return side, _ANGLE_LIMB[part]
    return side, str(rng.choice(_PART[part]))


def _noun_phrase(joints: tuple[str, ...], rng, kind: str = "", det: str = "the") -> tuple[str, bool]:
    """Noun phrase for 1 joint or a mirrored pair, and whether it is plural."""
    side, noun = _noun(joints[0], rng, kind)
    if len(joints) == 1:
        return (f"{det} {side} {noun}" if side else f"{det} {noun}"), False
    plural = _PLURAL.get(noun, noun + "s")
    return (str(rng.choice([f"both {plural}", f"{det} {plural}"]))), True


def _object_phrase(obj: tuple[str, ...], subject: tuple[str, ...], rng) -> str:
    if len(obj) == 1 or obj[0] == obj[1]:
        side, noun = _noun(obj[0], rng)
        return f"the {side} {noun}" if side else f"the {noun}"
    side, noun = _noun(obj[0], rng)
    if side and side != subject[0].split("_")[0]:  # mirrored cross pair: left hand -> right shoulder
        return f"the opposite {noun}"
    return f"the {_PLURAL.get(noun, noun + 's')}"


def _agree(template: str, person: str, plural_person: bool, their: str) -> str:
    out = template.replace("{p}", person).replace("{their}", their)
    for singular, plural in _VERBS.items():
        out = out.replace("{" + singular + "}", plural if plural_person else singular)
    return out


def realize(statement: Statement, rng: np.random.Generator, person: tuple[str, bool], introduced: bool) -> str:
    """One clause of English for a statement; `introduced`: the person was already named."""
    kind, category = statement.kind, statement.category
    their = "their"
    if kind == "super" or kind not in ("angle", "distance", "relpos_x", "relpos_y", "relpos_z", "pitch", "ground"):
        key = (("super", POSECODES[POSECODE_INDEX[statement.facts[0][0]]].joints[0]) if kind == "super"
               else (kind, category))
        return _agree(str(rng.choice(_PHRASES[key])), person[0], person[1], their)
    det = str(rng.choice(["the", "their"])) if introduced and kind != "distance" else "the"
    both_sides_pair = (kind == "distance" and statement.obj
                       and statement.subject[0].replace("left", "right") == statement.obj[0])
    if both_sides_pair:  # left X vs right X: "the hands are close together"
        subject, plural = _noun_phrase((statement.subject[0], statement.obj[0]), rng, kind, det)
        predicate = str(rng.choice(_PHRASES[("pair", category)]))
    else:
        subject, plural = _noun_phrase(statement.subject, rng, kind, det)
        predicate = str(rng.choice(_PHRASES[(kind, category)]))
        if statement.obj:
            obj = _object_phrase(statement.obj, statement.subject, rng)
            if len(statement.subject) == 2 and "opposite" in obj:
                subject, plural = f"each {_noun(statement.subject[0], rng)[1]}", False
            predicate = f"{predicate} {obj}"
    if rng.random() < 0.25:
        return f"{person[0]} {'have' if person[1] else 'has'} {subject.replace('the ', 'their ', 1)} {predicate}"
    return f"{subject} {'are' if plural else 'is'} {predicate}"


def _assemble(clauses: list[str], rng: np.random.Generator) -> str:
    """Join clauses into 1-3 sentences with varied connectors; capitalised, full stops."""
    sentences, i = [], 0
    while i < len(clauses):
        take = min(len(clauses) - i, int(rng.integers(1, 4)))
        parts = clauses[i:i + take]
        text = parts[0]
        for j, part in enumerate(parts[1:]):
            last = j == len(parts) - 2
            text += str(rng.choice([", and ", " and ", " while ", "; "] if last else [", ", "; "])) + part
        sentences.append(text[0].upper() + text[1:] + ".")
        i += take
    return " ".join(sentences)


def caption_records(codes: np.ndarray, n: int = 3, seed: int = 0) -> list[tuple[str, list[Fact]]]:
    """n captions of one pose with the facts each states. codes: (NUM_POSECODES,) int8."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, list[Fact]]] = []
    seen = set()
    for attempt in range(4 * n):
        statements = _order(aggregate(select_facts(codes, rng), codes, rng), rng)
        if not statements:
            break
        person = _PERSONS[int(rng.integers(len(_PERSONS)))]
        clauses = []
        for statement in statements:
            clauses.append(realize(statement, rng, person, person[0] == "they"))
            if person[0] in clauses[-1]:  # name the person once, then "they"
                person = ("they", True)
        text = _assemble(clauses, rng)
        if text in seen:
            continue
        seen.add(text)
        out.append((text, [f for s in statements for f in s.facts]))
        if len(out) == n:
            break
    return out


def _geometry(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, 22, 3) axis-angle or (N, 24, 3) joints -> joints (N, 24, 3), head_forward (N, 3) or None."""
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape[-2] == 22:
        return pose_geometry(pose)
    if pose.shape[-2] == 24:
        return pose, None
    raise ValueError(f"expected (..., 22, 3) axis-angle or (..., 24, 3) joints, got {pose.shape}")


def caption_batch(poses: np.ndarray, n: int = 3, seed: int = 0) -> list[list[str]]:
    """Captions of many poses: (N, 22, 3) axis-angle or (N, 24, 3) joints -> N lists of n captions.
    Pose i is worded with the seed `seed * 1_000_003 + i`, as `caption_pose` words a single pose with i = 0."""
    joints, head_forward = _geometry(poses)
    codes = compute_posecodes(joints, head_forward)
    return [[t for t, _ in caption_records(codes[i], n, seed * 1_000_003 + i)] for i in range(len(codes))]


def caption_pose(pose: np.ndarray, n: int = 3, seed: int = 0) -> list[str]:
    """n different captions of one pose: (22, 3) axis-angle or (24, 3) joints. Deterministic for a seed."""
    joints, head_forward = _geometry(np.asarray(pose)[None])
    codes = compute_posecodes(joints, head_forward)[0]
    return [t for t, _ in caption_records(codes, n, seed * 1_000_003)]
