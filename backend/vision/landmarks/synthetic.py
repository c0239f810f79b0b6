"""Synthetic BlazePose landmarks from poses: training data for the image tasks without any image.

`synthesize_landmarks(pose, rng)` poses the skeleton (with random body proportions), places the 33
landmarks (`definitions`), puts a random camera around the body, projects, and corrupts the result the
way BlazePose's output is corrupted: jitter, poor depth, low-visibility and hallucinated points,
occasional left/right swaps in back views. `landmark_source(seed)` wraps it as the `pose -> image`
callable the training stages take (a PoseLandmarks stands in for the image).
"""
from dataclasses import dataclass

import numpy as np

from backend.body.kinematics import forward_kinematics, pad_pose_rotmats
from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import JOINT_INDEX, NEUTRAL_REST_JOINTS, PARENTS
from backend.vision.landmarks.camera import Camera, fov_focal, look_at
from backend.vision.landmarks.definitions import landmarks_from_joints
from backend.vision.landmarks.schema import LANDMARK_INDEX, LANDMARK_MIRROR, NUM_LANDMARKS, PoseLandmarks

_HIPS = [LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]]
_FACE = [i for i, name in enumerate(LANDMARK_INDEX) if i <= LANDMARK_INDEX["mouth_right"]]
_IMAGE_SIZES = ((512, 512), (384, 512), (512, 384), (360, 640), (640, 360))


@dataclass(frozen=True)
class SyntheticSettings:
    """Ranges of the random camera, body and corruption (angles in degrees, lengths in metres)."""
    yaw_range: float = 180.0  # camera yaw is uniform in +-yaw_range around the body's front
    elevation: tuple[float, float] = (-15.0, 35.0)
    roll_std: float = 3.0
    fov: tuple[float, float] = (35.0, 65.0)
    fill: tuple[float, float] = (0.45, 0.9)  # fraction of the image height the body spans
    height_scale: tuple[float, float] = (0.85, 1.12)
    bone_jitter: float = 0.05  # per-bone relative length jitter (std)
    world_noise: float = 0.015
    depth_noise: float = 0.04  # extra noise along the camera axis (BlazePose depth is weak)
    image_noise: float = 0.004
    occlude_prob: float = 0.08  # a point becomes low-visibility and badly placed
    occluded_noise: float = 0.08
    swap_prob_back: float = 0.1  # left/right labels swapped when the body is seen from behind


def random_rest_joints(rng: np.random.Generator, settings: SyntheticSettings) -> tuple[np.ndarray, float]:
    """The neutral skeleton with a random height and per-bone lengths (symmetric). -> ((24, 3), scale)."""
    scale = rng.uniform(*settings.height_scale)
    jitter = 1.0 + settings.bone_jitter * rng.standard_normal(len(PARENTS))
    jitter = np.clip(jitter, 0.85, 1.15)
    rest = np.zeros_like(NEUTRAL_REST_JOINTS)
    for j in range(1, len(PARENTS)):
        p = PARENTS[j]
        rest[j] = rest[p] + scale * jitter[j] * (NEUTRAL_REST_JOINTS[j] - NEUTRAL_REST_JOINTS[p])
    return rest, scale


def landmarks_in_view(points: np.ndarray, camera: Camera, source: str = "synthetic") -> PoseLandmarks:
    """Exact landmarks of SMPL-frame points (33, 3) seen by `camera` (visibility 1, no noise)."""
    cam = camera.to_camera(points)  # (33, 3)
    hip_centre = cam[_HIPS].mean(0)
    image = camera.project(points)  # (33, 2)
    width, _ = camera.image_size
    depth = (cam[:, 2] - hip_centre[2]) * camera.focal / (hip_centre[2] * width)
    return PoseLandmarks(image, depth, cam - hip_centre, np.ones(NUM_LANDMARKS), camera.image_size, source)


def random_camera(points: np.ndarray, rng: np.random.Generator, settings: SyntheticSettings) -> Camera:
    """A camera looking at the body (points (33, 3), SMPL frame) from a random direction, body in frame."""
    width, height = _IMAGE_SIZES[rng.integers(len(_IMAGE_SIZES))]
    fov = np.deg2rad(rng.uniform(*settings.fov))
    low, high = points.min(0), points.max(0)
    centre = (low + high) / 2 + rng.normal(0.0, 0.05, 3)
    extent = max(high[1] - low[1], 0.6 * np.linalg.norm(high - low))
    distance = extent / (rng.uniform(*settings.fill) * 2 * np.tan(fov / 2)) + 0.5 * np.linalg.norm(high - low)
    rotation, position = look_at(centre, np.deg2rad(rng.uniform(-settings.yaw_range, settings.yaw_range)),
                                 np.deg2rad(rng.uniform(*settings.elevation)), distance,
                                 np.deg2rad(rng.normal(0.0, settings.roll_std)))
    return Camera(rotation, position, fov_focal(fov, height), (width, height))


def _facing_camera(global_rotmats: np.ndarray, camera: Camera) -> float:
    """Cosine between the body's forward (+Z of the pelvis) and the direction towards the camera."""
    forward = global_rotmats[JOINT_INDEX["pelvis"]] @ np.array([0.0, 0.0, 1.0])
    return float(-camera.rotation[2] @ forward)


def corrupt(clean: PoseLandmarks, rng: np.random.Generator, settings: SyntheticSettings,
            facing: float = 1.0, head_facing: float = 1.0) -> PoseLandmarks:
    """Add BlazePose-like errors to exact landmarks. facing / head_facing: cosines body / head -> camera."""
    world = clean.world + rng.normal(0.0, settings.world_noise, (NUM_LANDMARKS, 3))
    world[:, 2] += rng.normal(0.0, settings.depth_noise, NUM_LANDMARKS)
    image = clean.image + rng.normal(0.0, settings.image_noise, (NUM_LANDMARKS, 2))
    depth = clean.depth + rng.normal(0.0, settings.depth_noise, NUM_LANDMARKS)
    visibility = rng.uniform(0.85, 1.0, NUM_LANDMARKS)
    visibility[_FACE] *= np.clip(0.5 + head_facing, 0.05, 1.0)
    outside = (image < 0).any(-1) | (image > 1).any(-1)
    occluded = rng.random(NUM_LANDMARKS) < settings.occlude_prob
    bad = outside | occluded
    visibility[bad] = rng.uniform(0.0, 0.4, bad.sum())
    world[occluded] += rng.normal(0.0, settings.occluded_noise, (occluded.sum(), 3))
    image[occluded] += rng.normal(0.0, settings.occluded_noise / 2, (occluded.sum(), 2))
    if facing < -0.3 and rng.random() < settings.swap_prob_back:
        world, image, depth, visibility = (a[LANDMARK_MIRROR] for a in (world, image, depth, visibility))
    world -= world[_HIPS].mean(0)
    return PoseLandmarks(image, depth, world, visibility, clean.image_size, "synthetic")


def synthesize_landmarks(pose: np.ndarray, rng: np.random.Generator,
                         settings: SyntheticSettings = SyntheticSettings()) -> PoseLandmarks:
    """One pose (22, 3) axis-angle -> the landmarks BlazePose might report for a photo of it."""
    rest, scale = random_rest_joints(rng, settings)
    rotmats = pad_pose_rotmats(axis_angle_to_rotmat(np.asarray(pose, dtype=np.float64)))
    joints, global_rotmats = forward_kinematics(rotmats, rest, PARENTS)
    points = landmarks_from_joints(joints, global_rotmats, scale)  # (33, 3)
    camera = random_camera(points, rng, settings)
    head_forward = global_rotmats[JOINT_INDEX["head"]] @ np.array([0.0, 0.0, 1.0])
    head_facing = float(-camera.rotation[2] @ head_forward)
    return corrupt(landmarks_in_view(points, camera), rng, settings, _facing_camera(global_rotmats, camera),
                   head_facing)


def landmark_source(seed: int = 0, settings: SyntheticSettings = SyntheticSettings()):
    """A `pose (22, 3) -> PoseLandmarks` callable with its own random stream (for the training stages)."""
    rng = np.random.default_rng(seed)

    def make(pose: np.ndarray) -> PoseLandmarks:
        return synthesize_landmarks(pose, rng, settings)

    return make
