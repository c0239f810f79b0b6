"""Evaluate a UniPose checkpoint on the held-out split: all seven tasks, the paper's metrics, a Markdown
report with the paper's numbers side by side, loss curves and a PNG grid of examples.

    python -m training.evaluate runs/tiny/checkpoint            # -> runs/tiny/eval/report.md
    python -m training.evaluate CHECKPOINT --corpus data/corpus/v1 --out DIR --max-samples 200

The retrieval models (pose<->text and pose pair<->text) are trained on the corpus's training split on
first use and cached in OUT/retrieval/. Nothing is downloaded.
"""
import argparse
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from backend.tasks import POSE_TASKS, TASKS, TEXT_TASKS
from training.stages.config import EvalConfig, TrainConfig, config_from_dict, load_config

if TYPE_CHECKING:  # PIL is imported where tiles are drawn
    from PIL import Image

REPORT_NAME = "report.md"
DEFAULT_CORPUS = "data/corpus/v1"


def _split(corpus) -> str:
    return "test" if corpus.split_ids("test", include_augmented=False) else "val"


def generate(model, records: list[dict], make_image, max_new_tokens: int = 96) -> tuple[list, list[float], int]:
    """Run the model on every record (greedy). Returns (outputs, seconds per sample, failures); a failed pose
    is the rest pose and a failed text is empty."""
    from training.stages.model_setup import record_inputs

    outputs, seconds, failures = [], [], 0
    for record in records:
        inputs = record_inputs(record, make_image)
        inputs.pop("target")
        task = record["task"]
        start = time.perf_counter()
        try:
            result = model.run(task, max_new_tokens=max_new_tokens, **inputs)
        except Exception:   # a broken generation is a scored failure, not a crash of the evaluation
            result = None
        seconds.append(time.perf_counter() - start)
        if TASKS[task].output == "pose":
            ok = result is not None and result.poses
            outputs.append(np.asarray(result.poses[0], np.float32) if ok else np.zeros((22, 3), np.float32))
        else:
            ok = result is not None and result.text
            outputs.append(result.text if ok else "")
        failures += not ok
    return outputs, seconds, failures


def evaluate_task(model, task: str, records: list[dict], make_image, retrieval: dict, embed,
                  max_new_tokens: int = 96) -> tuple[dict, list]:
    from training.metrics.tasks import score_poses, score_texts
    from training.retrieval.fit import PAIR_TEXT, POSE_TEXT

    outputs, seconds, failures = generate(model, records, make_image, max_new_tokens)
    pair = TASKS[task].from_pairs
    judge = retrieval.get(PAIR_TEXT if pair else POSE_TEXT)
    if TASKS[task].output == "pose":
        target = np.stack([r["pose_b"] if pair else r["pose"] for r in records])
        poses_a = np.stack([r["pose_a"] for r in records]) if pair else None
        scores = score_poses(np.stack(outputs), target, [r["text"] for r in records], judge, embed, poses_a)
    else:
        described = np.stack([r["pose_b"] if pair else r["pose"] for r in records])
        poses_a = np.stack([r["pose_a"] for r in records]) if pair else None
        scores = score_texts(outputs, [r["references"] for r in records], judge, embed, described, poses_a)
    scores.update(failures=failures, latency_ms=1000 * float(np.mean(seconds)))
    return scores, outputs


def text_tile(text: str, size: int) -> "Image.Image":
    """A white tile with the prompt, word-wrapped."""
    import textwrap
    from PIL import Image, ImageDraw
    tile = Image.new("RGB", (size, size), (255, 255, 255))
    ImageDraw.Draw(tile).multiline_text((8, 8), "\n".join(textwrap.wrap(f"\u201c{text}\u201d", 30)[:12]),
                                        fill=(20, 20, 20), spacing=4)
    return tile


def example_grid(examples: list[tuple[dict, object]], path: Path, size: int = 220) -> None:
    """Rows of [prompt (and input pose), generated, ground truth] for pose-producing tasks."""
    from backend.render import grid, render_pose

    tiles = []
    for record, generated in examples:
        if "pose_a" in record:
            tiles.append(render_pose(record["pose_a"], f"input; {record['text']}", size=size, views=("front",)))
            truth = record["pose_b"]
        else:
            tiles.append(text_tile(record["text"], size))
            truth = record["pose"]
        tiles.append(render_pose(generated, f"generated ({record['task']})", size=size, views=("front", "side")))
        tiles.append(render_pose(truth, "ground truth", size=size, views=("front", "side")))
    if tiles:
        grid(tiles, columns=3).save(path)


def evaluate_checkpoint(checkpoint: Path, config: TrainConfig | None, out_dir: Path, corpus_dir=None,
                        run_dir: Path | None = None, max_samples: int | None = None, log=print,
                        tokenizer_eval: Path | None = None, renders: Path | None = None) -> dict:
    """Evaluate every task the checkpoint supports; writes OUT/report.md, OUT/results.json, PNGs.

    run_dir: the training run (loss curves, stage-0 tokenizer evaluation); tokenizer_eval: a tokenizer
    eval.json written by training.stages.tokenizer (overrides the run's); renders: the --json output of
    bench/image_pose.py (image -> pose on rendered bodies), added to the report as its own section.
    """
    from backend.model.unipose import UniPose
    from training.task_records import load_corpus, task_records
    from training.eval_report import read_curves, plot_curves, write_report
    from training.retrieval.fit import TextEmbeddings, fit_retrieval_models
    from training.stages.model_setup import image_source

    eval_cfg = config.eval if config else EvalConfig()
    max_samples = max_samples or eval_cfg.max_samples
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus_dir = Path(corpus_dir or (config.corpus if config else DEFAULT_CORPUS))
    corpus = load_corpus(corpus_dir)
    split = _split(corpus)
    seed = config.run.seed if config else 0

    retrieval_log = {}
    retrieval = fit_retrieval_models(corpus, out_dir / "retrieval", epochs=eval_cfg.retrieval_epochs,
                                     batch_size=eval_cfg.retrieval_batch, max_items=eval_cfg.retrieval_max_items,
                                     seed=seed,
                                     log=log)
    for name in retrieval:
        info = out_dir / "retrieval" / name / "training.json"
        if info.is_file():
            retrieval_log[name] = json.loads(info.read_text())
    embed = TextEmbeddings()
    model = UniPose.from_pretrained(checkpoint)
    kinds = [e["kind"] for e in model.vision.config()["encoders"]] if model.vision is not None else []
    make_image = image_source(kinds, int(config.model.get("image_size", 224)) if config else 224, seed=seed)
    results, examples = {}, []
    for task in (*POSE_TASKS, *TEXT_TASKS):
        if task.startswith("image") and model.vision is None:
            continue
        records = task_records(corpus, task, split, evaluation=True, max_items=max_samples, seed=seed)
        if len(records) < 2:
            log(f"{task}: fewer than 2 held-out samples, skipped")
            continue
        with torch.no_grad():
            scores, outputs = evaluate_task(model, task, records, make_image, retrieval, embed,
                                            eval_cfg.max_new_tokens)
        results[task] = scores
        log(f"{task}: " + ", ".join(f"{k}={v:.1f}" for k, v in scores.items()
                                    if isinstance(v, float) and not k.startswith("real_")))
        if task in ("text_to_pose", "edit_pose"):
            examples += list(zip(records, outputs))[: max(1, eval_cfg.grid_rows // 2)]
    (out_dir / "results.json").write_text(json.dumps(results, indent=1))

    tokenizer = None
    if tokenizer_eval is None and run_dir and (Path(run_dir) / "stage0" / "eval" / "eval.json").is_file():
        tokenizer_eval = Path(run_dir) / "stage0" / "eval" / "eval.json"
    if tokenizer_eval is not None:
        tokenizer = json.loads(Path(tokenizer_eval).read_text())
    curves = None
    if run_dir:
        plot_curves(read_curves(Path(run_dir)), out_dir / "training_curves.png")
        curves = "training_curves.png" if (out_dir / "training_curves.png").is_file() else None
    example_grid(examples, out_dir / "examples.png")
    images = ("none (no visual processor)" if model.vision is None else "synthetic BlazePose landmarks of the "
              "ground-truth poses (no pixels)" if "landmarks" in kinds
              else "capsule-body renderings of the ground-truth poses")
    header = {"checkpoint": str(checkpoint), "corpus": str(corpus_dir), "split": split, "max_samples": max_samples,
              "images": images}
    write_report(out_dir / REPORT_NAME, header, results, tokenizer, retrieval_log, curves,
                 "examples.png" if (out_dir / "examples.png").is_file() else None,
                 json.loads(Path(renders).read_text()) if renders else None)
    log(f"report: {out_dir / REPORT_NAME}")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help="a UniPose checkpoint folder (tokenizer/ + unipose/)")
    parser.add_argument("--config", help="training config (default: the run's config.json next to the checkpoint)")
    parser.add_argument("--corpus", help="corpus folder (default: the config's, else data/corpus/v1)")
    parser.add_argument("--out", help="report folder (default: <checkpoint>/../eval)")
    parser.add_argument("--max-samples", type=int, help="held-out samples per task")
    parser.add_argument("--run", help="the training run folder, for loss curves (default: the checkpoint's parent "
                        "when it holds a config.json)")
    parser.add_argument("--tokenizer-eval", help="a tokenizer eval.json (training.stages.tokenizer) to report")
    parser.add_argument("--renders", help="bench/image_pose.py --json output: image -> pose on rendered bodies")
    args = parser.parse_args(argv)
    checkpoint = Path(args.checkpoint)
    run_dir = Path(args.run) if args.run else checkpoint.parent if (checkpoint.parent / "config.json").is_file() \
        else None
    config = load_config(args.config) if args.config else None
    if config is None and run_dir is not None:
        config = config_from_dict(json.loads((run_dir / "config.json").read_text()), str(run_dir / "config.json"))
    if config is not None and config.run.num_threads:
        torch.set_num_threads(config.run.num_threads)
    evaluate_checkpoint(checkpoint, config, Path(args.out) if args.out else checkpoint.parent / "eval",
                        args.corpus, run_dir, args.max_samples, tokenizer_eval=args.tokenizer_eval,
                        renders=args.renders)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
