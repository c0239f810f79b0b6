"""Edit scope: an edit changes the limbs its instruction names and keeps the rest of the body.

The model answers an edit with a whole new pose, and its pose codes are entangled (an edit pair shares the
code at only 7 % of the 80 positions), so it cannot copy the body it was not asked to move. When an
instruction names only some limbs ("raise the left arm"), `keep_unnamed` takes those limbs' local rotations
from the model's answer and every other rotation, the global orientation included, from the start pose.
An instruction that moves the whole body ("kneel down", "lean forward") or names no limb keeps the answer.
"""
import re
from collections.abc import Iterable

import numpy as np

from backend.body.skeleton import JOINT_INDEX

_SIDES = ("left", "right")
_SIDED_LIMB_JOINTS = {"arm": ("collar", "shoulder", "elbow", "wrist"), "leg": ("hip", "knee", "ankle", "foot")}
# The pose joints whose local rotations move each limb.
LIMB_ROTATIONS: dict[str, tuple[str, ...]] = {
    **{f"{side}_{limb}": tuple(f"{side}_{j}" for j in joints)
       for limb, joints in _SIDED_LIMB_JOINTS.items() for side in _SIDES},
    "head": ("neck", "head"),
}
# The joints whose positions belong to each limb when drift is measured (training/benchmarks/edits.py): its
# rotation joints and, for an arm, the hand they carry; a leg without its hip, whose position sits on the pelvis.
LIMB_POSITIONS: dict[str, tuple[str, ...]] = {
    **{f"{side}_arm": (*LIMB_ROTATIONS[f"{side}_arm"], f"{side}_hand") for side in _SIDES},
    **{f"{side}_leg": LIMB_ROTATIONS[f"{side}_leg"][1:] for side in _SIDES},
    "head": LIMB_ROTATIONS["head"],
}

# ---- reading an instruction -------------------------------------------------------------------------------
# Words that name a limb (a side word right before one picks that side; none: both sides).
_LIMB_WORDS = {
    "arm": r"(?:upper |lower )?arms?|forearms?|hands?|wrists?|elbows?|shoulders?|fingers?|palms?|fists?",
    "leg": r"(?:upper |lower )?legs?|thighs?|knees?|shins?|ankles?|feet|foot|heels?|toes?",
    "head": r"head|neck|chin|eyes",
}
# Verbs that move one limb without naming it.
_LIMB_VERBS = {"arm": r"shrug\w*|clap\w*", "head": r"look\w*|gaz\w*|nod\w*"}
# Whole-body movements, and the trunk named as what moves.
_WHOLE_BODY = "|".join((
    r"sit\w*|sat|seated|kneel\w*|knelt|lie|lies|lying|lay\w*|laid|lean\w*|squat\w*|crouch\w*|jump\w*|hop\w*",
    r"stand\w*|stood|balanc\w*|walk\w*|run|runs|running|ran|step\w*|lunge\w*|crawl\w*|roll\w*|fall\w*|fell",
    r"danc\w*|bow|bows|bowing|bowed|spin\w*|twist\w*|recline\w*|slouch\w*|hunch\w*|stoop\w*|arch\w*",
    r"rise|rises|rising|rose|get|gets|getting|got|go|goes|going|went|drop\w* to",
    r"splits?|plank|cartwheel|handstand|headstand|somersault|fours|upside down",
    r"body|torso|trunk|spine|pelvis|yourself|your back",
    r"bend\w* (?:over|forwards?|down|back|backwards?|sideways|to the)",
    r"turn\w*(?! (?:your|the|both|his|her|their)\b)",  # "turn around", "turn left"; not "turn your head"
    r"(?<!your )face(?! \w+ with your head)",  # "face the wall"; not "your face", "face forward with your head"
    r"touch\w* your toes|on (?:your|both|one|the) (?:left |right )?knees?",
    r"(?:move|push|shift|swing|tilt|rotate|raise|lift|lower|thrust|stick|sway)\w* (?:your |the )?(?:hips?|waist|chest)",
))
# How a direction or a size is given, not a limb that moves: read as nothing.
_MEASURES = r"(?:parallel|perpendicular) to the (?:floor|ground)|(?:shoulder|hip|waist|chest)[- ](?:width|height|level)"

_LIMB_RE = re.compile(r"\b(?:(?P<side>left|right) (?:and (?P<side2>left|right) )?)?(?:"
                      + "|".join(f"(?P<{limb}>{words})" for limb, words in _LIMB_WORDS.items()) + r")\b")
_LIMB_VERB_RE = {limb: re.compile(rf"\b(?:{verbs})\b") for limb, verbs in _LIMB_VERBS.items()}
_WHOLE_BODY_RE = re.compile(rf"\b(?:{_WHOLE_BODY})\b")
_MEASURE_RE = re.compile(rf"\b(?:{_MEASURES})\b")
_GROUND_RE = re.compile(r"\b(?:floor|ground)\b")


def _limbs_of(limb: str, sides: tuple[str, ...]) -> set[str]:
    return {limb} if limb == "head" else {f"{side}_{limb}" for side in sides}


def read_scope(instruction: str) -> frozenset[str] | None:
    """The limbs (keys of LIMB_ROTATIONS) an everyday instruction names; None when it moves the whole body.

    It reads, as whole words, case-insensitive:
    - limbs: arm, forearm, upper arm, hand, wrist, elbow, shoulder, finger, palm, fist -> an arm; leg, thigh,
      knee, shin, ankle, foot/feet, heel, toe -> a leg; head, neck, chin, eyes -> the head; "shrug", "clap" ->
      both arms; "look", "gaze", "nod" -> the head. "left"/"right" (or "left and right") right before a limb
      word picks that side; without one, both sides ("bend your knees", "raise your hands").
    - the whole body (-> None, whatever limbs it names): sit, kneel, lie, lean, squat, crouch, jump, stand,
      balance, walk, step, lunge, roll, bow, twist, arch, get (up/down), go, "drop to", "all fours", "on your
      knees", "touch your toes", "turn" without a body part ("turn around", "turn left"), "face the ...",
      "bend over/forward/down/back/sideways/to the", the trunk (body, torso, spine, pelvis, "your back",
      "yourself"), hips, waist or chest moved ("push your hips forward"), and an arm or a leg put on or lifted
      off the floor or the ground (the body's support changes; the head may look at it).
    - nothing for directions and sizes: "parallel to the ground", "shoulder width", "hip height".
    Hips, waist and chest are places a hand goes, not limbs ("hands on your hips": both arms). An
    instruction that names no limb is read as None too: when in doubt, the whole body may change.
    """
    text = _MEASURE_RE.sub(" ", " ".join(instruction.lower().split()))
    if _WHOLE_BODY_RE.search(text):
        return None
    limbs: set[str] = set()
    for match in _LIMB_RE.finditer(text):
        sides = tuple(s for s in (match["side"], match["side2"]) if s) or _SIDES
        limbs |= _limbs_of(next(limb for limb in _LIMB_WORDS if match[limb]), sides)
    for limb, verbs in _LIMB_VERB_RE.items():
        if verbs.search(text):
            limbs |= _limbs_of(limb, _SIDES)
    if not limbs or (_GROUND_RE.search(text) and limbs != {"head"}):
        return None
    return frozenset(limbs)


# ---- applying the scope ----------------------------------------------------------------------------------
def keep_unnamed(start: np.ndarray, result: np.ndarray, limbs: Iterable[str] | None) -> np.ndarray:
    """The start pose with the named limbs' rotations taken from the result.

    start, result: (22, 3) axis-angle local rotations (index 0: global orientation), in the same frame.
    limbs: keys of LIMB_ROTATIONS; None (the whole body changes) returns the result as is.
    Returns (22, 3): the result's rotations at the limbs' joints, the start's everywhere else (root included).
    """
    if limbs is None:
        return np.array(result, copy=True)
    kept = np.array(start, dtype=np.result_type(start, result), copy=True)  # (22, 3)
    joints = [JOINT_INDEX[joint] for limb in limbs for joint in LIMB_ROTATIONS[limb]]
    kept[joints] = np.asarray(result)[joints]
    return kept
