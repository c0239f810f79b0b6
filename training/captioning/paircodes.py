"""Paircodes: what changes between two poses (PoseFix-style), and the choice of pose pairs.

A paircode fact is `(posecode name, change)` where change is
- "more" / "less": the category index goes up / down (angles: straighter / more bent; distances:
  further / closer; relative positions: towards left/above/in front; incline: more forward or to the left),
- "to:<category>": pose A is clearly not in the category, pose B clearly is,
- "from:<category>": pose A clearly is, pose B clearly is not.
Only posecodes clear in both poses count as changed.
"""
import numpy as np

from backend.facts.posecodes import AMBIGUOUS, POSECODE_INDEX, POSECODES, compute_posecodes

PairFact = tuple[str, str]


def changed(codes_a: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    """Which posecodes differ clearly: (..., K) int8 twice -> (..., K) bool."""
    return (codes_a != AMBIGUOUS) & (codes_b != AMBIGUOUS) & (codes_a != codes_b)


def pair_fact_holds(fact: PairFact, codes_a: np.ndarray, codes_b: np.ndarray) -> bool:
    """Whether a paircode fact is true of a pair of poses (codes (K,) each)."""
    name, change = fact
    k = POSECODE_INDEX[name]
    a, b = int(codes_a[k]), int(codes_b[k])
    if a == AMBIGUOUS or b == AMBIGUOUS:
        return False
    if change == "more":
        return b > a
    if change == "less":
        return b < a
    direction, _, category = change.partition(":")
    c = POSECODES[k].category_index(category)
    return (a != c and b == c) if direction == "to" else (a == c and b != c)


def canonical_joints(joints: np.ndarray) -> np.ndarray:
    """Joints with the pelvis at the origin and the global yaw removed (hip axis along +X when level).

    joints: (N, 24, 3) -> (N, 24, 3). Used to measure how close two poses are, whatever their heading.
    """
    from backend.facts.posecodes import body_frame

    left, front, _ = body_frame(joints)
    heading = left + 1e-3 * front  # the hip axis, or the front when the hip axis is vertical
    theta = np.arctan2(heading[:, 2], heading[:, 0])  # rotating about +Y by theta brings it onto +X
    c, s = np.cos(theta), np.sin(theta)
    rot = np.zeros((len(joints), 3, 3))
    rot[:, 0, 0], rot[:, 0, 2], rot[:, 1, 1], rot[:, 2, 0], rot[:, 2, 2] = c, s, 1.0, -s, c
    centred = joints - joints[:, :1]
    return np.einsum("nij,nkj->nki", rot, centred)


def select_pairs(
    joints: np.ndarray,
    head_forward: np.ndarray | None = None,
    min_changes: int = 10,
    max_changes: int = 40,
    candidates: int = 64,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PoseFix-style pairs: for each pose A, the nearest pose B (mean joint distance after removing
    translation and yaw) that still differs clearly in at least `min_changes` posecodes (and at most
    `max_changes`, so B stays a modification of A rather than another pose). A pair is kept once: if
    (i, j) is chosen, (j, i) is not.

    Args:
        joints: (N, 24, 3); head_forward: optional (N, 3) (see `posecode_values`).
    Returns:
        pairs (M, 2) int64 indices (A, B), distance (M,) mean per-joint distance in metres,
        num_changed (M,) int64.
    """
    n = len(joints)
    codes = compute_posecodes(joints, head_forward)
    feats = canonical_joints(np.asarray(joints, dtype=np.float64)).astype(np.float32)  # (N, 24, 3)
    flat = feats.reshape(n, -1)
    sq = np.sum(flat * flat, axis=1)
    m = min(candidates, n - 1)
    pairs, dists, counts, taken = [], [], [], set()
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        d2 = sq[rows, None] + sq[None, :] - 2.0 * flat[rows] @ flat.T  # (C, N) squared, a cheap proxy
        d2[np.arange(len(rows)), rows] = np.inf
        near = np.argpartition(d2, m - 1, axis=1)[:, :m]  # (C, m) unordered nearest candidates
        per_joint = np.linalg.norm(feats[rows, None] - feats[near], axis=-1).mean(-1)  # (C, m)
        n_changed = changed(codes[rows, None], codes[near]).sum(-1)  # (C, m)
        ok = (n_changed >= min_changes) & (n_changed <= max_changes)
        score = np.where(ok, per_joint, np.inf)
        best = np.argmin(score, axis=1)
        for r, i in enumerate(rows):
            j = int(near[r, best[r]])
            if np.isfinite(score[r, best[r]]) and (j, int(i)) not in taken:
                taken.add((int(i), j))
                pairs.append((int(i), j))
                dists.append(float(per_joint[r, best[r]]))
                counts.append(int(n_changed[r, best[r]]))
    return (np.array(pairs, dtype=np.int64).reshape(-1, 2), np.array(dists), np.array(counts, dtype=np.int64))
