"""Reproduces UniPose stage by stage: corpus, captions, tokenizer, three LLM stages, evaluation."""
