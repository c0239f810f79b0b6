"""Cross-modal retrieval metrics over L2-normalised embeddings (PoseScript protocol)."""
import numpy as np


def recall_at_k(query: np.ndarray, gallery: np.ndarray, ks=(5, 10, 20)) -> dict[int, float]:
    """Percentage of queries whose own item (same row index) ranks in the top k of the gallery.

    query, gallery: (N, D) with row i of both describing the same sample.
    """
    sim = query @ gallery.T                                    # (N, N)
    own = np.diag(sim)[:, None]                                # (N, 1)
    rank = (sim >= own).sum(axis=1) - 1                        # (N,) 0 = best; ties count against the query
    return {k: float((rank < k).mean() * 100.0) for k in ks}


def r_precision(pose: np.ndarray, text: np.ndarray, ks=(1, 2, 3), n_distractors: int = 31,
                seed: int = 0) -> dict[int, float]:
    """R-precision: rank the true text of each pose among itself + n random other texts.

    pose, text: (N, D) normalised, row i of both from sample i (pose generated from text i, or
    the ground truth). Returns the percentage of poses whose true text ranks in the top k.
    """
    n = len(pose)
    rng = np.random.default_rng(seed)
    hits = {k: 0 for k in ks}
    for i in range(n):
        others = rng.choice(n - 1, size=min(n_distractors, n - 1), replace=False)
        others = others + (others >= i)                        # skip the true index
        candidates = np.concatenate([[i], others])             # (1 + n_distractors,)
        sim = text[candidates] @ pose[i]                       # (1 + n_distractors,)
        rank = int((sim[1:] >= sim[0]).sum())                  # ties count against the true text
        for k in ks:
            hits[k] += rank < k
    return {k: hits[k] / max(n, 1) * 100.0 for k in ks}
