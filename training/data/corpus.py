"""From a folder of BVH clips to a diverse, split set of SMPL poses.

Steps: clip metadata (CMU subject/trial, activity text, true frame rate), retargeting, resampling to a
common rate, dropping near-duplicate frames, farthest-point sampling on mean per-joint distance, and a
split by motion clip (takes of the same CMU trial in different conversions share a split group).
Stored poses face +Z: the global orientation keeps its tilt (lying, inverted) but loses its heading.
"""
import csv
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.body.heading import remove_heading  # noqa: F401  (corpus.remove_heading is used by callers)
from backend.body.kinematics import pose_joints
from training.data.bvh import read_bvh
from training.data.retarget import bone_direction_errors, retarget

TARGET_FPS = 30.0
DUPLICATE_MM = 20.0  # consecutive frames closer than this mean per-joint distance are near-duplicates
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = {"val": 0.08, "test": 0.08}
# Folders of the DAZ dance set: activity text and native frame rate where the header is wrong.
DANCE_STYLES = {"salsa": ("salsa dance", 60.0), "indian": ("Indian dance", None), "martial": ("martial arts", None)}
SALSA_PARTNER_OFFSET = 15  # salsa/16-30 repeat the takes of salsa/01-15


@dataclass
class ClipInfo:
    path: Path
    clip_id: str  # path relative to the BVH root, without extension
    group: str  # split group: clips of one group never land in different splits
    activity: str | None  # CMU description, a weak pose text
    fps_hint: float | None  # native frame rate when the header is known to lie


def read_cmu_index(path: str | Path) -> dict[tuple[int, int], tuple[str, float]]:
    """cmu_index.csv -> {(subject, trial): (description, framerate)}."""
    out = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                key = (int(row["Subject"]), int(row["Trial #"]))
                out[key] = (row["Motion Description"].strip(), float(row["framerate"]))
            except (KeyError, ValueError):
                continue
    return out


def clip_info(path: Path, root: Path, index: dict[tuple[int, int], tuple[str, float]]) -> ClipInfo:
    rel = path.relative_to(root).with_suffix("").as_posix()
    match = re.search(r"(\d+)_(\d+)$", path.stem)
    if match:
        key = (int(match.group(1)), int(match.group(2)))
        description, fps = index.get(key, (None, None))
        return ClipInfo(path, rel, f"cmu_{key[0]:02d}_{key[1]:02d}", description, fps)
    style = path.parent.name
    if style in DANCE_STYLES and path.stem.isdigit():
        take = int(path.stem)
        if style == "salsa" and take > SALSA_PARTNER_OFFSET:
            take -= SALSA_PARTNER_OFFSET
        activity, fps = DANCE_STYLES[style]
        return ClipInfo(path, rel, f"{style}_{take:02d}", activity, fps)
    return ClipInfo(path, rel, rel, None, None)


def find_clips(root: str | Path, index_path: str | Path | None = None) -> list[ClipInfo]:
    """Every *.bvh under root except 3-frame reference files named standard.bvh."""
    root = Path(root)
    index_path = Path(index_path) if index_path else root / "cmu_index.csv"
    index = read_cmu_index(index_path) if index_path.exists() else {}
    paths = sorted(p for p in root.rglob("*.bvh") if p.name != "standard.bvh")
    return [clip_info(p, root, index) for p in paths]


def true_fps(header_fps: float, hint: float | None) -> float:
    """The CMU index rate wins where it is lower than the header's (a converter's default 120 fps);
    a header rate lower than the index is a file that was really resampled, and is kept."""
    return min(header_fps, hint) if hint else header_fps


def resample_indices(num_frames: int, fps: float, target_fps: float = TARGET_FPS) -> np.ndarray:
    """Frame indices that sample a clip at target_fps (nearest frame; never upsamples)."""
    step = max(fps / target_fps, 1.0)
    return np.unique(np.round(np.arange(0, num_frames - 0.5, step)).astype(np.int64))


def pose_features(axis_angle: np.ndarray) -> np.ndarray:
    """(N, 22, 3) -> (N, 22, 3) float32 pelvis-centred joint positions (hands left out)."""
    return pose_joints(axis_angle)[:, :22].astype(np.float32)


def drop_near_duplicates(features: np.ndarray, threshold_m: float = DUPLICATE_MM / 1000) -> np.ndarray:
    """Indices of frames kept when each frame closer than threshold to the last kept one is dropped."""
    keep = [0] if len(features) else []
    for i in range(1, len(features)):
        if np.linalg.norm(features[i] - features[keep[-1]], axis=-1).mean() >= threshold_m:
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


def farthest_point_sampling(features: np.ndarray, k: int, seed: int = 0, progress: bool = False) -> np.ndarray:
    """Greedy farthest-point sampling under mean per-joint distance. features (N, J, 3) -> (k,) indices."""
    n = len(features)
    if k >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    chosen = np.empty(k, dtype=np.int64)
    nearest = np.full(n, np.inf, dtype=np.float32)
    current = int(rng.integers(n))
    steps = range(k)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="farthest points", unit="pose", mininterval=1.0)
    for i in steps:
        chosen[i] = current
        d = np.sqrt(((features - features[current]) ** 2).sum(-1)).mean(-1)  # (N,)
        np.minimum(nearest, d, out=nearest)
        current = int(np.argmax(nearest))
    return chosen


def assign_splits(group_sizes: dict[str, int], fractions: dict[str, float] = SPLIT_FRACTIONS,
                  seed: int = 0) -> dict[str, str]:
    """Groups -> split name, filling val and test to about their fraction of frames in hashed order."""
    order = sorted(group_sizes, key=lambda g: zlib.crc32(f"{seed}:{g}".encode()))
    total = sum(group_sizes.values())
    out, filled = {}, {name: 0 for name in fractions}
    for group in order:
        split = next((s for s in fractions if filled[s] < fractions[s] * total), "train")
        if split != "train":
            filled[split] += group_sizes[group]
        out[group] = split
    return out


@dataclass
class ClipPoses:
    info: ClipInfo
    axis_angle: np.ndarray  # (n, 22, 3) heading removed, float32
    frames: np.ndarray  # (n,) frame indices in the source file
    fps: float  # the clip's true rate
    skeleton_map: str
    bone_errors: dict[str, float]  # mean degrees per bone over the clip's frames


def extract_clip(info: ClipInfo, target_fps: float = TARGET_FPS) -> ClipPoses:
    """Read, resample, retarget and de-duplicate one BVH clip (or load an AMASS .npz motion)."""
    if info.path.suffix == ".npz":
        return extract_amass_clip(info, target_fps)
    bvh = read_bvh(info.path)
    fps = true_fps(bvh.fps, info.fps_hint)
    frames = resample_indices(bvh.num_frames, fps, target_fps)
    result = retarget(bvh.select_frames(frames))
    errors = {k: float(v.mean()) for k, v in bone_direction_errors(result.axis_angle, result.target_joints).items()}
    axis_angle = remove_heading(result.axis_angle)
    keep = drop_near_duplicates(pose_features(axis_angle))
    return ClipPoses(info, axis_angle[keep].astype(np.float32), frames[keep], fps, result.skeleton_map, errors)


def find_amass_clips(root: str | Path) -> list[ClipInfo]:
    """AMASS motions under root as clips; each motion file is its own split group."""
    from training.data.amass import find_motions

    root = Path(root)
    out = []
    for path in find_motions(root):
        rel = path.relative_to(root).with_suffix("").as_posix()
        out.append(ClipInfo(path, f"amass/{rel}", f"amass/{rel}", None, None))
    return out


def extract_amass_clip(info: ClipInfo, target_fps: float = TARGET_FPS) -> ClipPoses:
    """An AMASS motion: already SMPL, so no retargeting (skeleton map "smpl", no bone errors)."""
    from training.data.amass import load_motion

    rotations, _, fps = load_motion(info.path)
    frames = resample_indices(len(rotations), fps, target_fps)
    axis_angle = remove_heading(rotations[frames])
    keep = drop_near_duplicates(pose_features(axis_angle))
    return ClipPoses(info, axis_angle[keep].astype(np.float32), frames[keep], fps, "smpl", {})


def rig_agreement(clip_a: ClipInfo, clip_b: ClipInfo, max_shift: int = 6) -> tuple[np.ndarray, float]:
    """How alike two conversions of one take retarget: per-joint mean angle (degrees) between their local
    rotations (22,) and the mean per-joint position distance (metres), at 30 fps after the best time shift."""
    from backend.body.rotations import axis_angle_to_rotmat as to_rotmat

    seqs = []
    for info in (clip_a, clip_b):
        bvh = read_bvh(info.path)
        frames = resample_indices(bvh.num_frames, true_fps(bvh.fps, info.fps_hint))
        seqs.append(remove_heading(retarget(bvh.select_frames(frames)).axis_angle))
    a, b = seqs
    n = min(len(a), len(b)) - 2 * max_shift
    if n <= 0:
        raise ValueError("clips too short to compare")
    ja = pose_joints(a[max_shift:max_shift + n])

    def offset_error(shift: int) -> float:
        jb = pose_joints(b[max_shift + shift:max_shift + shift + n])
        return float(np.linalg.norm(ja - jb, axis=-1).mean())

    shift = min(range(-max_shift, max_shift + 1), key=offset_error)
    ra = to_rotmat(a[max_shift:max_shift + n])
    rb = to_rotmat(b[max_shift + shift:max_shift + shift + n])
    cos = (np.trace(np.swapaxes(ra, -1, -2) @ rb, axis1=-2, axis2=-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1))).mean(0), offset_error(shift)
