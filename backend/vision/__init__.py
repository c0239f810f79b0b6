"""Visual processor of UniPose: pluggable image encoders fused and projected into the LLM space."""
from backend.vision.encoders import ENCODERS, HFVisionEncoder, TinyGridEncoder, build_encoder, register_encoder
from backend.vision.processor import DetectedImage, VisualProcessor, fuse_features, load_image

__all__ = ["ENCODERS", "DetectedImage", "HFVisionEncoder", "LandmarkEncoder", "TinyGridEncoder", "VisualProcessor",
           "build_encoder", "fuse_features", "load_image", "register_encoder"]


def __getattr__(name: str):
    if name == "LandmarkEncoder":  # imported on demand: it pulls in the landmark pipeline
        from backend.vision.landmarks.encoder import LandmarkEncoder
        return LandmarkEncoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
