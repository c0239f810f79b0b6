"""`unipose demo`: the main job on the shipped model. Headless Blender creates an SMPL rig, the backend poses
it from a prompt, and the .blend plus a rendered preview are written to out/ (the same path as `unipose blend`)."""
import argparse

from backend.cli import blend

DEFAULT_PROMPT = "raise both arms above the head"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="pose a Blender SMPL rig from text with the shipped model (out/demo.blend, out/demo.png)")
    parser.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT, help=f'default: "{DEFAULT_PROMPT}"')
    parser.add_argument("-o", "--output", default="out/demo.blend", metavar="OUT.blend", help="default: out/demo.blend")
    parser.add_argument("--preview", default="out/demo.png", metavar="OUT.png", help="default: out/demo.png")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(f'UniPose demo: "{args.prompt}" -> {args.output} (first run: ~1 min to load Blender and the model)')
    from backend.cli import build_parser  # blend's own parser: its defaults stay in one place

    blend_args = build_parser().parse_args(["blend", args.prompt, "-o", args.output, "--preview", args.preview,
                                            "--seed", str(args.seed)])
    return blend.handler(blend_args)
