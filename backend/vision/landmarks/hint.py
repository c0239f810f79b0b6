"""The pose hint of image -> pose: the geometric IK fit of the landmarks, put in the frame the model answers in.

Frames. `ik.landmarks_to_pose` answers with a global orientation relative to the camera (the view frame: +X
image right, +Y image up, the body facing +Z when it faces the camera). The model's image -> pose answers are
corpus poses: the corpus stores every pose facing +Z with its heading removed (backend/body/heading.py) and
gravity along -Y, and the training targets and bench/image_pose.py compare against those poses unchanged.
The landmark encoder itself keeps BlazePose's camera frame (features.py), so nothing downstream knows the
camera. The hint is therefore turned from the view frame into the corpus frame with what is known about
cameras, so that "copy the hint" is the best first answer:

1. the camera's yaw around the body is unknown and uniform (synthetic cameras: +-180 deg), and the corpus has
   no heading: remove the hint's heading exactly as the corpus does (`remove_heading`);
2. the camera's elevation is unknown too: an elevated camera sees world-up tilted towards it by the elevation
   angle. The view frame is turned down by ASSUMED_CAMERA_ELEVATION about its X axis first, the mean
   elevation of the training cameras (SyntheticSettings.elevation, -15..35 deg) and of the rendered-body
   benchmark's (0..20 deg). What is left is the spread of the elevation around that mean (and IK's own error),
   which the model can learn to correct from the landmarks (most people stand upright).

Measured (MPJPE / PA-MPJPE mm against the corpus pose): 300 corpus v1 poses under the synthetic training cameras,
exact landmarks 99 / 24 (camera-relative IK: 238 / 24; heading removed without the tilt: 114 / 24; the camera
known: 26 / 24), corrupted synthetic landmarks (what training sees) 145 / 74; bench/image_pose.py's 36 rendered
photos (12 v1 test poses, 3 views) through BlazePose: 117 / 87, beside 115 / 87 for IK with the camera known.

Leaning on the hint. A checkpoint whose image -> pose answers are still worse than the hint itself answers with
a blend of the two (`lean_on_hint`, UniPoseConfig.image_pose_model_weight): every joint rotation turned from the
hint's towards the model's by that weight. The weight is read off bench/image_pose.py --model-weights.
"""
import numpy as np

from backend.body.heading import remove_heading, rotate_root
from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle, slerp_rotmat
from backend.vision.landmarks.ik import landmarks_to_pose
from backend.vision.landmarks.schema import PoseLandmarks

ASSUMED_CAMERA_ELEVATION = np.deg2rad(10.0)  # radians; part of what a hinted checkpoint learned: keep fixed


def level_view(elevation: float = ASSUMED_CAMERA_ELEVATION) -> np.ndarray:
    """(3, 3) rotation taking the view frame of a camera `elevation` radians above the body to a level view
    (world-up, which that camera sees as (0, cos e, sin e), back onto +Y)."""
    c, s = np.cos(-elevation), np.sin(-elevation)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def pose_hint(landmarks: PoseLandmarks) -> np.ndarray:
    """PoseLandmarks -> (22, 3) float32 axis-angle: the IK fit in the corpus frame (module docstring)."""
    view = landmarks_to_pose(landmarks).astype(np.float64)[None]  # (1, 22, 3), camera-relative root
    level = rotate_root(view, level_view()[None])
    return remove_heading(level)[0].astype(np.float32)


def lean_on_hint(answer: np.ndarray, hint: np.ndarray, model_weight: float) -> np.ndarray:
    """(22, 3) axis-angle: each joint rotation (root included) slerped from the hint's (weight 0) to the answer's
    (weight 1), along the shorter arc."""
    blend = slerp_rotmat(axis_angle_to_rotmat(hint), axis_angle_to_rotmat(answer), model_weight)  # (22, 3, 3)
    return rotmat_to_axis_angle(blend).astype(np.float32)
