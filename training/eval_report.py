"""The evaluation report: Markdown tables next to the UniPose paper's numbers, loss curves, example grid."""
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from backend.tasks import TASKS

# Reported by the UniPose paper on PoseScript/PoseFix/AMASS (see ../shared/NOTES.md). Different data:
# for orientation only, never a like-for-like comparison.
PAPER = {
    "tokenizer": {"mpjpe_mm": 6.2},
    "text_to_pose": {"recall_t2p@5": 73.7, "recall_t2p@10": 82.4, "recall_t2p@20": 89.6, "mpjpe_mm": 308.6},
    "edit_pose": {"mpjpe_mm": 270.3, "pa_mpjpe_mm": 138.9},
}
POSE_ROWS = [("mpjpe_mm", "MPJPE (mm) ↓"), ("pa_mpjpe_mm", "PA-MPJPE (mm) ↓"),
             ("r_precision_top1", "R-precision top-1 (%)"), ("r_precision_top2", "R-precision top-2 (%)"),
             ("r_precision_top3", "R-precision top-3 (%)"), ("recall_t2p@5", "text→pose recall@5 (%)"),
             ("recall_t2p@10", "text→pose recall@10 (%)"), ("recall_t2p@20", "text→pose recall@20 (%)"),
             ("recall_p2t@5", "pose→text recall@5 (%)"), ("recall_p2t@10", "pose→text recall@10 (%)"),
             ("recall_p2t@20", "pose→text recall@20 (%)"), ("fid", "FID (retrieval features) ↓")]
TEXT_ROWS = [("bleu4", "BLEU-4"), ("rouge_l", "ROUGE-L"), ("meteor", "METEOR (exact+stem)"),
             ("r_precision_top1", "R-precision top-1 (%)"), ("r_precision_top2", "R-precision top-2 (%)"),
             ("r_precision_top3", "R-precision top-3 (%)")]


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def task_table(task: str, scores: dict) -> list[str]:
    rows = POSE_ROWS if "mpjpe_mm" in scores else TEXT_ROWS
    paper = PAPER.get(task, {})
    lines = [f"### {TASKS[task].title if task in TASKS else task}", "",
             f"{scores.get('n', 0)} held-out samples, {scores.get('failures', 0)} failed generations "
             f"(counted as the rest pose / empty text), {_fmt(scores.get('latency_ms'))} ms per sample.", "",
             "| metric | this model | ground truth (retrieval ceiling) | UniPose paper (different dataset) |",
             "| --- | --- | --- | --- |"]
    for key, label in rows:
        if key in scores:
            lines.append(f"| {label} | {_fmt(scores[key])} | {_fmt(scores.get('real_' + key))} "
                         f"| {_fmt(paper.get(key))} |")
    return lines + [""]


def write_report(path: Path, header: dict, results: dict, tokenizer: dict | None, retrieval: dict,
                 curves_png: str | None, grid_png: str | None, renders: dict | None = None) -> None:
    lines = ["# UniPose evaluation report", "",
             f"- checkpoint: `{header['checkpoint']}`", f"- corpus: `{header['corpus']}`, split `{header['split']}`",
             f"- at most {header['max_samples']} samples per task; greedy decoding",
             f"- image tasks: {header.get('images', 'none')}", "",
             "> **Different dataset.** These numbers are measured on this project's corpus (retargeted CMU motion "
             "capture with automatic PoseScript/PoseFix-style captions), not on PoseScript, PoseFix or AMASS. The "
             "paper's numbers (UniPose, as recorded in NOTES.md) are shown only for orientation. The paper lists its "
             "text→pose top-5/10/20 as R-precision; they are placed next to our text→pose recall@5/10/20. "
             "METEOR uses exact and Porter-stem matches only (no WordNet synonyms offline), so it reads lower "
             "than standard METEOR.", ""]
    if tokenizer:
        lines += ["## Pose tokenizer (stage 0)", "", "| metric | this model | UniPose paper (AMASS) |",
                  "| --- | --- | --- |",
                  f"| held-out MPJPE (mm) | {_fmt(tokenizer.get('mpjpe_mm'))} | {PAPER['tokenizer']['mpjpe_mm']} |",
                  f"| held-out PA-MPJPE (mm) | {_fmt(tokenizer.get('pa_mpjpe_mm'))} | – |", ""]
    lines += ["## Tasks", ""]
    for task, scores in results.items():
        lines += task_table(task, scores)
    if renders:
        lines += render_table(renders)
    if retrieval:
        lines += ["## Retrieval models of the evaluation suite", "",
                  "Trained on the training split with the batch-based classification loss; MiniLM text backbone. "
                  "The 'ground truth' columns above are these models scoring the real held-out data.", "",
                  "| model | training items | first → last loss |", "| --- | --- | --- |"]
        lines += [f"| {k} | {v.get('items')} | {_fmt(v.get('first_loss'))} → {_fmt(v.get('last_loss'))} |"
                  for k, v in retrieval.items()] + [""]
    if curves_png:
        lines += ["## Training curves", "", f"![training losses]({curves_png})", ""]
    if grid_png:
        lines += ["## Examples", "", "Each row: the prompt (and input pose), the generated pose, the ground truth.", "",
                  f"![examples]({grid_png})", ""]
    Path(path).write_text("\n".join(lines))


def render_table(renders: dict) -> list[str]:
    """Section for bench/image_pose.py's --json output: real pixels (rendered bodies) through BlazePose."""
    found = renders["photos"] - sum(renders.get("misses", {}).values())
    lines = ["### Image → pose on rendered bodies (real pixels)", "",
             f"{renders['photos']} photos of held-out poses ({renders['source']}) rendered as clothed bodies in "
             f"headless Blender from several views, ground truth known (`bench/image_pose.py`); BlazePose found "
             f"the person in {found}/{renders['photos']}.", "",
             "| method / view | photos | MPJPE (mm) ↓ | PA-MPJPE (mm) ↓ |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {row['photos']} | {_fmt(row['mpjpe_mm'])} | {_fmt(row['pa_mpjpe_mm'])} |"
              for name, row in renders["results"].items()]
    if renders.get("text_results"):
        lines += ["", "### Image → text and image differences on the same renders", "",
                  f"The photos above described by the model, and {renders.get('pairs', 0)} held-out pose pairs "
                  "rendered by one camera per pair for image differences; text metrics against the corpus references, "
                  "each beside the same model given the true poses instead of pixels.", "",
                  "| task / view | samples | BLEU-4 ↑ | ROUGE-L ↑ | METEOR ↑ |", "| --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {name} | {row['n']} | {_fmt(row['bleu4'])} | {_fmt(row['rouge_l'])} | {_fmt(row['meteor'])} |"
                  for name, row in renders["text_results"].items()]
    return lines + [""]


def plot_curves(series: dict[str, list[tuple[float, float]]], path: Path, size=(900, 360)) -> None:
    """Line chart of (step, loss) series, one panel per series, drawn with Pillow."""
    names = [n for n, pts in series.items() if pts]
    if not names:
        return
    w, h = size
    image = Image.new("RGB", (w, h * len(names)), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for row, name in enumerate(names):
        pts = np.array(series[name], dtype=float)
        pts = pts[np.isfinite(pts[:, 1])]
        top, left, right, bottom = row * h + 30, 60, w - 20, row * h + h - 30
        draw.rectangle([left, top, right, bottom], outline=(160, 160, 160))
        draw.text((left, top - 22), name, fill=(0, 0, 0))
        if len(pts) == 0:
            continue
        x0, x1 = pts[:, 0].min(), max(pts[:, 0].max(), pts[:, 0].min() + 1)
        y0, y1 = pts[:, 1].min(), max(pts[:, 1].max(), pts[:, 1].min() + 1e-6)
        draw.text((4, top), f"{y1:.2f}", fill=(80, 80, 80))
        draw.text((4, bottom - 12), f"{y0:.2f}", fill=(80, 80, 80))
        draw.text((right - 60, bottom + 4), f"step {int(x1)}", fill=(80, 80, 80))
        xy = [(left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top))
              for x, y in pts]
        if len(xy) > 1:
            draw.line(xy, fill=(30, 90, 200), width=2)
    image.save(path)


def read_curves(run_dir: Path) -> dict[str, list[tuple[float, float]]]:
    series = {}
    for stage in ("stage0", "stage1", "stage2", "stage3"):
        path = Path(run_dir) / stage / "metrics.jsonl"
        if not path.is_file():
            continue
        records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        for key in ("loss", "total", "text_loss", "pose_loss"):
            points = [(r["step"], r[key]) for r in records if key in r]
            if points:
                series[f"{stage} {key}"] = points
    return series
