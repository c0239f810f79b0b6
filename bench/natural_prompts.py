"""Natural prompts -> poses, each checked on the geometry of the answer; pass rate per body or arm state.

    .venv/bin/python bench/natural_prompts.py [--checkpoint DIR] [--corpus data/corpus/v1] [--limit N]
                                              [--out docs/experiments/natural_prompts.png] [--show-checks]

The prompts are written by hand the way people type them (training/benchmarks/prompts.py, with their checks),
not by the caption templates. Three rows: the mean training pose for every prompt (chance), the training pose
the evaluation's retrieval judge matches best to the prompt (looking the answer up), and the model through
the engine (the path of `unipose text2pose` and the Blender panel: greedy, default guidance, contact
refinement). Writes a contact sheet of the model's answers. Last line: natural_pass=passed/prompts.
"""
import argparse
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.benchmarks.prompts import GROUPS, PROMPTS, check_prompt  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="UniPose checkpoint folder (default: the shipped model)")
    parser.add_argument("--corpus", default="data/corpus/v1", help="corpus for the reference rows (training split)")
    parser.add_argument("--judge", help="retrieval judge folder (default: docs/eval/retrieval)")
    parser.add_argument("--limit", type=int, help="only the first N prompts (a quick run)")
    parser.add_argument("--out", default="docs/experiments/natural_prompts.png", help="contact sheet of the answers")
    parser.add_argument("--show-checks", action="store_true", help="print every prompt's check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    from backend.engine import Sampling, UniPoseEngine
    from backend.paths import default_checkpoint
    from backend.render import render_poses
    from training.benchmarks.references import DEFAULT_JUDGE, PoseLookup, load_judge, mean_pose
    from training.task_records import load_corpus
    from training.retrieval.fit import POSE_TEXT, TextEmbeddings

    prompts = PROMPTS[: args.limit] if args.limit else PROMPTS
    texts = [p.text for p in prompts]
    corpus = load_corpus(args.corpus)
    lookup = PoseLookup(corpus, load_judge(corpus, args.judge or DEFAULT_JUDGE)[POSE_TEXT], TextEmbeddings())
    answers = {"mean pose": [mean_pose(corpus)] * len(prompts), "nearest neighbour": list(lookup.pose_for_texts(texts))}

    checkpoint = args.checkpoint or default_checkpoint()
    engine = UniPoseEngine.load(checkpoint, device="cpu")
    start = time.perf_counter()
    answers["model"] = [engine.text_to_pose(t, Sampling(seed=args.seed))[0] for t in texts]
    seconds = time.perf_counter() - start
    passed = {row: [check_prompt(p, pose) for p, pose in zip(prompts, poses)] for row, poses in answers.items()}

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    titles = [f"{'ok' if ok else 'FAIL'}: {t}" for t, ok in zip(texts, passed["model"])]
    render_poses(answers["model"], titles, columns=8, size=150).save(out)

    rows = list(answers)
    width = max(len(t) for t in texts)
    print(f"checkpoint: {checkpoint}; corpus: {args.corpus}; {len(prompts)} prompts; "
          f"model {seconds / len(prompts):.2f} s a prompt")
    print(f"| {'prompt':<{width}} | group | " + " | ".join(rows) + " |")
    print(f"| {'-' * width} | --- | " + " | ".join("---" for _ in rows) + " |")
    for i, p in enumerate(prompts):
        marks = " | ".join("pass" if passed[r][i] else "." for r in rows)
        print(f"| {p.text:<{width}} | {p.group} | {marks} |")
        if args.show_checks:
            print(f"|   check: {p.check.text}")
    print()
    print("| group | prompts | " + " | ".join(rows) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in rows) + " |")
    for group in GROUPS + ("all",):
        idx = [i for i, p in enumerate(prompts) if group in ("all", p.group)]
        if idx:
            cells = " | ".join(f"{sum(passed[r][i] for i in idx)}" for r in rows)
            print(f"| {group} | {len(idx)} | {cells} |")
    print(f"wrote {out}")
    print(f"natural_pass={sum(passed['model'])}/{len(prompts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
