"""Training loop of a retrieval model on poses (or pairs) with several texts each."""
from dataclasses import dataclass

import numpy as np
import torch

from training.retrieval.model import RetrievalModel, bbc_loss


@dataclass
class RetrievalData:
    """poses (N, 22, 3); poses_b (N, 22, 3) for pairs; texts[i] = sentence embeddings (K_i, 384) of sample i."""
    poses: torch.Tensor
    texts: list[torch.Tensor]
    poses_b: torch.Tensor | None = None


def train_retrieval(model: RetrievalModel, data: RetrievalData, epochs: int = 30, batch_size: int = 64,
                    lr: float = 2e-4, seed: int = 0) -> list[float]:
    """Trains in place with AdamW; each epoch uses one random text per sample. Returns the epoch losses."""
    gen = np.random.default_rng(seed)
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    n = len(data.poses)
    batch_size = min(batch_size, n)
    steps = epochs * (n // batch_size)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, 0.5 * (1 + np.cos(np.pi * min(s / steps, 1.0)))))
    losses = []
    model.train()
    for _ in range(epochs):
        order = gen.permutation(n)
        picks = torch.stack([t[gen.integers(len(t))] for t in data.texts])  # (N, 384)
        total, count = 0.0, 0
        for start in range(0, n - batch_size + 1, batch_size):
            idx = torch.from_numpy(order[start:start + batch_size])
            poses_b = data.poses_b[idx] if data.poses_b is not None else None
            loss = bbc_loss(model.encode_inputs(data.poses[idx], poses_b),
                            model.encode_text_features(picks[idx]), model.log_scale)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total, count = total + loss.item(), count + 1
        losses.append(total / max(count, 1))
    model.eval()
    return losses
