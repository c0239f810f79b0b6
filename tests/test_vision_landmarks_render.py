"""Photos of posed capsule bodies rendered by Blender (the benchmark's and fixtures' source)."""
import numpy as np
import pytest

from backend.body.example_poses import EXAMPLE_POSES
from training.data.rendered_bodies import COLOURS, body_lift, body_parts
from backend.vision.landmarks.camera import Camera, fov_focal, look_at


def test_body_stands_on_the_ground_with_known_materials():
    for name in ("standing_arms_down", "squat", "lunge"):
        parts = body_parts(EXAMPLE_POSES[name])
        lowest = min(min(a[1] - ra, b[1] - rb) for a, b, ra, rb, _ in parts)
        assert abs(lowest) < 1e-9
        assert {m for *_, m in parts} <= set(COLOURS)
    assert body_lift(EXAMPLE_POSES["squat"]) < body_lift(EXAMPLE_POSES["standing_arms_down"]) - 0.2


@pytest.mark.slow
def test_rendered_photo_shows_a_person(tmp_path):
    pytest.importorskip("bpy")
    pytest.importorskip("mediapipe")
    from backend.vision.landmarks.blazepose import BlazePoseDetector
    from training.data.rendered_bodies import render_bodies
    from backend.vision.landmarks.schema import LANDMARK_INDEX as I

    pose = EXAMPLE_POSES["arms_raised"]
    rotation, position = look_at(np.array([0.0, body_lift(pose) - 0.05, 0.0]), 0.2, 0.1, 4.0)
    camera = Camera(rotation, position, fov_focal(np.deg2rad(40), 240), (192, 240))
    [[path]] = render_bodies([{"pose": pose, "cameras": [camera.to_dict()], "name": "raised"}], tmp_path, samples=4)
    assert path.is_file()
    found = BlazePoseDetector()(path)
    assert found.image[I["left_wrist"], 1] < found.image[I["nose"], 1]
    assert found.image[I["left_ankle"], 1] > found.image[I["left_knee"], 1] > found.image[I["left_hip"], 1]
