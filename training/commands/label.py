"""`unipose label POSE.json`: the short texts people would type for a pose, most salient first.

The texts ("kneeling on the left knee with both arms raised", "cross your arms") come from body states
computed from the pose's geometry (training.captioning.states), so they are true of the pose by construction.
"""
from backend.cli import CommandError, load_pose_file


def register(subparsers) -> None:
    label = subparsers.add_parser(
        "label", help="short texts for a pose file (whole-body and arm states; rule-based)",
        description="Print the short texts of a pose file (smpl-axis-angle JSON), one per line, most salient first.",
    )
    label.add_argument("pose", metavar="POSE.json", help="pose file to label")
    label.add_argument("--n", type=int, default=8, help="most texts to print (default: 8)")
    label.set_defaults(func=run_label)


def run_label(args) -> int:
    from training.captioning.short_texts import short_texts

    if not 1 <= args.n <= 100:
        raise CommandError(f"--n must be between 1 and 100, got {args.n}")
    rotations = load_pose_file(args.pose).rotations
    for line in short_texts(rotations, n=args.n, seed=0):
        print(line)
    return 0
