"""Pose tokenizer (UniPose stage 0): a VQ-VAE mapping a 22-joint pose to 80 codebook ids and back."""
from backend.tokenizer.config import PoseTokenizerConfig
from backend.tokenizer.model import PoseTokenizer, TokenizerOutput

__all__ = ["PoseTokenizer", "PoseTokenizerConfig", "TokenizerOutput"]
