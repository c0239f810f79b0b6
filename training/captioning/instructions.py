"""Modification instructions (PoseFix-style): imperative sentences that turn pose A into pose B.

From the posecodes that change clearly between A and B, pick the most telling changes, merge left/right
twins ("bend both knees more"), order them from whole-body posture to limbs, and word each with varied
templates. `instruction_records` also returns the paircode facts each instruction claims (see paircodes).
"""
import numpy as np

from training.captioning.captions import _MIRROR, _REGION, _geometry
from training.captioning.paircodes import PairFact, changed
from backend.facts.posecodes import POSECODES, SUPER_CONDITIONS, compute_posecodes

_PART = {"wrist": "hand", "elbow": "elbow", "knee": "knee", "ankle": "foot", "shoulder": "shoulder",
         "hip": "hip", "upper_arm": "upper arm", "forearm": "forearm", "thigh": "thigh", "shin": "shin",
         "head": "head", "spine3": "chest", "pelvis": "waist"}
_PLURAL = {"foot": "feet"}
_ANGLE_LIMB = {"elbow": "arm", "knee": "leg"}
# {s}: the body part(s), {o}: the other part; each entry lists interchangeable wordings
_TEMPLATES = {
    ("angle", "less"): ("bend {s} more", "bend {s} further"),
    ("angle", "less", "completely bent"): ("bend {s} all the way", "bend {s} fully"),
    ("angle", "less", "bent at a right angle"): ("bend {s} to a right angle", "bend {s} to about ninety degrees"),
    ("angle", "more"): ("straighten {s} a little", "bend {s} less", "extend {s} a bit"),
    ("angle", "more", "straight"): ("straighten {s}", "extend {s} fully", "stretch {s} out straight"),
    ("pair", "less"): ("move {s} closer together", "bring {s} closer to each other"),
    ("pair", "less", "close"): ("bring {s} together", "put {s} close together"),
    ("pair", "more"): ("move {s} further apart", "spread {s} wider apart"),
    ("distance", "to:close"): ("bring {s} close to {o}", "put {s} near {o}", "move {s} next to {o}"),
    ("distance", "from:close"): ("move {s} away from {o}", "take {s} away from {o}"),
    ("relpos_y", "to:above"): ("raise {s} above {o}", "lift {s} higher than {o}", "move {s} above {o}"),
    ("relpos_y", "to:below"): ("lower {s} below {o}", "drop {s} beneath {o}", "move {s} below {o}"),
    ("relpos_z", "to:in front of"): ("move {s} in front of {o}", "bring {s} forward of {o}"),
    ("relpos_z", "to:behind"): ("move {s} behind {o}", "put {s} behind {o}"),
    ("relpos_x", "to:left of"): ("move {s} to the left of {o}",),
    ("relpos_x", "to:right of"): ("move {s} to the right of {o}",),
    ("pitch", "to:vertical"): ("make {s} vertical", "bring {s} to a vertical position"),
    ("pitch", "to:horizontal"): ("make {s} horizontal", "bring {s} parallel to the ground"),
    ("ground", "to:on ground"): ("put {s} on the floor", "lower {s} to the ground", "rest {s} on the ground"),
    ("ground", "to:off ground"): ("lift {s} off the floor", "raise {s} off the ground"),
    ("incline_fwd", "more"): ("lean further forward", "tilt your torso more forward"),
    ("incline_fwd", "less"): ("lean further back", "tilt your torso more backward"),
    ("incline_fwd", "to:upright"): ("bring your torso upright", "straighten up your torso"),
    ("incline_side", "more"): ("lean more to your left", "tilt your torso further to the left"),
    ("incline_side", "less"): ("lean more to your right", "tilt your torso further to the right"),
    ("head_turn", "to:left"): ("turn your head to the left", "look to your left"),
    ("head_turn", "to:right"): ("turn your head to the right", "look to your right"),
    ("head_turn", "to:straight"): ("turn your head back to the front", "face forward with your head"),
    ("head_pitch", "to:up"): ("look up", "tilt your head back"),
    ("head_pitch", "to:down"): ("look down", "lower your head"),
    ("head_pitch", "to:level"): ("bring your head level", "lift your gaze to the horizon"),
    ("head_tilt", "to:left"): ("tilt your head to the left",),
    ("head_tilt", "to:right"): ("tilt your head to the right",),
    ("super", "to:yes", "kneeling"): ("kneel down", "get down on your knees"),
    ("super", "to:yes", "kneeling_left"): ("kneel on your left knee", "go down on your left knee"),
    ("super", "to:yes", "kneeling_right"): ("kneel on your right knee", "go down on your right knee"),
    ("super", "to:yes", "all_fours"): ("get down on all fours", "go onto your hands and knees"),
    ("super", "to:yes", "lying_back"): ("lie down on your back", "lie on your back"),
    ("super", "to:yes", "lying_front"): ("lie face down", "lie down on your stomach"),
    ("super", "to:yes", "lying_left_side"): ("lie on your left side",),
    ("super", "to:yes", "lying_right_side"): ("lie on your right side",),
    ("super", "to:yes", "squatting"): ("squat down", "go into a squat"),
    ("super", "to:yes", "sitting"): ("sit down as if on a chair", "lower yourself into a sitting position"),
    ("super", "to:yes", "sitting_floor"): ("sit on the floor", "sit down on the ground"),
    ("super", "to:yes", "arms_crossed"): ("cross your arms", "fold your arms"),
    ("super", "from:yes", "arms_crossed"): ("uncross your arms",),
    ("super", "to:yes", "arms_out"): ("stretch your arms out to the sides", "spread your arms out to the sides"),
    ("super", "to:yes", "standing_left_leg"): ("stand on your left leg", "balance on your left foot"),
    ("super", "to:yes", "standing_right_leg"): ("stand on your right leg", "balance on your right foot"),
}
_WEIGHT = {"super": 4.0, "ground": 2.0, "torso_tilt": 0.0, "incline_fwd": 1.5, "angle": 1.2, "relpos_y": 1.2,
           "pelvis_height": 0.0, "facing": 0.0, "hip_axis": 0.0}
_OPENERS = ("", "", "now ", "please ", "you should ", "first, ")
_ORDINAL = {"angle", "incline_fwd", "incline_side"}


def _templates_key(kind: str, change: str, target: str | None, pair: bool) -> tuple:
    return ("pair" if pair else kind, change) + ((target,) if target else ())


def pair_changes(codes_a: np.ndarray, codes_b: np.ndarray) -> list[tuple[int, str, str | None]]:
    """Sayable changes from A to B: [(posecode index, change, target category or None)].

    change is "more"/"less" for ordered kinds, else "to:X"/"from:X"; target names B's category when a
    template states it (e.g. "straighten your knee" says B's knee is straight)."""
    out = []
    for k in np.flatnonzero(changed(codes_a, codes_b)):
        code = POSECODES[k]
        a, b = code.categories[codes_a[k]], code.categories[codes_b[k]]
        pair = code.kind == "distance" and code.joints[0].replace("left", "right") == code.joints[1]
        if code.kind in _ORDINAL or pair:
            change = "more" if codes_b[k] > codes_a[k] else "less"
            target = b if _templates_key(code.kind, change, b, pair) in _TEMPLATES else None
            out.append((int(k), change, target))
        elif _templates_key(code.kind, f"to:{b}", None, False) in _TEMPLATES:
            out.append((int(k), f"to:{b}", None))
        elif _templates_key(code.kind, f"from:{a}", None, False) in _TEMPLATES:
            out.append((int(k), f"from:{a}", None))
        elif code.kind == "super":
            key = ("super", "to:yes" if b == "yes" else "from:yes", code.joints[0])
            if key in _TEMPLATES:
                out.append((int(k), key[1], None))
    return out


def _facts(k: int, change: str, target: str | None) -> list[PairFact]:
    name = POSECODES[k].name
    return [(name, change)] + ([(name, f"to:{target}")] if target else [])


def _noun(joint: str, rng, kind: str, plural: bool = False) -> str:
    side, _, part = joint.partition("_")
    if side not in ("left", "right"):
        part, side = joint, ""
    noun = _ANGLE_LIMB[part] if kind == "angle" and rng.random() < 0.4 else _PART[part]
    if plural:
        return f"{rng.choice(['both', 'your'])} {_PLURAL.get(noun, noun + 's')}"
    return f"your {side} {noun}".replace("  ", " ")


def _realize(kind: str, change: str, target, subject: tuple[str, ...], obj: tuple[str, ...], rng) -> str:
    pair = kind == "distance" and subject[0].replace("left", "right") == obj[0]
    if kind == "super":
        return str(rng.choice(_TEMPLATES[("super", change, target)]))
    key = _templates_key(kind, change, target, pair)
    template = str(rng.choice(_TEMPLATES[key]))
    if pair:
        return template.format(s=_noun(subject[0], rng, kind, plural=True).replace("both", "your"))
    if "{s}" not in template:
        return template
    s = _noun(subject[0], rng, kind, plural=len(subject) == 2)
    o = ""
    if obj:
        if len(obj) == 1 or obj[0] == obj[1]:
            o = _noun(obj[0], rng, "")
        elif obj[0].split("_")[0] != subject[0].split("_")[0]:
            s, o = (f"each {_noun(subject[0], rng, '').split()[-1]}",
                    "the opposite " + _noun(obj[0], rng, "").split()[-1])
        else:
            o = _noun(obj[0], rng, "", plural=True).replace("both", "your")
    return template.format(s=s, o=o)


def instruction_records(codes_a: np.ndarray, codes_b: np.ndarray, n: int = 3, seed: int = 0
                        ) -> list[tuple[str, list[PairFact]]]:
    """n instructions (with the paircode facts each claims) turning A into B. codes_*: (K,) int8."""
    rng = np.random.default_rng(seed)
    changes = pair_changes(codes_a, codes_b)
    by_name = {POSECODES[k].name: (k, c, t) for k, c, t in changes}
    out, seen = [], set()
    for _ in range(4 * n):
        if not changes:
            break
        supers = [x for x in changes if POSECODES[x[0]].kind == "super" and x[1] == "to:yes"]
        implied = {n for x in supers for n, _ in SUPER_CONDITIONS[POSECODES[x[0]].joints[0]]}
        pool = [x for x in changes if POSECODES[x[0]].name not in implied and x not in supers]
        weights = np.array([_WEIGHT.get(POSECODES[k].kind, 1.0) for k, _, _ in pool]) + 1e-9
        keys = np.log(rng.random(len(pool))) / weights
        count = int(rng.integers(2, 5)) - min(len(supers), 1)
        picked = supers + [pool[i] for i in np.argsort(-keys)[:max(count, 0)] if weights[i] > 1e-6]
        clauses, facts, done = [], [], set()
        for k, change, target in sorted(picked, key=lambda x: (_REGION.get(POSECODES[x[0]].kind, 3), rng.random())):
            code = POSECODES[k]
            if code.name in done:
                continue
            done.add(code.name)
            subject = code.joints if code.kind in ("angle", "pitch", "ground") else code.joints[:1]
            obj = code.joints[1:2] if code.kind in ("distance", "relpos_x", "relpos_y", "relpos_z") else ()
            fact_list = _facts(k, change, target)
            twin = by_name.get(_MIRROR[code.name])
            if (twin and twin[1:] == (change, target) and _MIRROR[code.name] != code.name
                    and code.kind not in ("relpos_x", "super") and rng.random() < 0.8):
                done.add(_MIRROR[code.name])
                m = POSECODES[twin[0]]
                subject = subject + (m.joints if code.kind in ("angle", "pitch", "ground") else m.joints[:1])
                obj = obj + (m.joints[1:2] if obj else ())
                fact_list += _facts(*twin)
            target_word = code.joints[0] if code.kind == "super" else target
            clauses.append(_realize(code.kind, change, target_word, subject, obj, rng))
            facts += fact_list
        text = _join(clauses, rng)
        if text not in seen:
            seen.add(text)
            out.append((text, facts))
        if len(out) == n:
            break
    return out


def _join(clauses: list[str], rng) -> str:
    text = clauses[0]
    for i, clause in enumerate(clauses[1:]):
        last = i == len(clauses) - 2
        text += str(rng.choice([", then ", " and ", ". "] if last else [", ", "; ", ". "])) + clause
    text = str(rng.choice(_OPENERS)) + text
    sentences = [s.strip() for s in text.split(". ")]
    return ". ".join(s[0].upper() + s[1:] for s in sentences) + "."


def instruct(pose_a: np.ndarray, pose_b: np.ndarray, n: int = 3, seed: int = 0) -> list[str]:
    """n instructions that turn pose A into pose B: each (22, 3) axis-angle or (24, 3) joints."""
    ja, ha = _geometry(np.asarray(pose_a)[None])
    jb, hb = _geometry(np.asarray(pose_b)[None])
    if (ha is None) != (hb is None):
        ha = hb = None
    codes_a = compute_posecodes(ja, ha)[0]
    codes_b = compute_posecodes(jb, hb)[0]
    return [t for t, _ in instruction_records(codes_a, codes_b, n, seed)]
