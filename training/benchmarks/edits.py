"""Did an edit do what its instruction says, and leave the rest of the body where it was?

An instruction is read as paircode facts (`(posecode, change)`, see `training.captioning.paircodes`): the
corpus's instructions with the caption parser, the hand-written everyday ones from the table below. The
edit is followed when every fact holds between the start pose and the result (clear categories only).
Drift: the mean displacement of the joints the instruction does not name, with the pelvis at the origin and
the heading removed (`canonical_joints`), in centimetres. An instruction names a whole limb (arm: collar to
hand; leg: knee to foot; head: neck and head) when any of its posecodes measures a joint of that limb; one
that moves the whole body (a torso lean, "kneel down", "sit down") names everything and has no drift.
"""
from dataclasses import dataclass

import numpy as np

from backend.body.kinematics import pose_joints
from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS
from backend.edit_scope import LIMB_POSITIONS
from backend.facts.parse import ParseError, parse_instruction
from training.captioning.paircodes import canonical_joints, pair_fact_holds
from backend.facts.posecodes import POSECODE_INDEX, POSECODES, compute_posecodes, pose_geometry

PairFact = tuple[str, str]
WHOLE_BODY_KINDS = ("super", "torso_tilt", "incline_fwd", "incline_side", "pelvis_height", "torso_height",
                    "facing", "hip_axis")
_LIMB_OF = {j: limb for limb, joints in LIMB_POSITIONS.items() for j in joints}
_LIMB_OF.update({"left_hip": "left_leg", "right_hip": "right_leg"})  # a hip as a reference point: its leg
_LIMB_OF.update({f"{s}_{limb}": f"{s}_{'arm' if limb in ('upper_arm', 'forearm') else 'leg'}"
                 for s in ("left", "right") for limb in ("upper_arm", "forearm", "thigh", "shin")})


def named_limbs(facts: list[PairFact]) -> set[str] | None:
    """Limbs an instruction names; None when it moves the whole body."""
    limbs = set()
    for name, _ in facts:
        code = POSECODES[POSECODE_INDEX[name]]
        if code.kind in WHOLE_BODY_KINDS:
            return None
        if code.kind.startswith("head_"):
            limbs.add("head")
            continue
        limbs.update(_LIMB_OF[j] for j in code.joints if j in _LIMB_OF)
    return limbs


def unnamed_joints(facts: list[PairFact]) -> list[int] | None:
    """Indices of the 22 pose joints (pelvis excluded) an instruction leaves alone; None: whole body."""
    limbs = named_limbs(facts)
    if limbs is None:
        return None
    named = {j for limb in limbs for j in LIMB_POSITIONS[limb]}
    return [JOINT_INDEX[n] for n in list(JOINT_INDEX)[1:NUM_POSE_JOINTS] if n not in named]


def drift_cm(start: np.ndarray, result: np.ndarray, joints: list[int]) -> float:
    """Mean displacement (cm) of `joints` between two (22, 3) poses, pelvis-centred, heading removed."""
    a, b = canonical_joints(pose_joints(np.stack([start, result]).astype(np.float64)))
    return float(100.0 * np.linalg.norm(a[joints] - b[joints], axis=-1).mean())


@dataclass
class EditScore:
    followed: bool            # every fact holds
    facts_held: int
    facts: int
    drift_cm: float | None    # None: the instruction moves the whole body


def score_edit(start: np.ndarray, result: np.ndarray, facts: list[PairFact]) -> EditScore:
    """Score one edit: start and result (22, 3) axis-angle, the instruction's facts."""
    codes = compute_posecodes(*pose_geometry(np.stack([start, result]).astype(np.float64)))
    held = [pair_fact_holds(f, codes[0], codes[1]) for f in facts]
    joints = unnamed_joints(facts)
    return EditScore(followed=bool(facts) and all(held), facts_held=sum(held), facts=len(facts),
                     drift_cm=None if joints is None else drift_cm(start, result, joints))


def score_differences(texts: list[str], poses_a: np.ndarray, poses_b: np.ndarray) -> dict[str, float]:
    """Difference texts read as instructions from A to B, each against its pair ((N, 22, 3) twice): readable =
    % the parser reads, all_true = % whose every fact holds (unreadable: not), facts_true = % of the readable
    texts' facts that hold."""
    readable = all_true = facts = held = 0
    for text, a, b in zip(texts, poses_a, poses_b):
        try:
            score = score_edit(a, b, parse_instruction(text))
        except ParseError:
            continue
        readable, all_true = readable + 1, all_true + score.followed
        facts, held = facts + score.facts, held + score.facts_held
    n = max(len(texts), 1)
    return {"readable": 100.0 * readable / n, "all_true": 100.0 * all_true / n,
            "facts_true": 100.0 * held / max(facts, 1)}


def summarize(scores: list[EditScore]) -> dict[str, float]:
    """followed (%), facts held (%), drift median and 90th percentile (cm) over the edits with a drift."""
    drifts = [s.drift_cm for s in scores if s.drift_cm is not None]
    return {"followed": 100.0 * np.mean([s.followed for s in scores]) if scores else 0.0,
            "facts_held": 100.0 * sum(s.facts_held for s in scores) / max(sum(s.facts for s in scores), 1),
            "drift_p50": float(np.median(drifts)) if drifts else float("nan"),
            "drift_p90": float(np.percentile(drifts, 90)) if drifts else float("nan"),
            "with_drift": len(drifts)}


# ---- everyday instructions, written by hand --------------------------------------------------------------
@dataclass(frozen=True)
class EverydayEdit:
    instruction: str
    start: str                   # a name in start_poses()
    facts: tuple[PairFact, ...]


def _both(template: str, change: str) -> tuple[PairFact, ...]:
    return tuple((template.format(s=s), change) for s in ("left", "right"))


EVERYDAY_EDITS: tuple[EverydayEdit, ...] = (
    EverydayEdit("raise your right arm above your head", "standing_arms_down",
                 (("relpos_y:right_wrist:head", "to:above"),)),
    EverydayEdit("put both hands up", "standing_arms_down", _both("relpos_y:{s}_wrist:head", "to:above")),
    EverydayEdit("lift your left hand to shoulder height", "standing_arms_down",
                 (("relpos_y:left_wrist:left_shoulder", "from:below"),)),
    EverydayEdit("put your hands on your hips", "reaching_forward", _both("distance:{s}_wrist:{s}_hip", "to:close")),
    EverydayEdit("bend your knees", "standing_arms_down", _both("angle:{s}_knee", "less")),
    EverydayEdit("squat down", "standing_arms_down", (("super:squatting", "to:yes"),)),
    EverydayEdit("sit down", "standing_arms_down", (("pelvis_height:pelvis", "less"),)),
    EverydayEdit("kneel down", "standing_arms_down", (("super:kneeling", "to:yes"),)),
    EverydayEdit("cross your arms", "standing_arms_down", (("super:arms_crossed", "to:yes"),)),
    EverydayEdit("stretch your arms out to the sides", "reaching_forward", (("super:arms_out", "to:yes"),)),
    EverydayEdit("bend forward", "standing_arms_down", (("incline_fwd:torso", "more"),)),
    EverydayEdit("lean back a bit", "standing_arms_down", (("incline_fwd:torso", "less"),)),
    EverydayEdit("lean to the left", "standing_arms_down", (("incline_side:torso", "more"),)),
    EverydayEdit("turn your head to the left", "standing_arms_down", (("head_turn:head", "to:left"),)),
    EverydayEdit("look down at the floor", "standing_arms_down", (("head_pitch:head", "to:down"),)),
    EverydayEdit("lift your left foot off the floor", "standing_arms_down",
                 (("relpos_y:left_ankle:right_ankle", "to:above"),)),
    EverydayEdit("stand on your right leg", "standing_arms_down", (("super:standing_right_leg", "to:yes"),)),
    EverydayEdit("put your right hand on your head", "standing_arms_down",
                 (("distance:right_wrist:head", "to:close"),)),
    EverydayEdit("bring your hands together", "t_pose", (("distance:left_wrist:right_wrist", "less"),)),
    EverydayEdit("reach forward with your right arm", "standing_arms_down",
                 (("relpos_z:right_wrist:spine3", "to:in front of"),)),
    EverydayEdit("wave with your right hand", "standing_arms_down",
                 (("relpos_y:right_wrist:right_shoulder", "to:above"),)),
    EverydayEdit("bring your feet together", "lunge", (("distance:left_ankle:right_ankle", "less"),)),
    EverydayEdit("lie down on your back", "standing_arms_down", (("super:lying_back", "to:yes"),)),
    EverydayEdit("get down on all fours", "standing_arms_down", (("super:all_fours", "to:yes"),)),
    EverydayEdit("put your arms down", "t_pose", _both("relpos_y:{s}_wrist:pelvis", "to:below")),
    EverydayEdit("bend your elbows", "t_pose", _both("angle:{s}_elbow", "less")),
    EverydayEdit("stand up", "sitting", (("pelvis_height:pelvis", "more"),)),
    EverydayEdit("straighten your legs", "sitting", _both("angle:{s}_knee", "more")),
    EverydayEdit("lower your left arm", "arms_raised", (("relpos_y:left_wrist:head", "from:above"),)),
    EverydayEdit("stand up straight", "squat", (("pelvis_height:pelvis", "more"),)),
    EverydayEdit("sit up", "lying_on_back", (("torso_tilt:torso", "from:horizontal"),)),
    EverydayEdit("get up off your knees", "kneeling_on_both_knees", (("pelvis_height:pelvis", "more"),)),
)


# Start poses the example library lacks, as joint-angle statements (kept here so the benchmark does not move
# when the corpus's key poses change).
_MORE_STARTS = {
    "lying_on_back": {"pelvis": [("x", -90)], "left_shoulder": [("z", -75)], "right_shoulder": [("z", 75)]},
    "kneeling_on_both_knees": {"left_knee": [("x", 90)], "right_knee": [("x", 90)], "left_ankle": [("x", 30)],
                               "right_ankle": [("x", 30)], "left_shoulder": [("z", -75)],
                               "right_shoulder": [("z", 75)]},
}


def start_poses() -> dict[str, np.ndarray]:
    """The named start poses of the everyday edits (backend.body.example_poses and two more), (22, 3) each."""
    from backend.body.example_poses import EXAMPLE_POSES, pose_from_statements

    poses = {name: np.asarray(p, np.float32) for name, p in EXAMPLE_POSES.items()}
    poses.update({name: pose_from_statements(s).astype(np.float32) for name, s in _MORE_STARTS.items()})
    return poses
