"""Text -> contact constraints: which body parts must touch each other or the ground.

Rule-based and deterministic. Recognised phrasings (articles and possessives optional):
  "<part> on/onto/to/touching/against/at/behind <part or floor>"   "right hand on the left knee",
        "hands on the hips", "left hand on the head", "hands behind the head", "knees on the floor"
  "touch(ing) <part> [with <part>]"      "touch your toes", "touching the floor", "touch the head with the left hand"
  "hands/palms together", "clasped hands", "clapping"
  "sitting/seated on the floor/ground"   (buttocks on the ground)
  "kneeling [on the left knee | on one knee]", "on his knees", "on all fours"
A negation just before the phrase ("not touching", "without ... on") drops it. Text without any of these
gives `[]`. Vocabulary: `PART_WORDS` (words -> parts in `body_parts.PARTS`).
"""
import re
from dataclasses import dataclass

from backend.contact.body_parts import GROUND, MIDLINE_PARTS, PARTS

DEFAULT_TOLERANCE = 0.03  # metres between the surfaces


@dataclass(frozen=True)
class Contact:
    """Parts `a` and `b` (names in `body_parts.PARTS`, or `b == "ground"`) touch within `tolerance` metres."""

    a: str
    b: str
    tolerance: float = DEFAULT_TOLERANCE

    def __str__(self) -> str:
        return f"{self.a} <-> {self.b}"


# word -> part base name (sided names get "left_"/"right_" in front); plural forms mean both sides
PART_WORDS: dict[str, str] = {
    "hand": "palm", "hands": "palm", "palm": "palm", "palms": "palm",
    "fingers": "fingertips", "fingertips": "fingertips", "finger": "fingertips", "fingertip": "fingertips",
    "wrist": "wrist", "wrists": "wrist", "elbow": "elbow", "elbows": "elbow",
    "shoulder": "shoulder", "shoulders": "shoulder",
    "hip": "hip", "hips": "hip", "waist": "hip",
    "thigh": "thigh", "thighs": "thigh", "lap": "thigh", "leg": "thigh", "legs": "thigh",
    "knee": "knee", "knees": "knee", "shin": "shin", "shins": "shin",
    "ankle": "ankle", "ankles": "ankle", "heel": "heel", "heels": "heel",
    "foot": "foot", "feet": "foot", "toe": "toes", "toes": "toes", "ear": "ear", "ears": "ear",
    "head": "head_top", "top of the head": "head_top", "top of his head": "head_top",
    "top of her head": "head_top", "top of your head": "head_top", "top of their head": "head_top",
    "back of the head": "head_back", "back of his head": "head_back", "back of her head": "head_back",
    "back of your head": "head_back", "back of their head": "head_back",
    "face": "face", "forehead": "face", "cheek": "face", "chin": "face", "mouth": "face", "nose": "face",
    "neck": "neck", "chest": "chest", "heart": "chest", "breast": "chest",
    "belly": "belly", "stomach": "belly", "tummy": "belly", "abdomen": "belly",
    "lower back": "lower_back", "back": "lower_back",
    "butt": "buttocks", "bottom": "buttocks", "buttocks": "buttocks", "bum": "buttocks", "pelvis": "buttocks",
    "floor": GROUND, "ground": GROUND, "mat": GROUND,
}
_PLURALS = {w for w in PART_WORDS if w.endswith("s") and w[:-1] in PART_WORDS} | {"feet", "legs"}
_TOUCHED_WITH_FINGERS = {"toes", "foot", GROUND, "heel", "ankle", "shin"}  # touching these reaches with fingertips

_DET = r"(?:(?:the|your|his|her|their|its|my|one's|each|a|both|own|other)\s+)*"
_SIDE = r"(?:(?P<{0}>left|right|both)\s+)?"
_WORD = "|".join(sorted((re.escape(w) for w in PART_WORDS), key=len, reverse=True))
_PART = _DET + _SIDE + rf"(?:index\s+|middle\s+)?(?P<{{1}}>{_WORD})\b"
_RELATION = r"(?:on\s+top\s+of|onto|upon|on|to|touching|touches|touch|against|at|behind|over|across)"
_ON = re.compile(
    rf"\b{_PART.format('s1', 'p1')}\s+(?:(?:is|are|both|resting|rest|rests|placed|pressed|flat|firmly|lightly|"
    rf"gently|held|put|planted|laid)\s+){{0,3}}(?P<rel>{_RELATION})\s+{_PART.format('s2', 'p2')}"
)
_TOUCH = re.compile(
    rf"\b(?:touch|touches|touching|reach|reaches|reaching)\s+(?:down\s+)?(?:to\s+)?{_PART.format('s2', 'p2')}"
    rf"(?:\s+with\s+{_PART.format('s1', 'p1')})?"
)
_TOGETHER = re.compile(
    r"\b(?:hands|palms)\s+(?:\w+\s+)?(?:together|joined|clasped)\b|\b(?:clasped|joined)\s+hands\b|\bclap(?:s|ping)?\b"
    r"|\bprayer\s+position\b"
)
_SIT_FLOOR = re.compile(r"\b(?:sit|sits|sitting|seated|sat)\s+(?:down\s+)?(?:\w+\s+)?on\s+"
                        r"(?:the\s+)?(?:floor|ground|mat)\b")
_KNEEL = re.compile(
    r"\b(?:kneel|kneels|kneeling|knelt)\b(?:\s+(?:down\s+)?on\s+(?:the\s+|his\s+|her\s+|your\s+|their\s+)?"
    r"(?P<which>left|right|one)\s+knee)?"
)
_ON_KNEES = re.compile(r"\bon\s+(?:his|her|your|their|the|both)\s+knees\b")
_ALL_FOURS = re.compile(r"\bon\s+all\s+fours\b")
_NEGATION = re.compile(r"\b(?:not|no|never|without|n't|don't|doesn't|isn't|aren't|away\s+from)\s+(?:\w+\s+){0,2}$")


def parse_contacts(text: str, tolerance: float = DEFAULT_TOLERANCE) -> list[Contact]:
    """All contacts the text asks for, in the order found, without duplicates."""
    text = " " + re.sub(r"[^a-z' ]+", " ", text.lower().replace("-", " ")) + " "
    text = re.sub(r"\s+", " ", text)
    found: list[tuple[str, str]] = []
    covered = set()  # characters inside "<part> touching <part>" phrases: no second reading as "touching <part>"
    for match in _ON.finditer(text):
        covered.update(range(*match.span()))
        if not _negated(text, match.start()):
            found += _pairs(match["s1"], match["p1"], match["s2"], match["p2"], match["rel"])
    for match in _TOUCH.finditer(text):
        if match.start() not in covered and not _negated(text, match.start()):
            subject = match["p1"] or ("hand" if PART_WORDS[match["p2"]] in MIDLINE_PARTS else "hands")
            if PART_WORDS[subject] == "palm" and PART_WORDS[match["p2"]] in _TOUCHED_WITH_FINGERS:
                subject = "fingers" if subject.endswith("s") or match["s1"] == "both" or not match["p1"] else "finger"
            found += _pairs(match["s1"], subject, match["s2"], match["p2"], "touch")
    if _TOGETHER.search(text) and not _negated(text, _TOGETHER.search(text).start()):
        found.append(("left_palm", "right_palm"))
    for match in _SIT_FLOOR.finditer(text):
        if not _negated(text, match.start()):
            found.append(("buttocks", GROUND))
    for match in _KNEEL.finditer(text):
        if not _negated(text, match.start()):
            which = match["which"]
            sides = ("left", "right") if which is None else ("right",) if which == "one" else (which,)
            found += [(f"{side}_knee", GROUND) for side in sides]
    for match in _ON_KNEES.finditer(text):
        if match.start() not in covered:
            found += [("left_knee", GROUND), ("right_knee", GROUND)]
    if _ALL_FOURS.search(text):
        found += [(f"{side}_{part}", GROUND) for part in ("knee", "palm") for side in ("left", "right")]
    return _unique(found, tolerance)


def _negated(text: str, start: int) -> bool:
    return _NEGATION.search(text[:start]) is not None


def _sides(side: str | None, word: str) -> tuple[str, ...] | None:
    """Sides named by a part mention; None when neither a side nor a plural says which."""
    if side in ("left", "right"):
        return (side,)
    if side == "both" or word in _PLURALS:
        return ("left", "right")
    return None


def _pairs(side1, word1, side2, word2, relation) -> list[tuple[str, str]]:
    base1, base2 = PART_WORDS[word1], PART_WORDS[word2]
    if base1 == GROUND or base1 in MIDLINE_PARTS and base2 in MIDLINE_PARTS:
        return [] if base1 == GROUND or base1 == base2 else [(base1, base2)]
    if base2 == "head_top" and relation == "behind":
        base2 = "head_back"
    if base1 in MIDLINE_PARTS:  # "head on the knees": the sided part is the one that says how many
        return [(base1, f"{s}_{base2}") for s in (_sides(side2, word2) or ("left", "right"))]
    sides1 = _sides(side1, word1) or ("right",)  # an unsided "hand" is the right one
    if base2 == GROUND or base2 in MIDLINE_PARTS:
        return [(f"{s}_{base1}", base2) for s in sides1]
    sides2 = _sides(side2, word2)
    if sides2 is None or len(sides2) == len(sides1) == 2:  # "hands on the knees": each on its own side
        return [(f"{s}_{base1}", f"{s}_{base2}") for s in sides1]
    return [(f"{s1}_{base1}", f"{s2}_{base2}") for s1 in sides1 for s2 in sides2 if (s1, base1) != (s2, base2)]


def _unique(pairs: list[tuple[str, str]], tolerance: float) -> list[Contact]:
    seen, contacts = set(), []
    for a, b in pairs:
        key = frozenset((a, b))
        if a != b and key not in seen and (a in PARTS) and (b in PARTS or b == GROUND):
            seen.add(key)
            contacts.append(Contact(a, b, tolerance))
    return contacts
