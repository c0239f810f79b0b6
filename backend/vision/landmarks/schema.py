"""The 33 BlazePose landmarks and the record that carries one detection (or a synthetic one).

Names and order are MediaPipe's (`mp.solutions.pose.PoseLandmark`, lower-cased); left/right are the
person's. Coordinates follow BlazePose:
- `image`: (33, 2) x, y normalised by the image width and height, origin top-left, y down;
- `depth`: (33,) BlazePose's image z: depth relative to the hip midpoint, roughly the scale of x, smaller
  is nearer the camera;
- `world`: (33, 3) metres, origin at the hip midpoint, axes aligned with the camera: +x image right,
  +y image down, +z away from the camera (checked on real detections: feet have +y, a nose facing the
  camera has -z);
- `visibility`: (33,) in [0, 1], the likelihood that the point is visible and in frame.
"""
from dataclasses import dataclass

import numpy as np

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
NUM_LANDMARKS = len(LANDMARK_NAMES)  # 33
LANDMARK_INDEX: dict[str, int] = {name: i for i, name in enumerate(LANDMARK_NAMES)}


def _mirror(name: str) -> str:
    for a, b in (("left", "right"), ("right", "left")):
        if a in name:
            return name.replace(a, b)
    return name


# LANDMARK_MIRROR[i]: the landmark that i becomes when the body is mirrored left <-> right.
LANDMARK_MIRROR = np.array([LANDMARK_INDEX[_mirror(n)] for n in LANDMARK_NAMES], dtype=np.int64)


@dataclass(frozen=True)
class PoseLandmarks:
    """One person's 33 landmarks in BlazePose's conventions (module docstring). float32 arrays."""
    image: np.ndarray  # (33, 2)
    depth: np.ndarray  # (33,)
    world: np.ndarray  # (33, 3)
    visibility: np.ndarray  # (33,)
    image_size: tuple[int, int]  # (width, height) in pixels of the image the landmarks refer to
    source: str = "blazepose"  # "blazepose" or "synthetic"

    def __post_init__(self):
        for name, shape in (("image", (NUM_LANDMARKS, 2)), ("depth", (NUM_LANDMARKS,)),
                            ("world", (NUM_LANDMARKS, 3)), ("visibility", (NUM_LANDMARKS,))):
            value = np.asarray(getattr(self, name), dtype=np.float32)
            if value.shape != shape:
                raise ValueError(f"PoseLandmarks.{name}: expected shape {shape}, got {value.shape}")
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict:
        """JSON-able form (lists of floats)."""
        return {"image": self.image.tolist(), "depth": self.depth.tolist(), "world": self.world.tolist(),
                "visibility": self.visibility.tolist(), "image_size": list(self.image_size), "source": self.source}

    @classmethod
    def from_dict(cls, values: dict) -> "PoseLandmarks":
        return cls(np.asarray(values["image"]), np.asarray(values["depth"]), np.asarray(values["world"]),
                   np.asarray(values["visibility"]), tuple(values["image_size"]), values.get("source", "blazepose"))
