"""`unipose refine POSE.json "TEXT"`: bend a pose until the contacts its text asks for really hold."""
from pathlib import Path

from backend.cli import CommandError, load_pose_file


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "refine", help="make a pose satisfy the contacts a text asks for (hands on hips, kneeling, ...)",
        description="Parse the contacts TEXT asks for (\"right hand on the left knee\", \"hands together\", "
                    "\"sitting on the floor\", ...) and bend the fewest joints of POSE.json until they hold.",
    )
    parser.add_argument("pose", metavar="POSE.json", help="pose file (smpl-axis-angle JSON)")
    parser.add_argument("text", metavar="TEXT", help="the prompt or instruction that names the contacts")
    parser.add_argument("-o", "--output", metavar="OUT.json", help="pose to write (default: POSE.refined.json)")
    parser.add_argument("--preview", metavar="PNG", help="also draw the refined pose over the input")
    parser.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from backend.contact import apply_contacts
    from backend.posefile import Pose, save_pose

    pose = load_pose_file(args.pose)
    refined, report = apply_contacts(pose.rotations, args.text)
    transl = None if pose.transl is None else pose.transl + np.array([0.0, report["root_height_change"], 0.0])
    output = Path(args.output) if args.output else Path(args.pose).with_suffix(".refined.json")
    try:
        save_pose(Pose(refined, text=args.text, transl=transl, betas=pose.betas), output)
        if args.preview:
            from backend.render import render_overlay

            image = render_overlay(pose.rotations, refined, title=args.text, labels=("input", "refined"))
            image.save(args.preview)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot write the output: {error}") from None
    if not report["contacts"]:
        print("no contacts asked for; pose unchanged")
    for row in report["contacts"]:
        state = "ok" if row["satisfied"] else "NOT MET"
        print(f"{row['a']} <-> {row['b']}: gap {row['gap_before']:.3f} m -> {row['gap_after']:.3f} m  {state}")
    print(output)
    return 0 if report["all_satisfied"] else 1
