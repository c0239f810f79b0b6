"""The `landmarks` image encoder: BlazePose landmarks as a set of 34 visual tokens (see `features`).

Inputs may be images (PIL or paths; BlazePose runs on them) or ready `PoseLandmarks` (synthetic ones at
training time, or a detection made earlier). Registered as kind "landmarks" for the visual processor.
"""
import numpy as np
import torch
from torch import nn

from backend.vision.encoders import register_encoder
from backend.vision.landmarks.features import NUM_TOKENS, TOKEN_DIM, landmark_features
from backend.vision.landmarks.schema import PoseLandmarks


@register_encoder("landmarks")
class LandmarkEncoder(nn.Module):
    grid = None  # a token set, never resized
    num_tokens = NUM_TOKENS
    out_dim = TOKEN_DIM

    def __init__(self, max_side: int = 1024):
        super().__init__()
        self.max_side = max_side  # larger images are downscaled before detection
        self._detector = None

    def detect(self, image) -> PoseLandmarks:
        if isinstance(image, PoseLandmarks):
            return image
        if self._detector is None:
            from backend.vision.landmarks.blazepose import BlazePoseDetector
            self._detector = BlazePoseDetector(max_side=self.max_side)
        return self._detector(image)

    @torch.no_grad()
    def encode(self, images) -> torch.Tensor:
        """images: PIL images, paths or PoseLandmarks -> (N, 34, 238)."""
        return torch.from_numpy(np.stack([landmark_features(self.detect(image)) for image in images]))

    def to_config(self) -> dict:
        return {"kind": self.kind, "max_side": self.max_side}

    @classmethod
    def from_config(cls, config: dict) -> "LandmarkEncoder":
        return cls(config.get("max_side", 1024))
