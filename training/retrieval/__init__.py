"""Retrieval models of the evaluation suite (PoseScript/PoseFix style): poses or pose pairs and texts
embedded in one space, trained with the batch-based classification loss."""
from training.retrieval.model import RetrievalConfig, RetrievalModel, bbc_loss
from training.retrieval.text_backbone import SentenceEncoder

__all__ = ["RetrievalConfig", "RetrievalModel", "SentenceEncoder", "bbc_loss"]
