"""Hand-built key poses that the CMU clips lack: floor, kneeling, seated, yoga, exercise and gesture poses.

Each key pose lists local joint rotations in degrees in the SMPL frame, either Euler angles (the project's
'XYZ' order, X applied first) or a list of (axis, degrees) steps applied in the listed order, or an `Aim`:
the direction a bone should point (shoulder -> upper arm, elbow -> forearm, hip -> thigh, knee -> shin,
neck/head), given in the frame of a reference joint (the chest for arms, the pelvis for legs, or the world).
Aims are solved in joint order after the Euler rotations, as the smallest rotation that points the bone.
Useful facts for the Euler ones (T-pose rest, +Y up, +X left, facing +Z): hip flexion (thigh forward) is -X,
knee flexion +X, spine forward bend +X, ankle pointing the toes +X; left hip abduction +Z; left arm down -Z,
up +Z, forward -Y; left elbow flexion -Y; the right side mirrors the Y and Z signs; turning the head or
spine to the left is +Y. Whole-body orientation: lying on the back is root X -90, on the front X +90.

`ARM_SETS` are arm positions given for the left arm in (out, up, front) coordinates and mirrored to the right;
`COMBINATIONS` puts arm sets on bodies whose arms are free ("kneeling with both arms raised").
"""
from dataclasses import dataclass

import numpy as np

from backend.body.kinematics import forward_kinematics, pad_pose_rotmats
from backend.body.rotations import axis_angle_to_rotmat, euler_to_rotmat, rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX, NEUTRAL_REST_JOINTS, PARENTS
from training.data.augment import mirror


@dataclass(frozen=True)
class Aim:
    """Point the bone that starts at a joint along (x, y, z) in the frame of `frame` ("spine3", "pelvis", "world")."""

    x: float
    y: float
    z: float
    frame: str = ""  # default: spine3 for arms and the head, pelvis for legs


ARMS_DOWN = {"left_shoulder": (0, 0, -75), "right_shoulder": (0, 0, 75)}
ARMS_UP = {"left_shoulder": (0, 0, 80), "right_shoulder": (0, 0, -80)}
ARMS_FORWARD = {"left_shoulder": (0, -90, 0), "right_shoulder": (0, 90, 0)}

# left arm: (upper arm direction, forearm direction) in (out, up, front); None leaves the arm as it is
ArmSpec = tuple[tuple[float, float, float], tuple[float, float, float]]
DOWN: ArmSpec = ((0.2, -1.0, 0.0), (0.1, -1.0, 0.1))
UP: ArmSpec = ((0.25, 1.0, 0.0), (0.1, 1.0, 0.0))
SIDE: ArmSpec = ((1.0, 0.0, 0.0), (1.0, 0.0, 0.0))
FORWARD: ArmSpec = ((0.0, 0.0, 1.0), (0.0, 0.0, 1.0))
ARM_SETS: dict[str, tuple[ArmSpec, ArmSpec]] = {  # name -> (left arm, right arm), each in its own out/up/front
    "arms_down": (DOWN, DOWN),
    "arms_up": (UP, UP),
    "t_arms": (SIDE, SIDE),
    "a_arms": (((0.7, -0.7, 0.0), (0.7, -0.7, 0.0)), ((0.7, -0.7, 0.0), (0.7, -0.7, 0.0))),
    "arms_forward": (FORWARD, FORWARD),
    "arms_crossed": (((0.0, -1.0, 0.5), (-1.0, 0.1, 0.15)), ((0.0, -1.0, 0.55), (-1.0, 0.15, 0.3))),
    "hands_on_hips": (((0.6, -0.78, -0.15), (-0.77, -0.58, 0.27)), ((0.6, -0.78, -0.15), (-0.77, -0.58, 0.27))),
    "hands_on_head": (((0.6, 0.75, -0.1), (-0.9, 0.25, -0.2)), ((0.6, 0.75, -0.1), (-0.9, 0.25, -0.2))),
    "praying_hands": (((0.2, -0.8, 0.55), (-0.87, 0.37, 0.35)), ((0.2, -0.8, 0.55), (-0.87, 0.37, 0.35))),
    "pointing_left_forward": (FORWARD, DOWN),
    "pointing_left_side": (((1.0, 0.1, 0.2), (1.0, 0.1, 0.2)), DOWN),
    "waving_left": (((0.9, 0.25, 0.1), (0.15, 1.0, 0.0)), DOWN),
    "left_arm_up": (UP, DOWN),
    "saluting_right": (DOWN, ((0.75, 0.15, 0.6), (-0.8, 0.6, -0.2))),
    "thinking_right": (((0.2, -0.8, 0.55), (-0.9, 0.1, 0.2)), ((0.1, -0.6, 0.8), (-0.5, 0.78, -0.3))),
    "shrugging": (((0.25, -1.0, 0.05), (0.6, 0.0, 1.0)), ((0.25, -1.0, 0.05), (0.6, 0.0, 1.0))),
    "reaching_down": (((0.1, -0.8, 0.6), (0.05, -0.8, 0.6)), ((0.1, -0.8, 0.6), (0.05, -0.8, 0.6))),
}
SHRUG = {"left_collar": (0, 0, 18), "right_collar": (0, 0, -18)}


def arm_set(name: str) -> dict:
    """The Aims of an arm set for both arms."""
    out: dict = {}
    for side, spec, sign in (("left", ARM_SETS[name][0], 1.0), ("right", ARM_SETS[name][1], -1.0)):
        (ux, uy, uz), (fx, fy, fz) = spec
        out[f"{side}_shoulder"] = Aim(sign * ux, uy, uz)
        out[f"{side}_elbow"] = Aim(sign * fx, fy, fz)
    if name == "shrugging":
        out.update(SHRUG)
    return out


def _legs(left_thigh, left_shin, right_thigh=None, right_shin=None, frame: str = "") -> dict:
    """Leg Aims in (x, y, z) of the frame; the right leg mirrors the left when not given."""
    rt = right_thigh or (-left_thigh[0], left_thigh[1], left_thigh[2])
    rs = right_shin or (-left_shin[0], left_shin[1], left_shin[2])
    return {"left_hip": Aim(*left_thigh, frame), "left_knee": Aim(*left_shin, frame),
            "right_hip": Aim(*rt, frame), "right_knee": Aim(*rs, frame)}


KEYPOSES: dict[str, dict] = {
    "t_pose": {},
    "a_pose": {**arm_set("a_arms")},
    "standing": {**arm_set("arms_down")},
    "contrapposto": {"pelvis": (0, 0, 5), "left_hip": (-14, 0, -3), "left_knee": (28, 0, 0), "left_ankle": (-8, 0, 0),
                     "right_hip": (0, 0, -5), "spine1": (0, 0, -4), "spine2": (0, 0, -3), "spine3": (0, 0, -2),
                     "head": (0, 10, 3), **arm_set("arms_down")},
    "lying_on_back": {"pelvis": (-90, 0, 0), **ARMS_DOWN},
    "lying_on_back_arms_overhead": {"pelvis": (-90, 0, 0), **ARMS_UP},
    "lying_on_back_knees_up": {"pelvis": (-90, 0, 0), "left_hip": (-60, 0, 0), "right_hip": (-60, 0, 0),
                               "left_knee": (110, 0, 0), "right_knee": (110, 0, 0), **ARMS_DOWN},
    "lying_on_front": {"pelvis": (90, 0, 0), "left_shoulder": (0, 0, 60), "right_shoulder": (0, 0, -60),
                       "left_elbow": (0, 0, 40), "right_elbow": (0, 0, -40)},
    "lying_on_side": {"pelvis": (0, 0, -90), "left_hip": (-40, 0, 0), "right_hip": (-30, 0, 0),
                      "left_knee": (60, 0, 0), "right_knee": (50, 0, 0),
                      "left_shoulder": (0, -80, 0), "right_shoulder": (0, 0, 70), "right_elbow": (0, 30, 0)},
    "lying_on_side_head_on_arm": {"pelvis": (0, 0, -90), "left_hip": (-20, 0, 0), "right_hip": (-35, 0, 0),
                                  "left_knee": (30, 0, 0), "right_knee": (60, 0, 0),
                                  "left_shoulder": Aim(0.0, 1.0, 0.2), "left_elbow": Aim(-0.3, 0.3, 0.9),
                                  "right_shoulder": Aim(-0.3, -0.9, 0.3), "right_elbow": Aim(-0.2, -0.5, 0.9)},
    "kneeling_on_both_knees": {"left_knee": (90, 0, 0), "right_knee": (90, 0, 0),
                               "left_ankle": (30, 0, 0), "right_ankle": (30, 0, 0), **ARMS_DOWN},
    "kneeling_on_one_knee": {"left_hip": (-90, 0, 0), "left_knee": (90, 0, 0), "right_hip": (10, 0, 0),
                             "right_knee": (100, 0, 0), "right_ankle": (20, 0, 0),
                             "left_shoulder": (0, 0, -70), "right_shoulder": (0, 0, 70),
                             "left_elbow": (0, -40, 0)},
    "sitting_on_heels": {**_legs((0.0, -0.15, 1.0), (0.0, -0.05, -1.0)), "left_ankle": (40, 0, 0),
                         "right_ankle": (40, 0, 0),
                         "spine1": (5, 0, 0), "left_shoulder": (0, -30, -70), "right_shoulder": (0, 30, 70),
                         "left_elbow": (0, -40, 0), "right_elbow": (0, 40, 0)},
    "sitting_cross_legged": {**_legs((0.75, -0.05, 0.65), (-0.8, -0.15, 0.55)),
                             "left_shoulder": Aim(0.25, -0.9, 0.35), "left_elbow": Aim(0.1, -0.3, 1.0),
                             "right_shoulder": Aim(-0.25, -0.9, 0.35), "right_elbow": Aim(-0.1, -0.3, 1.0)},
    "sitting_on_floor_legs_straight": {"left_hip": (-90, 0, 0), "right_hip": (-90, 0, 0),
                                       "left_shoulder": (0, 25, -70), "right_shoulder": (0, -25, 70)},
    "sitting_leaning_back_on_hands": {"pelvis": (-20, 0, 0), "left_hip": (-70, 0, 0), "right_hip": (-70, 0, 0),
                                      "left_knee": (15, 0, 0), "right_knee": (15, 0, 0),
                                      "left_shoulder": Aim(0.15, -0.8, -0.55, "world"),
                                      "left_elbow": Aim(0.1, -0.85, -0.5, "world"),
                                      "right_shoulder": Aim(-0.15, -0.8, -0.55, "world"),
                                      "right_elbow": Aim(-0.1, -0.85, -0.5, "world")},
    "sitting_on_chair": {"left_hip": (-90, 0, 5), "right_hip": (-90, 0, -5), "left_knee": (90, 0, 0),
                         "right_knee": (90, 0, 0), "left_shoulder": (0, -20, -75),
                         "right_shoulder": (0, 20, 75), "left_elbow": (0, -60, 0), "right_elbow": (0, 60, 0)},
    "sitting_on_chair_hands_on_knees": {**_legs((0.12, 0.0, 1.0), (0.0, -1.0, 0.05)),
                                        "left_shoulder": Aim(0.1, -0.75, 0.65), "left_elbow": Aim(0.0, -0.55, 0.85),
                                        "right_shoulder": Aim(-0.1, -0.75, 0.65), "right_elbow": Aim(0.0, -0.55, 0.85)},
    "sitting_on_chair_armrests": {**_legs((0.15, -0.05, 1.0), (0.05, -1.0, 0.15)),
                                  "left_shoulder": Aim(0.3, -1.0, -0.1), "left_elbow": Aim(0.1, -0.05, 1.0),
                                  "right_shoulder": Aim(-0.3, -1.0, -0.1), "right_elbow": Aim(-0.1, -0.05, 1.0)},
    "sitting_on_chair_legs_crossed": {"left_hip": Aim(0.0, 0.05, 1.0), "left_knee": Aim(0.05, -1.0, 0.1),
                                      "right_hip": Aim(0.15, 0.3, 1.0), "right_knee": Aim(-0.2, -1.0, 0.35),
                                      **arm_set("arms_down"), "left_elbow": Aim(-0.2, -0.4, 1.0),
                                      "right_elbow": Aim(0.2, -0.4, 1.0)},
    "squatting": {"left_hip": (-115, 0, 15), "right_hip": (-115, 0, -15), "left_knee": (135, 0, 0),
                  "right_knee": (135, 0, 0), "left_ankle": (-25, 0, 0), "right_ankle": (-25, 0, 0),
                  "spine1": (25, 0, 0), **ARMS_FORWARD},
    "crouching": {"left_hip": (-70, 0, 8), "right_hip": (-70, 0, -8), "left_knee": (90, 0, 0),
                  "right_knee": (90, 0, 0), "left_ankle": (-25, 0, 0), "right_ankle": (-25, 0, 0),
                  "spine1": (20, 0, 0), "spine2": (10, 0, 0), **arm_set("arms_down")},
    "lunge": {"left_hip": (-85, 0, 0), "left_knee": (85, 0, 0), "right_hip": (45, 0, 0), "right_knee": (25, 0, 0),
              "right_ankle": (-30, 0, 0), **ARMS_UP},
    "warrior_one": {"left_hip": (-80, 0, 0), "left_knee": (85, 0, 0), "right_hip": (55, 0, 0),
                    "right_ankle": (-35, 0, 0), "spine3": (-8, 0, 0), "head": (-15, 0, 0),
                    "left_shoulder": Aim(0.1, 1.0, 0.0), "left_elbow": Aim(0.02, 1.0, 0.0),
                    "right_shoulder": Aim(-0.1, 1.0, 0.0), "right_elbow": Aim(-0.02, 1.0, 0.0)},
    "warrior_two": {"left_hip": (0, 90, 80), "left_knee": (80, 0, 0), "right_hip": (0, 0, -40),
                    "neck": (0, 30, 0), "head": (0, 40, 0)},
    "triangle": {"pelvis": (0, 0, -50), "left_hip": Aim(0.45, -0.9, 0.0, "world"),
                 "left_knee": Aim(0.45, -0.9, 0.0, "world"), "right_hip": Aim(-0.45, -0.9, 0.0, "world"),
                 "right_knee": Aim(-0.45, -0.9, 0.0, "world"), "head": (0, 40, 0),
                 "left_shoulder": Aim(0.0, -1.0, 0.0, "world"), "left_elbow": Aim(0.0, -1.0, 0.0, "world"),
                 "right_shoulder": Aim(0.0, 1.0, 0.0, "world"), "right_elbow": Aim(0.0, 1.0, 0.0, "world")},
    "tree_pose": {"left_hip": (0, 90, 45), "left_knee": (140, 0, 0), "left_ankle": (30, 0, 0),
                  "left_shoulder": (0, 0, 80), "right_shoulder": (0, 0, -80),
                  "left_elbow": (0, 0, 10), "right_elbow": (0, 0, -10)},
    "tree_pose_praying": {"left_hip": (0, 90, 45), "left_knee": (140, 0, 0), "left_ankle": (30, 0, 0),
                          **arm_set("praying_hands")},
    "standing_on_one_leg": {"left_hip": (-85, 0, 0), "left_knee": (90, 0, 0), "left_ankle": (20, 0, 0),
                            **arm_set("t_arms")},
    "downward_dog": {"pelvis": (135, 0, 0), "left_hip": (-95, 0, 0), "right_hip": (-95, 0, 0),
                     "left_ankle": (-20, 0, 0), "right_ankle": (-20, 0, 0), **ARMS_UP},
    "cobra": {"pelvis": (90, 0, 0), "spine1": (-22, 0, 0), "spine2": (-22, 0, 0), "spine3": (-18, 0, 0),
              "head": (-15, 0, 0), "left_ankle": (50, 0, 0), "right_ankle": (50, 0, 0),
              "left_shoulder": Aim(0.1, -1.0, 0.1, "world"), "left_elbow": Aim(0.05, -1.0, -0.1, "world"),
              "right_shoulder": Aim(-0.1, -1.0, 0.1, "world"), "right_elbow": Aim(-0.05, -1.0, -0.1, "world")},
    "childs_pose": {"pelvis": (80, 0, 0), **_legs((0.1, -0.45, 0.9), (0.0, -0.1, -1.0), frame="world"),
                    "left_ankle": (50, 0, 0), "right_ankle": (50, 0, 0), "spine1": (10, 0, 0), "spine2": (10, 0, 0),
                    "left_shoulder": Aim(0.05, -0.25, 1.0, "world"), "left_elbow": Aim(0.0, -0.1, 1.0, "world"),
                    "right_shoulder": Aim(-0.05, -0.25, 1.0, "world"), "right_elbow": Aim(0.0, -0.1, 1.0, "world")},
    "plank": {"pelvis": (72, 0, 0), "left_ankle": (-30, 0, 0), "right_ankle": (-30, 0, 0), **ARMS_FORWARD},
    "push_up": {"pelvis": (66, 0, 0), "left_ankle": (-35, 0, 0), "right_ankle": (-35, 0, 0),
                "left_shoulder": Aim(0.12, -1.0, 0.0, "world"), "left_elbow": Aim(0.05, -1.0, 0.0, "world"),
                "right_shoulder": Aim(-0.12, -1.0, 0.0, "world"), "right_elbow": Aim(-0.05, -1.0, 0.0, "world")},
    "push_up_down": {"pelvis": (80, 0, 0), "left_ankle": (-35, 0, 0), "right_ankle": (-35, 0, 0),
                     "left_shoulder": Aim(0.8, -0.3, -0.5, "world"), "left_elbow": Aim(0.0, -1.0, 0.1, "world"),
                     "right_shoulder": Aim(-0.8, -0.3, -0.5, "world"), "right_elbow": Aim(0.0, -1.0, 0.1, "world")},
    "sit_up": {"pelvis": (-45, 0, 0), **_legs((0.05, 0.6, 0.8), (0.0, -0.8, 0.6), frame="world"),
               **arm_set("hands_on_head")},
    "crawling": {"pelvis": (82, 0, 0), "left_hip": (-78, 0, 0), "right_hip": (-88, 0, 0),
                 "left_knee": (90, 0, 0), "right_knee": (95, 0, 0),
                 "left_shoulder": Aim(0.1, -1.0, 0.05, "world"), "left_elbow": Aim(0.0, -1.0, 0.0, "world"),
                 "right_shoulder": Aim(-0.1, -1.0, 0.2, "world"), "right_elbow": Aim(0.0, -1.0, 0.15, "world")},
    "table_top": {"pelvis": (72, 0, 0), **_legs((0.0, -1.0, 0.0), (0.0, 0.0, -1.0), frame="world"),
                  "left_ankle": (40, 0, 0), "right_ankle": (40, 0, 0),
                  "left_shoulder": Aim(0.05, -1.0, 0.0, "world"), "left_elbow": Aim(0.0, -1.0, 0.0, "world"),
                  "right_shoulder": Aim(-0.05, -1.0, 0.0, "world"), "right_elbow": Aim(0.0, -1.0, 0.0, "world")},
    "bending_to_touch_toes": {"pelvis": (100, 0, 0), "spine1": (25, 0, 0), "spine2": (25, 0, 0),
                              "spine3": (20, 0, 0), "left_hip": (-100, 0, 0), "right_hip": (-100, 0, 0),
                              "left_shoulder": Aim(0.0, -0.85, -0.5, "world"),
                              "left_elbow": Aim(0.0, -0.85, -0.5, "world"),
                              "right_shoulder": Aim(0.0, -0.85, -0.5, "world"),
                              "right_elbow": Aim(0.0, -0.85, -0.5, "world")},
    "bending_forward": {"pelvis": (40, 0, 0), "spine1": (12, 0, 0), "spine2": (10, 0, 0), "left_hip": (-40, 0, 0),
                        "right_hip": (-40, 0, 0), **arm_set("hands_on_hips")},
    "bending_low": {"pelvis": (75, 0, 0), "spine1": (12, 0, 0), "spine2": (12, 0, 0), "left_hip": (-75, 0, 0),
                    "right_hip": (-75, 0, 0), "left_knee": (10, 0, 0), "right_knee": (10, 0, 0),
                    "left_shoulder": Aim(0.1, -1.0, 0.0, "world"), "left_elbow": Aim(0.0, -1.0, 0.05, "world"),
                    "right_shoulder": Aim(-0.1, -1.0, 0.0, "world"), "right_elbow": Aim(0.0, -1.0, 0.05, "world")},
    "reaching_down_to_floor": {"pelvis": (70, 0, 0), "spine1": (12, 0, 0), "spine2": (12, 0, 0),
                               "left_hip": (-60, 0, 0), "right_hip": (-60, 0, 0), "left_knee": (30, 0, 0),
                               "right_knee": (30, 0, 0), "left_shoulder": Aim(0.1, -1.0, 0.2, "world"),
                               "left_elbow": Aim(0.0, -1.0, 0.2, "world"), "right_shoulder": Aim(-0.3, -1.0, 0.2),
                               "right_elbow": Aim(0.2, -0.6, 1.0)},
    "leaning_back": {"pelvis": (-8, 0, 0), "spine1": (-10, 0, 0), "spine2": (-10, 0, 0), "spine3": (-8, 0, 0),
                     "left_hip": (8, 0, 0), "right_hip": (8, 0, 0), "left_knee": (12, 0, 0), "right_knee": (12, 0, 0),
                     **arm_set("arms_up")},
    "looking_over_shoulder": {"spine1": (0, 12, 0), "spine2": (0, 12, 0), "spine3": (0, 12, 0),
                              "neck": (0, 30, 0), "head": (0, 35, 0), **arm_set("arms_down")},
    "tuck_jump": {"left_hip": (-120, 0, 5), "right_hip": (-120, 0, -5), "left_knee": (130, 0, 0),
                  "right_knee": (130, 0, 0), "left_ankle": (30, 0, 0), "right_ankle": (30, 0, 0),
                  **arm_set("arms_forward")},
    "handstand": {"pelvis": (0, 0, 180), **ARMS_UP},
    "bridge": {"pelvis": (-70, 0, 0), "left_hip": (-10, 0, 0), "right_hip": (-10, 0, 0),
               "left_knee": (100, 0, 0), "right_knee": (100, 0, 0), **ARMS_DOWN},
}
# Poses with a side: their mirror images are added as well.
ASYMMETRIC = ("lying_on_side", "lying_on_side_head_on_arm", "kneeling_on_one_knee", "lunge", "warrior_one",
              "warrior_two", "triangle", "tree_pose", "tree_pose_praying", "standing_on_one_leg", "contrapposto",
              "sitting_on_chair_legs_crossed", "looking_over_shoulder", "crawling", "reaching_down_to_floor")
# Bodies whose arms are free, and the arm sets put on them (the body's own arms are replaced).
_ALL_ARMS = tuple(a for a in ARM_SETS if a != "reaching_down")
COMBINATIONS: dict[str, tuple[str, ...]] = {
    "standing": _ALL_ARMS,
    "kneeling_on_both_knees": _ALL_ARMS,
    "kneeling_on_one_knee": _ALL_ARMS,
    "sitting_on_chair_hands_on_knees": _ALL_ARMS,
    "sitting_cross_legged": _ALL_ARMS,
    "sitting_on_floor_legs_straight": ("arms_up", "t_arms", "arms_forward", "arms_crossed", "hands_on_head",
                                       "praying_hands", "waving_left", "left_arm_up"),
    "squatting": ("arms_down", "arms_up", "t_arms", "arms_forward", "arms_crossed", "hands_on_head",
                  "praying_hands", "pointing_left_forward", "waving_left"),
    "crouching": _ALL_ARMS,
    "lunge": ("arms_down", "t_arms", "arms_forward", "hands_on_hips", "hands_on_head", "praying_hands",
              "pointing_left_forward", "waving_left", "left_arm_up"),
    "standing_on_one_leg": ("arms_down", "arms_up", "arms_forward", "hands_on_hips", "praying_hands",
                            "arms_crossed", "waving_left"),
    "tuck_jump": ("arms_up", "t_arms", "arms_down"),
    "lying_on_back": ("arms_up", "t_arms", "hands_on_head", "arms_crossed", "praying_hands"),
    "leaning_back": ("arms_down", "hands_on_hips", "hands_on_head", "t_arms"),
    "contrapposto": ("arms_crossed", "hands_on_hips", "thinking_right", "left_arm_up"),
    "bending_forward": ("arms_down", "hands_on_hips", "t_arms", "arms_crossed"),
}


def _rest_child(joint: int) -> int:
    return next(c for c in range(len(PARENTS)) if PARENTS[c] == joint)


def _joint_rotation(spec) -> np.ndarray:
    """(x, y, z) Euler degrees or [(axis, degrees), ...] steps -> (3, 3)."""
    if isinstance(spec, tuple):
        return euler_to_rotmat(np.radians(spec))
    rot = np.eye(3)
    for axis, degrees in spec:
        angles = np.zeros(3)
        angles["XYZ".index(axis)] = np.radians(degrees)
        rot = euler_to_rotmat(angles) @ rot
    return rot


def _smallest_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rotation (3, 3) turning unit vector a onto unit vector b about their common normal."""
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-9:
        if c > 0:
            return np.eye(3)
        perp = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        axis, s, c = perp / np.linalg.norm(perp), 0.0, -1.0
        return 2 * np.outer(axis, axis) - np.eye(3)
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * kx @ kx


def _apply_aim(rotmats: np.ndarray, name: str, aim: Aim) -> None:
    """Set rotmats[joint] (22, 3, 3) so the joint's bone points along the aim (in place)."""
    joint = JOINT_INDEX[name]
    frame = aim.frame or ("pelvis" if "hip" in name or "knee" in name else "spine3")
    _, glob = forward_kinematics(pad_pose_rotmats(rotmats))
    reference = np.eye(3) if frame == "world" else glob[JOINT_INDEX[frame]]
    target = reference @ np.array([aim.x, aim.y, aim.z], dtype=np.float64)
    target /= np.linalg.norm(target)
    child = _rest_child(joint)
    rest = NEUTRAL_REST_JOINTS[child] - NEUTRAL_REST_JOINTS[joint]
    rest = rest / np.linalg.norm(rest)
    rotmats[joint] = glob[PARENTS[joint]].T @ _smallest_rotation(rest, target)


def keypose_from_spec(spec: dict) -> np.ndarray:
    """A key-pose spec (joint -> Euler, steps or Aim) -> (22, 3) axis-angle."""
    rotmats = np.broadcast_to(np.eye(3), (22, 3, 3)).copy()
    aims = []
    for joint, value in spec.items():
        if isinstance(value, Aim):
            aims.append((JOINT_INDEX[joint], joint, value))
        else:
            rotmats[JOINT_INDEX[joint]] = _joint_rotation(value)
    for _, joint, value in sorted(aims):
        _apply_aim(rotmats, joint, value)
    return rotmat_to_axis_angle(rotmats)


def keypose(name: str) -> np.ndarray:
    """One key pose as (22, 3) axis-angle."""
    return keypose_from_spec(KEYPOSES[name])


def combination(body: str, arms: str) -> np.ndarray:
    """Key pose `body` with its arms replaced by arm set `arms`: (22, 3) axis-angle."""
    spec = {k: v for k, v in KEYPOSES[body].items() if not k.endswith(("shoulder", "elbow", "collar"))}
    return keypose_from_spec({**spec, **arm_set(arms)})


def keypose_library() -> tuple[np.ndarray, list[str]]:
    """All key poses and the mirror images of the one-sided ones: (K, 22, 3), names."""
    names = list(KEYPOSES)
    poses = np.stack([keypose(n) for n in names])
    mirrored = mirror(np.stack([keypose(n) for n in ASYMMETRIC]))
    return np.concatenate([poses, mirrored]), names + [f"{n}_mirrored" for n in ASYMMETRIC]


def combination_library() -> tuple[np.ndarray, list[str]]:
    """Every body of COMBINATIONS with each of its arm sets, plus all mirror images: (K, 22, 3), names."""
    names = [f"{body}+{arms}" for body, sets in COMBINATIONS.items() for arms in sets]
    poses = np.stack([combination(*n.split("+")) for n in names])
    return np.concatenate([poses, mirror(poses)]), names + [f"{n}_mirrored" for n in names]


def perturb(axis_angle: np.ndarray, rng: np.random.Generator, body_deg: float = 7.0,
            root_deg: float = 6.0) -> np.ndarray:
    """Random small local rotations on top of each pose: (N, 22, 3) -> (N, 22, 3)."""
    n = len(axis_angle)
    scale = np.full(22, np.radians(body_deg))
    scale[0] = np.radians(root_deg)
    noise = rng.normal(size=(n, 22, 3)) * (scale / np.sqrt(3))[None, :, None]
    return rotmat_to_axis_angle(axis_angle_to_rotmat(axis_angle) @ axis_angle_to_rotmat(noise))


# More perturbed copies of the key poses and combination bodies whose states the mocap barely has (a multiplier).
VARIANT_SCALE = {"plank": 3, "push_up": 3, "push_up_down": 3, "crawling": 5, "leaning_back": 4, "downward_dog": 8,
                 "bending_to_touch_toes": 8, "handstand": 5, "lying_on_front": 6, "a_pose": 3, "bending_low": 3,
                 "reaching_down_to_floor": 2, "bending_forward": 3, "tuck_jump": 3, "squatting": 3, "childs_pose": 2,
                 "cobra": 2, "lying_on_side": 2}
COMBINATION_SCALE = {"tuck_jump": 4, "squatting": 2, "bending_forward": 3}


def _scale(name: str, table: dict[str, int]) -> int:
    base = name.removesuffix("_mirrored").split("+")[0]
    return table.get(base, 1)


def _perturbed(poses: np.ndarray, names: list[str], counts: list[int], rng: np.random.Generator,
               body_deg: float = 7.0) -> tuple[np.ndarray, list[str]]:
    """counts[i] copies of poses[i] (the first unperturbed), keeping only perturbed copies that still have
    every state of the original (so a key pose's variants are examples of what it names)."""
    from training.captioning.states import pose_states

    original = pose_states(poses)
    out, out_names = [], []
    for i, count in enumerate(counts):
        candidates = perturb(np.repeat(poses[i:i + 1], 3 * count, axis=0), rng, body_deg=body_deg)
        kept = candidates[np.all(pose_states(candidates) >= original[i], axis=1)][:count - 1]
        out += [poses[i:i + 1], kept]
        out_names += [names[i]] * (1 + len(kept))
    return np.concatenate(out), out_names


def perturbed_keyposes(variants: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """About `variants` perturbed copies of every library pose (times VARIANT_SCALE; the first copy unperturbed;
    fewer when the noise too often breaks the pose's states). -> (M, 22, 3), names."""
    poses, names = keypose_library()
    counts = [variants * _scale(n, VARIANT_SCALE) for n in names]
    return _perturbed(poses, names, counts, np.random.default_rng(seed))


def perturbed_combinations(variants: int, seed: int = 0, body_deg: float = 5.0) -> tuple[np.ndarray, list[str]]:
    """About `variants` perturbed copies of every body + arm-set combination (gentler noise keeps hands on target)."""
    poses, names = combination_library()
    counts = [variants * _scale(n, COMBINATION_SCALE) for n in names]
    return _perturbed(poses, names, counts, np.random.default_rng(seed + 1), body_deg)
