"""AMASS `.npz` motion folders as a pose source for the same pipeline as the BVH clips.

Each AMASS motion file holds `poses` (frames, 66+) axis-angle in a Z-up world and `mocap_framerate`;
the first 66 values are SMPL's 22 pose joints (global orientation + 21 body joints). Files without
`poses` (AMASS's `shape.npz`) are skipped.
"""
from pathlib import Path

import numpy as np

from backend.posefile import PoseFileError, load_amass_npz, z_up_to_y_up


def find_motions(root: str | Path) -> list[Path]:
    """Every AMASS motion file under root (sorted), shape files left out."""
    return sorted(p for p in Path(root).rglob("*.npz") if p.name != "shape.npz")


def load_motion(path: str | Path, default_fps: float = 120.0) -> tuple[np.ndarray, np.ndarray | None, float]:
    """One AMASS file -> rotations (T, 22, 3) in the SMPL frame (+Y up), translation (T, 3) or None, fps."""
    motion = load_amass_npz(path)
    rotations, transl = z_up_to_y_up(motion.rotations, motion.transl)
    return rotations, transl, motion.fps or default_fps


def iter_motions(root: str | Path):
    """(relative path without extension, rotations (T, 22, 3), fps) for each readable motion under root."""
    root = Path(root)
    for path in find_motions(root):
        try:
            rotations, _, fps = load_motion(path)
        except PoseFileError:
            continue
        yield path.relative_to(root).with_suffix("").as_posix(), rotations, fps
