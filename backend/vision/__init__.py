"""Visual processor of UniPose: pluggable image encoders fused and projected into the LLM space."""
from backend.vision.encoders import ENCODERS, HFVisionEncoder, TinyGridEncoder, build_encoder, register_encoder
from backend.vision.processor import VisualProcessor, fuse_features, load_image

__all__ = ["ENCODERS", "HFVisionEncoder", "TinyGridEncoder", "VisualProcessor", "build_encoder", "fuse_features",
           "load_image", "register_encoder"]
