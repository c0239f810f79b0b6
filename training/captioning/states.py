"""Body states: the whole-body and arm states people name in short prompts, computed from pose geometry.

A pose carries no floor, so heights are measured above the pose's lowest joint. Left/right and front are
the body's own (the hip axis and the facing of `posecodes.body_frame`); arm positions use the upper torso's
own frame (`posecodes.torso_frame`), so "arms forward" means in front of the chest whether the person stands,
bends or lies. Every number a definition uses is in `THRESHOLDS`, one entry per constant, so a definition
is changed in one place; the definitions were tuned by looking at contact sheets of corpus poses.

States are booleans. Whole-body states are mutually exclusive (the first matching one in `BODY_STATES`
order wins), so a pose gets at most one; arm states may combine ("both arms up" and "hands together").
"""
from dataclasses import dataclass

import numpy as np

from backend.body.skeleton import JOINT_INDEX
from backend.facts.posecodes import UP, _angle_deg, _dot, _normalize, body_frame, torso_frame

# name -> value; metres for heights and distances (above the lowest joint unless said), degrees for angles
THRESHOLDS: dict[str, float] = {
    "foot_down_m": 0.12,  # an ankle or toe this close to the lowest joint rests on the floor
    "foot_lifted_m": 0.25,  # a lifted foot's ankle is at least this far above the standing one
    "knee_down_m": 0.13,  # a knee on the floor
    "knee_up_m": 0.30,  # the other knee of a one-knee kneel is this high at least
    "hand_down_m": 0.15,  # a wrist on the floor
    "straight_knee_deg": 150.0,  # a straight (supporting) leg
    "bent_knee_deg": 140.0,  # a bent knee
    "deep_knee_deg": 85.0,  # a squat's knee angle is below this
    "upright_deg": 30.0,  # torso within this of vertical
    "sit_upright_deg": 45.0,  # sitting and kneeling allow more lean
    "horizontal_min_deg": 55.0,  # torso tilt range of lying, plank, all fours
    "horizontal_max_deg": 125.0,
    "inverted_deg": 135.0,  # upside down beyond this tilt
    "standing_pelvis_m": 0.80,  # pelvis this high: on straight legs (standing on one leg)
    "stand_pelvis_m": 0.75,  # pelvis this high on both feet: standing
    "support_knee_deg": 120.0,  # the standing leg of a one-leg stance is at least this straight
    "lying_hip_deg": 120.0,  # lying face down with the hips open (not folded as in child's pose)
    "crouch_pelvis_min_m": 0.45,
    "crouch_pelvis_max_m": 0.75,
    "crouch_knee_deg": 125.0,
    "squat_pelvis_m": 0.52,
    "floor_pelvis_m": 0.22,  # pelvis this close to the lowest joint: sitting on the floor
    "lying_torso_m": 0.35,  # pelvis, chest and neck all below this: lying
    "chair_thigh_deg": 55.0,  # thighs at least this far from hanging straight down
    "chair_pelvis_min_m": 0.30,
    "chair_pelvis_max_m": 0.70,
    "chair_behind_m": 0.25,  # the pelvis this far behind the feet: the weight rests on a seat
    "chair_knee_min_deg": 55.0,
    "chair_feet_apart_m": 0.60,  # wider than this is a straddle or side lunge, not a seat
    "chair_knee_max_deg": 140.0,
    "cross_knee_deg": 100.0,  # cross-legged: knees bent more than this (angle below it)
    "cross_knees_apart_m": 0.40,
    "cross_ankles_close_m": 0.30,
    "kneel_pelvis_above_knee_m": 0.12,
    "lunge_stance_m": 0.55,  # feet this far apart along the facing direction
    "lunge_front_knee_deg": 135.0,
    "bend_forward_deg": 45.0,  # torso tilted this far forward from vertical
    "bend_pelvis_m": 0.65,
    "lean_back_deg": 20.0,
    "facing_clear": 0.70,  # |chest direction . up| beyond this: clearly facing up or down
    "plank_hip_deg": 150.0,  # torso-thigh angle of a straight body
    "dog_hip_deg": 120.0,  # torso-thigh angle of an inverted V
    "dog_reach_m": 0.70,  # hands this far from the feet (a forward fold has them close)
    "dog_tilt_deg": 90.0,  # the torso of an inverted V points downward
    "crouch_tilt_deg": 70.0,  # squats and crouches keep the torso within this of vertical
    "jump_knee_above_pelvis_m": 0.08,  # tuck: knees pulled up to hip level
    "jump_pelvis_m": 0.30,
    # arms
    "arms_body_tilt_deg": 60.0,  # "arms up", "forward", "waving"... only when the torso is within this of vertical
    "a_pose_out_m": 0.05,  # A-pose: the forearm goes out to the side
    "a_pose_front_m": 0.25,  # A-pose: the wrist stays this close to the body's frontal plane
    "forward_elbow_deg": 130.0,
    "crossed_elbow_deg": 120.0,
    "hip_point_up_m": 0.08,  # the hand-on-hip point: this far above the hip joint
    "head_middle_up_m": 0.07,  # the middle of the head: this far above the head joint
    "together_front_m": 0.05,  # hands together in front of the chest
    "point_behind_m": 0.10,  # a pointing hand is not behind the chest nor across the body by more than this
    "wave_hand_head_m": 0.25,  # a waving hand is away from the head (not on it)
    "wave_out_m": 0.05,
    "reach_tilt_deg": 20.0,  # reaching down bends the torso at least this much
    "chin_down_m": 0.06,  # face points from the head joint: chin below, brow above, both in front
    "brow_up_m": 0.07,
    "face_front_m": 0.09,
    "chin_elbow_deg": 90.0,
    "salute_above_head_m": 0.02,
    "salute_elbow_deg": 80.0,
    "salute_elbow_out_m": 0.20,
    "salute_elbow_low_m": 0.08,
    "above_head_m": 0.08,  # a wrist this far above the head joint is raised overhead
    "up_elbow_deg": 110.0,  # a raised arm is straighter than this (hands on the head are not "arms up")
    "below_shoulder_m": 0.0,
    "arm_straight_deg": 150.0,
    "t_arm_level_m": 0.15,  # wrist within this of shoulder height
    "t_arm_out_m": 0.45,  # wrist this far out to the side of its shoulder
    "forward_out_m": 0.40,  # wrist this far in front of the chest
    "forward_level_m": 0.20,
    "crossed_wrist_elbow_m": 0.22,  # each wrist near the other arm's elbow
    "crossed_front_m": 0.02,
    "hip_hand_m": 0.20,  # wrist to the same-side hip joint
    "hip_elbow_deg": 140.0,
    "hip_elbow_out_m": 0.20,  # elbow out to the side of the body's midline
    "head_hand_m": 0.20,  # hand joint to the middle of the head
    "head_elbow_deg": 100.0,
    "hands_together_m": 0.12,
    "point_out_m": 0.50,  # wrist to its shoulder
    "point_level_m": 0.25,
    "point_other_below_m": 0.30,  # the other hand this far below the pointing one
    "wave_above_shoulder_m": 0.10,
    "wave_forearm_up_m": 0.12,
    "wave_elbow_min_deg": 40.0,
    "wave_elbow_max_deg": 135.0,
    "reach_down_below_knee_m": 0.0,  # wrist below the knee
    "toes_hand_foot_m": 0.22,
    "chin_hand_m": 0.11,  # thinking: hand joint to the chin point
    "chin_midline_m": 0.08,  # thinking: the hand this close to the face's midline (a fighter's fist is beside it)
    "chin_forearm_up": 0.65,  # thinking: the forearm this close to vertical (share of its length going up)
    "salute_hand_m": 0.14,  # saluting: hand joint to the brow point
    "a_pose_min_deg": 30.0,  # arm angle from hanging down, A-pose
    "a_pose_max_deg": 65.0,
    "down_arm_max_deg": 20.0,  # arms at the sides: the upper arm within this of hanging straight down
    "down_front_m": 0.15,  # ... and the wrist within this of the shoulder's frontal plane
}
T = THRESHOLDS

BODY_STATES = ("handstand", "upside_down", "lying_back", "lying_front", "lying_side_left", "lying_side_right",
               "plank", "downward_dog", "all_fours", "kneeling_left", "kneeling_right", "kneeling_both",
               "sitting_cross_legged", "sitting_floor", "jumping", "sitting_chair", "squatting", "lunging_left",
               "lunging_right", "bending_forward", "crouching", "standing_left_leg",
               "standing_right_leg", "leaning_back", "standing")
ARM_STATES = ("arms_up", "left_arm_up", "right_arm_up", "t_arms", "a_arms", "arms_forward", "arms_crossed",
              "hands_on_hips", "hands_on_head", "hands_together", "pointing_left", "pointing_right",
              "waving_left", "waving_right", "reaching_down", "touching_toes", "thinking_left", "thinking_right",
              "saluting_left", "saluting_right", "arms_down")
STATES = BODY_STATES + ARM_STATES
STATE_INDEX = {s: i for i, s in enumerate(STATES)}
_J = JOINT_INDEX


@dataclass
class Geometry:
    """Per-pose measures the state definitions read; every array has N rows."""

    joints: np.ndarray  # (N, 24, 3)
    height: np.ndarray  # (N, 24) above the lowest joint
    left: np.ndarray  # (N, 3) hip axis
    front: np.ndarray  # (N, 3) body front (horizontal for upright bodies)
    t_left: np.ndarray  # (N, 3) upper-torso axes
    t_up: np.ndarray
    t_front: np.ndarray
    tilt: np.ndarray  # (N,) torso angle from vertical, degrees
    incline: np.ndarray  # (N,) signed forward (+) / backward (-) torso lean, degrees
    chest_up: np.ndarray  # (N,) chest direction . world up: +1 lying face up, -1 face down

    def h(self, name: str) -> np.ndarray:
        return self.height[:, _J[name]]

    def p(self, name: str) -> np.ndarray:
        return self.joints[:, _J[name]]

    def angle(self, a: str, mid: str, b: str) -> np.ndarray:
        return _angle_deg(self.p(a) - self.p(mid), self.p(b) - self.p(mid))

    def knee(self, side: str) -> np.ndarray:
        return self.angle(f"{side}_hip", f"{side}_knee", f"{side}_ankle")

    def elbow(self, side: str) -> np.ndarray:
        return self.angle(f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist")

    def hip(self, side: str) -> np.ndarray:
        """Angle between the torso (hip -> neck direction) and the thigh: 180 straight, 90 seated."""
        return _angle_deg(self.p("neck") - self.p("pelvis"), self.p(f"{side}_knee") - self.p(f"{side}_hip"))

    def thigh_from_down(self, side: str) -> np.ndarray:
        down = np.broadcast_to(-UP, self.left.shape)
        return _angle_deg(self.p(f"{side}_knee") - self.p(f"{side}_hip"), down)

    def along(self, vec: np.ndarray, axis: np.ndarray) -> np.ndarray:
        return _dot(vec, axis)


def geometry(joints: np.ndarray) -> Geometry:
    """joints (N, 24, 3) in the SMPL frame (+Y up) -> the measures of `Geometry`."""
    joints = np.asarray(joints, dtype=np.float64)
    height = joints[..., 1] - joints[..., 1].min(axis=1, keepdims=True)
    left, front, _ = body_frame(joints)
    t_left, t_up, t_front = torso_frame(joints)
    torso = _normalize(joints[:, _J["neck"]] - joints[:, _J["pelvis"]])
    tilt = _angle_deg(torso, np.broadcast_to(UP, torso.shape))
    left_h = _normalize(left * np.array([1.0, 0.0, 1.0]))
    front_h = np.cross(left_h, UP)
    incline = np.degrees(np.arctan2(_dot(torso, front_h), torso[:, 1]))
    chest = np.cross(left, torso)
    chest_up = chest[:, 1] / np.maximum(np.linalg.norm(chest, axis=-1), 1e-9)
    return Geometry(joints, height, left, front, t_left, t_up, t_front, tilt, incline, chest_up)


def _body_states(g: Geometry) -> dict[str, np.ndarray]:
    n = len(g.tilt)
    sides = ("left", "right")
    ankle = {s: g.h(f"{s}_ankle") for s in sides}
    foot = {s: np.minimum(ankle[s], g.h(f"{s}_foot")) for s in sides}
    knee_h = {s: g.h(f"{s}_knee") for s in sides}
    wrist_h = {s: np.minimum(g.h(f"{s}_wrist"), g.h(f"{s}_hand")) for s in sides}
    knee = {s: g.knee(s) for s in sides}
    hip = {s: g.hip(s) for s in sides}
    pelvis = g.h("pelvis")
    foot_down = {s: foot[s] < T["foot_down_m"] for s in sides}
    knee_down = {s: knee_h[s] < T["knee_down_m"] for s in sides}
    hand_down = {s: wrist_h[s] < T["hand_down_m"] for s in sides}
    both_feet = foot_down["left"] & foot_down["right"]
    upright = g.tilt < T["upright_deg"]
    sit_upright = g.tilt < T["sit_upright_deg"]
    horizontal = (g.tilt > T["horizontal_min_deg"]) & (g.tilt < T["horizontal_max_deg"])
    torso_top = g.height[:, [_J["pelvis"], _J["spine3"], _J["neck"]]].max(axis=1)
    face_up = g.chest_up > T["facing_clear"]
    face_down = g.chest_up < -T["facing_clear"]
    s: dict[str, np.ndarray] = {}

    # upside down: torso pointing down and the feet above the hips (a deep forward fold keeps its feet down)
    s["upside_down"] = (g.tilt > T["inverted_deg"]) & (np.minimum(foot["left"], foot["right"]) > pelvis)
    s["handstand"] = s["upside_down"] & hand_down["left"] & hand_down["right"]
    lying = horizontal & (torso_top < T["lying_torso_m"])
    s["lying_back"] = lying & face_up
    s["lying_front"] = lying & face_down & (np.minimum(hip["left"], hip["right"]) > T["lying_hip_deg"])
    # lying on the left side: the left hip is the lower one
    s["lying_side_left"] = lying & (g.left[:, 1] < -T["facing_clear"])
    s["lying_side_right"] = lying & (g.left[:, 1] > T["facing_clear"])
    hands_down = hand_down["left"] & hand_down["right"]
    straight_legs = (knee["left"] > T["straight_knee_deg"]) & (knee["right"] > T["straight_knee_deg"])
    knees_up = (knee_h["left"] > T["knee_down_m"]) & (knee_h["right"] > T["knee_down_m"])
    s["plank"] = (horizontal & face_down & hands_down & both_feet & straight_legs & knees_up
                  & (hip["left"] > T["plank_hip_deg"]) & (hip["right"] > T["plank_hip_deg"]) & ~lying)
    hips_high = pelvis >= g.height[:, [_J["spine3"], _J["neck"], _J["head"]]].max(axis=1)
    reach = np.linalg.norm((g.p("left_wrist") + g.p("right_wrist") - g.p("left_ankle") - g.p("right_ankle"))
                           * np.array([0.5, 0.0, 0.5]), axis=-1)  # horizontal hands-to-feet distance
    s["downward_dog"] = (hands_down & both_feet & (reach > T["dog_reach_m"]) & knees_up & hips_high
                         & (g.tilt > T["dog_tilt_deg"])
                         & (hip["left"] < T["dog_hip_deg"]) & (hip["right"] < T["dog_hip_deg"]))
    s["all_fours"] = (horizontal & (g.chest_up < 0) & knee_down["left"] & knee_down["right"] & hands_down
                      & (pelvis > T["lying_torso_m"]))
    pelvis_over_knees = pelvis - np.maximum(knee_h["left"], knee_h["right"]) > T["kneel_pelvis_above_knee_m"]
    no_hands = ~(hand_down["left"] | hand_down["right"])
    for a, b in (("left", "right"), ("right", "left")):
        s[f"kneeling_{a}"] = (sit_upright & knee_down[a] & (knee[a] < T["bent_knee_deg"]) & (knee_h[b] > T["knee_up_m"])
                              & foot_down[b] & (knee[b] < T["bent_knee_deg"]) & no_hands)
    s["kneeling_both"] = (sit_upright & knee_down["left"] & knee_down["right"] & pelvis_over_knees
                          & (knee["left"] < T["bent_knee_deg"]) & (knee["right"] < T["bent_knee_deg"]))
    on_floor = sit_upright & (pelvis < T["floor_pelvis_m"])
    knees_apart = np.linalg.norm(g.p("left_knee") - g.p("right_knee"), axis=-1) > T["cross_knees_apart_m"]
    ankles_close = np.linalg.norm(g.p("left_ankle") - g.p("right_ankle"), axis=-1) < T["cross_ankles_close_m"]
    s["sitting_cross_legged"] = (on_floor & (knee["left"] < T["cross_knee_deg"]) & (knee["right"] < T["cross_knee_deg"])
                                 & knees_apart & ankles_close)
    s["sitting_floor"] = on_floor
    feet_mid = 0.5 * (g.p("left_ankle") + g.p("right_ankle"))
    pelvis_behind = g.along(feet_mid - g.p("pelvis"), g.front)  # > 0: the feet are in front of the pelvis
    thighs_level = ((g.thigh_from_down("left") > T["chair_thigh_deg"])
                    & (g.thigh_from_down("right") > T["chair_thigh_deg"]))
    chair_knees = np.all([(knee[x] > T["chair_knee_min_deg"]) & (knee[x] < T["chair_knee_max_deg"]) for x in sides],
                         axis=0)
    feet_apart = np.linalg.norm(g.p("left_ankle") - g.p("right_ankle"), axis=-1)
    s["sitting_chair"] = (sit_upright & thighs_level & chair_knees & (foot_down["left"] | foot_down["right"])
                          & (feet_apart < T["chair_feet_apart_m"]) & (pelvis > T["chair_pelvis_min_m"])
                          & (pelvis < T["chair_pelvis_max_m"]) & (pelvis_behind > T["chair_behind_m"]))
    deep = (knee["left"] < T["deep_knee_deg"]) & (knee["right"] < T["deep_knee_deg"])
    s["squatting"] = (both_feet & deep & knees_up & (pelvis < T["squat_pelvis_m"]) & (g.tilt < T["crouch_tilt_deg"])
                      & (pelvis > T["floor_pelvis_m"]))
    stance = g.along(g.p("left_ankle") - g.p("right_ankle"), g.front)  # > 0: the left foot is in front
    for a, sign in (("left", 1.0), ("right", -1.0)):
        b = "right" if a == "left" else "left"
        s[f"lunging_{a}"] = (sit_upright & (sign * stance > T["lunge_stance_m"]) & (knee[a] < T["lunge_front_knee_deg"])
                             & foot_down[a] & (pelvis < T["standing_pelvis_m"]) & (pelvis > T["floor_pelvis_m"])
                             & (knee[b] > knee[a]) & no_hands)
    knees_raised = np.minimum(knee_h["left"], knee_h["right"]) > pelvis + T["jump_knee_above_pelvis_m"]
    s["jumping"] = upright & knees_raised & (pelvis > T["jump_pelvis_m"])
    s["bending_forward"] = (both_feet & (pelvis > T["bend_pelvis_m"]) & (g.incline > T["bend_forward_deg"])
                            & (knee["left"] > T["bent_knee_deg"])
                            & (knee["right"] > T["bent_knee_deg"]))
    bent = (knee["left"] < T["crouch_knee_deg"]) & (knee["right"] < T["crouch_knee_deg"])
    s["crouching"] = (both_feet & bent & (g.tilt < T["crouch_tilt_deg"]) & (pelvis > T["crouch_pelvis_min_m"])
                      & (pelvis < T["crouch_pelvis_max_m"]))
    for a, b in (("left", "right"), ("right", "left")):
        s[f"standing_{a}_leg"] = (upright & foot_down[a] & (knee[a] > T["support_knee_deg"])
                                  & (foot[b] - foot[a] > T["foot_lifted_m"]) & (pelvis > T["stand_pelvis_m"]))
    lifted = np.abs(foot["left"] - foot["right"]) > T["foot_lifted_m"]
    straight_legs = (knee["left"] > T["bent_knee_deg"]) & (knee["right"] > T["bent_knee_deg"])  # not a dance crouch
    standing = (upright & (foot_down["left"] | foot_down["right"]) & ~lifted & (pelvis > T["stand_pelvis_m"])
                & straight_legs)
    s["leaning_back"] = (both_feet & (pelvis > T["bend_pelvis_m"]) & (g.incline < -T["lean_back_deg"])
                         & (g.tilt < T["arms_body_tilt_deg"]))
    s["standing"] = standing
    # exclusive: the first matching state in BODY_STATES order wins
    taken = np.zeros(n, dtype=bool)
    for name in BODY_STATES:
        s[name] = s[name] & ~taken
        if name != "handstand":  # a handstand is also upside down
            taken |= s[name]
    s["upside_down"] |= s["handstand"]
    return s


def _arm_states(g: Geometry) -> dict[str, np.ndarray]:
    sides = ("left", "right")
    other = {"left": "right", "right": "left"}
    sign = {"left": 1.0, "right": -1.0}  # toward the side along the body's left axis
    y = {s: g.p(f"{s}_wrist")[:, 1] for s in sides}
    shoulder_y = {s: g.p(f"{s}_shoulder")[:, 1] for s in sides}
    head = g.p("head")
    elbow = {s: g.elbow(s) for s in sides}
    chest = g.p("spine3")
    rel = {s: g.p(f"{s}_wrist") - g.p(f"{s}_shoulder") for s in sides}
    out_side = {s: sign[s] * g.along(rel[s], g.t_left) for s in sides}
    level = {s: g.along(rel[s], g.t_up) for s in sides}  # wrist above the shoulder along the torso's up
    ahead = {s: g.along(g.p(f"{s}_wrist") - chest, g.t_front) for s in sides}
    up_vertical = g.tilt < T["arms_body_tilt_deg"]  # "up", "forward", "waving" only for a body not lying or inverted
    raised = {s: up_vertical & (y[s] > head[:, 1] + T["above_head_m"]) for s in sides}
    low = {s: y[s] < shoulder_y[s] - T["below_shoulder_m"] for s in sides}
    st: dict[str, np.ndarray] = {}
    extended = {s: elbow[s] > T["up_elbow_deg"] for s in sides}
    st["arms_up"] = raised["left"] & raised["right"] & extended["left"] & extended["right"]
    for s in sides:
        st[f"{s}_arm_up"] = raised[s] & extended[s] & low[other[s]]
    straight = {s: elbow[s] > T["arm_straight_deg"] for s in sides}
    st["t_arms"] = np.all([straight[s] & (np.abs(level[s]) < T["t_arm_level_m"]) & (out_side[s] > T["t_arm_out_m"])
                           for s in sides], axis=0)
    arm_down_angle = {s: _angle_deg(g.p(f"{s}_elbow") - g.p(f"{s}_shoulder"), -g.t_up) for s in sides}
    st["a_arms"] = np.all([straight[s] & (arm_down_angle[s] > T["a_pose_min_deg"])
                           & (arm_down_angle[s] < T["a_pose_max_deg"])
                           & (sign[s] * g.along(g.p(f"{s}_wrist") - g.p(f"{s}_elbow"), g.t_left) > T["a_pose_out_m"])
                           & (np.abs(g.along(rel[s], g.t_front)) < T["a_pose_front_m"]) for s in sides], axis=0)
    st["a_arms"] &= up_vertical
    st["arms_down"] = np.all([straight[s] & (arm_down_angle[s] < T["down_arm_max_deg"])
                              & (np.abs(g.along(rel[s], g.t_front)) < T["down_front_m"]) for s in sides],
                             axis=0) & up_vertical
    # forward and pointing: in front of the chest along the body's (horizontal) front, level in world height
    ahead_h = {s: g.along(g.p(f"{s}_wrist") - chest, g.front) for s in sides}
    level_h = {s: y[s] - shoulder_y[s] for s in sides}
    st["arms_forward"] = np.all([(ahead_h[s] > T["forward_out_m"]) & (np.abs(level_h[s]) < T["forward_level_m"])
                                 & (elbow[s] > T["forward_elbow_deg"]) for s in sides], axis=0) & up_vertical
    lw, rw = g.p("left_wrist"), g.p("right_wrist")
    crossed = g.along(lw - rw, g.t_left) < 0
    near_elbows = ((np.linalg.norm(lw - g.p("right_elbow"), axis=-1) < T["crossed_wrist_elbow_m"])
                   & (np.linalg.norm(rw - g.p("left_elbow"), axis=-1) < T["crossed_wrist_elbow_m"]))
    st["arms_crossed"] = (crossed & near_elbows & (ahead["left"] > T["crossed_front_m"])
                          & (ahead["right"] > T["crossed_front_m"]) & (elbow["left"] < T["crossed_elbow_deg"])
                          & (elbow["right"] < T["crossed_elbow_deg"]))
    mid = g.p("pelvis")
    st["hands_on_hips"] = np.all([
        (np.linalg.norm(g.p(f"{s}_wrist") - (g.p(f"{s}_hip") + T["hip_point_up_m"] * g.t_up), axis=-1)
         < T["hip_hand_m"])
        & (elbow[s] < T["hip_elbow_deg"])
        & (sign[s] * g.along(g.p(f"{s}_elbow") - mid, g.t_left) > T["hip_elbow_out_m"])
        for s in sides], axis=0)
    head_middle = head + T["head_middle_up_m"] * g.t_up
    st["hands_on_head"] = np.all([(np.linalg.norm(g.p(f"{s}_hand") - head_middle, axis=-1) < T["head_hand_m"])
                                  & (elbow[s] < T["head_elbow_deg"]) for s in sides], axis=0)
    together = np.linalg.norm(lw - rw, axis=-1) < T["hands_together_m"]
    st["hands_together"] = together & (ahead["left"] > T["together_front_m"]) & ~st["hands_on_head"]
    for s in sides:
        o = other[s]
        far = np.linalg.norm(rel[s], axis=-1) > T["point_out_m"]
        st[f"pointing_{s}"] = (straight[s] & far & (np.abs(level_h[s]) < T["point_level_m"])
                               & (y[o] < g.p("spine1")[:, 1]) & (y[o] < y[s] - T["point_other_below_m"])
                               & (ahead_h[s] > -T["point_behind_m"]) & up_vertical
                               & (out_side[s] > -T["point_behind_m"]))
        forearm_up = y[s] - g.p(f"{s}_elbow")[:, 1] > T["wave_forearm_up_m"]
        st[f"waving_{s}"] = (up_vertical & (y[s] > shoulder_y[s] + T["wave_above_shoulder_m"]) & forearm_up
                             & (elbow[s] > T["wave_elbow_min_deg"]) & (elbow[s] < T["wave_elbow_max_deg"])
                             & (g.p(f"{s}_elbow")[:, 1] > g.p("spine3")[:, 1]) & (y[o] < shoulder_y[o])
                             & (np.linalg.norm(g.p(f"{s}_wrist") - head, axis=-1) > T["wave_hand_head_m"])
                             & (out_side[s] > T["wave_out_m"]))
    knee_y = np.minimum(g.p("left_knee")[:, 1], g.p("right_knee")[:, 1])
    feet = np.minimum(np.minimum(g.h("left_ankle"), g.h("left_foot")),
                      np.minimum(g.h("right_ankle"), g.h("right_foot")))
    standing_legs = (g.h("pelvis") > T["bend_pelvis_m"]) & (feet < T["foot_down_m"])
    reach = np.linalg.norm((lw + rw - g.p("left_ankle") - g.p("right_ankle")) * np.array([0.5, 0.0, 0.5]), axis=-1)
    st["reaching_down"] = (standing_legs & (np.minimum(y["left"], y["right"]) < knee_y) & (g.tilt > T["reach_tilt_deg"])
                           & (reach < T["dog_reach_m"]))
    st["touching_toes"] = standing_legs & np.all([
        np.minimum(np.linalg.norm(g.p(f"{s}_wrist") - g.p(f"{s}_ankle"), axis=-1),
                   np.linalg.norm(g.p(f"{s}_wrist") - g.p(f"{s}_foot"), axis=-1)) < T["toes_hand_foot_m"]
        for s in sides], axis=0)
    # face points, approximated from the head joint and the torso axes (the face is in front of the head joint)
    chin = head - T["chin_down_m"] * g.t_up + T["face_front_m"] * g.t_front
    brow = head + T["brow_up_m"] * g.t_up + T["face_front_m"] * g.t_front
    for s in sides:
        o = other[s]
        hand_y = g.p(f"{s}_hand")[:, 1]
        elbow_y = g.p(f"{s}_elbow")[:, 1]
        # thinking: the hand at the chin with the elbow low; saluting: the hand at the brow, the elbow out and up
        st[f"thinking_{s}"] = ((np.linalg.norm(g.p(f"{s}_hand") - chin, axis=-1) < T["chin_hand_m"])
                               & (hand_y < head[:, 1]) & (elbow_y < shoulder_y[s]) & (elbow[s] < T["chin_elbow_deg"])
                               & (np.abs(g.along(g.p(f"{s}_hand") - head, g.t_left)) < T["chin_midline_m"])
                               & (_dot(_normalize(g.p(f"{s}_wrist") - g.p(f"{s}_elbow")), g.t_up)
                                  > T["chin_forearm_up"])
                               & (y[o] < chest[:, 1]) & up_vertical)  # the other hand low: not a boxing guard
        st[f"saluting_{s}"] = ((np.linalg.norm(g.p(f"{s}_hand") - brow, axis=-1) < T["salute_hand_m"])
                               & (hand_y > head[:, 1] + T["salute_above_head_m"]) & (elbow[s] < T["salute_elbow_deg"])
                               & (sign[s] * g.along(g.p(f"{s}_elbow") - head, g.t_left) > T["salute_elbow_out_m"])
                               & (elbow_y > shoulder_y[s] - T["salute_elbow_low_m"]) & (y[o] < shoulder_y[o])
                               & up_vertical)
    return st


def state_table(joints: np.ndarray) -> np.ndarray:
    """Every state of every pose: joints (N, 24, 3) -> (N, len(STATES)) bool, columns in STATES order."""
    g = geometry(joints)
    states = {**_body_states(g), **_arm_states(g)}
    return np.stack([states[name] for name in STATES], axis=1)


def pose_states(axis_angle: np.ndarray) -> np.ndarray:
    """(N, 22, 3) axis-angle poses -> (N, len(STATES)) bool."""
    from backend.body.kinematics import pose_joints

    return state_table(pose_joints(np.asarray(axis_angle, dtype=np.float64)))


def state_names(row: np.ndarray) -> list[str]:
    """The names of the states a (len(STATES),) bool row holds, in STATES order."""
    return [STATES[i] for i in np.flatnonzero(row)]
