"""Short texts, the prompts people type ("kneel on your left knee", "sitting cross-legged", "arms crossed"),
generated from a pose's body states (`training.captioning.states`) and therefore true by construction.

Every phrase claims one *claim*: a state ("kneeling_left") or a group of states whose any member makes it
true ("kneeling_one_knee" = left or right). Three forms: imperative ("kneel on your left knee"),
descriptive ("a person kneeling on the left knee") and terse ("left knee kneel"); whole-body and arm
claims combine ("kneeling with both arms raised", "kneel and raise both arms"). `short_text_records`
returns each text with the claims it makes, which the truth tests compare with the pose's states and with
an independent parse of the text (`backend.facts.parse.parse_short_text`).
"""
import numpy as np

from training.captioning.states import ARM_STATES, BODY_STATES, STATE_INDEX, pose_states

# group claims: name -> member states (true when any member holds)
GROUPS: dict[str, tuple[str, ...]] = {
    "standing_one_leg": ("standing_left_leg", "standing_right_leg"),
    "lunging": ("lunging_left", "lunging_right"),
    "sitting_on_floor": ("sitting_floor", "sitting_cross_legged"),
    "sitting": ("sitting_chair", "sitting_floor", "sitting_cross_legged"),
    "kneeling_one_knee": ("kneeling_left", "kneeling_right"),
    "kneeling": ("kneeling_left", "kneeling_right", "kneeling_both"),
    "lying_side": ("lying_side_left", "lying_side_right"),
    "lying": ("lying_back", "lying_front", "lying_side_left", "lying_side_right"),
    "one_arm_up": ("left_arm_up", "right_arm_up"),
    "pointing": ("pointing_left", "pointing_right"),
    "waving": ("waving_left", "waving_right"),
    "thinking": ("thinking_left", "thinking_right"),
    "saluting": ("saluting_left", "saluting_right"),
}

# claim -> (imperative, descriptive participle phrase, terse); body claims
_BODY = {
    "standing": (("stand", "stand up straight", "stand still"), ("standing", "standing upright", "standing up"),
                 ("standing", "standing pose")),
    "standing_left_leg": (("stand on your left leg", "balance on your left foot"),
                          ("standing on the left leg", "balancing on the left foot"), ("left leg stand",)),
    "standing_right_leg": (("stand on your right leg", "balance on your right foot"),
                           ("standing on the right leg", "balancing on the right foot"), ("right leg stand",)),
    "standing_one_leg": (("stand on one leg", "balance on one foot"), ("standing on one leg", "balancing on one foot"),
                         ("one leg stand", "one-legged stance")),
    "leaning_back": (("lean back", "lean backward"), ("leaning back", "leaning backward"), ("leaning back",)),
    "crouching": (("crouch", "crouch down", "bend your knees and crouch"), ("crouching", "crouching down"),
                  ("crouch", "crouching")),
    "bending_forward": (("bend forward", "bend over", "lean far forward"), ("bending forward", "bent over"),
                        ("forward bend", "bent over")),
    "jumping": (("jump with your knees tucked", "do a tuck jump"), ("jumping with the knees tucked",
                                                                     "in a tuck jump"), ("tuck jump",)),
    "lunging_left": (("lunge with your left leg forward", "step into a lunge on your left leg"),
                     ("lunging with the left leg forward", "in a lunge, left leg forward"), ("left leg lunge",)),
    "lunging_right": (("lunge with your right leg forward", "step into a lunge on your right leg"),
                      ("lunging with the right leg forward", "in a lunge, right leg forward"), ("right leg lunge",)),
    "lunging": (("lunge", "do a lunge"), ("lunging", "in a lunge"), ("lunge",)),
    "squatting": (("squat", "squat down", "get into a deep squat"), ("squatting", "in a deep squat"),
                  ("squat", "deep squat")),
    "sitting_chair": (("sit on a chair", "sit down on a chair"), ("sitting on a chair", "seated on a chair"),
                      ("chair sit", "seated")),
    "sitting_on_floor": (("sit on the floor", "sit down on the ground"), ("sitting on the floor",
                                                                          "sitting on the ground"), ("floor sit",)),
    "sitting_cross_legged": (("sit cross-legged", "sit with your legs crossed"),
                             ("sitting cross-legged", "sitting with crossed legs"), ("cross-legged",)),
    "sitting": (("sit", "sit down"), ("sitting", "seated"), ("sitting",)),
    "kneeling_left": (("kneel on your left knee", "go down on your left knee"),
                      ("kneeling on the left knee", "down on the left knee"), ("left knee kneel",)),
    "kneeling_right": (("kneel on your right knee", "go down on your right knee"),
                       ("kneeling on the right knee", "down on the right knee"), ("right knee kneel",)),
    "kneeling_one_knee": (("kneel on one knee", "go down on one knee"), ("kneeling on one knee", "down on one knee"),
                          ("one knee kneel",)),
    "kneeling_both": (("kneel on both knees", "get down on your knees"), ("kneeling on both knees", "on both knees"),
                      ("kneeling on both knees",)),
    "kneeling": (("kneel", "kneel down"), ("kneeling",), ("kneeling", "kneel")),
    "all_fours": (("get on all fours", "go on your hands and knees"), ("on all fours", "on hands and knees"),
                  ("all fours", "hands and knees")),
    "downward_dog": (("do a downward dog", "make an inverted V with your body"),
                     ("in downward dog", "in a downward dog pose"), ("downward dog", "down dog")),
    "plank": (("hold a plank", "get into a push-up position"), ("in a plank", "in a push-up position"),
              ("plank", "push-up position")),
    "lying_back": (("lie on your back", "lie face up"), ("lying on the back", "lying face up"), ("lying on back",)),
    "lying_front": (("lie on your stomach", "lie face down"), ("lying on the stomach", "lying face down"),
                    ("lying face down", "prone")),
    "lying_side_left": (("lie on your left side",), ("lying on the left side",), ("left side lying",)),
    "lying_side_right": (("lie on your right side",), ("lying on the right side",), ("right side lying",)),
    "lying_side": (("lie on your side",), ("lying on the side", "lying on one side"), ("side lying",)),
    "lying": (("lie down",), ("lying down",), ("lying down",)),
    "upside_down": (("turn upside down", "go upside down"), ("upside down",), ("upside down", "inverted")),
    "handstand": (("do a handstand", "stand on your hands"), ("doing a handstand", "standing on the hands"),
                  ("handstand",)),
}
# arm claims: (imperative, "with ..." phrase, terse)
_ARMS = {
    "arms_up": (("raise both arms", "put your hands up", "lift both arms overhead"),
                ("with both arms raised", "with the arms up", "with both hands above the head"),
                ("arms up", "both arms raised", "hands up")),
    "left_arm_up": (("raise your left arm", "lift your left hand above your head"),
                    ("with the left arm raised", "with the left hand above the head"), ("left arm up",)),
    "right_arm_up": (("raise your right arm", "lift your right hand above your head"),
                     ("with the right arm raised", "with the right hand above the head"), ("right arm up",)),
    "one_arm_up": (("raise one arm",), ("with one arm raised",), ("one arm up",)),
    "t_arms": (("stretch your arms out to the sides", "spread your arms wide"),
               ("with the arms out to the sides", "with the arms spread wide"), ("arms out to the sides", "T arms")),
    "a_arms": (("hold your arms down and out at an angle",), ("with the arms angled down and out",), ("A arms",)),
    "arms_forward": (("stretch both arms forward", "hold your arms out in front"),
                     ("with both arms stretched forward", "with the arms out in front"), ("arms forward",)),
    "arms_crossed": (("cross your arms", "fold your arms"), ("with the arms crossed", "with folded arms"),
                     ("arms crossed", "folded arms")),
    "hands_on_hips": (("put your hands on your hips",), ("with the hands on the hips", "with hands on hips"),
                      ("hands on hips",)),
    "hands_on_head": (("put your hands on your head", "hold your head with both hands"),
                      ("with the hands on the head", "with both hands on the head"), ("hands on head",)),
    "hands_together": (("put your hands together", "press your palms together"),
                       ("with the hands together", "with the palms pressed together"),
                       ("hands together", "palms together")),
    "pointing_left": (("point with your left arm",), ("pointing with the left arm",), ("left arm pointing",)),
    "pointing_right": (("point with your right arm",), ("pointing with the right arm",), ("right arm pointing",)),
    "pointing": (("point with one arm",), ("pointing with one arm",), ("pointing",)),
    "waving_left": (("wave with your left hand",), ("waving the left hand",), ("left hand wave",)),
    "waving_right": (("wave with your right hand",), ("waving the right hand",), ("right hand wave",)),
    "waving": (("wave", "wave hello"), ("waving", "waving hello"), ("waving",)),
    "reaching_down": (("reach down", "reach toward the floor"), ("reaching down", "reaching toward the floor"),
                      ("reaching down",)),
    "touching_toes": (("touch your toes",), ("touching the toes",), ("toe touch", "touching toes")),
    "thinking_left": (("rest your chin on your left hand",), ("with the left hand on the chin",),
                      ("left hand on chin",)),
    "thinking_right": (("rest your chin on your right hand",), ("with the right hand on the chin",),
                       ("right hand on chin",)),
    "thinking": (("put a hand to your chin",), ("with a hand on the chin",), ("hand on chin", "hand to chin")),
    "saluting_left": (("salute with your left hand",), ("saluting with the left hand",), ("left hand salute",)),
    "saluting_right": (("salute with your right hand",), ("saluting with the right hand",), ("right hand salute",)),
    "saluting": (("salute",), ("saluting",), ("salute",)),
    "arms_down": (("let your arms hang at your sides", "put your arms down by your sides"),
                  ("with the arms at the sides", "with the arms hanging down"), ("arms at sides", "arms down")),
}
# whole-pose names for a body + arm pair: (claims, phrases)
_NAMED = (
    (("standing", "t_arms"), ("T-pose", "a T-pose", "stand in a T-pose")),
    (("standing", "a_arms"), ("A-pose", "an A-pose", "stand in an A-pose")),
    (("standing", "arms_down"), ("a neutral standing pose", "a relaxed standing pose", "stand relaxed")),
)
_PERSON = ("a person", "someone", "person")
# arm states by salience: the most telling first
_ARM_ORDER = ("arms_crossed", "hands_on_hips", "hands_on_head", "saluting_left", "saluting_right", "thinking_left",
              "thinking_right", "touching_toes", "waving_left", "waving_right", "pointing_left", "pointing_right",
              "hands_together", "arms_up", "left_arm_up", "right_arm_up", "t_arms", "arms_forward", "a_arms",
              "reaching_down", "arms_down")
assert set(_ARM_ORDER) == set(ARM_STATES)
assert set(_BODY) - set(GROUPS) <= set(BODY_STATES) and set(_ARMS) - set(GROUPS) <= set(ARM_STATES)

Record = tuple[str, list[str]]  # (text, claims)


def claim_holds(claim: str, states: np.ndarray) -> bool:
    """Whether a claim (state or group name) holds for one pose's state row (len(STATES),) bool."""
    return any(bool(states[STATE_INDEX[s]]) for s in GROUPS.get(claim, (claim,)))


def _claims(state: str, table: dict) -> list[str]:
    """The state itself and the groups containing it that have phrases, narrowest first."""
    groups = sorted((g for g, members in GROUPS.items() if state in members and g in table),
                    key=lambda g: len(GROUPS[g]))
    return [state] + groups


def _body_state(states: np.ndarray) -> str | None:
    """The pose's whole-body claim: its body state, or the narrowest group naming it (sitting_floor has no
    phrases of its own: "sitting on the floor" is also true cross-legged)."""
    held = [s for s in BODY_STATES if states[STATE_INDEX[s]]]
    if not held:
        return None
    state = "handstand" if "handstand" in held else held[0]
    return state if state in _BODY else _claims(state, _BODY)[1]


def _arm_states(states: np.ndarray) -> list[str]:
    held = [s for s in _ARM_ORDER if states[STATE_INDEX[s]]]
    # a wave's raised hand is also "arm up": keep the more telling one
    for side in ("left", "right"):
        if f"waving_{side}" in held and f"{side}_arm_up" in held:
            held.remove(f"{side}_arm_up")
    return held


def short_text_records(states: np.ndarray, n: int = 6, seed: int = 0) -> list[Record]:
    """Up to n different short texts for one pose, most salient first, each with the claims it makes.

    states: (len(STATES),) bool row of `states.state_table`. Order: a whole-pose name or body+arm combination,
    then the body state, the arm states, then other phrasings (imperative, terse, side-less groups).
    """
    rng = np.random.default_rng(seed)
    body = _body_state(states)
    arms = _arm_states(states)

    def pick(options: tuple[str, ...]) -> str:
        fitting = [o for o in options if len(o.split()) >= 2] or list(options)
        return fitting[int(rng.integers(len(fitting)))]

    person = lambda: pick(_PERSON)  # noqa: E731
    out: list[Record] = []

    def add(text: str, claims: list[str]) -> None:
        if 2 <= len(text.split()) <= 12 and text not in (t for t, _ in out):
            out.append((text, claims))

    for named_claims, phrases in _NAMED:
        if all(states[STATE_INDEX[c]] for c in named_claims):
            add(pick(phrases), list(named_claims))
    if body and arms:
        claim_b, claim_a = pick(_claims(body, _BODY)[:2]), arms[0]
        arm_phrase = pick(_ARMS[claim_a][1])
        joiner = " " if arm_phrase.startswith("with ") else ", "
        add(f"{pick(_BODY[claim_b][1])}{joiner}{arm_phrase}", [claim_b, claim_a])
    if body:
        add(f"{person()} {pick(_BODY[body][1])}", [body])
        add(pick(_BODY[body][0]), [body])
    for arm in arms[:2]:
        add(pick(_ARMS[arm][0]), [arm])
        add(pick(_ARMS[arm][2]), [arm])
    if body:
        add(pick(_BODY[body][2]), [body])
        if arms:
            claim_a = pick(_claims(arms[0], _ARMS))
            add(f"{pick(_BODY[body][0])} and {pick(_ARMS[claim_a][0])}", [body, claim_a])
        groups = [g for g in GROUPS if set(GROUPS.get(body, (body,))) < set(GROUPS[g]) and g in _BODY]
        for group in groups:
            add(pick(_BODY[group][int(rng.integers(3))]), [group])
    for arm in arms:
        for group in _claims(arm, _ARMS)[1:]:
            add(pick(_ARMS[group][2]), [group])
        add(f"{person()} {pick(_ARMS[arm][1])}", [arm])
    if len(arms) >= 2:
        add(f"{pick(_ARMS[arms[0]][2])} and {pick(_ARMS[arms[1]][2])}", arms[:2])
    return out[:n]


def describe(states: np.ndarray, seed: int = 0) -> tuple[str, list[str]] | None:
    """A descriptive phrase without a subject ("kneeling on the left knee with both arms raised") and its claims,
    to follow another phrase ("a person doing salsa dance, ..."); None for a pose with no state."""
    rng = np.random.default_rng(seed)
    body, arms = _body_state(states), _arm_states(states)
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    if body and arms:
        arm_phrase = pick(_ARMS[arms[0]][1])
        return f"{pick(_BODY[body][1])}{' ' if arm_phrase.startswith('with ') else ', '}{arm_phrase}", [body, arms[0]]
    if body:
        return pick(_BODY[body][1]), [body]
    if arms:
        return pick(_ARMS[arms[0]][1]), [arms[0]]
    return None


def short_texts(axis_angle: np.ndarray, n: int = 6, seed: int = 0) -> list[str]:
    """Short texts of one pose (22, 3) axis-angle, most salient first."""
    states = pose_states(np.asarray(axis_angle, dtype=np.float64)[None])[0]
    return [t for t, _ in short_text_records(states, n, seed)]
