"""PoseScript / PoseFix release files, resolved against a local AMASS copy.

Release layout (both datasets):
- an id index JSON: {"<pose id>": [dataset, "<sequence path>.npz", frame], ...} (the dataset entry may be
  missing: [path, frame]); sequence paths are relative to the AMASS root, with or without the dataset folder;
- caption JSON files: {"<id>": "text"} or {"<id>": ["text", ...]} (PoseScript: pose ids; PoseFix: pair ids);
- split files: a JSON list of ids;
- PoseFix pairs: a JSON list where entry k is [pose id A, pose id B] of pair k (or {"<pair id>": [A, B]}).
"""
import json
from pathlib import Path

import numpy as np

from training.data.amass import load_motion


class ReleaseFileError(ValueError):
    """A PoseScript/PoseFix file that does not have the expected layout."""


def _read_json(path: str | Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ReleaseFileError(f"{path}: {error}") from None


def load_id_index(path: str | Path) -> dict[int, tuple[str | None, str, int]]:
    """id -> (dataset or None, sequence path, frame index)."""
    out = {}
    for key, entry in _read_json(path).items():
        if not isinstance(entry, (list, tuple)) or len(entry) not in (2, 3):
            raise ReleaseFileError(f"{path}: id {key}: expected [dataset, path, frame] or [path, frame]")
        dataset, seq, frame = entry if len(entry) == 3 else (None, *entry)
        out[int(key)] = (dataset, str(seq), int(frame))
    return out


def load_texts(path: str | Path) -> dict[int, list[str]]:
    """Caption or instruction file -> id -> list of texts."""
    out = {}
    for key, value in _read_json(path).items():
        texts = [value] if isinstance(value, str) else list(value)
        if not all(isinstance(t, str) for t in texts):
            raise ReleaseFileError(f"{path}: id {key}: texts must be strings")
        out[int(key)] = texts
    return out


def load_split(path: str | Path) -> list[int]:
    data = _read_json(path)
    if not isinstance(data, list):
        raise ReleaseFileError(f"{path}: expected a JSON list of ids")
    return [int(i) for i in data]


def load_pairs(path: str | Path) -> dict[int, tuple[int, int]]:
    """PoseFix pair file -> pair id -> (pose id A, pose id B)."""
    data = _read_json(path)
    items = enumerate(data) if isinstance(data, list) else ((int(k), v) for k, v in data.items())
    return {int(k): (int(v[0]), int(v[1])) for k, v in items}


def resolve_sequence(amass_root: Path, dataset: str | None, seq: str) -> Path:
    candidates = [amass_root / seq]
    if dataset:
        candidates.append(amass_root / dataset / seq)
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"AMASS sequence not found under {amass_root}: {seq}")


def poses_for_ids(index: dict[int, tuple[str | None, str, int]], ids: list[int], amass_root: str | Path) -> np.ndarray:
    """The (N, 22, 3) SMPL-frame poses of the given ids, loading each AMASS sequence once."""
    amass_root = Path(amass_root)
    out = np.zeros((len(ids), 22, 3))
    by_sequence: dict[tuple[str | None, str], list[tuple[int, int]]] = {}
    for row, pose_id in enumerate(ids):
        dataset, seq, frame = index[pose_id]
        by_sequence.setdefault((dataset, seq), []).append((row, frame))
    for (dataset, seq), rows in by_sequence.items():
        rotations, _, _ = load_motion(resolve_sequence(amass_root, dataset, seq))
        for row, frame in rows:
            if not 0 <= frame < len(rotations):
                raise ReleaseFileError(f"{seq}: frame {frame} out of range ({len(rotations)} frames)")
            out[row] = rotations[frame]
    return out
