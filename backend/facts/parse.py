"""Read captions and instructions back into the posecode facts they claim.

This parser has its own vocabulary, written separately from the generators' phrase tables, so a
wording bug (a synonym filed under the wrong category, a wrong side, a clause the parser cannot read)
shows up as a mismatch in the truth tests instead of passing silently. It is strict: a clause with words
it cannot account for raises `ParseError`.
"""
import re

from backend.facts.posecodes import POSECODE_INDEX

Fact = tuple[str, str]


class ParseError(ValueError):
    """A sentence the parser cannot map to facts."""


# ---- body parts: (regex, stem); plural forms mean both sides --------------------------------------
_PARTS = [
    (r"upper arms?", "upper_arm"), (r"forearms?|lower arms?", "forearm"), (r"thighs?", "thigh"),
    (r"shins?|lower legs?", "shin"), (r"hands?|wrists?", "wrist"), (r"elbows?", "elbow"), (r"knees?", "knee"),
    (r"feet|foot|ankles?", "ankle"), (r"shoulders?", "shoulder"), (r"hips?", "hip"), (r"arms?", "elbow"),
    (r"legs?", "knee"), (r"head|face", "head"), (r"chest|torso|upper body|body", "spine3"),
    (r"waist|pelvis", "pelvis"),
]
_MIDLINE = {"head", "spine3", "pelvis"}
_PART_RE = re.compile(
    r"\b(?:(?P<side>left|right)\s+|(?P<both>both|each|two|the two|their two)\s+|(?P<opp>opposite)\s+)?"
    r"(?P<part>" + "|".join(f"(?:{p})" for p, _ in _PARTS) + r")\b")
_PLURAL_WORDS = {"arms", "legs", "hands", "wrists", "elbows", "knees", "feet", "ankles", "shoulders", "hips",
                 "thighs", "shins", "forearms", "upper arms", "lower legs", "lower arms"}

# ---- predicates: (regex, kind, category), tried in this order ----------------------------------------
_PREDICATES = [
    (r"almost completely bent|deeply bent|sharply bent", "angle", "almost completely bent"),
    (r"(?:completely|fully) bent|bent all the way", "angle", "completely bent"),
    (r"bent at (?:a right angle|about ninety degrees|roughly 90 degrees)", "angle", "bent at a right angle"),
    (r"(?:partially|partly|half) bent", "angle", "partially bent"),
    (r"slightly bent|a little bent|bent slightly", "angle", "slightly bent"),
    (r"straight(?:ened)?|extended", "angle", "straight"),
    (r"close together|near each other|close to each other", "pair", "close"),
    (r"(?:about |roughly )?shoulder[- ]width apart", "pair", "shoulder width"),
    (r"spread apart|fairly far apart", "pair", "spread"),
    (r"wide apart|(?:very )?far apart", "pair", "wide"),
    (r"close to|near|next to", "distance", "close"),
    (r"raised above|above|higher than", "relpos_y", "above"),
    (r"below|lower than|beneath", "relpos_y", "below"),
    (r"in front of|forward of", "relpos_z", "in front of"),
    (r"behind", "relpos_z", "behind"),
    (r"(?:out )?to the left of", "relpos_x", "left of"),
    (r"to the right of|on the right side of", "relpos_x", "right of"),
    (r"vertical|perpendicular to the ground", "pitch", "vertical"),
    (r"horizontal(?:ly)?|parallel to the (?:ground|floor)", "pitch", "horizontal"),
    (r"on the (?:ground|floor)|touching the (?:floor|ground)|resting on the (?:ground|floor)", "ground", "on ground"),
    (r"upside down|inverted", "torso_tilt", "upside down"),
    (r"(?:bent|leans?) far forward|bent well forward", "incline_fwd", "far forward"),
    (r"lean(?:s|ing)? forward|tilted forward", "incline_fwd", "forward"),
    (r"lean(?:s|ing)? back(?:ward)?|tilted back", "incline_fwd", "backward"),
    (r"upright", "incline_fwd", "upright"),
    (r"(?:lean(?:s|ing)?|tilted) to the left(?: side)?", "incline_side", "left"),
    (r"(?:lean(?:s|ing)?|tilted) to the right(?: side)?", "incline_side", "right"),
    (r"turned to the left|look(?:s|ing)? to the left", "head_turn", "left"),
    (r"turned to the right|look(?:s|ing)? to the right", "head_turn", "right"),
    (r"look(?:s|ing)? up(?:ward)?", "head_pitch", "up"),
    (r"look(?:s|ing)? down(?:ward)?|bowed", "head_pitch", "down"),
]
_PREDICATE_RES = [(re.compile(r"\b(?:" + p + r")\b"), k, c) for p, k, c in _PREDICATES]

# ---- whole-body phrases, read before anything else ------------------------------------------------
_SUPERS = [
    (r"kneel(?:s|ing)? on (?:the|their) left knee|down on (?:the|their) left knee", "kneeling_left"),
    (r"kneel(?:s|ing)? on (?:the|their) right knee|down on (?:the|their) right knee", "kneeling_right"),
    (r"on all fours|on (?:their|the) hands and knees", "all_fours"),
    (r"kneel(?:s|ing)?|on (?:their|the) knees", "kneeling"),
    (r"l(?:ies|ie|ying) on (?:their|the) back|lying face up", "lying_back"),
    (r"l(?:ies|ie|ying) on (?:their|the) (?:stomach|front)|l(?:ies|ie|ying) face down", "lying_front"),
    (r"l(?:ies|ie|ying) on (?:their|the) left side", "lying_left_side"),
    (r"l(?:ies|ie|ying) on (?:their|the) right side", "lying_right_side"),
    (r"squat(?:s|ting)?|in a squat|crouching", "squatting"),
    (r"sit(?:s|ting)? on the (?:floor|ground)|seated on the (?:floor|ground)", "sitting_floor"),
    (r"in a (?:sitting|seated) position|as if sitting on a chair", "sitting"),
    (r"arms (?:are )?crossed|cross(?:es)? (?:their|the) arms", "arms_crossed"),
    (r"arms (?:are )?(?:stretched|spread|held)? ?out to the sides", "arms_out"),
    (r"(?:stand(?:s|ing)?|balanc(?:es|e|ing)) on (?:their|the) left (?:leg|foot)", "standing_left_leg"),
    (r"(?:stand(?:s|ing)?|balanc(?:es|e|ing)) on (?:their|the) right (?:leg|foot)", "standing_right_leg"),
]
_SUPER_RES = [(re.compile(r"\b(?:" + p + r")\b"), s) for p, s in _SUPERS]
_PERSON_RE = re.compile(r"\b(?:the person|someone|this person|a person|the figure|they|posed)\b")
_FILLER = {"is", "are", "has", "have", "the", "their", "holds", "hold", "both", "two", "each", "a", "an",
           "she", "he", "it", "its", "so", "that", "in", "position"}
_SPLIT_RE = re.compile(r"[.;,]|\band\b|\bwhile\b|\bwith\b")
_FLIP = {"above": "below", "below": "above", "in front of": "behind", "behind": "in front of",
         "left of": "right of", "right of": "left of", "close": "close"}


def _mentions(text: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """Body parts in a span: (stem, sides, opposite) with sides ('left',), ('right',), both, or () for midline."""
    stems = {re.compile(rf"^(?:{p})$"): s for p, s in _PARTS}
    out = []
    for m in _PART_RE.finditer(text):
        word = m.group("part")
        stem = next(s for r, s in stems.items() if r.match(word))
        if stem in _MIDLINE:
            sides: tuple[str, ...] = ()
        elif m.group("side"):
            sides = (m.group("side"),)
        elif m.group("both") or m.group("opp") or word in _PLURAL_WORDS:
            sides = ("left", "right")
        else:
            raise ParseError(f"'{word}' without a side")
        out.append((stem, sides, bool(m.group("opp"))))
    return out


def _joint(stem: str, side: str | None) -> str:
    return stem if stem in _MIDLINE else f"{side}_{stem}"


def _leftover(text: str) -> list[str]:
    text = _PART_RE.sub(" ", text)
    return [w for w in re.findall(r"[a-z0-9'-]+", text) if w not in _FILLER]


def _lookup(kind: str, a: str, b: str, category: str) -> Fact:
    if f"{kind}:{a}:{b}" in POSECODE_INDEX:
        return (f"{kind}:{a}:{b}", category)
    if f"{kind}:{b}:{a}" in POSECODE_INDEX:
        return (f"{kind}:{b}:{a}", _FLIP[category])
    raise ParseError(f"no {kind} posecode between {a} and {b}")


def _resolve(kind: str, category: str, subject, obj) -> list[Fact]:
    """Facts of one clause from its predicate and body-part mentions."""
    if kind in ("incline_fwd", "incline_side", "head_turn", "head_pitch", "torso_tilt") and not obj:
        stems = {s for s, _, _ in subject}
        if stems == {"head"} and kind in ("incline_side", "incline_fwd"):
            if kind == "incline_fwd" and category == "backward":
                return [("head_pitch:head", "up")]
            if kind == "incline_side":
                return [("head_tilt:head", category)]
            raise ParseError("head with a torso predicate")
        if stems - {"spine3"} and not (kind.startswith("head") and stems == {"head"}):
            raise ParseError(f"{kind} said of {stems}")
        return [(f"{kind}:{'head' if kind.startswith('head') else 'torso'}", category)]
    if not subject:
        raise ParseError(f"{kind} without a subject")
    if len(subject) != 1:
        raise ParseError("several subjects")
    stem, sides, _ = subject[0]
    if kind == "angle" and not obj:
        return [(f"angle:{_joint(stem, s)}", category) for s in sides]
    if kind == "pitch" and not obj:
        if stem == "spine3" and category == "horizontal":
            return [("torso_tilt:torso", "horizontal")]
        return [(f"pitch:{_joint(stem, s)}", category) for s in sides]
    if kind == "ground" and not obj:
        return [(f"ground:{_joint(stem, s)}", category) for s in (sides or (None,))]
    if kind == "pair" and not obj and sides == ("left", "right"):
        return [(f"distance:left_{stem}:right_{stem}", category)]
    if kind in ("distance", "relpos_x", "relpos_y", "relpos_z") and len(obj) == 1:
        o_stem, o_sides, opposite = obj[0]
        facts = []
        for s in sides or (None,):
            if o_stem in _MIDLINE:
                o_side = None
            elif opposite:
                o_side = {"left": "right", "right": "left"}[s]
            elif len(o_sides) == 1:
                o_side = o_sides[0]
            elif len(sides) == 2:
                o_side = s
            else:
                raise ParseError("one side compared with both")
            facts.append(_lookup(kind, _joint(stem, s), _joint(o_stem, o_side), category))
        return facts
    raise ParseError(f"cannot read a {kind} clause with {len(obj)} objects")


def parse_caption(text: str) -> list[Fact]:
    """Facts claimed by a caption, in order. Raises ParseError on anything it cannot account for."""
    text = " " + text.lower() + " "
    facts: list[Fact] = []
    for regex, name in _SUPER_RES:
        for _ in regex.findall(text):
            facts.append((f"super:{name}", "yes"))
        text = regex.sub(" , ", text)
    text = _PERSON_RE.sub(" ", text)
    previous_subject = None
    for chunk in _SPLIT_RE.split(text):
        if not chunk.strip():
            continue
        for regex, kind, category in _PREDICATE_RES:
            m = regex.search(chunk)
            if m:
                break
        else:
            if _leftover(chunk) or _mentions(chunk):
                raise ParseError(f"no predicate in '{chunk.strip()}'")
            continue
        before, after = chunk[:m.start()], chunk[m.end():]
        rest = before + " " + after
        if any(r.search(rest) for r, _, _ in _PREDICATE_RES):
            raise ParseError(f"two predicates in '{chunk.strip()}'")
        if _leftover(rest):
            raise ParseError(f"unknown words {_leftover(rest)} in '{chunk.strip()}'")
        subject, obj = _mentions(before), _mentions(after)
        if not subject and previous_subject and kind not in ("incline_fwd", "incline_side", "head_turn",
                                                               "head_pitch", "torso_tilt"):
            subject = previous_subject
        resolved = _resolve(kind, category, subject, obj)
        unknown = [name for name, _ in resolved if name not in POSECODE_INDEX]
        if unknown:  # e.g. "the left forearm is partially bent": angles are the elbows' and knees'
            raise ParseError(f"no posecode {unknown[0]} in '{chunk.strip()}'")
        facts.extend(resolved)
        previous_subject = subject or previous_subject
    return facts


# ---- instructions ------------------------------------------------------------------------------------
# (regex with optional groups s (moved part) and o (reference part), kind, changes claimed)
_COMMANDS = [
    (r"bend (?P<s>.+?) (?:fully|all the way)", "angle", ("less", "to:completely bent")),
    (r"bend (?P<s>.+?) to (?:a right angle|about ninety degrees)", "angle", ("less", "to:bent at a right angle")),
    (r"bend (?P<s>.+?) (?:more|further)", "angle", ("less",)),
    (r"bend (?P<s>.+?) less|straighten (?P<s2>.+?) a little|extend (?P<s3>.+?) a bit", "angle", ("more",)),
    (r"straighten (?P<s>.+?)|extend (?P<s2>.+?) fully|stretch (?P<s3>.+?) out straight", "angle",
     ("more", "to:straight")),
    (r"(?:bring|put) (?P<s>.+?) (?:close together|together)", "pair", ("less", "to:close")),
    (r"(?:move|bring) (?P<s>.+?) closer (?:together|to each other)", "pair", ("less",)),
    (r"(?:move|spread) (?P<s>.+?) (?:further|wider) apart", "pair", ("more",)),
    (r"(?:move|take) (?P<s>.+?) away from (?P<o>.+)", "distance", ("from:close",)),
    (r"(?:bring|put|move) (?P<s>.+?) (?:close to|near|next to) (?P<o>.+)", "distance", ("to:close",)),
    (r"(?:raise|lift|move) (?P<s>.+?) (?:above|higher than) (?P<o>.+)", "relpos_y", ("to:above",)),
    (r"(?:lower|drop|move) (?P<s>.+?) (?:below|beneath) (?P<o>.+)", "relpos_y", ("to:below",)),
    (r"(?:move|bring) (?P<s>.+?) (?:in front of|forward of) (?P<o>.+)", "relpos_z", ("to:in front of",)),
    (r"(?:move|put) (?P<s>.+?) behind (?P<o>.+)", "relpos_z", ("to:behind",)),
    (r"move (?P<s>.+?) to the left of (?P<o>.+)", "relpos_x", ("to:left of",)),
    (r"move (?P<s>.+?) to the right of (?P<o>.+)", "relpos_x", ("to:right of",)),
    (r"(?:make (?P<s>.+?) vertical|bring (?P<s2>.+?) to a vertical position)", "pitch", ("to:vertical",)),
    (r"(?:make (?P<s>.+?) horizontal|bring (?P<s2>.+?) parallel to the ground)", "pitch", ("to:horizontal",)),
    (r"(?:put|rest) (?P<s>.+?) on the (?:floor|ground)|lower (?P<s2>.+?) to the (?:floor|ground)", "ground",
     ("to:on ground",)),
    (r"(?:lift|raise) (?P<s>.+?) off the (?:floor|ground)", "ground", ("to:off ground",)),
    (r"lean further forward|tilt your torso more forward", "incline_fwd", ("more",)),
    (r"lean further back|tilt your torso more backward", "incline_fwd", ("less",)),
    (r"bring your torso upright|straighten up your torso", "incline_fwd", ("to:upright",)),
    (r"lean more to your left|tilt your torso further to the left", "incline_side", ("more",)),
    (r"lean more to your right|tilt your torso further to the right", "incline_side", ("less",)),
    (r"turn your head to the left|look to your left", "head_turn", ("to:left",)),
    (r"turn your head to the right|look to your right", "head_turn", ("to:right",)),
    (r"turn your head back to the front|face forward with your head", "head_turn", ("to:straight",)),
    (r"look up|tilt your head back", "head_pitch", ("to:up",)),
    (r"look down|lower your head", "head_pitch", ("to:down",)),
    (r"bring your head level|lift your gaze to the horizon", "head_pitch", ("to:level",)),
    (r"tilt your head to the left", "head_tilt", ("to:left",)),
    (r"tilt your head to the right", "head_tilt", ("to:right",)),
]
_COMMAND_SUPERS = [
    (r"kneel on your left knee|go down on your left knee", "kneeling_left", "to:yes"),
    (r"kneel on your right knee|go down on your right knee", "kneeling_right", "to:yes"),
    (r"kneel down|get down on your knees", "kneeling", "to:yes"),
    (r"get down on all fours|go onto your hands_and_knees", "all_fours", "to:yes"),
    (r"lie (?:down )?on your back", "lying_back", "to:yes"),
    (r"lie face down|lie down on your stomach", "lying_front", "to:yes"),
    (r"lie on your left side", "lying_left_side", "to:yes"),
    (r"lie on your right side", "lying_right_side", "to:yes"),
    (r"squat down|go into a squat", "squatting", "to:yes"),
    (r"sit down as if on a chair|lower yourself into a sitting position", "sitting", "to:yes"),
    (r"sit (?:down )?on the (?:floor|ground)", "sitting_floor", "to:yes"),
    (r"uncross your arms", "arms_crossed", "from:yes"),
    (r"cross your arms|fold your arms", "arms_crossed", "to:yes"),
    (r"(?:stretch|spread) your arms out to the sides", "arms_out", "to:yes"),
    (r"stand on your left leg|balance on your left foot", "standing_left_leg", "to:yes"),
    (r"stand on your right leg|balance on your right foot", "standing_right_leg", "to:yes"),
]
_COMMAND_RES = [(re.compile(rf"^(?:{p})$"), k, c) for p, k, c in _COMMANDS]
_COMMAND_SUPER_RES = [(re.compile(rf"^(?:{p})$"), s, c) for p, s, c in _COMMAND_SUPERS]
_OPENER_RE = re.compile(r"^(?:now|please|you should|first|then)(?:\s+|$)")
_SLOT_FILLER = {"your", "both", "each", "the", "two"}


def _slot(text: str | None):
    if text is None:
        return []
    if [w for w in _leftover(text) if w not in _SLOT_FILLER]:
        raise ParseError(f"unknown words in '{text}'")
    return _mentions(text)


def parse_instruction(text: str) -> list[Fact]:
    """Paircode facts `(posecode name, change)` claimed by an instruction. Raises ParseError."""
    facts: list[Fact] = []
    text = text.lower().replace("hands and knees", "hands_and_knees")  # one phrase, not two clauses
    for chunk in re.split(r"[.;,]|\band\b|\bthen\b", text):
        chunk = chunk.strip()
        while _OPENER_RE.match(chunk):
            chunk = _OPENER_RE.sub("", chunk, count=1).strip()
        if not chunk:
            continue
        sup = next(((s, c) for r, s, c in _COMMAND_SUPER_RES if r.match(chunk)), None)
        if sup:
            facts.append((f"super:{sup[0]}", sup[1]))
            continue
        for regex, kind, changes in _COMMAND_RES:
            m = regex.match(chunk)
            if m:
                break
        else:
            raise ParseError(f"unknown instruction '{chunk}'")
        groups = m.groupdict()
        subject = _slot(next((groups[g] for g in ("s", "s2", "s3") if groups.get(g)), None))
        obj = _slot(groups.get("o"))
        for change in changes:
            direction, _, category = change.partition(":")
            if kind == "pair":
                fact_kind, cat = "pair", "close"
            else:
                fact_kind, cat = kind, category or "upright"
            if kind in ("incline_fwd", "incline_side", "head_turn", "head_pitch", "head_tilt"):
                facts.append((f"{kind}:{'head' if kind.startswith('head') else 'torso'}", change))
                continue
            # reuse the caption resolver for the posecode names, then attach the change
            for name, resolved in _resolve(fact_kind, cat, subject, obj):
                if kind in ("relpos_x", "relpos_y", "relpos_z") and resolved != category:
                    raise ParseError(f"'{chunk}' names a reversed posecode")
                facts.append((name, change))
    return facts


# ---- short texts (the prompts people type) -------------------------------------------------------------
# (regex, claims); "{side}" rows are expanded for left and right; tried in this order, specific first.
_SHORT = [
    (r"(?:stand in )?an? t-pose", ("standing", "t_arms")),
    (r"(?:stand in )?an? a-pose", ("standing", "a_arms")),
    (r"an? (?:neutral|relaxed) standing pose|stand relaxed", ("standing", "arms_down")),
    (r"(?:do(?:ing)? )?a handstand|handstand|stand(?:ing)? on (?:your|the) hands", ("handstand",)),
    (r"(?:do |in )?a downward dog(?: pose)?|in downward dog|down(?:ward)? dog|make an inverted v with your body",
     ("downward_dog",)),
    (r"(?:turn|go) upside down|upside down|inverted", ("upside_down",)),
    (r"l(?:ie|ying) on (?:your|the) {side} side|{side} side lying", ("lying_side_{side}",)),
    (r"l(?:ie|ying) on (?:your|the|one) side|side lying", ("lying_side",)),
    (r"l(?:ie|ying) on (?:your |the )?back|l(?:ie|ying) face up", ("lying_back",)),
    (r"l(?:ie|ying) on (?:your|the) stomach|l(?:ie|ying) face down|prone", ("lying_front",)),
    (r"l(?:ie|ying) down", ("lying",)),
    (r"(?:hold |in )?a plank|plank|(?:get into |in )?a push-up position|push-up position", ("plank",)),
    (r"(?:get |go )?on all fours|all fours|(?:go )?on (?:your )?hands and knees|hands and knees", ("all_fours",)),
    (r"kneel(?:ing)? on (?:your|the) {side} knee|(?:go )?down on (?:your|the) {side} knee|{side} knee kneel",
     ("kneeling_{side}",)),
    (r"kneel(?:ing)? on one knee|(?:go )?down on one knee|one knee kneel", ("kneeling_one_knee",)),
    (r"kneel(?:ing)? on both knees|get down on your knees|on both knees", ("kneeling_both",)),
    (r"kneel(?:ing)?(?: down)?", ("kneeling",)),
    (r"sit(?:ting)? cross-legged|sit(?:ting)? with (?:your legs crossed|crossed legs)|cross-legged",
     ("sitting_cross_legged",)),
    (r"sit(?:ting)?(?: down)? on a chair|seated on a chair|chair sit", ("sitting_chair",)),
    (r"sit(?:ting)?(?: down)? on the (?:floor|ground)|floor sit", ("sitting_on_floor",)),
    (r"(?:get into |in )?a deep squat|deep squat|squat(?:ting)?(?: down)?", ("squatting",)),
    (r"lung(?:e|ing) with (?:your|the) {side} leg forward|step into a lunge on your {side} leg"
     r"|in a lunge, {side} leg forward|{side} leg lunge", ("lunging_{side}",)),
    (r"(?:do |in )?a lunge|lung(?:e|ing)", ("lunging",)),
    (r"jump(?:ing)? with (?:your|the) knees tucked|(?:do |in )?a tuck jump|tuck jump", ("jumping",)),
    (r"bend(?:ing)? (?:forward|over)|bent over|forward bend|lean far forward", ("bending_forward",)),
    (r"bend your knees and crouch|crouch(?:ing)?(?: down)?", ("crouching",)),
    (r"lean(?:ing)? back(?:ward)?", ("leaning_back",)),
    (r"stand(?:ing)? on (?:your|the) {side} leg|balanc(?:e|ing) on (?:your|the) {side} foot|{side} leg stand",
     ("standing_{side}_leg",)),
    (r"stand(?:ing)? on one leg|balanc(?:e|ing) on one foot|one leg stand|one-legged stance", ("standing_one_leg",)),
    (r"sit(?:ting)?(?: down)?|seated", ("sitting",)),
    # arms
    (r"raise both arms|put your hands up|lift both arms overhead|with both arms raised|with the arms up"
     r"|with both hands above the head|arms up|both arms raised|hands up", ("arms_up",)),
    (r"raise your {side} arm|lift your {side} hand above your head|with the {side} arm raised"
     r"|with the {side} hand above the head|{side} arm up", ("{side}_arm_up",)),
    (r"raise one arm|with one arm raised|one arm up", ("one_arm_up",)),
    (r"stretch your arms out to the sides|spread your arms wide|with the arms out to the sides"
     r"|with the arms spread wide|arms out to the sides|t arms", ("t_arms",)),
    (r"hold your arms down and out at an angle|with the arms angled down and out|a arms", ("a_arms",)),
    (r"stretch both arms forward|hold your arms out in front|with both arms stretched forward"
     r"|with the arms out in front|arms forward", ("arms_forward",)),
    (r"cross your arms|fold your arms|with the arms crossed|with folded arms|arms crossed|folded arms",
     ("arms_crossed",)),
    (r"put your hands on your hips|with (?:the )?hands on (?:the )?hips|hands on hips", ("hands_on_hips",)),
    (r"put your hands on your head|hold your head with both hands|with (?:the|both) hands on the head"
     r"|hands on head", ("hands_on_head",)),
    (r"put your hands together|press your palms together|with the hands together|with the palms pressed together"
     r"|hands together|palms together", ("hands_together",)),
    (r"point(?:ing)? with (?:your|the) {side} arm|{side} arm pointing", ("pointing_{side}",)),
    (r"point(?:ing)? with one arm|pointing", ("pointing",)),
    (r"wav(?:e|ing) with your {side} hand|waving the {side} hand|{side} hand wave", ("waving_{side}",)),
    (r"wav(?:e|ing)(?: hello)?", ("waving",)),
    (r"reach(?:ing)? (?:down|toward the floor)", ("reaching_down",)),
    (r"touch(?:ing)? (?:your |the )?toes|toe touch", ("touching_toes",)),
    (r"rest your chin on your {side} hand|with the {side} hand on the chin|{side} hand on chin", ("thinking_{side}",)),
    (r"put a hand to your chin|strike a thinking pose|with a hand on the chin|in a thinking pose|thinking pose"
     r"|hand (?:on|to) chin", ("thinking",)),
    (r"salut(?:e|ing) with (?:your|the) {side} hand|{side} hand salute", ("saluting_{side}",)),
    (r"salut(?:e|ing)", ("saluting",)),
    (r"let your arms hang at your sides|put your arms down by your sides|with the arms at the sides"
     r"|with the arms hanging down|arms at sides|arms down", ("arms_down",)),
    (r"standing pose|stand(?:ing)?(?: up straight| upright| up| still)?", ("standing",)),
]
_SHORT_RES = [(re.compile(r"(?<![\w-])(?:" + p.format(side=side) + r")(?![\w-])"),
               tuple(c.format(side=side) for c in claims))
              for p, claims in _SHORT for side in (("left", "right") if "{side}" in p else ("",))]
_SHORT_FILLER = {"a", "person", "someone", "and", "with", "|"}


def parse_short_text(text: str) -> list[str]:
    """Claims (state or state-group names of `training.captioning.states` / `short_texts.GROUPS`) of a short
    text, in the order they appear. Raises ParseError on words it cannot account for."""
    text = " " + text.lower().strip().rstrip(".") + " "
    found: list[tuple[int, tuple[str, ...]]] = []
    for regex, claims in _SHORT_RES:
        for m in regex.finditer(text):
            found.append((m.start(), claims))
        text = regex.sub(lambda m: " | " + " " * (len(m.group(0)) - 3) if len(m.group(0)) >= 3 else " | ", text)
    leftover = [w for w in re.findall(r"[a-z0-9'|-]+", text) if w not in _SHORT_FILLER]
    if leftover:
        raise ParseError(f"unknown words {leftover} in short text")
    if not found:
        raise ParseError("no claim in short text")
    return [c for _, claims in sorted(found, key=lambda f: f[0]) for c in claims]
