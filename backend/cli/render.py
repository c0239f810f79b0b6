"""`unipose render POSE.json -o OUT.png`: a picture of a pose (front and side views)."""
from pathlib import Path

from backend.cli import CommandError, load_pose_file


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "render", help="draw a pose file as a PNG (front and side views)",
        description="Draw a pose file (smpl-axis-angle JSON) as a PNG with front and side views.",
    )
    parser.add_argument("pose", metavar="POSE.json", help="pose file to draw")
    parser.add_argument("-o", "--output", metavar="OUT.png", help="image to write (default: POSE.png)")
    parser.add_argument("--title", help="caption above the views (default: the pose's text, if any)")
    parser.add_argument("--size", type=int, default=400, help="pixel size of each view (default: 400)")
    parser.add_argument("--smpl", metavar="DIR",
                        help="folder with your own SMPL / SMPL-H / SMPL-X model files: draw that mesh instead of "
                             "capsules")
    parser.set_defaults(func=run)


def run(args) -> int:
    from backend.render import render_pose

    pose = load_pose_file(args.pose)
    if not 64 <= args.size <= 4096:
        raise CommandError(f"--size must be between 64 and 4096, got {args.size}")
    output = Path(args.output) if args.output else Path(args.pose).with_suffix(".png")
    title = args.title if args.title is not None else pose.text
    body_model = None
    if args.smpl:
        from backend.body.smpl_model import SmplBodyModel, SmplModelError

        try:
            body_model = SmplBodyModel.from_path(args.smpl)
        except (SmplModelError, OSError) as error:
            raise CommandError(str(error)) from None
    image = render_pose(pose.rotations, title=title, size=args.size, body_model=body_model)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        image.save(output)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot write {output}: {error}") from None
    print(output)
    return 0
