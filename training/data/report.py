"""report.md and contact_sheet.png of a corpus build."""
from pathlib import Path

import numpy as np

from training.data.categories import CATEGORIES
from training.data.retarget import LIMB_BONES

SHEET_POSES = 16


def retarget_table(errors: dict[str, tuple[str, dict[str, float], int]]) -> tuple[list[str], dict[str, dict[str, float]]]:
    """Per rig map, the frame-weighted mean error of every bone. errors: clip -> (rigmap, bone errors, frames)."""
    sums: dict[str, dict[str, float]] = {}
    weights: dict[str, dict[str, float]] = {}
    for rigmap, bones, frames in errors.values():
        for bone, value in bones.items():
            sums.setdefault(rigmap, {}).setdefault(bone, 0.0)
            weights.setdefault(rigmap, {}).setdefault(bone, 0.0)
            sums[rigmap][bone] += value * frames
            weights[rigmap][bone] += frames
    table = {r: {b: sums[r][b] / max(weights[r][b], 1) for b in sums[r]} for r in sums}
    bones = sorted({b for r in table.values() for b in r}, key=lambda b: (b.split("->")[0] not in LIMB_BONES, b))
    return bones, table


def _stats(values: list[int]) -> str:
    if not values:
        return "n/a"
    v = np.asarray(values)
    return f"mean {v.mean():.1f}, median {np.median(v):.0f}, min {v.min()}, max {v.max()}"


def write_report(folder: Path, manifest: dict, table, category: np.ndarray, errors: dict, text_stats: dict) -> None:
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
              "Augmented poses (mirror, reorient, recombine, keypose) carry `augmented=True`; evaluate on the rest.", ""]
    if text_stats:
        lines += ["## Text", "",
                  f"- captions: {counts.get('captions', 0)} ({_stats(text_stats['caption_words'])} words)",
                  f"- pair instructions: {counts.get('pairs', 0)} pairs "
                  f"({_stats(text_stats['instruction_words'])} words)",
                  f"- activity texts (CMU descriptions): {counts['activities']}", ""]
    else:
        lines += ["## Text", "", f"Built without captions; activity texts: {counts['activities']}.", ""]
    bones, err = retarget_table(errors)
    rigmaps = sorted(err)
    lines += ["## Retargeting error", "",
              "Mean angle (degrees) between each SMPL bone after retargeting and the matching BVH bone, over all",
              "retargeted frames. Limb bones are matched exactly by construction; pelvis->hip and spine3->collar",
              "differ because the rigs place those joints differently (a constant offset, not a pose error).", "",
              "| bone | " + " | ".join(rigmaps) + " |", "| --- |" + " ---: |" * len(rigmaps)]
    for b in bones:
        lines.append(f"| {b} | " + " | ".join(f"{err[r][b]:.2f}" if b in err[r] else "-" for r in rigmaps) + " |")
    limb = [err[r][b] for r in rigmaps for b in bones if b in err[r] and b.split("->")[0] in LIMB_BONES]
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
    lines += ["## Contact sheet", "", "Poses spread over the categories; each tile's title is cut short, the first caption in full:", ""]
    for k, i in enumerate(picked):
        text = captions.get(table.ids[i], [""])[0] or "(no caption)"
        lines.append(f"{k + 1}. `{table.ids[i]}` [{category[i]}, {table.source[i]}] {text}")
    lines += ["", "![contact sheet](contact_sheet.png)", ""]
    (folder / "report.md").write_text("\n".join(lines))
    write_contact_sheet(folder / "contact_sheet.png", table, category, captions, picked)


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
