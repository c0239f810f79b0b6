"""Hand-built example poses, written as readable joint-angle statements.

Each statement rotates one joint about an axis of the SMPL rest frame (+X the body's left, +Y up,
+Z forward), in degrees, as the parent-relative rotation of that joint. Useful signs:
  hip flexion (thigh forward):  hip about X, negative     knee flexion (shin back):  knee about X, positive
  trunk / neck forward bend:    spine/neck about X, positive
  left arm down / up:           left_shoulder about Z, -90 / +90   (right arm: signs flipped)
  left arm forward:             left_shoulder about Y, -90         (right arm: +90)
  elbow flexion, arms in T:     left_elbow about Y, -deg (forearm forward); right_elbow about Y, +deg
  head turned to its left:      head about Y, positive
Tests check these poses with forward kinematics (e.g. sitting: knees at hip height, in front of them).
"""
import numpy as np

from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX, NUM_POSE_JOINTS

_AXES = {"x": np.array([1.0, 0.0, 0.0]), "y": np.array([0.0, 1.0, 0.0]), "z": np.array([0.0, 0.0, 1.0])}


def pose_from_statements(statements: dict[str, list[tuple[str, float]]]) -> np.ndarray:
    """{joint name: [(axis, degrees), ...]} -> (22, 3) axis-angle. Listed rotations apply in order."""
    pose = np.zeros((NUM_POSE_JOINTS, 3))
    for joint, turns in statements.items():
        rotmat = np.eye(3)
        for axis, degrees in turns:
            rotmat = axis_angle_to_rotmat(_AXES[axis] * np.deg2rad(degrees)) @ rotmat
        pose[JOINT_INDEX[joint]] = rotmat_to_axis_angle(rotmat)
    return pose


_ARMS_DOWN = {
    "left_shoulder": [("z", -78)], "right_shoulder": [("z", 78)],
    "left_elbow": [("y", -10)], "right_elbow": [("y", 10)],
}

_STATEMENTS: dict[str, dict[str, list[tuple[str, float]]]] = {
    "t_pose": {},
    "standing_arms_down": _ARMS_DOWN,
    "arms_raised": {
        "left_collar": [("z", 15)], "right_collar": [("z", -15)],
        "left_shoulder": [("z", 70)], "right_shoulder": [("z", -70)],
        "neck": [("x", -10)],
    },
    "sitting": {
        "left_hip": [("x", -90)], "right_hip": [("x", -90)],
        "left_knee": [("x", 90)], "right_knee": [("x", 90)],
        "spine1": [("x", 5)],
        # hands resting on the thighs: arms down, then forward, elbows bent
        "left_shoulder": [("z", -75), ("x", -35)], "right_shoulder": [("z", 75), ("x", -35)],
        "left_elbow": [("y", -55)], "right_elbow": [("y", 55)],
    },
    "lunge": {
        "left_hip": [("x", -80)], "left_knee": [("x", 80)],
        "right_hip": [("x", 15)], "right_knee": [("x", 62)], "right_ankle": [("x", -40)],
        "spine1": [("x", -5)],
        "left_shoulder": [("z", -80)], "right_shoulder": [("z", 80)],
    },
    "reaching_forward": {
        "left_shoulder": [("y", -90), ("z", -10)], "right_shoulder": [("y", 90), ("z", 10)],
        "spine2": [("x", 10)],
    },
    "waving_right_hand": {
        "left_shoulder": [("z", -78)],
        "right_shoulder": [("z", 10)], "right_elbow": [("z", -90)],
        "head": [("y", -20)],
    },
    "squat": {
        "left_hip": [("x", -110), ("z", -10)], "right_hip": [("x", -110), ("z", 10)],
        "left_knee": [("x", 120)], "right_knee": [("x", 120)],
        "left_ankle": [("x", -25)], "right_ankle": [("x", -25)],
        "spine1": [("x", 25)],
        "left_shoulder": [("y", -80)], "right_shoulder": [("y", 80)],
    },
}

EXAMPLE_POSES: dict[str, np.ndarray] = {name: pose_from_statements(s) for name, s in _STATEMENTS.items()}
for _pose in EXAMPLE_POSES.values():
    _pose.setflags(write=False)
