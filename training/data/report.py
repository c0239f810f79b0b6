"""report.md and contact_sheet.png of a corpus build."""
from pathlib import Path

import numpy as np

from training.data.categories import CATEGORIES
from training.data.retarget import LIMB_BONES

SHEET_POSES = 16


def retarget_table(errors: dict[str, tuple[str, dict[str, float], int]]
                   ) -> tuple[list[str], dict[str, dict[str, float]]]:
    """Per skeleton map, the frame-weighted mean error of every bone.

    errors: clip -> (skeleton map name, bone errors, frames)."""
    sums: dict[str, dict[str, float]] = {}
    weights: dict[str, dict[str, float]] = {}
    for skeleton_map, bones, frames in errors.values():
        for bone, value in bones.items():
            sums.setdefault(skeleton_map, {}).setdefault(bone, 0.0)
            weights.setdefault(skeleton_map, {}).setdefault(bone, 0.0)
            sums[skeleton_map][bone] += value * frames
            weights[skeleton_map][bone] += frames
    table = {r: {b: sums[r][b] / max(weights[r][b], 1) for b in sums[r]} for r in sums}
    bones = sorted({b for r in table.values() for b in r}, key=lambda b: (b.split("->")[0] not in LIMB_BONES, b))
    return bones, table


def _stats(values: list[int]) -> str:
    if not values:
        return "n/a"
    v = np.asarray(values)
    return f"mean {v.mean():.1f}, median {np.median(v):.0f}, min {v.min()}, max {v.max()}"


def write_report(folder: Path, manifest: dict, table, category: np.ndarray, errors: dict, text_stats: dict,
                 states: np.ndarray | None = None, shorts: list | None = None) -> None:
    counts = manifest["counts"]
    split = np.array(table.split)
    cats = sorted(set(category.tolist()))
    lines = [f"# Pose corpus {manifest['version']}", "",
             f"Built {manifest['built']} in {manifest['seconds']} s from {len(manifest['sources'])} BVH clips "
             f"({counts['mocap_pool']} poses after resampling to {manifest['settings']['target_fps']:.0f} fps and "
             f"dropping near-duplicates; {counts['base_mocap']} kept by farthest-point sampling).", "",
             "## Poses per split and category", "",
             "| category | " + " | ".join(("train", "val", "test")) + " | augmented | total |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    augmented = np.array(table.augmented)
    for c in cats:
        m = category == c
        lines.append(f"| {c} | " + " | ".join(str(int(np.sum(m & (split == s)))) for s in ("train", "val", "test"))
                     + f" | {int(np.sum(m & augmented))} | {int(m.sum())} |")
    lines.append("| **all** | " + " | ".join(str(int(np.sum(split == s))) for s in ("train", "val", "test"))
                 + f" | {int(augmented.sum())} | {len(split)} |")
    lines += ["", "Sources: " + ", ".join(f"{k} {v}" for k, v in counts["per_source"].items()) + ".",
              "Augmented poses (mirror, reorient, recombine, keypose) carry `augmented=True`; evaluate on the rest.",
              ""]
    if text_stats:
        lines += ["## Text", "",
                  f"- captions: {counts.get('captions', 0)} ({_stats(text_stats['caption_words'])} words)",
                  f"- pair instructions: {counts.get('pairs', 0)} pairs "
                  f"({_stats(text_stats['instruction_words'])} words)",
                  f"- activity texts (CMU descriptions): {counts['activities']}", ""]
    else:
        lines += ["## Text", "", f"Built without captions; activity texts: {counts['activities']}.", ""]
    if states is not None:
        lines += state_lines(states, split, augmented, manifest)
    bones, err = retarget_table(errors)
    skeleton_maps = sorted(err)
    lines += ["## Retargeting error", "",
              "Mean angle (degrees) between each SMPL bone after retargeting and the matching BVH bone, over all",
              "retargeted frames. Limb bones are matched exactly by construction; pelvis->hip and spine3->collar",
              "differ because the rigs place those joints differently (a constant offset, not a pose error).", "",
              "| bone | " + " | ".join(skeleton_maps) + " |", "| --- |" + " ---: |" * len(skeleton_maps)]
    for b in bones:
        lines.append(f"| {b} | " + " | ".join(f"{err[r][b]:.2f}" if b in err[r] else "-" for r in skeleton_maps) + " |")
    limb = [err[r][b] for r in skeleton_maps for b in bones if b in err[r] and b.split("->")[0] in LIMB_BONES]
    lines += ["", f"Limb bones: max {max(limb):.3f} deg (target < 5)." if limb else "", ""]
    agreement = manifest.get("conversion_agreement")
    if agreement:
        lines += ["## Agreement between two conversions of the same take", "",
                  f"{len(agreement['takes'])} CMU takes exist in two rigs (e.g. `{agreement['takes'][0]}`). Retargeted",
                  "independently and compared at 30 fps: mean per-joint position distance "
                  f"{agreement['mean_joint_distance_m'] * 100:.1f} cm on the project skeleton; mean angle between the",
                  "two local rotations per joint (degrees; the rigs' own conversions differ too, and arm twist is",
                  "ill-defined when an arm is straight):", "",
                  "| joint | deg |", "| --- | ---: |"]
        lines += [f"| {j} | {v:.1f} |" for j, v in agreement["local_rotation_deg"].items() if "foot" not in j]
        lines.append("")
    picked = sheet_indices(category, manifest["settings"]["seed"])
    captions = text_stats.get("captions", {})
    lines += ["## Contact sheet", "",
              "Poses spread over the categories; each tile's title is cut short, the first caption in full:", ""]
    for k, i in enumerate(picked):
        text = captions.get(table.ids[i], [""])[0] or "(no caption)"
        lines.append(f"{k + 1}. `{table.ids[i]}` [{category[i]}, {table.source[i]}] {text}")
    lines += ["", "![contact sheet](contact_sheet.png)", ""]
    if states is not None:
        lines += ["## One pose per body state", "",
                  "A random pose of each state (tile title: the state, then the pose's first short text):", "",
                  "![states](states.png)", ""]
    (folder / "report.md").write_text("\n".join(lines))
    write_contact_sheet(folder / "contact_sheet.png", table, category, captions, picked)
    if states is not None:
        write_state_overview(folder / "states.png", table.rotations, states, shorts, manifest["settings"]["seed"])


def sheet_indices(category: np.ndarray, seed: int, count: int = SHEET_POSES) -> np.ndarray:
    """One random pose per category (in CATEGORIES order), then random others, `count` in all."""
    rng = np.random.default_rng(seed)
    picked = [int(rng.choice(np.flatnonzero(category == c))) for c in CATEGORIES if np.any(category == c)][:count]
    rest = np.setdiff1d(np.arange(len(category)), picked)
    extra = rng.choice(rest, size=min(count - len(picked), len(rest)), replace=False)
    return np.concatenate([picked, extra]).astype(np.int64)


def write_contact_sheet(path: Path, table, category: np.ndarray, captions: dict, picked: np.ndarray) -> None:
    from backend.render import render_poses

    titles = []
    for k, i in enumerate(picked):
        text = captions.get(table.ids[i], [""])[0]
        titles.append(f"{k + 1}. [{category[i]}] {text or table.source[i]}")
    render_poses(table.rotations[picked], titles=titles, columns=4, size=220).save(path, optimize=True)


def state_lines(states: np.ndarray, split: np.ndarray, augmented: np.ndarray, manifest: dict) -> list[str]:
    """report.md lines: poses per body state (and state group) per split, with how many are not augmented."""
    from training.captioning.short_texts import GROUPS
    from training.captioning.states import BODY_STATES, STATES

    def row(name: str, m: np.ndarray) -> str:
        return (f"| {name} | " + " | ".join(str(int(np.sum(m & (split == s)))) for s in ("train", "val", "test"))
                + f" | {int(np.sum(m & ~augmented))} | {int(m.sum())} |")

    lines = ["## Poses per body state", "",
             "States are computed from the pose geometry (`training.captioning.states`); every short text is",
             "generated from them and parsed back (`unipose label` prints a pose's short texts).", "",
             "| state | train | val | test | mocap (not augmented) | total |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [row(name, states[:, k]) for k, name in enumerate(STATES)]
    lines += ["", "State groups (any member state):", "",
              "| group | train | val | test | mocap (not augmented) | total |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [row(g, states[:, [STATES.index(m) for m in members]].any(axis=1)) for g, members in GROUPS.items()]
    counts = manifest["counts"]
    lines += ["", f"Short texts: {counts.get('short_texts', 0)} on {counts.get('poses_with_short_text', 0)} poses; "
              f"poses with no whole-body state: {int((~states[:, :len(BODY_STATES)].any(axis=1)).sum())}.", ""]
    return lines


def write_state_overview(path: Path, rotations: np.ndarray, states: np.ndarray, shorts: list | None, seed: int) -> None:
    """One random pose per state, titled with the state and the pose's first short text."""
    from backend.render import render_poses
    from training.captioning.states import STATES

    rng = np.random.default_rng(seed)
    picked, titles = [], []
    for k, name in enumerate(STATES):
        members = np.flatnonzero(states[:, k])
        if len(members) == 0:
            continue
        i = int(rng.choice(members))
        picked.append(i)
        first = shorts[i][0][0] if shorts and shorts[i] else ""
        titles.append(f"{name}: {first}")
    render_poses(rotations[picked], titles=titles, columns=6, size=130).save(path, optimize=True)


def write_state_sheets(folder: Path, rotations: np.ndarray, states: np.ndarray, labels: list[str], seed: int = 0,
                       per_state: int = 24) -> list[Path]:
    """A contact sheet of `per_state` random poses for every state (to check by eye that a person would call
    each pose by the state's name); files folder/<state>.png. labels: one short title per pose."""
    from backend.render import render_poses
    from training.captioning.states import STATES

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for k, name in enumerate(STATES):
        members = np.flatnonzero(states[:, k])
        if len(members) == 0:
            continue
        pick = np.random.default_rng(seed).choice(members, size=min(per_state, len(members)), replace=False)
        path = folder / f"{name}.png"
        render_poses(rotations[pick], titles=[labels[i] for i in pick], columns=6, size=120).save(path, optimize=True)
        written.append(path)
    return written


def write_keypose_pictures(folder: Path, per_sheet: int = 24) -> list[Path]:
    """docs pictures: every hand-built key pose (titled with its name and states), the arm sets on a standing
    body, and a README listing them. Run with `python -m training.data.report docs/keyposes`."""
    from backend.render import render_poses
    from training.captioning.states import pose_states, state_names
    from training.data.keyposes import ARM_SETS, KEYPOSES, combination, keypose

    folder.mkdir(parents=True, exist_ok=True)
    names = list(KEYPOSES)
    poses = np.stack([keypose(n) for n in names])
    states = pose_states(poses)
    written = []
    for start in range(0, len(names), per_sheet):
        part = slice(start, start + per_sheet)
        titles = [f"{n}: {', '.join(state_names(r)) or '-'}" for n, r in zip(names[part], states[part])]
        path = folder / f"keyposes_{start // per_sheet + 1}.png"
        render_poses(poses[part], titles=titles, columns=4, size=190).save(path, optimize=True)
        written.append(path)
    arms = list(ARM_SETS)
    arm_poses = np.stack([combination("standing", a) for a in arms])
    arm_states = pose_states(arm_poses)
    titles = [f"{a}: {', '.join(state_names(r)) or '-'}" for a, r in zip(arms, arm_states)]
    path = folder / "arm_sets.png"
    render_poses(arm_poses, titles=titles, columns=4, size=190).save(path, optimize=True)
    written.append(path)
    lines = ["# Key poses", "",
             "Hand-built poses the CMU clips lack (`training/data/keyposes.py`), drawn by "
             "`python -m training.data.report "
             "docs/keyposes`. Each title lists the body states the pose gets (`training/captioning/states.py`). In the",
             "corpus each key pose is perturbed (keeping its states) and its one-sided ones mirrored; the arm sets are",
             "also put on free-armed bodies (`COMBINATIONS`: \"kneeling with both arms raised\").", "",
             "| key pose | states |", "| --- | --- |"]
    lines += [f"| {n} | {', '.join(state_names(r)) or '(no state)'} |" for n, r in zip(names, states)]
    lines += ["", "| arm set (on a standing body) | states |", "| --- | --- |"]
    lines += [f"| {a} | {', '.join(state_names(r))} |" for a, r in zip(arms, arm_states)]
    lines += ["", *[f"![{p.stem}]({p.name})" for p in written], ""]
    (folder / "README.md").write_text("\n".join(lines))
    return written


if __name__ == "__main__":
    import sys

    for written_path in write_keypose_pictures(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/keyposes")):
        print(written_path)
