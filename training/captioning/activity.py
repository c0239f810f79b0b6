"""Weak activity text from CMU clip descriptions ("basketball - dribble, shoot" -> a sentence).

The CMU index describes whole clips, not single poses, so this text is only a hint of the activity
(ChatPose-style speculative prompts), never a statement about one pose's limbs. `activity_fits` drops it
where the pose contradicts it (a "walk" clip's frame lying on the floor, a "sit" clip's frame standing up);
the corpus then pairs what is left with the pose's own short text.
"""
import re

import numpy as np

# verbs seen in the CMU index; anything else is treated as a noun ("swordplay", "boxing")
_VERBS = set("""walk run jog jump hop skip climb hang swing sit dangle go drop stand turn punch strike kick
bend scoop rise wash dance stretch squat march stride lean throw catch shoot dribble pass reach grab pick put
place pull push carry lift open close drink eat wave point clap salute bow crawl roll balance stumble fall
get sweep mop wipe look shake play slide step hit swat fight spin twirl sneak creep tiptoe limp shuffle
rotate twist stomp lunge box fish paint conduct pour type write unscrew screw answer wait cross lie lay
fly hold chop saw hammer dig shovel steer ride drive cartwheel flip rock shrug scratch yawn sip toss
kneel mime act imitate""".split())
_DOUBLE = {"run", "jog", "hop", "skip", "swim", "sit", "get", "put", "drop", "step", "hit", "swat", "stop",
           "shrug", "chop", "dig", "grab", "clap", "spin", "twirl_", "shop", "plan", "slip", "trip", "tap", "flip",
           "sip"}
_BALLS = {"basketball", "soccer", "football", "baseball", "volleyball", "golf", "tennis", "bowling"}
_OBJECTS = {"basketball": "a basketball", "soccer": "a soccer ball", "football": "a football",
            "baseball": "a baseball", "volleyball": "a volleyball", "golf": "a golf club", "tennis": "a tennis racket"}


def _gerund(verb: str) -> str:
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) and len(verb) > 2:
        return verb[:-1] + "ing"
    if verb in _DOUBLE:
        return verb + verb[-1] + "ing"
    return verb + "ing"


def _words(text: str) -> str:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)  # CamelCase -> words
    text = re.sub(r"[_/-]+", " ", text)
    text = re.sub(r"\d+", " ", text)
    text = re.sub(r"\([^)]*\)?", " ", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def _phrase(text: str) -> str | None:
    """'dribble' -> 'dribbling'; 'walk forward' -> 'walking forward'; nouns are kept as they are."""
    words = text.split()
    if not words:
        return None
    if words[0] in _VERBS:
        return " ".join([_gerund(words[0])] + words[1:])
    if words[0].endswith("ing"):
        return text
    return None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def activity_sentence(description: str) -> str | None:
    """A fluent phrase for a CMU motion description, or None when there is nothing usable.

    "basketball - dribble, shoot" -> "a person dribbling and shooting a basketball";
    "playground - climb, hang" -> "a person climbing and hanging on a playground"; "Walk" -> "a person walking";
    "elephant (human subject)" -> "a person imitating an elephant".
    """
    raw = description.strip()
    if re.search(r"\(human subject\)", raw, re.I):
        animal = _words(raw)
        if animal:
            article = "an" if animal[0] in "aeiou" else "a"
            return f"a person imitating {article} {animal}"
    raw = re.sub(r"\([^)]*\)?", " ", raw)
    topic, _, rest = raw.partition(" - ") if " - " in raw else ("", "", raw)
    topic = _words(topic)
    parts = [_phrase(p.strip()) for p in re.split(r",| and |;", _words(rest.replace(";", ",")))]
    actions = [p for p in parts if p]
    if not actions:
        noun = _words(rest) or topic
        if not noun or len(noun) < 3:
            return None
        if topic and noun != topic:
            return f"a person doing {topic}: {noun}"
        return f"a person doing {noun}" if not noun.endswith("ing") else f"a person {noun}"
    sentence = "a person " + _join(actions)
    if topic in _OBJECTS and len(actions) <= 3 and not any(len(a.split()) > 1 for a in actions):
        return f"{sentence} {_OBJECTS[topic]}"
    if topic == "playground":
        return f"{sentence} on a playground"
    if topic:
        return f"{sentence} ({topic})"
    return sentence


# Clip words and the pose categories (training.data.categories) a frame of such a clip may show.
_UPRIGHT = {"standing", "bending", "lunging", "crouching", "squatting", "other"}
_ANYTHING = re.compile(r"\b(?:lie|lying|lay|floor|ground|roll|crawl|break ?danc\w*|cartwheel|flip|handstand|fall\w*|"
                       r"acrobat\w*|gymnast\w*|yoga|exercise|stretch\w*|get ?up|getting up|pick\w* up|climb\w*|swim\w*|"
                       r"playground|mime|imitat\w*|human subject)\b", re.I)
_ARMS_OUT = re.compile(r"\b(?:airplane|aeroplane|plane|fly\w*|bird|balanc\w*|arms? out|spread\w*|t-?pose)\b", re.I)
_NEEDS = (  # (words, categories the pose must be in), first match decides
    (re.compile(r"\b(?:sit\w*|chair|stool|bench|seated)\b", re.I), {"sitting", "other"}),
    (re.compile(r"\bkneel\w*\b", re.I), {"kneeling", "other"}),
    (re.compile(r"\bsquat\w*\b", re.I), {"squatting", "crouching", "other"}),
    (re.compile(r"\b(?:walk\w*|run\w*|jog\w*|march\w*|strid\w*|danc\w*|salsa|waltz|step\w*|stand\w*|box\w*|"
                r"punch\w*|kick\w*|golf|basketball|soccer|football|baseball|tennis|throw\w*|catch\w*|conduct\w*|"
                r"wav\w*|sweep\w*|mop\w*|wash\w*|drink\w*|point\w*|clap\w*|salut\w*|martial|swordplay|"
                r"jump\w*|hop\w*|skip\w*|turn\w*|spin\w*)\b", re.I), _UPRIGHT),
)


def activity_fits(description: str, states: np.ndarray) -> bool:
    """Whether a clip's activity text may describe this frame: False where the pose (a `states.STATES` bool
    row) contradicts it. Unknown words and poses without a whole-body state never contradict."""
    from training.captioning.states import BODY_STATES, STATE_INDEX
    from training.data.categories import STATE_CATEGORY

    # a T-pose is the calibration frame at the start of many takes, not part of the activity
    if states[STATE_INDEX["t_arms"]] and states[STATE_INDEX["standing"]] and not _ARMS_OUT.search(description):
        return False
    if _ANYTHING.search(description):
        return True
    held = [s for s in BODY_STATES if states[STATE_INDEX[s]]]
    category = STATE_CATEGORY.get(held[0], "other") if held else "other"
    for words, allowed in _NEEDS:
        if words.search(description):
            return category in allowed
    return True
