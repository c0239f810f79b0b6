"""Visual processor of UniPose: pluggable image encoders fused and projected into the LLM space."""
from backend.vision.encoders import ENCODERS, HFVisionEncoder, TinyGridEncoder, build_encoder, register_encoder
from backend.vision.processor import VisualProcessor, fuse_features, load_image
from backend.vision.landmarks.encoder import LandmarkEncoder  # registers the "landmarks" kind

__all__ = ["ENCODERS", "HFVisionEncoder", "LandmarkEncoder", "TinyGridEncoder", "VisualProcessor", "build_encoder",
           "fuse_features", "load_image", "register_encoder"]
