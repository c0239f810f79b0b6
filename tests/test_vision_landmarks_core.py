"""Landmark schema, definitions, synthetic landmarks, token features, encoder and IK (no mediapipe)."""
import numpy as np
import pytest
import torch

from backend.body.example_poses import EXAMPLE_POSES
from backend.body.kinematics import pose_joints
from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle
from backend.vision.landmarks.camera import Camera, look_at
from backend.vision.landmarks.definitions import pose_landmarks_smpl
from backend.vision.landmarks.features import NUM_TOKENS, TOKEN_DIM, landmark_features
from backend.vision.landmarks.ik import CAMERA_TO_VIEW, landmarks_to_pose
from backend.vision.landmarks.schema import LANDMARK_INDEX, LANDMARK_MIRROR, LANDMARK_NAMES, PoseLandmarks
from backend.vision.landmarks.synthetic import landmark_source, landmarks_in_view

IDX = LANDMARK_INDEX
ZERO = np.zeros((22, 3))


def front_camera(distance=4.0, yaw=0.0, elevation=0.0) -> Camera:
    rotation, position = look_at(np.zeros(3), yaw, elevation, distance)
    return Camera(rotation, position, 800.0, (512, 512))


def test_names_and_mirror_match_mediapipe_order():
    assert len(LANDMARK_NAMES) == 33
    assert LANDMARK_NAMES[0] == "nose" and LANDMARK_NAMES[23] == "left_hip"
    assert LANDMARK_NAMES[32] == "right_foot_index"
    assert LANDMARK_NAMES[LANDMARK_MIRROR[IDX["left_eye_outer"]]] == "right_eye_outer"
    assert LANDMARK_NAMES[LANDMARK_MIRROR[IDX["mouth_left"]]] == "mouth_right"
    assert (LANDMARK_MIRROR[LANDMARK_MIRROR] == np.arange(33)).all()


def test_rest_landmarks_are_symmetric_and_anatomical():
    points = pose_landmarks_smpl(ZERO)  # (33, 3)
    mirrored = points[LANDMARK_MIRROR] * np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(points, mirrored, atol=1e-9)
    assert points[IDX["left_shoulder"], 0] > 0.1  # the body's left is +X
    assert points[IDX["nose"], 2] > points[IDX["left_ear"], 2] + 0.05  # the face points +Z
    assert points[IDX["left_foot_index"], 2] > points[IDX["left_heel"], 2] + 0.15
    assert points[IDX["left_hip"], 1] > points[IDX["left_knee"], 1] + 0.3


def test_landmarks_follow_the_bones():
    raised = pose_landmarks_smpl(EXAMPLE_POSES["arms_raised"])
    assert raised[IDX["left_wrist"], 1] > raised[IDX["nose"], 1]
    turned = ZERO.copy()
    turned[15] = [0.0, np.pi / 2, 0.0]  # head turned to its left: the nose points +X
    nose = pose_landmarks_smpl(turned)[IDX["nose"]] - pose_landmarks_smpl(ZERO)[IDX["left_ear"]] * [0, 1, 0]
    assert nose[0] > 0.08


def test_front_view_matches_blazepose_conventions():
    landmarks = landmarks_in_view(pose_landmarks_smpl(EXAMPLE_POSES["standing_arms_down"]), front_camera())
    # the person's left is the image's right
    assert landmarks.image[IDX["left_shoulder"], 0] > landmarks.image[IDX["right_shoulder"], 0]
    assert landmarks.image[IDX["nose"], 1] < landmarks.image[IDX["left_ankle"], 1]  # y down
    np.testing.assert_allclose(landmarks.world[[IDX["left_hip"], IDX["right_hip"]]].mean(0), 0.0, atol=1e-9)
    assert landmarks.world[IDX["left_ankle"], 1] > 0.7  # world y down, metres
    assert landmarks.world[IDX["nose"], 2] < landmarks.world[IDX["left_ear"], 2]  # nearer the camera: smaller z
    assert landmarks.depth[IDX["nose"]] < 0
    back = landmarks_in_view(pose_landmarks_smpl(ZERO), front_camera(yaw=np.pi))
    assert back.image[IDX["left_shoulder"], 0] < back.image[IDX["right_shoulder"], 0]


def test_synthetic_landmarks_are_random_but_reproducible():
    pose = EXAMPLE_POSES["squat"]
    source = landmark_source(3)
    a = [source(pose), source(pose)]
    b = landmark_source(3)(pose)
    np.testing.assert_array_equal(a[0].world, b.world)
    assert not np.allclose(a[0].world, a[1].world)
    for landmarks in a:
        assert landmarks.source == "synthetic" and landmarks.world.shape == (33, 3)
        assert np.abs(landmarks.world[[IDX["left_hip"], IDX["right_hip"]]].mean(0)).max() < 1e-6
        assert ((landmarks.visibility >= 0) & (landmarks.visibility <= 1)).all()
        inside = (landmarks.image > -0.05) & (landmarks.image < 1.05)
        assert inside.all(-1).mean() > 0.9


def test_synthetic_world_shape_matches_the_pose():
    source = landmark_source(0)
    lengths = []
    for _ in range(30):
        world = source(EXAMPLE_POSES["standing_arms_down"]).world
        lengths.append(np.linalg.norm(world[IDX["left_ankle"]] - world[IDX["left_hip"]]))
    assert 0.7 < np.median(lengths) < 1.0


def test_features_layout_and_visibility():
    landmarks = landmarks_in_view(pose_landmarks_smpl(ZERO), front_camera())
    tokens = landmark_features(landmarks)
    assert tokens.shape == (NUM_TOKENS, TOKEN_DIM) == (34, 238)
    np.testing.assert_array_equal(tokens[:, :34], np.eye(34))
    np.testing.assert_allclose(tokens[IDX["left_wrist"], 34:37], landmarks.world[IDX["left_wrist"]], atol=1e-6)
    hidden = PoseLandmarks(landmarks.image, landmarks.depth, landmarks.world,
                           np.where(np.arange(33) == IDX["left_wrist"], 0.0, 1.0), landmarks.image_size)
    assert np.abs(landmark_features(hidden)[IDX["left_wrist"], 34:]).sum() == 0
    assert np.abs(tokens[33, 40:]).sum() > 1  # the global token carries every point


def test_image_xy_features_ignore_image_scale():
    points = pose_landmarks_smpl(EXAMPLE_POSES["lunge"])
    near = landmark_features(landmarks_in_view(points, front_camera(8.0)))
    far = landmark_features(landmarks_in_view(points, front_camera(16.0)))
    np.testing.assert_allclose(near[:33, 37:39], far[:33, 37:39], atol=0.02)


def test_encoder_plugs_into_the_visual_processor(tmp_path):
    from backend.vision import VisualProcessor

    processor = VisualProcessor.from_config({"encoders": [{"kind": "landmarks"}], "hidden_size": 24})
    assert processor.num_tokens == 34 and processor.grid is None
    source = landmark_source(0)
    out = processor([source(EXAMPLE_POSES["squat"]), source(EXAMPLE_POSES["lunge"])])
    assert out.shape == (2, 34, 24) and torch.isfinite(out).all()
    processor.save_pretrained(tmp_path)
    again = VisualProcessor.from_pretrained(tmp_path)
    landmarks = source(ZERO)
    torch.testing.assert_close(again([landmarks]), processor([landmarks]))


def test_encoder_mixes_with_a_grid_encoder():
    from backend.vision import VisualProcessor

    processor = VisualProcessor.from_config({"encoders": [
        {"kind": "tiny_grid", "image_size": 32, "patch": 16, "dim": 8, "seed": 0}, {"kind": "landmarks"}],
        "hidden_size": 16})
    assert processor.num_tokens == 4 + 34
    assert processor.projector[0].in_features == 8 + 238


@pytest.mark.parametrize("name", sorted(EXAMPLE_POSES))
def test_ik_recovers_poses_from_exact_landmarks(name):
    pose = EXAMPLE_POSES[name]
    camera = front_camera(yaw=0.7, elevation=0.3)
    estimate = landmarks_to_pose(landmarks_in_view(pose_landmarks_smpl(pose), camera))
    truth = np.array(pose)
    truth[0] = rotmat_to_axis_angle(CAMERA_TO_VIEW @ camera.rotation @ axis_angle_to_rotmat(pose[0]))
    error = np.linalg.norm(pose_joints(estimate)[:22] - pose_joints(truth)[:22], axis=-1)
    assert error.mean() < 0.03 and error.max() < 0.06


def test_ik_leaves_unseen_limbs_at_rest():
    landmarks = landmarks_in_view(pose_landmarks_smpl(EXAMPLE_POSES["waving_right_hand"]), front_camera())
    visibility = landmarks.visibility.copy()
    visibility[[IDX["right_elbow"], IDX["right_wrist"]]] = 0.0
    estimate = landmarks_to_pose(PoseLandmarks(landmarks.image, landmarks.depth, landmarks.world, visibility,
                                               landmarks.image_size))
    np.testing.assert_allclose(estimate[19], 0.0, atol=1e-6)  # right elbow
    assert np.linalg.norm(estimate[16]) > 1.0  # the left shoulder is still fitted
