"""`unipose caption POSE.json` and `unipose instruct A.json B.json`: automatic pose text.

Captions describe a pose (PoseScript-style posecodes); instructions say how to turn pose A into pose B
(PoseFix-style paircodes). Both are rule-based and need no model.
"""
from backend.cli import CommandError, load_pose_file


def register(subparsers) -> None:
    caption = subparsers.add_parser(
        "caption", help="describe a pose file in words (automatic, rule-based)",
        description="Print automatic captions of a pose file (smpl-axis-angle JSON), one per line.",
    )
    caption.add_argument("pose", metavar="POSE.json", help="pose file to describe")
    caption.add_argument("--n", type=int, default=3, help="number of different captions (default: 3)")
    caption.add_argument("--seed", type=int, default=0, help="random seed for the wording (default: 0)")
    caption.set_defaults(func=run_caption)
    instruct = subparsers.add_parser(
        "instruct", help="instructions that turn pose A into pose B (automatic, rule-based)",
        description="Print instructions that turn the pose in A.json into the pose in B.json, one per line.",
    )
    instruct.add_argument("pose_a", metavar="A.json", help="starting pose file")
    instruct.add_argument("pose_b", metavar="B.json", help="target pose file")
    instruct.add_argument("--n", type=int, default=3, help="number of different instructions (default: 3)")
    instruct.add_argument("--seed", type=int, default=0, help="random seed for the wording (default: 0)")
    instruct.set_defaults(func=run_instruct)


def _load(path: str):
    return load_pose_file(path).rotations


def _check_n(n: int) -> None:
    if not 1 <= n <= 100:
        raise CommandError(f"--n must be between 1 and 100, got {n}")


def run_caption(args) -> int:
    from training.captioning.captions import caption_pose

    _check_n(args.n)
    for line in caption_pose(_load(args.pose), n=args.n, seed=args.seed):
        print(line)
    return 0


def run_instruct(args) -> int:
    from training.captioning.instructions import instruct

    _check_n(args.n)
    lines = instruct(_load(args.pose_a), _load(args.pose_b), n=args.n, seed=args.seed)
    if not lines:
        print("The two poses are already alike: no clear change to describe.")
    for line in lines:
        print(line)
    return 0
