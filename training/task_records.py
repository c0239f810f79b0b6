"""Task records for stages 1-3 and evaluation, read from the corpus built by `unipose data build`
(or from the real PoseScript/PoseFix/AMASS releases through `training.data` loaders).

Every item is a plain record (dict) that names its task; the model's task templates turn it into a
conversation. Poses are float32 (22, 3) axis-angle arrays.
  pose_to_text / image_to_text:  {"task", "pose", "text", "references"}
  text_to_pose / image_to_pose:  {"task", "pose", "text", "references"}
  pose_diff / image_diff:        {"task", "pose_a", "pose_b", "text", "references"}
  edit_pose:                     {"task", "pose_a", "pose_b", "text", "references"}
For image tasks the image is made from "pose" ("pose_a"/"pose_b") by the model's image source.
Training items pair a pose with one of its texts (one item per text); evaluation items carry all texts
of a pose as "references".
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backend.tasks import TASKS

SPLITS = ("train", "val", "test")


@dataclass
class Corpus:
    """Poses with captions, pose pairs with instructions, and clip-based splits."""
    rotations: np.ndarray                     # (N, 22, 3) float32 axis-angle
    ids: list[str]                            # (N,) pose ids
    clip_ids: list[str]                       # (N,) source clip of each pose (splits never share clips)
    augmented: np.ndarray                     # (N,) bool: mirrored/recombined/... (excluded from evaluation)
    captions: dict[str, list[str]]            # pose id -> captions
    pairs: list[tuple[str, str, list[str]]]   # (id A, id B, instructions turning A into B)
    splits: dict[str, set[str]]               # split -> pose ids
    short_texts: dict[str, list[str]] = field(default_factory=dict)  # pose id -> the prompts people type
    index: dict[str, int] = field(init=False)

    def __post_init__(self):
        self.index = {pose_id: i for i, pose_id in enumerate(self.ids)}

    def pose(self, pose_id: str) -> np.ndarray:
        return self.rotations[self.index[pose_id]]

    def split_ids(self, split: str, include_augmented: bool = True) -> list[str]:
        members = self.splits.get(split, set())
        return [i for i in self.ids if i in members and (include_augmented or not self.augmented[self.index[i]])]


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _first(record: dict, *keys):
    for key in keys:
        if key in record:
            return record[key]
    raise KeyError(f"none of {keys} in {sorted(record)}")


def _texts(record: dict) -> list[str]:
    value = _first(record, "captions", "instructions", "texts", "text", "caption", "instruction")
    return [value] if isinstance(value, str) else list(value)


def _read_split(folder: Path, split: str) -> set[str] | None:
    path = folder / "splits" / f"{split}.txt"
    return set(path.read_text().split()) if path.is_file() else None


def load_corpus(folder: str | Path) -> Corpus:
    """Read a corpus folder: poses.npz (rotations, ids, clip_ids, split, augmented), captions.jsonl
    {"id", "captions"}, pairs.jsonl {"a", "b", "instructions"} and, in corpus v2, the short prompts:
    short_texts.jsonl {"id", "texts"} and activities.jsonl {"id", "paired"}. Without a `split` array, split
    files (splits/<split>.txt listing pose ids, clip ids or pose indices) are used."""
    folder = Path(folder)
    if not (folder / "poses.npz").is_file():
        raise FileNotFoundError(f"{folder} has no poses.npz; build the corpus with `unipose data build`")
    with np.load(folder / "poses.npz", allow_pickle=False) as npz:
        rotations = np.asarray(npz["rotations"], np.float32).reshape(-1, 22, 3)
        ids = [str(i) for i in (npz["ids"] if "ids" in npz else np.arange(len(rotations)))]
        clip_key = next((k for k in ("clip_ids", "clips", "clip_id") if k in npz), None)
        clips = [str(c) for c in npz[clip_key]] if clip_key else list(ids)
        aug_key = next((k for k in ("augmented", "is_augmented") if k in npz), None)
        augmented = np.asarray(npz[aug_key], bool) if aug_key else np.zeros(len(ids), bool)
        split_names = [str(s) for s in npz["split"]] if "split" in npz else None
    captions: dict[str, list[str]] = {}
    if (folder / "captions.jsonl").is_file():
        for record in _read_jsonl(folder / "captions.jsonl"):
            captions.setdefault(str(_first(record, "id", "pose_id", "pose")), []).extend(_texts(record))
    short: dict[str, list[str]] = {}
    if (folder / "short_texts.jsonl").is_file():
        for record in _read_jsonl(folder / "short_texts.jsonl"):
            short.setdefault(str(record["id"]), []).extend(record["texts"])
    if (folder / "activities.jsonl").is_file():
        for record in _read_jsonl(folder / "activities.jsonl"):
            if record.get("paired"):
                short.setdefault(str(record["id"]), []).append(record["paired"])
    pairs = []
    if (folder / "pairs.jsonl").is_file():
        for record in _read_jsonl(folder / "pairs.jsonl"):
            pairs.append((str(_first(record, "a", "pose_a", "id_a", "source")),
                          str(_first(record, "b", "pose_b", "id_b", "target")), _texts(record)))
    splits = {}
    for split in SPLITS if split_names is None else ():
        members = _read_split(folder, split)
        if members is None:
            continue
        if members and all(m.isdigit() for m in members) and not members & set(ids):
            members = {ids[int(m)] for m in members}           # split files that list pose indices
        splits[split] = {i for i, c in zip(ids, clips) if i in members or c in members}
    if split_names is not None:
        splits = {split: {i for i, s in zip(ids, split_names) if s == split} for split in SPLITS}
    if not splits:
        splits = {"train": set(ids)}
    return Corpus(rotations, ids, clips, augmented, captions, pairs, splits, short)


def task_records(corpus: Corpus, task: str, split: str, evaluation: bool = False,
                 max_items: int | None = None, seed: int = 0) -> list[dict]:
    """Records of one task on one split. Evaluation: one record per pose (pair), non-augmented poses only,
    all texts as references, at most max_items chosen at random with `seed`. Text->pose trains on the
    captions and the short prompts (corpus v2); its evaluation and the description tasks use the captions."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    members = set(corpus.split_ids(split, include_augmented=not evaluation))
    records = []
    if not TASKS[task].from_pairs:
        for pose_id in corpus.ids:
            texts = corpus.captions.get(pose_id, [])
            if pose_id not in members or not texts:
                continue
            pose = corpus.pose(pose_id)
            chosen = texts[:1] if evaluation else texts
            if task == "text_to_pose" and not evaluation:
                chosen = chosen + corpus.short_texts.get(pose_id, [])
            records += [{"task": task, "id": pose_id, "pose": pose, "text": t, "references": texts} for t in chosen]
    else:
        for a, b, texts in corpus.pairs:
            if a not in members or b not in members or not texts or a not in corpus.index or b not in corpus.index:
                continue
            chosen = texts[:1] if evaluation else texts
            records += [{"task": task, "id": f"{a}->{b}", "pose_a": corpus.pose(a), "pose_b": corpus.pose(b),
                         "text": t, "references": texts} for t in chosen]
    if max_items is not None and len(records) > max_items:
        keep = np.sort(np.random.default_rng(seed).choice(len(records), max_items, replace=False))
        records = [records[i] for i in keep]
    return records


def stage_datasets(corpus: Corpus, tasks: dict[str, float], split: str = "train") -> dict[str, list[dict]]:
    """Task name -> training records, for the tasks with a positive weight."""
    return {task: task_records(corpus, task, split) for task, weight in tasks.items() if weight > 0}


def load_release_corpus(sources: dict) -> Corpus:
    """The same Corpus from the real PoseScript / PoseFix releases, poses read from a local AMASS copy.

    sources = {"amass": AMASS root,
               "posescript": {"ids": id index JSON, "captions": [caption JSON, ...],
                              "splits": {"train": JSON list of pose ids, "val": ..., "test": ...}},
               "posefix":    {"ids": id index JSON, "pairs": pair JSON, "captions": [instruction JSON, ...],
                              "splits": {"train": JSON list of pair ids, ...}}}
    Either dataset may be left out. Pose ids become "posescript:<id>" / "posefix:<id>"; a PoseFix pair's
    split is given to both of its poses (PoseScript's own split wins for poses it lists).
    """
    from training.data import posescript as release

    amass = Path(sources["amass"])
    rotations, ids, clips, splits = [], [], [], {s: set() for s in SPLITS}
    captions: dict[str, list[str]] = {}
    pairs: list[tuple[str, str, list[str]]] = []

    def add_poses(name: str, index: dict, wanted: list[int]) -> None:
        wanted = [i for i in dict.fromkeys(wanted) if f"{name}:{i}" not in known]
        if not wanted:
            return
        rotations.append(release.poses_for_ids(index, wanted, amass).astype(np.float32))
        for i in wanted:
            known.add(f"{name}:{i}")
            ids.append(f"{name}:{i}")
            clips.append(index[i][1])

    known: set[str] = set()
    if "posescript" in sources:
        ps = sources["posescript"]
        index = release.load_id_index(ps["ids"])
        texts: dict[int, list[str]] = {}
        for path in ps.get("captions", []):
            for i, t in release.load_texts(path).items():
                texts.setdefault(i, []).extend(t)
        for split, path in ps.get("splits", {}).items():
            members = release.load_split(path)
            add_poses("posescript", index, members)
            splits[split] |= {f"posescript:{i}" for i in members}
        captions.update({f"posescript:{i}": t for i, t in texts.items() if f"posescript:{i}" in known})
    if "posefix" in sources:
        pf = sources["posefix"]
        index = release.load_id_index(pf["ids"])
        pair_ids = release.load_pairs(pf["pairs"])
        texts = {}
        for path in pf.get("captions", []):
            for i, t in release.load_texts(path).items():
                texts.setdefault(i, []).extend(t)
        assigned = set().union(*splits.values())
        for split, path in pf.get("splits", {}).items():
            members = [p for p in release.load_split(path) if p in pair_ids and p in texts]
            add_poses("posefix", index, [i for p in members for i in pair_ids[p]])
            for p in members:
                a, b = (f"posefix:{i}" for i in pair_ids[p])
                pairs.append((a, b, texts[p]))
                splits[split] |= {a, b} - assigned
    if not ids:
        raise ValueError("no poses: give `posescript` and/or `posefix` with split files")
    return Corpus(np.concatenate(rotations), ids, clips, np.zeros(len(ids), bool), captions, pairs, splits)


def load_training_corpus(corpus_dir: str | Path, sources: dict | None = None) -> Corpus:
    """The config's data: the real releases when `sources` names them, else the corpus folder."""
    if sources and ("posescript" in sources or "posefix" in sources):
        return load_release_corpus(sources)
    return load_corpus(corpus_dir)
