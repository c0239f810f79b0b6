"""The answer vocabulary: the text tokens a checkpoint's training answers are written in.

Descriptions, differences and instructions in the corpus use a few hundred distinct tokens (294 in corpus v2's
training answers) out of the LM's ~49k. A checkpoint that stores them computes text logits for those rows only:
the output layer is half of the bytes a decoding step reads, so text answers come about a third faster, and greedy
answers stay the same wherever the full vocabulary's choice was a taught token anyway. Without the file every token
may be written (the whole vocabulary)."""
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ANSWER_TOKENS_NAME = "answer_tokens.safetensors"


def answer_token_ids(text_tokenizer, texts) -> torch.Tensor:
    """(A,) sorted distinct token ids of `texts` as the model writes them (no special tokens)."""
    ids: set[int] = set()
    for text in set(texts):
        ids.update(text_tokenizer(text, add_special_tokens=False)["input_ids"])
    return torch.tensor(sorted(ids), dtype=torch.long)


def save_answer_tokens(ids: torch.Tensor, folder: Path) -> Path:
    path = Path(folder) / ANSWER_TOKENS_NAME
    save_file({"ids": ids.long().contiguous()}, str(path))
    return path


def load_answer_tokens(folder: Path) -> torch.Tensor | None:
    """(A,) ids, or None when the checkpoint has no answer vocabulary."""
    path = Path(folder) / ANSWER_TOKENS_NAME
    return load_file(str(path))["ids"] if path.is_file() else None
