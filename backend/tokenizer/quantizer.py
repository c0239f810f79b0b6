"""EMA codebook: nearest-code quantisation with exponential-moving-average updates and dead-code reset."""
import dataclasses

import torch
from torch import nn
from torch.nn import functional as F


@dataclasses.dataclass
class Quantized:
    codes: torch.Tensor  # (N, D) straight-through: forward = nearest code, gradient flows to the input
    ids: torch.Tensor  # (N,) long
    commit_loss: torch.Tensor  # () mean squared distance of the inputs to their (frozen) codes
    perplexity: torch.Tensor  # () exp(entropy) of this batch's code histogram


class EMACodebook(nn.Module):
    """`size` codes of dimension `dim`, learnt without gradients (van den Oord et al. 2017, appendix).

    Codes are initialised from the first training batch. In training mode every forward moves each code
    towards the mean of the vectors assigned to it; codes whose usage falls below `dead_threshold`
    (EMA count of vectors per batch) are re-seeded with random vectors of the batch.
    """

    def __init__(self, size: int, dim: int, decay: float = 0.99, dead_threshold: float = 1.0, eps: float = 1e-5):
        super().__init__()
        self.size, self.dim, self.decay, self.dead_threshold, self.eps = size, dim, decay, dead_threshold, eps
        self.register_buffer("codes", torch.randn(size, dim) * dim**-0.5)
        self.register_buffer("cluster_size", torch.zeros(size))  # EMA count of vectors per code
        self.register_buffer("code_sum", self.codes.clone())  # EMA sum of vectors per code
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    def nearest(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N,) ids of the nearest codes (squared Euclidean distance)."""
        # |x|^2 is the same for every code: argmin of |c|^2 - 2 x.c, in one fused matmul.
        distance = torch.addmm(self.codes.pow(2).sum(1), x, self.codes.T, alpha=-2.0)  # (N, K)
        return distance.argmin(1)

    def lookup(self, ids: torch.Tensor) -> torch.Tensor:
        """(...,) long -> (..., D)."""
        return F.embedding(ids, self.codes)

    def forward(self, x: torch.Tensor) -> Quantized:
        """x (N, D) -> Quantized; updates the codebook when training."""
        if self.training and not bool(self.initialized):
            self._reseed(torch.ones(self.size, dtype=torch.bool, device=x.device), x.detach())
            self.initialized.fill_(True)
        ids = self.nearest(x.detach())
        counts = torch.bincount(ids, minlength=self.size).to(x.dtype)  # (K,)
        if self.training:
            self._ema_update(x.detach(), ids, counts)
        codes = self.lookup(ids)
        commit_loss = F.mse_loss(x, codes.detach())
        probs = counts / counts.sum()
        perplexity = torch.exp(-(probs * torch.log(probs + 1e-10)).sum())
        return Quantized(x + (codes - x).detach(), ids, commit_loss, perplexity)

    @torch.no_grad()
    def _ema_update(self, x: torch.Tensor, ids: torch.Tensor, counts: torch.Tensor) -> None:
        # Per-code sums of the assigned vectors as one bincount over (code, dim) cells; much faster on CPU
        # than index_add_.
        cells = (ids[:, None] * self.dim + torch.arange(self.dim, device=x.device)).flatten()  # (N * D,)
        sums = torch.bincount(cells, weights=x.flatten(), minlength=self.size * self.dim).view(self.size, self.dim)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.code_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + self.eps) / (total + self.size * self.eps) * total  # Laplace smoothing
        self.codes.copy_(self.code_sum / smoothed[:, None])
        self._reseed(self.cluster_size < self.dead_threshold, x)

    @torch.no_grad()
    def _reseed(self, dead: torch.Tensor, x: torch.Tensor) -> None:
        """Replaces the codes flagged in `dead` (K,) bool with random rows of x (N, D)."""
        num_dead = int(dead.sum())
        if num_dead == 0:
            return
        rows = torch.randint(0, x.shape[0], (num_dead,), device=x.device)
        self.codes[dead] = x[rows]
        self.code_sum[dead] = x[rows] * self.dead_threshold
        self.cluster_size[dead] = self.dead_threshold
