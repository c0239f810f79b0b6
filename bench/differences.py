"""Pose pair -> difference text: is what the text asks true of the two poses, and is it tied to its pair?
On held-out (test split) pairs.

    .venv/bin/python bench/differences.py [--checkpoint DIR] [--corpus data/corpus/v1] [--limit 200]
                                          [--examples 3] [--difference-guidance 1,1.5,2]

Each text is read as paircode facts with the instruction parser (backend/facts/parse.py) and checked from
pose A to pose B as an edit is (score_differences in training/benchmarks/edits.py): readable = share of texts
the parser reads, all true = share of texts whose every fact holds (an unreadable text counts as not), facts
true = share of the readable texts' facts that hold, rprec3 = R-precision top-3 of the text against its pair
under the evaluation's pair judge (1 true + 31 random texts of the other pairs). Rows: the training split's most
frequent instruction for every pair, the instruction of the training pair closest under the judge, the model
through the engine (greedy), and the corpus's own text as a reference. --difference-guidance runs the model
row once per weight of UniPoseConfig.difference_guidance (1: plain; default: the checkpoint's), side by
side. Last line for the model at the first weight: diff_true=x% diff_facts_true=y% diff_rprec3=z%.
"""
import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.benchmarks.edits import score_differences  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="UniPose checkpoint folder (default: the shipped model)")
    parser.add_argument("--corpus", default="data/corpus/v1", help="corpus: held-out pairs from its test split")
    parser.add_argument("--judge", help="retrieval judge folder (default: docs/eval/retrieval)")
    parser.add_argument("--limit", type=int, default=200, help="held-out pairs (chosen at random with --seed)")
    parser.add_argument("--examples", type=int, default=3, help="model texts to print")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--difference-guidance", metavar="W,W,...",
                        help="guide differences against A to A at these weights, one model row each "
                             "(default: the checkpoint's setting)")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    from backend.engine import Sampling, UniPoseEngine
    from backend.paths import default_checkpoint
    from training.benchmarks.references import DEFAULT_JUDGE, EditLookup, encode_pairs, encode_texts, load_judge
    from training.metrics.retrieval import r_precision
    from training.retrieval.fit import PAIR_TEXT, TextEmbeddings
    from training.task_records import load_corpus, task_records

    corpus = load_corpus(args.corpus)
    records = task_records(corpus, "pose_diff", "test", evaluation=True, max_items=args.limit, seed=args.seed)
    poses_a, poses_b = np.stack([r["pose_a"] for r in records]), np.stack([r["pose_b"] for r in records])
    judge, embed = load_judge(corpus, args.judge or DEFAULT_JUDGE)[PAIR_TEXT], TextEmbeddings()
    lookup = EditLookup(corpus, judge, embed)
    fixed = Counter(lookup.texts).most_common(1)[0][0]
    texts = {"most frequent instruction": [fixed] * len(records),
             "nearest neighbour": lookup.instruction_for_pairs(poses_a, poses_b)}

    checkpoint = args.checkpoint or default_checkpoint()
    engine = UniPoseEngine.load(checkpoint, device="cpu")
    config = engine.model.config
    weights = ([float(w) for w in args.difference_guidance.split(",")] if args.difference_guidance
               else [config.difference_guidance])
    timings = []
    for weight in weights:
        config.difference_guidance = weight
        row = f"model, difference guidance {weight:g}"
        start, texts[row] = time.perf_counter(), []
        for i, (a, b) in enumerate(zip(poses_a, poses_b)):
            texts[row].append(engine.pose_diff(a, b, Sampling(seed=args.seed)))
            if (i + 1) % 25 == 0:
                print(f"{row}: {i + 1}/{len(records)} pairs, {time.perf_counter() - start:.0f} s", file=sys.stderr)
        timings.append(f"{(time.perf_counter() - start) / len(records):.2f} s a text at guidance {weight:g}")
    model_rows = [row for row in texts if row.startswith("model")]
    texts["corpus text (reference)"] = [r["text"] for r in records]

    pair_emb = encode_pairs(judge, poses_a, poses_b)
    results = {}
    for row, answers in texts.items():
        results[row] = score_differences(answers, poses_a, poses_b)
        results[row]["rprec3"] = r_precision(pair_emb, encode_texts(judge, embed, answers), ks=(3,),
                                             seed=args.seed)[3]

    print(f"checkpoint: {checkpoint}; corpus: {args.corpus}, test split; {len(records)} held-out pairs; model "
          + ", ".join(timings) + f", text steps {engine.status()['text_steps']}")
    print(f"most frequent instruction: \"{fixed}\"")
    for row in model_rows:
        for text, reference in list(zip(texts[row], texts["corpus text (reference)"]))[: args.examples]:
            print(f"{row}: \"{text}\"  (corpus: \"{reference}\")")
    print("| answer | readable % | all true % | facts true % | R-precision top-3 % |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row, s in results.items():
        print(f"| {row} | {s['readable']:.1f} | {s['all_true']:.1f} | {s['facts_true']:.1f} | {s['rprec3']:.1f} |")
    m = results[model_rows[0]]
    print(f"diff_true={m['all_true']:.1f}% diff_facts_true={m['facts_true']:.1f}% diff_rprec3={m['rprec3']:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
