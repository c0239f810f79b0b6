"""Pinhole cameras around a body in the SMPL frame, and projection into BlazePose's conventions.

Camera frame as in OpenCV (and BlazePose's world landmarks): +x image right, +y image down, +z forward.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    rotation: np.ndarray  # (3, 3) SMPL frame -> camera frame (rows: right, down, forward)
    position: np.ndarray  # (3,) camera centre in the SMPL frame, metres
    focal: float  # pixels (square pixels, principal point at the image centre)
    image_size: tuple[int, int]  # (width, height) pixels

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) SMPL-frame points -> (..., 3) camera-frame points."""
        return (np.asarray(points, dtype=np.float64) - self.position) @ self.rotation.T

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) SMPL-frame points -> (..., 2) image xy normalised by width and height (y down)."""
        cam = self.to_camera(points)
        width, height = self.image_size
        u = self.focal * cam[..., 0] / cam[..., 2] + width / 2
        v = self.focal * cam[..., 1] / cam[..., 2] + height / 2
        return np.stack([u / width, v / height], axis=-1)

    def to_dict(self) -> dict:
        return {"rotation": self.rotation.tolist(), "position": self.position.tolist(), "focal": self.focal,
                "image_size": list(self.image_size)}

    @classmethod
    def from_dict(cls, values: dict) -> "Camera":
        return cls(np.asarray(values["rotation"], dtype=np.float64), np.asarray(values["position"], dtype=np.float64),
                   float(values["focal"]), tuple(values["image_size"]))


def look_at(target: np.ndarray, yaw: float, elevation: float, distance: float, roll: float = 0.0) -> tuple:
    """Camera rotation and position looking at `target` from `distance` metres.

    yaw: radians about +Y, 0 = in front of a body that faces +Z; elevation: radians above the horizon.
    Returns (rotation (3, 3) SMPL -> camera, position (3,)).
    """
    offset = np.array([np.sin(yaw) * np.cos(elevation), np.sin(elevation), np.cos(yaw) * np.cos(elevation)])
    position = np.asarray(target, dtype=np.float64) + distance * offset
    forward = -offset
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c, s = np.cos(roll), np.sin(roll)
    right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, forward]), position


def fov_focal(fov_vertical: float, height: int) -> float:
    """Focal length in pixels for a vertical field of view (radians)."""
    return height / (2.0 * np.tan(fov_vertical / 2.0))
