"""BlazePose and the landmark IK on real photographs (tests/fixtures/photos, see its README for licences)."""
from pathlib import Path

import numpy as np
import pytest

from backend.vision.landmarks.schema import LANDMARK_INDEX as I

PHOTOS = Path(__file__).parent / "fixtures" / "photos"
CAMERAMAN = PHOTOS / "cameraman.jpg"  # profile facing image-right, both hands up at a tripod camera
ASTRONAUT = PHOTOS / "astronaut.jpg"  # chest-up portrait: hips at the bottom edge, legs outside the frame

pytestmark = pytest.mark.slow


def _angle_deg(a, b, c) -> float:
    u, v = a - b, c - b
    return float(np.degrees(np.arccos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))))


def test_cameraman_hands_are_raised_forward(detector):
    found = detector(CAMERAMAN)
    assert found.image_size == (512, 512)
    assert found.visibility[[I["nose"], I["left_shoulder"], I["right_shoulder"]]].min() > 0.9
    for side in ("left", "right"):
        wrist, elbow, shoulder = (found.image[I[f"{side}_{part}"]] for part in ("wrist", "elbow", "shoulder"))
        assert wrist[1] < elbow[1]  # image y points down: the hands are above the elbows
        assert wrist[0] > shoulder[0] + 0.05  # and reach forward, towards the camera he faces


def test_cameraman_ik_bends_the_elbows(detector):
    from backend.body.kinematics import pose_joints
    from backend.vision.landmarks.ik import landmarks_to_pose

    joints = pose_joints(landmarks_to_pose(detector(CAMERAMAN)))  # (24, 3), +Y up, pelvis at the origin
    assert _angle_deg(joints[17], joints[19], joints[21]) < 120  # right elbow clearly bent
    assert _angle_deg(joints[16], joints[18], joints[20]) < 160
    assert joints[20, 1] > joints[18, 1] and joints[21, 1] > joints[19, 1]  # wrists above elbows
    assert joints[20, 1] > 0.1 and joints[21, 1] > 0.1  # and well above the pelvis


def test_astronaut_portrait_reports_the_cut_off_body_as_not_visible(detector):
    found = detector(ASTRONAUT)
    assert found.visibility[[I["nose"], I["left_shoulder"], I["right_shoulder"]]].min() > 0.9
    assert found.visibility[[I["left_hip"], I["right_hip"], I["left_knee"], I["right_knee"]]].max() < 0.5
    assert found.image[[I["left_knee"], I["right_knee"]], 1].min() > 1.0  # below the bottom edge
