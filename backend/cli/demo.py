"""`unipose demo`: the main job. For now it draws the built-in example poses to out/demo.png."""
from pathlib import Path

from backend.cli import CommandError


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run the demo (draws the built-in example poses)")
    parser.add_argument("-o", "--output", default="out/demo.png", metavar="PNG",
                        help="image to write (default: out/demo.png)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from backend.body.example_poses import EXAMPLE_POSES
    from backend.render import render_poses

    names = list(EXAMPLE_POSES)
    sheet = render_poses([EXAMPLE_POSES[n] for n in names], [n.replace("_", " ") for n in names], columns=4, size=240)
    output = Path(args.output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(output)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot write {output}: {error}") from None
    print(f"wrote {len(names)} example poses to {output.resolve()}")
    return 0
