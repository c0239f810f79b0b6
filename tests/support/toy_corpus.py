"""A small synthetic corpus in the layout `unipose data build` writes, for tests and smoke runs.

Poses are noisy variants of arm x leg key poses with matching template captions and pair instructions,
so models trained on it have something real to learn. Layout: poses.npz (rotations (N, 22, 3), ids,
clip_ids, split, augmented), captions.jsonl {"id", "captions"}, pairs.jsonl {"a", "b", "instructions"},
splits/{train,val,test}.txt (pose ids).
"""
import json
from pathlib import Path

import numpy as np

# (left shoulder z, right shoulder z) in radians, and words; SMPL arms point along +-X at rest.
ARMS = {"down": (-1.3, 1.3, "both arms hang down by the sides"),
        "up": (1.3, -1.3, "both arms are raised above the head"),
        "left_up": (1.3, 1.3, "the left arm is raised up while the right arm hangs down"),
        "right_up": (-1.3, -1.3, "the right arm is raised up while the left arm hangs down"),
        "t": (0.0, 0.0, "the arms are stretched out to the sides")}
LEGS = {"stand": (0.0, 0.0, "the person stands straight"),
        "squat": (-1.3, 2.0, "the person squats with bent knees")}
ARM_MOVES = {"down": "lower your arms to your sides", "up": "raise both arms above your head",
             "left_up": "raise your left arm and keep the right one down",
             "right_up": "raise your right arm and keep the left one down", "t": "stretch your arms out sideways"}
LEG_MOVES = {"stand": "stand up straight", "squat": "bend your knees into a squat"}


def _pose(arm: str, leg: str, rng: np.random.Generator, noise: float) -> np.ndarray:
    pose = rng.normal(0.0, noise, size=(22, 3))
    pose[16, 2] += ARMS[arm][0]
    pose[17, 2] += ARMS[arm][1]
    for hip, knee in ((1, 4), (2, 5)):
        pose[hip, 0] += LEGS[leg][0]
        pose[knee, 0] += LEGS[leg][1]
    return pose.astype(np.float32)


def write_toy_corpus(folder: str | Path, poses_per_clip: int = 10, clips_per_class: int = 4, noise: float = 0.08,
                     seed: int = 0) -> Path:
    """Write the corpus; clip k of every class goes to train/val/test by k (0..-3: train, -2: val, -1: test)."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    rotations, ids, clips, labels, split_of = [], [], [], [], []
    for arm in ARMS:
        for leg in LEGS:
            for clip in range(clips_per_class):
                split = "test" if clip == clips_per_class - 1 else "val" if clip == clips_per_class - 2 else "train"
                for k in range(poses_per_clip):
                    rotations.append(_pose(arm, leg, rng, noise))
                    ids.append(f"{arm}-{leg}-{clip}-{k}")
                    clips.append(f"{arm}-{leg}-{clip}")
                    labels.append((arm, leg))
                    split_of.append(split)
    (folder / "splits").mkdir(parents=True, exist_ok=True)
    np.savez(folder / "poses.npz", rotations=np.stack(rotations), ids=np.array(ids), clip_ids=np.array(clips),
             split=np.array(split_of), augmented=np.zeros(len(ids), bool))
    with (folder / "captions.jsonl").open("w") as out:
        for pose_id, (arm, leg) in zip(ids, labels):
            arm_text, leg_text = ARMS[arm][2], LEGS[leg][2]
            texts = [f"{leg_text} and {arm_text}.", f"{arm_text[0].upper() + arm_text[1:]}; {leg_text}.",
                     f"A pose where {leg_text} and {arm_text}."]
            out.write(json.dumps({"id": pose_id, "captions": texts}) + "\n")
    with (folder / "pairs.jsonl").open("w") as out:
        for split in ("train", "val", "test"):
            members = [i for i, s in enumerate(split_of) if s == split]
            for i in members:
                j = members[int(rng.integers(len(members)))]
                if labels[i] == labels[j]:
                    continue
                moves = [ARM_MOVES[labels[j][0]]] if labels[i][0] != labels[j][0] else []
                moves += [LEG_MOVES[labels[j][1]]] if labels[i][1] != labels[j][1] else []
                text = " and ".join(moves).capitalize() + "."
                out.write(json.dumps({"a": ids[i], "b": ids[j], "instructions": [text]}) + "\n")
    for split in ("train", "val", "test"):
        (folder / "splits" / f"{split}.txt").write_text(
            "\n".join(pose_id for pose_id, s in zip(ids, split_of) if s == split) + "\n")
    return folder
