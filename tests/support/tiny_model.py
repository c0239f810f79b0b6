"""Tiny random UniPose checkpoints for tests and smoke runs (built in code, no downloads).

`make_tiny_checkpoint(path)` writes a complete checkpoint folder: a 2-layer Llama with a small byte-level
BPE tokenizer (ChatML template, like SmolLM2), a small random pose tokenizer, and a visual processor with
two random grid encoders of different grids. `UniPose.from_pretrained(path)` loads it in about a second.
"""
from pathlib import Path

import torch

from backend.model.templates import TEMPLATES
from backend.model.checkpoint import LLM_DIR, MODEL_DIR
from backend.model.unipose import UniPose
from training.stages.tiny_backbone import train_text_tokenizer

_CORPUS_WORDS = ("the left right arm leg knee elbow hand foot head torso bend raise lower straight forward backward "
                 "up down sitting standing kneeling lying the person is with their arms legs slightly more less "
                 "move your and a of to in on at towards away from body pose shoulder hip").split()


def tiny_text_tokenizer(vocab_size: int = 320):
    """The tiny config's byte-level BPE tokenizer (ChatML template), trained in memory on the task templates."""
    corpus = [t for templates in TEMPLATES.values() for t in templates] + [" ".join(_CORPUS_WORDS)] * 4
    return train_text_tokenizer(corpus, vocab_size)


def tiny_llm_config(vocab_size: int, tied: bool = True, model_type: str = "llama"):
    """A 2-layer causal LM config (llama or qwen2) with grouped-query attention."""
    from transformers import AutoConfig

    return AutoConfig.for_model(model_type, vocab_size=vocab_size, hidden_size=64, intermediate_size=128,
                                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                max_position_embeddings=2048, tie_word_embeddings=tied)


def tiny_pose_tokenizer(seed: int = 0):
    from backend.tokenizer import PoseTokenizer, PoseTokenizerConfig

    torch.manual_seed(seed)
    return PoseTokenizer(PoseTokenizerConfig(code_dim=16, width=16, res_blocks=1)).eval()


def tiny_vision(hidden_size: int, seed: int = 0):
    """Two random grid encoders (4x4 and 3x3 grids) -> 16 visual tokens per image."""
    from backend.vision import TinyGridEncoder, VisualProcessor

    return VisualProcessor([TinyGridEncoder(32, 8, 16, seed), TinyGridEncoder(24, 8, 8, seed + 1)], hidden_size)


def make_tiny_checkpoint(path, seed: int = 0, attn_implementation: str = "sdpa", tied: bool = True,
                         model_type: str = "llama", vision: bool = True, lora: bool = False,
                         backbone_layers: int | None = None, code_embeddings: str = "rows") -> Path:
    """Write a random tiny UniPose checkpoint to `path` and return the path.

    lora: also attach (and save) a LoRA adapter whose B matrices are random, so it changes outputs.
    """
    from transformers import AutoModelForCausalLM

    root = Path(path)
    llm_dir = root / MODEL_DIR / LLM_DIR
    text_tokenizer = tiny_text_tokenizer()
    torch.manual_seed(seed)
    config = tiny_llm_config(len(text_tokenizer), tied, model_type)
    llm = AutoModelForCausalLM.from_config(config)
    llm.save_pretrained(llm_dir)
    text_tokenizer.save_pretrained(llm_dir)
    model = UniPose.from_backbone(str(llm_dir), tiny_pose_tokenizer(seed),
                                  tiny_vision(config.hidden_size, seed) if vision else None,
                                  attn_implementation=attn_implementation, seed=seed, backbone_layers=backbone_layers,
                                  code_embeddings=code_embeddings)
    model.config.backbone = LLM_DIR
    if lora:
        from backend.model.unipose import LoraSettings
        model.add_lora(LoraSettings(r=4, alpha=8, dropout=0.0))
        randomize_lora(model, seed)
    model.save_pretrained(root)
    return root


@torch.no_grad()
def randomize_lora(model: UniPose, seed: int = 0) -> None:
    """Give LoRA B matrices and the trainable token rows random values (fresh LoRA is an identity)."""
    generator = torch.Generator().manual_seed(seed)
    for name, parameter in model.llm.named_parameters():
        if "lora_B" in name or "trainable_tokens_delta" in name:
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
