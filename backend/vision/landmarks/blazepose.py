"""Run MediaPipe BlazePose (full model) on one image -> PoseLandmarks.

Uses mediapipe 0.10.21's legacy `mp.solutions.pose` with `model_complexity=1` (the only model bundled in
the wheel; 0 and 2 would try to download) and `static_image_mode=True` (every image detected afresh).
mediapipe is imported on first use only, so importing the backend stays fast.

BlazePose reports ONE person: when a photo shows several, its person detector keeps the most confident
one (usually the largest, most frontal), and the others are ignored. Crop the photo to choose.
"""
import os
from pathlib import Path

import numpy as np
from PIL import Image

from backend.vision.landmarks.schema import NUM_LANDMARKS, PoseLandmarks

MAX_PIXELS = 50_000_000  # refuse anything larger (decompression bombs, panoramas)
MIN_SIDE = 32


class LandmarkError(ValueError):
    """The image cannot give landmarks: unreadable, too large or too small, or no person in it."""


class NoPersonFound(LandmarkError):
    pass


def read_image(image) -> Image.Image:
    """A path or PIL image -> RGB PIL image, with clear errors for unreadable and oversized files."""
    if isinstance(image, Image.Image):
        picture = image
    else:
        path = Path(image).expanduser()
        if not path.is_file():
            raise LandmarkError(f"image not found: {path}")
        try:
            with Image.open(path) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise LandmarkError(f"image too large: {opened.width}x{opened.height} pixels "
                                        f"(at most {MAX_PIXELS // 1_000_000} megapixels)")
                picture = opened.convert("RGB")
        except LandmarkError:
            raise
        except Exception as error:  # PIL raises many types for undecodable files
            raise LandmarkError(f"cannot read image {path}: {type(error).__name__}: {error}") from None
    if picture.width * picture.height > MAX_PIXELS:
        raise LandmarkError(f"image too large: {picture.width}x{picture.height} pixels")
    if min(picture.size) < MIN_SIDE:
        raise LandmarkError(f"image too small: {picture.width}x{picture.height} pixels (at least {MIN_SIDE} a side)")
    return picture.convert("RGB")


def fit_size(image: Image.Image, max_side: int) -> Image.Image:
    """Downscale so that the longer side is at most max_side (BlazePose works on a 256 px crop anyway)."""
    scale = max_side / max(image.size)
    if scale >= 1.0:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR)


class BlazePoseDetector:
    """Callable: image (path or PIL) -> PoseLandmarks; raises NoPersonFound / LandmarkError.

    min_confidence: BlazePose's person-detection threshold. Not thread-safe (one graph per detector).
    """

    def __init__(self, max_side: int = 1024, min_confidence: float = 0.5):
        self.max_side = max_side
        self.min_confidence = min_confidence
        self._pose = None

    def _graph(self):
        if self._pose is None:
            os.environ.setdefault("GLOG_minloglevel", "2")
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            from mediapipe.python.solutions import pose as mp_pose
            self._pose = mp_pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=False,
                                      min_detection_confidence=self.min_confidence)
        return self._pose

    def __call__(self, image) -> PoseLandmarks:
        picture = read_image(image)
        pixels = np.ascontiguousarray(np.asarray(fit_size(picture, self.max_side), dtype=np.uint8))
        result = self._graph().process(pixels)
        if result.pose_landmarks is None or result.pose_world_landmarks is None:
            name = getattr(image, "filename", None) or (image if isinstance(image, (str, Path)) else "the image")
            raise NoPersonFound(f"no person found in {name}")
        return landmarks_from_result(result, picture.size)

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None


def landmarks_from_result(result, image_size: tuple[int, int]) -> PoseLandmarks:
    """A mediapipe Pose result (with a person) -> PoseLandmarks."""
    image = result.pose_landmarks.landmark
    world = result.pose_world_landmarks.landmark
    assert len(image) == NUM_LANDMARKS, len(image)
    xy = np.array([[p.x, p.y] for p in image])
    depth = np.array([p.z for p in image])
    visibility = np.array([p.visibility for p in image])
    xyz = np.array([[p.x, p.y, p.z] for p in world])
    return PoseLandmarks(xy, depth, xyz, visibility, tuple(image_size), "blazepose")

