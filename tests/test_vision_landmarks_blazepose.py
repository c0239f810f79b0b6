"""BlazePose detector on the fixture photos (rendered clothed bodies), and its input errors."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.vision.landmarks.blazepose import (MAX_PIXELS, BlazePoseDetector, LandmarkError, NoPersonFound,
                                                fit_size, read_image)
from backend.vision.landmarks.schema import LANDMARK_INDEX as I

PHOTOS = Path(__file__).parent / "fixtures" / "images"
WAVING = PHOTOS / "person_waving.jpg"  # seen from the front-right, right hand raised
BACK = PHOTOS / "person_squat_back.jpg"  # squatting, seen from behind


def test_unreadable_and_missing_files(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image at all")
    with pytest.raises(LandmarkError, match="cannot read image"):
        read_image(broken)
    with pytest.raises(LandmarkError, match="not found"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(LandmarkError, match="too small"):
        read_image(Image.new("RGB", (20, 300)))


def test_huge_images_are_refused_or_downscaled():
    with pytest.raises(LandmarkError, match="too large"):
        read_image(Image.new("L", (8000, MAX_PIXELS // 8000 + 10)))
    assert fit_size(Image.new("RGB", (3000, 1500)), 1024).size == (1024, 512)
    assert fit_size(Image.new("RGB", (300, 200)), 1024).size == (300, 200)


@pytest.mark.slow
def test_detects_the_waving_person(detector):
    found = detector(WAVING)
    assert found.source == "blazepose" and found.image_size == (384, 512)
    np.testing.assert_allclose(found.world[[I["left_hip"], I["right_hip"]]].mean(0), 0.0, atol=0.02)
    assert found.visibility[[I["left_shoulder"], I["right_shoulder"], I["nose"]]].min() > 0.8
    assert found.image[I["right_wrist"], 1] < found.image[I["nose"], 1]  # the raised hand is above the head
    assert found.image[I["left_wrist"], 1] > found.image[I["left_hip"], 1] - 0.05  # the other arm hangs
    assert found.image[I["left_shoulder"], 0] > found.image[I["right_shoulder"], 0]  # facing the camera
    assert found.world[I["left_ankle"], 1] > 0.6  # world y points down, metres
    big = Image.open(WAVING).resize((384 * 4, 512 * 4))
    again = BlazePoseDetector(max_side=512)(big)
    np.testing.assert_allclose(again.image, found.image, atol=0.03)


@pytest.mark.slow
def test_detects_a_body_seen_from_behind(detector):
    found = detector(BACK)
    assert found.image[I["left_shoulder"], 0] < found.image[I["right_shoulder"], 0]  # its left on our left
    assert found.image[I["left_knee"], 1] < found.image[I["left_ankle"], 1] + 0.02


@pytest.mark.slow
def test_no_person_in_an_empty_picture(detector):
    with pytest.raises(NoPersonFound):
        detector(Image.new("RGB", (320, 240), (200, 210, 220)))


@pytest.mark.slow
def test_photo_to_tokens_and_ik(detector):
    import torch

    from backend.body.kinematics import pose_joints
    from backend.vision import VisualProcessor
    from backend.vision.landmarks.ik import landmarks_to_pose

    processor = VisualProcessor.from_config({"encoders": [{"kind": "landmarks"}], "hidden_size": 16})
    tokens = processor([str(WAVING), Image.open(WAVING)])
    assert tokens.shape == (2, 34, 16)
    torch.testing.assert_close(tokens[0], tokens[1])
    joints = pose_joints(landmarks_to_pose(detector(WAVING)))  # camera-aligned, +Y up
    assert joints[21, 1] > joints[15, 1]  # right wrist above the head
    assert joints[20, 1] < joints[16, 1]  # left wrist below the left shoulder
