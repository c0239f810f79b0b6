"""Pose -> text truthfulness: is every statement of a description true of the pose, and does it mention
what matters? On held-out (test split) poses.

    .venv/bin/python bench/describe.py [--checkpoint DIR] [--corpus data/corpus/v1] [--limit 300] [--examples 3]
                                       [--text-steps auto|int8|full] [--description-guidance 1,2,3]

Every description is read back into posecode facts with the caption parser and checked on the input pose
(training/benchmarks/statements.py): true = share of statements true of the pose (an unreadable clause
counts as a statement that is not true), covered = share of the pose's salient posecodes the description
states, rprec3 = R-precision top-3 of the description against its pose under the evaluation's retrieval
judge (1 true + 31 random descriptions of the other poses). Rows: one fixed caption (the mean training
pose's) for every pose, the caption of the training pose closest under the judge, the model through the
engine (greedy), and the corpus's own caption as a reference. --description-guidance runs the model row once
per weight of UniPoseConfig.description_guidance (1: plain; default: the checkpoint's), side by side. Last line
for the model at the first weight: describe_true=x% describe_covered=y% rprec3=z%.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.cli.serve import TEXT_STEPS  # noqa: E402
from training.benchmarks.statements import (  # noqa: E402
    PoseFacts, fact_is_true, read_statements, score_description, summarize,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="UniPose checkpoint folder (default: the shipped model)")
    parser.add_argument("--corpus", default="data/corpus/v1", help="corpus: held-out poses from its test split")
    parser.add_argument("--judge", help="retrieval judge folder (default: docs/eval/retrieval)")
    parser.add_argument("--limit", type=int, default=300, help="held-out poses (chosen at random with --seed)")
    parser.add_argument("--examples", type=int, default=3, help="model descriptions to print with their verdicts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--text-steps", choices=TEXT_STEPS, default="auto",
                        help="the model's one-token text steps in int8 or full precision (backend/model/int8_steps.py)")
    parser.add_argument("--description-guidance", metavar="W,W,...",
                        help="guide descriptions against a standing pose's at these weights, one model row each "
                             "(default: the checkpoint's setting)")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    from backend.engine import Sampling, UniPoseEngine
    from backend.paths import default_checkpoint
    from training.benchmarks.references import (DEFAULT_JUDGE, PoseLookup, encode_poses, encode_texts, load_judge,
                                                mean_pose)
    from training.captioning.captions import caption_pose
    from training.task_records import load_corpus, task_records
    from training.metrics.retrieval import r_precision
    from training.retrieval.fit import POSE_TEXT, TextEmbeddings

    corpus = load_corpus(args.corpus)
    records = task_records(corpus, "pose_to_text", "test", evaluation=True, max_items=args.limit, seed=args.seed)
    poses = np.stack([r["pose"] for r in records])
    judge, embed = load_judge(corpus, args.judge or DEFAULT_JUDGE)[POSE_TEXT], TextEmbeddings()
    lookup = PoseLookup(corpus, judge, embed)
    fixed = caption_pose(mean_pose(corpus), n=1)[0]
    texts = {"fixed caption": [fixed] * len(poses), "nearest neighbour": lookup.caption_for_poses(poses)}

    checkpoint = args.checkpoint or default_checkpoint()
    engine = UniPoseEngine.load(checkpoint, device="cpu", text_steps=args.text_steps)
    config = engine.model.config
    weights = ([float(w) for w in args.description_guidance.split(",")] if args.description_guidance
               else [config.description_guidance])
    timings = []
    for weight in weights:
        config.description_guidance = weight
        row = f"model, description guidance {weight:g}"
        start, texts[row] = time.perf_counter(), []
        for i, p in enumerate(poses):
            texts[row].append(engine.pose_to_text(p, Sampling(seed=args.seed)))
            if (i + 1) % 25 == 0:
                print(f"{row}: {i + 1}/{len(poses)} described, {time.perf_counter() - start:.0f} s", file=sys.stderr)
        timings.append(f"{(time.perf_counter() - start) / len(poses):.2f} s a description at guidance {weight:g}")
    model_rows = [row for row in texts if row.startswith("model")]
    texts["corpus caption (reference)"] = [r["text"] for r in records]

    facts = PoseFacts.of_poses(poses)
    pose_emb = encode_poses(judge, poses)
    results = {}
    for row, answers in texts.items():
        summary = summarize([score_description(t, f) for t, f in zip(answers, facts)])
        summary["rprec3"] = r_precision(pose_emb, encode_texts(judge, embed, answers), ks=(3,), seed=args.seed)[3]
        results[row] = summary

    print(f"checkpoint: {checkpoint}; corpus: {args.corpus}, test split; {len(poses)} held-out poses; "
          f"model " + ", ".join(timings) + f", text steps {engine.status()['text_steps']}")
    print(f"fixed caption: \"{fixed}\"")
    for row in model_rows:
        for text, f in list(zip(texts[row], facts))[: args.examples]:
            read = read_statements(text)
            verdicts = [f"{name}={cat}: {'true' if fact_is_true((name, cat), f) else 'FALSE'}"
                        for name, cat in read.facts]
            print(f"{row}: \"{text}\"\n  " + "; ".join(verdicts + [f"unreadable: '{u}'" for u in read.unreadable]))
    print("| answer | statements / text | true % | unreadable % | salient covered % | R-precision top-3 % |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row, s in results.items():
        print(f"| {row} | {s['statements_per_text']:.1f} | {s['true']:.1f} | {s['unreadable']:.1f} | "
              f"{s['covered']:.1f} | {s['rprec3']:.1f} |")
    m = results[model_rows[0]]
    print(f"describe_true={m['true']:.1f}% describe_covered={m['covered']:.1f}% rprec3={m['rprec3']:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
