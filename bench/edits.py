"""Edit instructions: does the result do what the instruction says, and do the joints it does not name stay?
On held-out (test split) pairs and on hand-written everyday instructions.

    .venv/bin/python bench/edits.py [--checkpoint DIR] [--corpus data/corpus/v1] [--limit N]
                                    [--edit-references "" "Keep the same pose."]

Each instruction is read as paircode facts (the corpus's with the caption parser; the everyday ones are
written with their facts in training/benchmarks/edits.py). followed = every fact holds between the start
pose and the result; drift = mean displacement of the joints the instruction does not name (pelvis-centred,
heading removed), median and 90th percentile over the edits that name part of the body, in cm. Rows: the
start pose unchanged, the mean training pose, the training edit whose instruction the evaluation's judge
finds closest (its rotation change applied to the start), the model through the engine (greedy) alone
(`whole_body`) and with the edit scope (the engine's default: only the limbs the instruction names change,
backend/edit_scope.py; both from the same model answer), and the corpus's target pose as a reference
(held-out pairs only). --edit-references runs the model rows once for each reference its guidance is measured
against (UniPoseConfig.edit_reference: "" the edit task's prior, else a neutral instruction; default: the
checkpoint's own), side by side. Last line for the model on all edits under the first reference, alone and with
the scope: edit_followed=x% drift_p50_cm=y scoped_followed=x% scoped_drift_p50_cm=y.
"""
import argparse
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.benchmarks.edits import EVERYDAY_EDITS, score_edit, start_poses, summarize  # noqa: E402

MODEL, SCOPED = "model (whole body)", "model + edit scope (default)"


def reference_label(reference: str) -> str:
    return f"guided against \"{reference}\"" if reference else "guided against the task prior"


def model_rows(reference: str) -> tuple[str, str]:
    """The whole-body and scoped row names of the model under one edit reference."""
    label = reference_label(reference)
    return f"{MODEL}, {label}", f"{SCOPED}, {label}"


class LastAnswer:
    """A pose model that answers a request it has just answered from memory, so that the engine's two edit
    rows (whole body and scoped) come from one model answer per edit."""

    def __init__(self, model):
        self.model, self.key, self.answer = model, None, None

    def run(self, task, sampling, text=None, poses=(), **inputs):
        key = (task, sampling, text, tuple(pose.tobytes() for pose in poses))
        if key != self.key:
            self.key, self.answer = key, self.model.run(task, sampling=sampling, text=text, poses=poses, **inputs)
        return self.answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="UniPose checkpoint folder (default: the shipped model)")
    parser.add_argument("--corpus", default="data/corpus/v1", help="corpus: held-out pairs from its test split")
    parser.add_argument("--judge", help="retrieval judge folder (default: docs/eval/retrieval)")
    parser.add_argument("--limit", type=int, help="held-out pairs (default: all; chosen at random with --seed)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--edit-references", nargs="+", metavar="INSTRUCTION",
                        help="what edits are guided against, one model run each: \"\" the task prior, else a "
                             "neutral instruction (default: the checkpoint's setting)")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(args.threads)
    from backend.engine import Sampling, UniPoseEngine
    from backend.paths import default_checkpoint
    from training.benchmarks.references import DEFAULT_JUDGE, EditLookup, load_judge, mean_pose
    from backend.facts.parse import ParseError, parse_instruction
    from training.task_records import load_corpus, task_records
    from training.retrieval.fit import PAIR_TEXT, TextEmbeddings

    corpus = load_corpus(args.corpus)
    cases, unreadable = [], 0   # (part, start, instruction, facts, target or None)
    for r in task_records(corpus, "edit_pose", "test", evaluation=True, max_items=args.limit, seed=args.seed):
        try:
            cases.append(("held-out", r["pose_a"], r["text"], parse_instruction(r["text"]), r["pose_b"]))
        except ParseError:
            unreadable += 1
    starts = start_poses()
    cases += [("everyday", starts[e.start], e.instruction, list(e.facts), None) for e in EVERYDAY_EDITS]

    lookup = EditLookup(corpus, load_judge(corpus, args.judge or DEFAULT_JUDGE)[PAIR_TEXT], TextEmbeddings())
    mean = mean_pose(corpus)
    results = {"start pose unchanged": [c[1] for c in cases], "mean pose": [mean] * len(cases),
               "nearest neighbour": [lookup.apply(c[1], c[2]) for c in cases]}
    checkpoint = args.checkpoint or default_checkpoint()
    engine = UniPoseEngine.load(checkpoint, device="cpu")
    model = engine.model
    references = args.edit_references or [model.config.edit_reference]
    timings = []
    for reference in references:
        model.config.edit_reference = reference
        engine.model = LastAnswer(model)  # answers remembered under this reference only
        label = reference_label(reference)
        whole, scoped = model_rows(reference)
        start = time.perf_counter()
        results[whole], results[scoped] = [], []
        for i, c in enumerate(cases):
            results[whole].append(engine.edit_pose(c[1], c[2], Sampling(seed=args.seed), whole_body=True)[0])
            results[scoped].append(engine.edit_pose(c[1], c[2], Sampling(seed=args.seed))[0])
            if (i + 1) % 25 == 0:
                print(f"{label}: {i + 1}/{len(cases)} edited, {time.perf_counter() - start:.0f} s", file=sys.stderr)
        timings.append(f"{label} {(time.perf_counter() - start) / len(cases):.2f} s an edit")
    results["corpus target (reference)"] = [c[4] for c in cases]

    print(f"checkpoint: {checkpoint}; corpus: {args.corpus}, test split; "
          f"{sum(c[0] == 'held-out' for c in cases)} held-out pairs ({unreadable} unreadable instructions skipped) + "
          f"{len(EVERYDAY_EDITS)} everyday instructions; model " + ", ".join(timings))
    print("| answer | edits | followed % | facts held % | drift p50 cm | drift p90 cm | edits with drift |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    summaries = {}
    for row, answers in results.items():
        scores = [(c[0], score_edit(c[1], a, c[3])) for c, a in zip(cases, answers) if a is not None]
        for part in ("held-out", "everyday", "all"):
            chosen = [s for p, s in scores if part in ("all", p)]
            if not chosen:
                continue
            s = summaries[(row, part)] = summarize(chosen)
            print(f"| {row} | {part} ({len(chosen)}) | {s['followed']:.1f} | {s['facts_held']:.1f} | "
                  f"{s['drift_p50']:.1f} | {s['drift_p90']:.1f} | {s['with_drift']} |")
    whole, scoped = model_rows(references[0])
    m, scoped = summaries[(whole, "all")], summaries[(scoped, "all")]
    print(f"edit_followed={m['followed']:.1f}% drift_p50_cm={m['drift_p50']:.1f} "
          f"scoped_followed={scoped['followed']:.1f}% scoped_drift_p50_cm={scoped['drift_p50']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
