"""Learning per CPU-hour: candidate recipes, each trained from a fresh model for the same wall-clock budget on
this machine, then measured on held-out data (issue 18, step 1; results in docs/experiments/learning-efficiency.md).

    .venv/bin/python bench/learning_efficiency.py --rows reference,layers8 [--budget-s 900] [--runs runs/study]

A row is training/configs/study/<row>.yaml, trained with `python -m training.train ... --budget-s` into
RUNS/<row>/ (a row with a RUNS/<row>/checkpoint is not retrained; its figures are kept in RUNS/<row>/study.json
and only missing ones are measured).
Measures:
- training: number format the run chose, optimizer steps, samples and non-padding tokens per second;
- held-out loss of text->pose (nats per pose token) and pose->text (per text token), and their conditioning
  gaps (the same loss given another sample's input, minus it; training.benchmarks.conditioning);
- the 98 natural prompts (training.benchmarks.prompts) through the engine, as `unipose text2pose` answers;
- descriptions of held-out poses: statements true and salient facts covered (training.benchmarks.statements);
- the everyday edit instructions: followed and untouched-joint drift (training.benchmarks.edits).
A first row, "trivial", answers the mean training pose, one fixed caption, and the start pose unchanged.
Last line: best=<row> (the lowest held-out loss of text->pose plus pose->text: what a row learnt in its budget)
with its figures.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.benchmarks.conditioning import conditioning_gap  # noqa: E402
from training.benchmarks.edits import EVERYDAY_EDITS, score_edit, start_poses, summarize as summarize_edits  # noqa: E402
from training.benchmarks.prompts import PROMPTS, check_prompt  # noqa: E402
from training.benchmarks.statements import PoseFacts, score_description, summarize as summarize_texts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "training" / "configs" / "study"
COLUMNS = {  # column -> format
    "precision": "{}", "steps": "{}", "samples/s": "{:.2f}", "tokens/s": "{:.0f}", "loss t2p": "{:.3f}",
    "gap t2p": "{:+.3f}", "loss p2t": "{:.3f}", "gap p2t": "{:+.3f}", "natural": "{}", "desc true %": "{:.1f}",
    "desc covered %": "{:.1f}", "edits followed %": "{:.1f}", "drift p50 cm": "{:.1f}"}


def train_row(row: str, out: Path, budget_s: float) -> None:
    """Train one row for budget_s seconds (a rerun of an unfinished row resumes it)."""
    command = [sys.executable, "-m", "training.train", "--config", str(CONFIGS / f"{row}.yaml"), "--out", str(out),
               "--stages", "stage0,stage1", "--budget-s", str(budget_s)]
    with open(out.parent / f"{row}.log", "a") as log:
        subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)


def training_figures(out: Path) -> dict:
    """Steps, samples/s and tokens/s from the run's metrics log; the precision from its accelerate state."""
    metrics = [json.loads(line) for line in (out / "stage1" / "metrics.jsonl").read_text().splitlines()]
    stage = json.loads((out / "stage1" / "stage.json").read_text())
    seconds = sum(m["tokens"] / m["tokens_per_s"] for m in metrics)
    batch = stage["config"]["batch_size"] * stage["config"]["grad_accum"]
    from training.train import resolve_precision
    precision = resolve_precision(json.loads((out / "config.json").read_text())["run"]["mixed_precision"])
    return {"precision": "bf16" if precision == "bf16" else "float32", "steps": len(metrics),
            "samples/s": len(metrics) * batch / seconds, "tokens/s": sum(m["tokens"] for m in metrics) / seconds}


def held_out_losses(checkpoint: Path, corpus, samples: int, seed: int) -> dict:
    """Held-out loss (nats per pose / text token) of text->pose and pose->text, and the conditioning gaps."""
    from backend.model import UniPose
    from training.task_records import task_records

    model = UniPose.from_pretrained(checkpoint, dtype="float32")
    figures = {}
    for task, short in (("text_to_pose", "t2p"), ("pose_to_text", "p2t")):
        records = task_records(corpus, task, "test", evaluation=True, max_items=samples, seed=seed)
        right, wrong = conditioning_gap(model, records, seed)
        figures[f"loss {short}"], figures[f"gap {short}"] = right, wrong - right
    return figures


def answer_figures(checkpoint: Path | None, corpus, trivial: dict, describe: int, seed: int) -> dict:
    """What the answers get right, through the engine (None: the trivial answers)."""
    from backend.engine import Sampling, UniPoseEngine
    from training.task_records import task_records

    held_out = task_records(corpus, "pose_to_text", "test", evaluation=True, max_items=describe, seed=seed)
    facts = PoseFacts.of_poses(np.stack([r["pose"] for r in held_out]))
    starts = start_poses()
    if checkpoint is None:
        poses = [trivial["pose"]] * len(PROMPTS)
        texts = [trivial["caption"]] * len(held_out)
        edited = [starts[e.start] for e in EVERYDAY_EDITS]
    else:
        engine = UniPoseEngine.load(checkpoint, device="cpu")
        sampling = Sampling(seed=seed)
        poses = [engine.text_to_pose(p.text, sampling)[0] for p in PROMPTS]
        texts = [engine.pose_to_text(r["pose"], sampling) for r in held_out]
        # the model's own answers: the edit scope (backend.edit_scope) would hide what a row learnt
        edited = [engine.edit_pose(starts[e.start], e.instruction, sampling, whole_body=True)[0]
                  for e in EVERYDAY_EDITS]
    described = summarize_texts([score_description(t, f) for t, f in zip(texts, facts)])
    edits = summarize_edits([score_edit(starts[e.start], pose, list(e.facts))
                             for e, pose in zip(EVERYDAY_EDITS, edited)])
    return {"natural": f"{sum(check_prompt(p, pose) for p, pose in zip(PROMPTS, poses))}/{len(PROMPTS)}",
            "desc true %": described["true"], "desc covered %": described["covered"],
            "edits followed %": edits["followed"], "drift p50 cm": edits["drift_p50"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", required=True, help="comma-separated names of training/configs/study/*.yaml")
    parser.add_argument("--budget-s", type=float, default=900.0, help="training wall-clock seconds per row")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "study", help="where the rows are trained")
    parser.add_argument("--corpus", default="data/corpus/v2", help="held-out data: this corpus's test split")
    parser.add_argument("--samples", type=int, default=64, help="held-out samples per conditioning gap")
    parser.add_argument("--describe", type=int, default=40, help="held-out poses to describe")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch
    torch.set_num_threads(2)
    from training.benchmarks.references import mean_pose
    from training.captioning.captions import caption_pose
    from training.task_records import load_corpus

    corpus = load_corpus(ROOT / args.corpus)
    trivial_pose = mean_pose(corpus)
    trivial = {"pose": trivial_pose, "caption": caption_pose(trivial_pose, n=1)[0]}
    results = {"trivial": {"precision": "-", "steps": 0, "samples/s": 0.0, "tokens/s": 0.0, "loss t2p": None,
                           "gap t2p": 0.0, "loss p2t": None, "gap p2t": 0.0,
                           **answer_figures(None, corpus, trivial, args.describe, args.seed)}}
    for row in args.rows.split(","):
        out = args.runs / row
        out.parent.mkdir(parents=True, exist_ok=True)
        if not (out / "checkpoint").is_dir():  # a row trained by hand with train_row's command counts
            train_row(row, out, args.budget_s)
        saved = out / "study.json"
        figures = json.loads(saved.read_text()) if saved.is_file() else {}
        if "natural" not in figures:
            figures.update(training_figures(out))
            figures.update(answer_figures(out / "checkpoint", corpus, trivial, args.describe, args.seed))
        if "loss t2p" not in figures:
            figures.update(held_out_losses(out / "checkpoint", corpus, args.samples, args.seed))
        saved.write_text(json.dumps(figures, indent=1))
        results[row] = figures
        print(f"{row}: {results[row]}", file=sys.stderr, flush=True)

    print(f"corpus {args.corpus} test split; {args.budget_s:.0f} s of training per row; gaps over {args.samples} "
          f"samples, {len(PROMPTS)} natural prompts, {args.describe} descriptions, {len(EVERYDAY_EDITS)} edits")
    print("| row | " + " | ".join(COLUMNS) + " |")
    print("| --- | " + " | ".join("---:" for _ in COLUMNS) + " |")
    for row, figures in results.items():
        cells = ("-" if figures[c] is None else form.format(figures[c]) for c, form in COLUMNS.items())
        print(f"| {row} | " + " | ".join(cells) + " |")
    trained = {r: f for r, f in results.items() if r != "trivial"}
    # learning per CPU-hour: the lowest held-out loss (text->pose + pose->text) after the same wall-clock budget
    best = min(trained, key=lambda r: trained[r]["loss t2p"] + trained[r]["loss p2t"])
    b = trained[best]
    print(f"best={best} loss_t2p={b['loss t2p']:.3f} loss_p2t={b['loss p2t']:.3f} natural={b['natural']} "
          f"gap_t2p={b['gap t2p']:+.3f} gap_p2t={b['gap p2t']:+.3f} "
          f"samples_per_s={b['samples/s']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
