"""Natural prompts, written by hand the way people type them, each with a geometric check of the answer.

The prompts are not produced by the caption or short-text generators: they are an independent test of
what a user sees. Every check is a conjunction of small measurements in the body's own frame
(`training.benchmarks.body`), e.g. "both wrists 0.05 m above the head, head 0.3 m above the pelvis".
A pose cannot show how high it is off the ground, so jumps are checked on the body's shape only.

    from training.benchmarks.prompts import PROMPTS, check_prompt
    check_prompt(PROMPTS[0], pose)   # -> True / False
"""
from dataclasses import dataclass
from typing import Callable

from training.benchmarks.body import Body

SIDES = ("left", "right")
GROUPS = ("standing", "sitting", "kneeling", "squatting", "lunging", "lying", "all_fours", "plank", "bending",
          "one_leg", "jumping", "handstand", "arms")


@dataclass(frozen=True)
class Check:
    """A named yes/no measurement of a Body; `&` and `|` combine checks and their texts."""
    text: str
    test: Callable[[Body], bool]

    def __call__(self, body: Body) -> bool:
        return bool(self.test(body))

    def __and__(self, other: "Check") -> "Check":
        return Check(f"{self.text}; {other.text}", lambda b: self.test(b) and other.test(b))

    def __or__(self, other: "Check") -> "Check":
        return Check(f"({self.text}) or ({other.text})", lambda b: self.test(b) or other.test(b))

    def __invert__(self) -> "Check":
        return Check(f"not ({self.text})", lambda b: not self.test(b))


def _label(joint: str) -> str:
    return joint.replace("left_", "L ").replace("right_", "R ").replace("_", " ")


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


# ---- measurements ------------------------------------------------------------------------------------
def above(a: str, b: str, m: float = 0.0) -> Check:
    return Check(f"{_label(a)} {m:g} m above {_label(b)}", lambda x: x.above(a, b) > m)


def below(a: str, b: str, m: float = 0.0) -> Check:
    return Check(f"{_label(a)} {m:g} m below {_label(b)}", lambda x: x.above(a, b) < -m)


def level(a: str, b: str, m: float) -> Check:
    return Check(f"{_label(a)} within {m:g} m of {_label(b)}'s height", lambda x: abs(x.above(a, b)) < m)


def low(a: str, h: float) -> Check:
    return Check(f"{_label(a)} < {h:g} m off the floor", lambda x: x.height(a) < h)


def high(a: str, h: float) -> Check:
    return Check(f"{_label(a)} > {h:g} m off the floor", lambda x: x.height(a) > h)


def near(a: str, b: str, d: float) -> Check:
    return Check(f"{_label(a)} within {d:g} m of {_label(b)}", lambda x: x.distance(a, b) < d)


def apart(a: str, b: str, d: float) -> Check:
    return Check(f"{_label(a)} > {d:g} m from {_label(b)}", lambda x: x.distance(a, b) > d)


def ahead(a: str, b: str, m: float) -> Check:
    return Check(f"{_label(a)} {m:g} m in front of {_label(b)}", lambda x: x.ahead(a, b) > m)


def behind(a: str, b: str, m: float) -> Check:
    return Check(f"{_label(a)} {m:g} m behind {_label(b)}", lambda x: x.ahead(a, b) < -m)


def outward(joint: str, ref: str, m: float) -> Check:
    """A left/right joint at least m further out to its own side than ref."""
    sign = 1.0 if joint.startswith("left") else -1.0
    return Check(f"{_label(joint)} {m:g} m out to the side of {_label(ref)}",
                 lambda x: sign * x.leftward(joint, ref) > m)


def bent(joint: str, deg: float) -> Check:
    return Check(f"{_label(joint)} bent > {deg:g}°", lambda x: x.flexion(joint) > deg)


def straight(joint: str, deg: float = 30.0) -> Check:
    return Check(f"{_label(joint)} bent < {deg:g}°", lambda x: x.flexion(joint) < deg)


def horizontal(a: str, b: str, deg: float = 60.0) -> Check:
    return Check(f"{_label(a)}-{_label(b)} > {deg:g}° from vertical", lambda x: x.limb_from_vertical(a, b) > deg)


def tilt_over(deg: float) -> Check:
    return Check(f"torso > {deg:g}° from vertical", lambda x: x.torso_tilt() > deg)


def tilt_under(deg: float) -> Check:
    return Check(f"torso < {deg:g}° from vertical", lambda x: x.torso_tilt() < deg)


def lean_forward(deg: float) -> Check:
    return Check(f"torso leans forward > {deg:g}°", lambda x: x.torso_lean() > deg)


def lean_back(deg: float) -> Check:
    return Check(f"torso leans back > {deg:g}°", lambda x: x.torso_lean() < -deg)


def side_lean(deg: float) -> Check:
    return Check(f"torso leans sideways > {deg:g}°", lambda x: abs(x.torso_side_lean()) > deg)


def chest_up(v: float = 0.5) -> Check:
    return Check("chest faces up", lambda x: x.chest_up() > v)


def chest_down(v: float = 0.5) -> Check:
    return Check("chest faces down", lambda x: x.chest_up() < -v)


def on_side(v: float = 0.6) -> Check:
    return Check("hip axis vertical (on a side)", lambda x: abs(x.hip_axis_up()) > v)


def crossed(a: str = "left_wrist", b: str = "right_wrist", m: float = 0.03) -> Check:
    return Check(f"{_label(a)} right of {_label(b)} (crossed)", lambda x: x.leftward(a, b) < -m)


def both(make: Callable[[str], Check]) -> Check:
    """The same check on the left and the right side."""
    left, right = make("left"), make("right")
    return Check(left.text.replace("L ", "L+R "), lambda x: left(x) and right(x))


def either(make: Callable[[str], Check]) -> Check:
    """The check on at least one side."""
    left, right = make("left"), make("right")
    return Check(left.text.replace("L ", "L or R "), lambda x: left(x) or right(x))


# ---- body states ----------------------------------------------------------------------------------
UPRIGHT = tilt_under(30) & above("head", "pelvis", 0.3)
STANDING = UPRIGHT & high("pelvis", 0.75) & both(lambda s: straight(f"{s}_knee", 45))  # up to "slightly bent"
ARMS_DOWN = both(lambda s: below(f"{s}_wrist", "pelvis", -0.1) & near(f"{s}_wrist", f"{s}_hip", 0.35))
# On a chair the pelvis is held up behind the feet (a squat balances it over them).
ON_CHAIR = (tilt_under(35) & high("pelvis", 0.38) & low("pelvis", 0.75)
            & both(lambda s: horizontal(f"{s}_hip", f"{s}_knee") & bent(f"{s}_knee", 45) & straight(f"{s}_knee", 115)
                   & ahead(f"{s}_ankle", "pelvis", 0.3)))
ON_FLOOR = tilt_under(45) & low("pelvis", 0.25)
KNEEL_BOTH = tilt_under(35) & high("pelvis", 0.25) & both(lambda s: low(f"{s}_knee", 0.15))


def kneel_one(side: str) -> Check:
    return tilt_under(35) & low(f"{side}_knee", 0.15) & high(f"{_other(side)}_knee", 0.3)


KNEEL_ONE = kneel_one("left") | kneel_one("right")
SQUAT = (tilt_under(60) & low("pelvis", 0.45) & both(lambda s: bent(f"{s}_knee", 90) & high(f"{s}_knee", 0.2)))


def lunge(side: str) -> Check:
    """`side` leg forward and bent, the other leg back."""
    back = _other(side)
    return (tilt_under(35) & low("pelvis", 0.85) & bent(f"{side}_knee", 45) & ahead(f"{side}_ankle", "pelvis", 0.25)
            & behind(f"{back}_ankle", "pelvis", 0.25) & high(f"{back}_knee", 0.15))


LUNGE = lunge("left") | lunge("right")
WIDE_STANCE_BENT = UPRIGHT & apart("left_ankle", "right_ankle", 0.7) & either(lambda s: bent(f"{s}_knee", 45))
LYING = tilt_over(60) & Check("pelvis, chest and neck < 0.4 m off the floor",
                              lambda x: max(x.height(j) for j in ("pelvis", "spine3", "neck")) < 0.4)
ALL_FOURS = (tilt_over(55) & chest_down(0.3) & high("pelvis", 0.3)
             & both(lambda s: low(f"{s}_knee", 0.15) & low(f"{s}_wrist", 0.15)))
PLANK = (tilt_over(55) & tilt_under(110) & chest_down(0.3) & high("pelvis", 0.15) & low("pelvis", 0.9)
         & both(lambda s: straight(f"{s}_knee", 30) & high(f"{s}_knee", 0.1))
         & Check("hands or elbows < 0.15 m off the floor",
                 lambda x: min(x.height(j) for j in ("left_wrist", "right_wrist", "left_elbow", "right_elbow")) < 0.15))
LEGS_STANDING = high("pelvis", 0.65) & both(lambda s: straight(f"{s}_knee", 40) & low(f"{s}_ankle", 0.15))
BEND_FORWARD = LEGS_STANDING & lean_forward(45) & tilt_under(140)


def on_one_leg(side: str) -> Check:
    """Standing on `side` leg, the other foot off the floor."""
    return (UPRIGHT & high("pelvis", 0.7) & low(f"{side}_ankle", 0.12) & straight(f"{side}_knee", 30)
            & high(f"{_other(side)}_ankle", 0.2))


ONE_LEG = on_one_leg("left") | on_one_leg("right")
STAR = (UPRIGHT & outward("left_ankle", "right_ankle", 0.45) & both(lambda s: straight(f"{s}_knee", 35)
        & above(f"{s}_wrist", f"{s}_shoulder", 0.1)))
INVERTED = below("head", "pelvis", 0.4) & above("left_ankle", "pelvis", 0.2) & above("right_ankle", "pelvis", 0.2)

# ---- arm states ---------------------------------------------------------------------------------------
BOTH_ARMS_UP = UPRIGHT & both(lambda s: above(f"{s}_wrist", "head", 0.2))


def arm_up(side: str) -> Check:
    other = _other(side)
    return UPRIGHT & above(f"{side}_wrist", "head", 0.2) & below(f"{other}_wrist", f"{other}_shoulder", 0.0)


T_ARMS = both(lambda s: outward(f"{s}_wrist", f"{s}_shoulder", 0.35) & level(f"{s}_wrist", f"{s}_shoulder", 0.15)
              & straight(f"{s}_elbow", 30))
A_ARMS = both(lambda s: outward(f"{s}_wrist", f"{s}_shoulder", 0.2) & below(f"{s}_wrist", f"{s}_shoulder", 0.2)
              & above(f"{s}_wrist", "pelvis", -0.15) & straight(f"{s}_elbow", 30))
ARMS_FORWARD = both(lambda s: ahead(f"{s}_wrist", f"{s}_shoulder", 0.4) & level(f"{s}_wrist", f"{s}_shoulder", 0.2))
ARMS_CROSSED = (crossed() & both(lambda s: ahead(f"{s}_wrist", "spine3", 0.05) & above(f"{s}_wrist", "pelvis", 0.1)
                                 & below(f"{s}_wrist", "neck", 0.0) & bent(f"{s}_elbow", 45)))
HANDS_ON_HIPS = UPRIGHT & both(lambda s: near(f"{s}_wrist", f"{s}_hip", 0.2) & bent(f"{s}_elbow", 45))
HANDS_ON_HEAD = both(lambda s: near(f"{s}_wrist", "head", 0.25))
HANDS_TOGETHER = near("left_wrist", "right_wrist", 0.15)
PRAYING = HANDS_TOGETHER & both(lambda s: ahead(f"{s}_wrist", "spine3", 0.1) & above(f"{s}_wrist", "spine1", 0.0)
                                & below(f"{s}_wrist", "head", 0.0))


def waving(side: str) -> Check:
    """The issue's definition: hand above the shoulder with the elbow bent."""
    return (UPRIGHT & above(f"{side}_wrist", f"{side}_shoulder", 0.1) & bent(f"{side}_elbow", 30)
            & apart(f"{side}_wrist", "head", 0.25))


def pointing(side: str) -> Check:
    other = _other(side)
    return (UPRIGHT & straight(f"{side}_elbow", 30) & ahead(f"{side}_wrist", f"{side}_shoulder", 0.4)
            & ~ahead(f"{other}_wrist", f"{other}_shoulder", 0.3))


@dataclass(frozen=True)
class Prompt:
    text: str
    group: str
    check: Check


def _table() -> tuple[Prompt, ...]:
    rows = [
        # standing
        ("standing", "standing", STANDING),
        ("a person standing still", "standing", STANDING),
        ("stand up straight", "standing", STANDING & tilt_under(15)),
        ("standing with arms at sides", "standing", STANDING & ARMS_DOWN),
        ("standing at attention", "standing", STANDING & ARMS_DOWN),
        ("a man standing relaxed, hands down", "standing", STANDING & ARMS_DOWN),
        # sitting
        ("sitting on a chair", "sitting", ON_CHAIR),
        ("sit down", "sitting", ON_CHAIR | ON_FLOOR),
        ("a woman sitting on a chair with her hands on her knees", "sitting",
         ON_CHAIR & both(lambda s: near(f"{s}_wrist", f"{s}_knee", 0.25))),
        ("sitting on a chair with arms crossed", "sitting", ON_CHAIR & ARMS_CROSSED),
        ("sitting cross-legged", "sitting", ON_FLOOR & both(lambda s: bent(f"{s}_knee", 90))),
        ("sitting on the floor", "sitting", ON_FLOOR),
        ("sit on the ground with legs straight out", "sitting",
         ON_FLOOR & both(lambda s: straight(f"{s}_knee", 30) & ahead(f"{s}_ankle", "pelvis", 0.5))),
        ("sitting on the floor hugging knees", "sitting",
         ON_FLOOR & both(lambda s: bent(f"{s}_knee", 90) & near(f"{s}_wrist", f"{s}_knee", 0.3))),
        # kneeling
        ("kneel", "kneeling", KNEEL_BOTH | KNEEL_ONE),
        ("kneeling on both knees", "kneeling", KNEEL_BOTH),
        ("kneel on one knee", "kneeling", KNEEL_ONE),
        ("kneel on your left knee", "kneeling", kneel_one("left")),
        ("kneeling on the right knee", "kneeling", kneel_one("right")),
        ("proposing on one knee", "kneeling", KNEEL_ONE),
        ("kneeling with both arms raised", "kneeling", KNEEL_BOTH & both(lambda s: above(f"{s}_wrist", "head", 0.2))),
        ("kneeling sitting back on the heels", "kneeling",
         tilt_under(35) & low("pelvis", 0.45)
         & both(lambda s: low(f"{s}_knee", 0.2) & ahead(f"{s}_knee", "pelvis", 0.2)
                & behind(f"{s}_ankle", "pelvis", -0.1))),
        # squatting
        ("squat", "squatting", SQUAT),
        ("a deep squat", "squatting", SQUAT & low("pelvis", 0.45) & both(lambda s: bent(f"{s}_knee", 110))),
        ("crouch down", "squatting",
         tilt_under(70) & low("pelvis", 0.6) & both(lambda s: bent(f"{s}_knee", 70) & high(f"{s}_knee", 0.2))),
        ("squatting with arms stretched forward", "squatting",
         SQUAT & both(lambda s: ahead(f"{s}_wrist", f"{s}_shoulder", 0.3))),
        ("sumo squat", "squatting", SQUAT & apart("left_knee", "right_knee", 0.45)),
        # lunging
        ("lunge", "lunging", LUNGE),
        ("a lunge with the right leg forward", "lunging", lunge("right")),
        ("left leg forward lunge", "lunging", lunge("left")),
        ("step forward into a lunge", "lunging", LUNGE),
        ("warrior pose", "lunging", LUNGE | WIDE_STANCE_BENT),
        ("warrior two yoga pose", "lunging",
         WIDE_STANCE_BENT & both(lambda s: outward(f"{s}_wrist", f"{s}_shoulder", 0.3)
                                 & level(f"{s}_wrist", f"{s}_shoulder", 0.2))),
        ("warrior one, arms up", "lunging", LUNGE & both(lambda s: above(f"{s}_wrist", "head", 0.0))),
        # lying
        ("lying down", "lying", LYING),
        ("lying on the back", "lying", LYING & chest_up()),
        ("lie on your stomach", "lying", LYING & chest_down()),
        ("lying on the side", "lying", LYING & on_side()),
        ("sleeping on the back", "lying", LYING & chest_up()),
        ("lying on the back with knees up", "lying",
         LYING & chest_up() & both(lambda s: bent(f"{s}_knee", 60) & above(f"{s}_knee", f"{s}_hip", 0.15))),
        ("lying on the back with arms out to the sides", "lying",
         LYING & chest_up() & both(lambda s: outward(f"{s}_wrist", f"{s}_shoulder", 0.35))),
        ("lying face down", "lying", LYING & chest_down()),
        # all fours
        ("on all fours", "all_fours", ALL_FOURS),
        ("crawling on hands and knees", "all_fours", ALL_FOURS),
        ("crawl like a baby", "all_fours", ALL_FOURS),
        ("tabletop position", "all_fours", ALL_FOURS),
        # plank
        ("plank", "plank", PLANK),
        ("push-up position", "plank", PLANK),
        ("doing a push-up", "plank", PLANK),
        ("forearm plank", "plank", PLANK & both(lambda s: low(f"{s}_elbow", 0.15))),
        # bending
        ("bend forward", "bending", BEND_FORWARD),
        ("touch your toes", "bending", BEND_FORWARD & both(lambda s: low(f"{s}_wrist", 0.3))),
        ("bending over to pick something up", "bending",
         high("pelvis", 0.45) & lean_forward(40) & tilt_under(140) & either(lambda s: low(f"{s}_wrist", 0.4))
         & both(lambda s: high(f"{s}_knee", 0.2) & low(f"{s}_ankle", 0.15))),
        ("a deep bow", "bending", LEGS_STANDING & lean_forward(30) & tilt_under(100)),
        ("lean back", "bending", LEGS_STANDING & lean_back(12)),
        ("side bend", "bending", LEGS_STANDING & tilt_under(60) & side_lean(12)),
        ("reach down to the floor", "bending",
         either(lambda s: low(f"{s}_wrist", 0.3)) & high("pelvis", 0.4) & both(lambda s: low(f"{s}_ankle", 0.15))),
        # one leg
        ("standing on one leg", "one_leg", ONE_LEG),
        ("stand on your left leg", "one_leg", on_one_leg("left")),
        ("balance on the right foot", "one_leg", on_one_leg("right")),
        ("tree pose", "one_leg",
         on_one_leg("left") & bent("right_knee", 90) | on_one_leg("right") & bent("left_knee", 90)),
        ("flamingo pose", "one_leg", ONE_LEG),
        ("raise your left knee", "one_leg",
         UPRIGHT & high("pelvis", 0.7) & above("left_knee", "left_hip", -0.15) & low("right_ankle", 0.12)
         & straight("right_knee", 30)),
        ("kick forward with the right leg", "one_leg",
         high("right_ankle", 0.3) & ahead("right_ankle", "pelvis", 0.4) & low("left_ankle", 0.12)),
        # jumping (a pose has no height off the ground: the jump's body shape is checked)
        ("jumping jack", "jumping", STAR),
        ("star jump", "jumping", STAR),
        ("jumping for joy with both arms up", "jumping", BOTH_ARMS_UP & both(lambda s: straight(f"{s}_knee", 40))),
        ("jump up reaching high", "jumping",
         BOTH_ARMS_UP & both(lambda s: straight(f"{s}_knee", 40) & straight(f"{s}_elbow", 30))),
        ("split leap", "jumping",
         apart("left_ankle", "right_ankle", 0.9) & both(lambda s: straight(f"{s}_knee", 40))
         & (ahead("left_ankle", "right_ankle", 0.6) | ahead("right_ankle", "left_ankle", 0.6))),
        # handstand
        ("handstand", "handstand", INVERTED & both(lambda s: low(f"{s}_wrist", 0.2))),
        ("upside down", "handstand", INVERTED),
        ("doing a handstand", "handstand", INVERTED & both(lambda s: low(f"{s}_wrist", 0.2))),
        ("headstand", "handstand", INVERTED & low("head", 0.2)),
        # arms
        ("both arms up", "arms", BOTH_ARMS_UP),
        ("raise your hands above your head", "arms", BOTH_ARMS_UP),
        ("reach for the sky", "arms", BOTH_ARMS_UP & both(lambda s: straight(f"{s}_elbow", 30))),
        ("hands up!", "arms", UPRIGHT & both(lambda s: above(f"{s}_wrist", f"{s}_shoulder", 0.15))),
        ("raise your left hand", "arms", arm_up("left")),
        ("one arm up, the right one", "arms", arm_up("right")),
        ("T-pose", "arms", UPRIGHT & T_ARMS),
        ("arms out to the sides", "arms", T_ARMS),
        ("A-pose", "arms", STANDING & A_ARMS),
        ("arms straight forward", "arms", ARMS_FORWARD & both(lambda s: straight(f"{s}_elbow", 30))),
        ("zombie arms", "arms", ARMS_FORWARD),
        ("cross your arms", "arms", ARMS_CROSSED),
        ("arms folded across the chest", "arms", ARMS_CROSSED),
        ("hands on hips", "arms", HANDS_ON_HIPS),
        ("hands on head", "arms", HANDS_ON_HEAD),
        ("hands behind the head", "arms", HANDS_ON_HEAD & both(lambda s: behind(f"{s}_wrist", "head", -0.05))),
        ("praying hands", "arms", PRAYING),
        ("clapping hands", "arms", HANDS_TOGETHER & both(lambda s: ahead(f"{s}_wrist", "spine3", 0.15))),
        ("pointing forward with the right hand", "arms", pointing("right")),
        ("wave hello", "arms", waving("left") | waving("right")),
        ("waving with the left hand", "arms", waving("left")),
        ("salute", "arms",
         near("right_wrist", "head", 0.25) & bent("right_elbow", 90) & below("left_wrist", "left_shoulder", 0.2)),
        ("thinking, hand on chin", "arms", either(lambda s: near(f"{s}_wrist", "head", 0.22) & bent(f"{s}_elbow", 90))),
        ("flex your biceps", "arms",
         both(lambda s: bent(f"{s}_elbow", 70) & above(f"{s}_wrist", f"{s}_elbow", 0.1)
              & above(f"{s}_elbow", f"{s}_shoulder", -0.15))),
        ("hands behind the back", "arms", UPRIGHT & both(lambda s: behind(f"{s}_wrist", "pelvis", 0.05))),
    ]
    return tuple(Prompt(text, group, check) for text, group, check in rows)


PROMPTS: tuple[Prompt, ...] = _table()


def check_prompt(prompt: Prompt, pose) -> bool:
    """Whether a (22, 3) axis-angle pose passes the prompt's check."""
    return prompt.check(Body.from_pose(pose))
