"""captions.jsonl and pairs.jsonl of a corpus build, written with training.captioning.

Captions: `n` per pose (PoseScript-style, from posecodes). Pairs: PoseFix-style pairs chosen within each
split (a pair never crosses splits), with `n` instructions that turn pose A into pose B.
"""
from pathlib import Path

import numpy as np

CHUNK = 500


def _progress(iterable, enabled: bool, **kwargs):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, **kwargs)


def write_text_files(folder: Path, ids: list[str], poses: np.ndarray, split: list[str], config, progress: bool,
                     augmented: list[bool] | None = None) -> dict:
    """poses (N, 22, 3). Augmented poses (and pairs with one) get `config.captions_per_augmented_pose` captions
    (instructions) when the config has it.
    Returns {"counts": {...}, "caption_words": [...], "captions": {id: [...]}}."""
    from training.captioning.captions import caption_records
    from training.captioning.instructions import instruction_records
    from training.captioning.paircodes import select_pairs
    from backend.facts.posecodes import compute_posecodes, pose_geometry
    from training.data.build import write_jsonl

    joints, head_forward = pose_geometry(poses)
    codes = compute_posecodes(joints, head_forward)
    n = config.captions_per_pose
    n_augmented = getattr(config, "captions_per_augmented_pose", n)
    captions: dict[str, list[str]] = {}
    for start in _progress(range(0, len(ids), CHUNK), progress, desc="captions", unit="chunk"):
        for i in range(start, min(start + CHUNK, len(ids))):
            k = n_augmented if augmented is not None and augmented[i] else n
            captions[ids[i]] = [t for t, _ in caption_records(codes[i], k, config.seed * 1_000_003 + i)]
    write_jsonl(folder / "captions.jsonl", ({"id": i, "captions": c} for i, c in captions.items()))

    split_arr = np.array(split)
    rows = []
    for name in _progress(("train", "val", "test"), progress, desc="pairs", unit="split"):
        members = np.flatnonzero(split_arr == name)
        if len(members) < 2:
            continue
        hf = head_forward[members] if head_forward is not None else None
        pairs, dist, changed = select_pairs(joints[members], hf)
        for (a, b), d, c in zip(members[pairs] if len(pairs) else [], dist, changed):
            k = n_augmented if augmented is not None and (augmented[a] or augmented[b]) else n
            texts = [t for t, _ in instruction_records(codes[a], codes[b], k, config.seed * 1_000_003 + int(a))]
            if texts:
                rows.append({"a": ids[a], "b": ids[b], "split": name, "distance_m": round(float(d), 4),
                             "changed_posecodes": int(c), "instructions": texts})
    write_jsonl(folder / "pairs.jsonl", rows)
    words = [len(t.split()) for c in captions.values() for t in c]
    inst_words = [len(t.split()) for r in rows for t in r["instructions"]]
    return {"counts": {"captions": sum(len(c) for c in captions.values()), "pairs": len(rows)},
            "caption_words": words, "instruction_words": inst_words, "captions": captions}
