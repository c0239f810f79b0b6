"""Task mixing: several task datasets behind one index space, with a deterministic per-epoch order.

Per epoch, task t contributes round(weight_t * len_t) samples: whole passes over the task for the
integer part of the weight and a random subset for the fraction. The order depends only on
(seed, epoch), so a data position (epoch, batch) is enough to resume exactly.
"""
from collections.abc import Sequence

import numpy as np


class MixedTaskDataset:
    def __init__(self, tasks: dict[str, Sequence], weights: dict[str, float], seed: int = 0):
        self.names = [t for t in tasks if weights.get(t, 0) > 0 and len(tasks[t]) > 0]
        if not self.names:
            raise ValueError(f"no task with data and weight > 0 among {list(tasks)}")
        self.tasks = {t: tasks[t] for t in self.names}
        self.weights = {t: float(weights[t]) for t in self.names}
        self.seed = seed
        self.offsets = np.cumsum([0] + [len(self.tasks[t]) for t in self.names])  # (T + 1,)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, index: int):
        t = int(np.searchsorted(self.offsets, index, side="right") - 1)
        return self.tasks[self.names[t]][index - int(self.offsets[t])]

    def epoch_size(self) -> int:
        return sum(int(round(self.weights[t] * len(self.tasks[t]))) for t in self.names)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """(epoch_size,) global indices for this epoch."""
        rng = np.random.default_rng([self.seed, epoch])
        parts = []
        for t, name in enumerate(self.names):
            n, w = len(self.tasks[name]), self.weights[name]
            whole, frac = int(w), int(round((w - int(w)) * n))
            idx = [np.arange(n)] * whole + [rng.permutation(n)[:frac]]
            parts.append(np.concatenate(idx) + self.offsets[t])
        return rng.permutation(np.concatenate(parts))

    def counts(self) -> dict[str, int]:
        return {t: len(self.tasks[t]) for t in self.names}


def epoch_batches(order: np.ndarray, batch_size: int, world_size: int, rank: int, grad_accum: int) -> list[np.ndarray]:
    """This process's micro-batches of one epoch: global batches of batch_size x world_size, each split by
    rank; incomplete global batches and a trailing incomplete accumulation group are dropped."""
    global_batch = batch_size * world_size
    n_batches = len(order) // global_batch
    n_batches -= n_batches % grad_accum
    return [order[b * global_batch + rank * batch_size: b * global_batch + (rank + 1) * batch_size]
            for b in range(n_batches)]
