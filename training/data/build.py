"""`unipose data build`: the versioned pose corpus folder.

Layout of `<out>/<version>/`:
    poses.npz        rotations (N, 22, 3) float32 axis-angle (heading removed), ids, clip_ids, split,
                     augmented (bool), source, category
    splits/          train.txt, val.txt, test.txt (pose ids) and groups.json (clip group -> split)
    activities.jsonl {"id", "clip_id", "text"}: CMU activity descriptions (weak pose text); v2 writes
                     {"id", "text", "paired"} only where the text fits the pose, paired with its short text
    short_texts.jsonl {"id", "texts": [...]}: the prompts people type, true by construction (v2)
    captions.jsonl   {"id", "captions": [...]}                  (unless built with --no-text)
    pairs.jsonl      {"a", "b", "split", "instructions": [...]}  (unless built with --no-text)
    manifest.json    version, counts, exact sources, settings
    report.md, contact_sheet.png, states.png (one pose per body state, v2)

poses.npz of v2 also holds `states` (N, S) bool and `state_names` (S,), from training.captioning.states.
"""
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.captioning.short_texts import GROUPS, short_text_records
from training.captioning.states import STATES, pose_states
from training.data import augment, corpus
from training.data.categories import categorize
from training.data.keyposes import perturbed_combinations, perturbed_keyposes

CORPUS_VERSION = "v2"


@dataclass
class BuildConfig:
    base_poses: int = 12000  # mocap poses kept by farthest-point sampling
    mirror_fraction: float = 0.3  # of the base poses of each split
    reorient_fraction: float = 0.12
    recombine_fraction: float = 0.12
    keypose_variants: int = 40  # perturbed copies of each hand-built key pose (times keyposes.VARIANT_SCALE)
    combination_variants: int = 12  # perturbed copies of each body + arm-set combination
    captions_per_pose: int = 2  # also the instructions per pair
    captions_per_augmented_pose: int = 1  # mirrored, re-oriented, recombined and key poses (keeps v2 small)
    short_texts_per_pose: int = 3  # the most salient; `unipose label` prints more
    seed: int = 0
    version: str = CORPUS_VERSION


@dataclass
class PoseTable:
    """Parallel arrays describing N poses."""

    rotations: np.ndarray  # (N, 22, 3) float32
    ids: list[str]
    clip_ids: list[str]
    split: list[str]
    source: list[str]
    augmented: list[bool]

    def extend(self, other: "PoseTable") -> "PoseTable":
        return PoseTable(np.concatenate([self.rotations, other.rotations]), self.ids + other.ids,
                         self.clip_ids + other.clip_ids, self.split + other.split, self.source + other.source,
                         self.augmented + other.augmented)

    def take(self, index: np.ndarray) -> "PoseTable":
        pick = lambda xs: [xs[i] for i in index]  # noqa: E731
        return PoseTable(self.rotations[index], pick(self.ids), pick(self.clip_ids), pick(self.split),
                         pick(self.source), pick(self.augmented))


def _progress(iterable, enabled: bool, **kwargs):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, **kwargs)


def extract_mocap(bvh_dir: Path | None, progress: bool, amass_dir: Path | None = None
                  ) -> tuple[list[corpus.ClipPoses], PoseTable, dict[str, str]]:
    """All clips (BVH and optionally AMASS) -> de-duplicated 30 fps poses, with each clip group's split."""
    clips = corpus.find_clips(bvh_dir) if bvh_dir else []
    clips += corpus.find_amass_clips(amass_dir) if amass_dir else []
    if not clips:
        raise FileNotFoundError(f"no .bvh files under {bvh_dir}"
                                + (f" and no AMASS motions under {amass_dir}" if amass_dir else ""))
    extracted = [corpus.extract_clip(c) for c in _progress(clips, progress, desc="retarget", unit="clip")]
    sizes: dict[str, int] = {}
    for c in extracted:
        sizes[c.info.group] = sizes.get(c.info.group, 0) + len(c.axis_angle)
    group_split = corpus.assign_splits(sizes)
    ids, clip_ids, split = [], [], []
    for c in extracted:
        ids += [f"{c.info.clip_id}@{f}" for f in c.frames]
        clip_ids += [c.info.clip_id] * len(c.frames)
        split += [group_split[c.info.group]] * len(c.frames)
    n = len(ids)
    table = PoseTable(np.concatenate([c.axis_angle for c in extracted]), ids, clip_ids, split, ["mocap"] * n,
                      [False] * n)
    return extracted, table, group_split


def select_diverse(table: PoseTable, k: int, seed: int, progress: bool) -> PoseTable:
    """Farthest-point sampling within each split, k spread over splits in proportion to their size."""
    split = np.array(table.split)
    chosen = []
    for name in corpus.SPLITS:
        members = np.flatnonzero(split == name)
        quota = int(round(k * len(members) / len(split)))
        features = corpus.pose_features(table.rotations[members].astype(np.float64))
        chosen.append(members[np.sort(corpus.farthest_point_sampling(features, quota, seed, progress))])
    return table.take(np.concatenate(chosen))


def augmentations(base: PoseTable, config: BuildConfig) -> PoseTable:
    """Mirrored, re-oriented and recombined poses, each drawn from base poses of one split."""
    rng = np.random.default_rng(config.seed)
    parts = []
    split = np.array(base.split)
    for name in corpus.SPLITS:
        members = np.flatnonzero(split == name)
        if len(members) < 2:
            continue
        for kind, fraction in (("mirror", config.mirror_fraction), ("reorient", config.reorient_fraction),
                               ("recombine", config.recombine_fraction)):
            count = int(round(fraction * len(members)))
            if count == 0:
                continue
            pick = rng.choice(members, size=count, replace=False)
            poses = base.rotations[pick].astype(np.float64)
            if kind == "mirror":
                new, tags = augment.mirror(poses), ["mirror"] * count
                ids = [f"{base.ids[i]}~mirror" for i in pick]
            elif kind == "reorient":
                new, tags = augment.reorient(poses, rng)
                ids = [f"{base.ids[i]}~{t}" for i, t in zip(pick, tags)]
            else:
                other = rng.choice(members, size=count)
                new, tags = augment.recombine(poses, base.rotations[other].astype(np.float64)), ["recombine"] * count
                ids = [f"{base.ids[i]}+{base.ids[j]}" for i, j in zip(pick, other)]
            parts.append(PoseTable(new.astype(np.float32), ids, [base.clip_ids[i] for i in pick], [name] * count,
                                   [f"{kind}:{t}" if kind == "reorient" else kind for t in tags], [True] * count))
    out = parts[0]
    for p in parts[1:]:
        out = out.extend(p)
    return out


def keypose_table(config: BuildConfig) -> PoseTable:
    """Perturbed key poses (train split) and body + arm-set combinations, split by combination like clips
    (a combination and its mirror image share a split), so val and test hold poses of the rare states too.
    The clip id is the key pose's name."""
    poses, names = perturbed_keyposes(config.keypose_variants, seed=config.seed)
    split = ["train"] * len(names)
    if config.combination_variants > 0:
        more, more_names = perturbed_combinations(config.combination_variants, seed=config.seed)
        groups = [n.removesuffix("_mirrored") for n in more_names]
        sizes: dict[str, int] = {}
        for g in groups:
            sizes[g] = sizes.get(g, 0) + 1
        group_split = corpus.assign_splits(sizes, seed=config.seed)
        poses, names = np.concatenate([poses, more]), names + more_names
        split += [group_split[g] for g in groups]
    seen: dict[str, int] = {}
    ids = []
    for name in names:
        ids.append(f"keypose/{name}#{seen.get(name, 0)}")
        seen[name] = seen.get(name, 0) + 1
    n = len(ids)
    return PoseTable(poses.astype(np.float32), ids, [f"keypose/{x}" for x in names], split,
                     [f"keypose:{x}" for x in names], [True] * n)


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def write_jsonl(path: Path, rows) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def build_corpus(bvh_dir: str | Path | None, out_dir: str | Path, config: BuildConfig | None = None,
                 progress: bool = True, with_text: bool = True, amass_dir: str | Path | None = None) -> dict:
    """Build the corpus into out_dir/<version>/ from BVH clips and/or AMASS motions; return the manifest."""
    config = config or BuildConfig()
    start = time.time()
    folder = Path(out_dir) / config.version
    bvh_dir = Path(bvh_dir) if bvh_dir else None
    amass_dir = Path(amass_dir) if amass_dir else None
    (folder / "splits").mkdir(parents=True, exist_ok=True)

    extracted, pool, group_split = extract_mocap(bvh_dir, progress, amass_dir)
    base = select_diverse(pool, config.base_poses, config.seed, progress)
    table = base.extend(augmentations(base, config)).extend(keypose_table(config))
    table.rotations = corpus.remove_heading(table.rotations.astype(np.float64)).astype(np.float32)
    category = categorize(table.rotations.astype(np.float64))
    states = pose_states(table.rotations.astype(np.float64))

    np.savez_compressed(
        folder / "poses.npz", rotations=table.rotations.astype(np.float32), ids=np.array(table.ids),
        clip_ids=np.array(table.clip_ids), split=np.array(table.split), source=np.array(table.source),
        augmented=np.array(table.augmented), category=category.astype(str), states=states,
        state_names=np.array(STATES))
    for name in corpus.SPLITS:
        (folder / "splits" / f"{name}.txt").write_text(
            "".join(f"{i}\n" for i, s in zip(table.ids, table.split) if s == name))
    (folder / "splits" / "groups.json").write_text(json.dumps(dict(sorted(group_split.items())), indent=1))

    activity = {c.info.clip_id: c.info.activity for c in extracted}
    shorts = [short_text_records(row, config.short_texts_per_pose, config.seed * 1_000_003 + i)
              for i, row in enumerate(states)]
    write_jsonl(folder / "short_texts.jsonl", ({"id": i, "texts": [t for t, _ in r]}
                                               for i, r in zip(table.ids, shorts) if r))
    n_activities = write_jsonl(folder / "activities.jsonl", activity_rows(table, activity, states, shorts))

    text_stats = write_text(folder, table, config, progress) if with_text else {}

    from training.data.report import write_report

    errors = {c.info.clip_id: (c.skeleton_map, c.bone_errors, len(c.axis_angle)) for c in extracted}
    agreement = conversion_agreement(extracted)
    manifest = {
        "version": config.version,
        "built": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": round(time.time() - start, 1),
        "convention": "SMPL frame (+Y up, +X left, faces +Z); axis-angle (N, 22, 3); heading removed",
        "counts": {
            "poses": len(table.ids),
            "mocap_pool": len(pool.ids),
            "base_mocap": len(base.ids),
            "per_split": {s: int(np.sum(np.array(table.split) == s)) for s in corpus.SPLITS},
            "per_source": _counts(s.split(":")[0] for s in table.source),
            "per_category": _counts(category),
            "per_state": {name: int(states[:, k].sum()) for k, name in enumerate(STATES)},
            "per_state_group": {g: int(states[:, [STATES.index(m) for m in members]].any(axis=1).sum())
                                for g, members in GROUPS.items()},
            "short_texts": sum(len(r) for r in shorts),
            "poses_with_short_text": sum(1 for r in shorts if r),
            "activities": n_activities,
            **text_stats.get("counts", {}),
        },
        "settings": {**config.__dict__, "target_fps": corpus.TARGET_FPS, "duplicate_mm": corpus.DUPLICATE_MM},
        "sources": [
            {"clip_id": c.info.clip_id, "file": _relative(c.info.path, bvh_dir, amass_dir),
             "sha1": _sha1(c.info.path), "skeleton_map": c.skeleton_map, "fps": round(c.fps, 3), "group": c.info.group,
             "split": group_split[c.info.group], "activity": c.info.activity, "poses_after_dedup": len(c.frames)}
            for c in extracted
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, default=_json_default))
    manifest["conversion_agreement"] = agreement
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1, default=_json_default))
    write_report(folder, manifest, table, category, errors, text_stats, states, shorts)
    return manifest


def activity_rows(table: PoseTable, activity: dict[str, str | None], states: np.ndarray, shorts: list):
    """activities.jsonl rows: the clip's activity text where it does not contradict the pose, paired with a
    description of the pose's states ("a person doing salsa dance, leaning back with the hands together")."""
    from training.captioning.activity import activity_fits, activity_sentence
    from training.captioning.short_texts import describe

    for k, (i, c, s) in enumerate(zip(table.ids, table.clip_ids, table.source)):
        text = activity.get(c)
        if not text or s not in ("mocap", "mirror") or not activity_fits(text, states[k]):
            continue
        row = {"id": i, "text": text}  # the clip is the pose id's prefix (before "@")
        sentence, phrase = activity_sentence(text), describe(states[k], seed=k)
        if sentence and phrase:
            row["paired"] = f"{sentence}, {phrase[0]}"
        yield row


def conversion_agreement(extracted: list[corpus.ClipPoses]) -> dict:
    """Takes converted with two different rigs, retargeted independently: how alike the results are."""
    from backend.body.skeleton import POSE_JOINT_NAMES

    by_group: dict[str, list[corpus.ClipPoses]] = {}
    for c in extracted:
        by_group.setdefault(c.info.group, []).append(c)
    angles, distances, takes = [], [], []
    for group, clips in sorted(by_group.items()):
        rigs = {c.skeleton_map: c for c in clips if c.skeleton_map != "smpl"}
        if len(rigs) < 2:
            continue
        a, b = list(rigs.values())[:2]
        try:
            angle, distance = corpus.rig_agreement(a.info, b.info)
        except ValueError:
            continue
        angles.append(angle)
        distances.append(distance)
        takes.append(f"{a.info.clip_id} | {b.info.clip_id}")
    if not takes:
        return {}
    mean = np.mean(angles, axis=0)
    return {"takes": takes, "mean_joint_distance_m": float(np.mean(distances)),
            "local_rotation_deg": {n: round(float(v), 2) for n, v in zip(POSE_JOINT_NAMES, mean)}}


def _relative(path: Path, *roots: Path | None) -> str:
    for root in roots:
        if root is not None and path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.as_posix()


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    raise TypeError(type(value))


def _counts(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def write_text(folder: Path, table: PoseTable, config: BuildConfig, progress: bool) -> dict:
    """captions.jsonl and pairs.jsonl from training.captioning (see training.data.text)."""
    from training.data import text

    return text.write_text_files(folder, table.ids, table.rotations.astype(np.float64), table.split, config, progress,
                                 augmented=table.augmented)


def write_state_sheets_of(corpus_folder: str | Path, out: str | Path, seed: int = 0) -> list[Path]:
    """Contact sheets of 24 random poses per body state of a built corpus (report.write_state_sheets)."""
    from training.data.report import write_state_sheets

    data = np.load(Path(corpus_folder) / "poses.npz")
    labels = [str(s)[-32:] for s in data["source"]]
    return write_state_sheets(Path(out), data["rotations"], data["states"], labels, seed)
