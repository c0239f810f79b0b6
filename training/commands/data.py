"""`unipose data build` (the pose corpus) and `unipose data bvh2poses` (one BVH file -> poses)."""
import argparse
from pathlib import Path

from backend.cli import CommandError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BVH = REPO_ROOT.parent / "shared" / "data" / "mocap"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="build the pose corpus from motion capture")
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    build = sub.add_parser("build", help="BVH folder -> versioned corpus (poses, captions, pairs, splits, report)")
    build.add_argument("--bvh", type=Path, default=DEFAULT_BVH if DEFAULT_BVH.exists() else None,
                       help=f"folder of BVH files (default: {DEFAULT_BVH} when it exists)")
    build.add_argument("--out", type=Path, default=REPO_ROOT / "data" / "corpus",
                       help="corpus root; the build goes to OUT/VERSION (default: data/corpus)")
    build.add_argument("--amass", type=Path, default=None,
                       help="also take poses from an AMASS folder of .npz motions (use --bvh none for AMASS only)")
    build.add_argument("--version", default=None, help="version folder name (default: v2; v1 was built before "
                       "the body states and short texts)")
    build.add_argument("--base-poses", type=int, default=None, help="mocap poses kept by farthest-point sampling")
    build.add_argument("--no-text", action="store_true", help="skip captions and pair instructions")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.add_argument("--state-sheets", type=Path, default=None, metavar="DIR",
                       help="also write a contact sheet of 24 random poses per body state into DIR "
                       "(for checking by eye)")
    build.set_defaults(func=_build)

    convert = sub.add_parser("bvh2poses", help="one BVH file -> npz with rotations (N, 22, 3) axis-angle and fps")
    convert.add_argument("file", type=Path)
    convert.add_argument("-o", "--output", type=Path, required=True)
    convert.add_argument("--skeleton-map", type=Path, default=None, help="skeleton map JSON (default: detected)")
    convert.set_defaults(func=_bvh2poses)


def _build(args: argparse.Namespace) -> int:
    bvh = None if args.bvh is not None and str(args.bvh) == "none" else args.bvh
    if args.amass is not None and not args.amass.is_dir():
        raise CommandError(f"AMASS folder not found: {args.amass}")
    if bvh is not None and not bvh.is_dir() or bvh is None and args.amass is None:
        raise CommandError(f"BVH folder not found: {args.bvh} (get the CMU BVH files, see README)")
    from training.data.build import BuildConfig, build_corpus

    config = BuildConfig(seed=args.seed)
    if args.version:
        config.version = args.version
    if args.base_poses:
        config.base_poses = args.base_poses
    try:
        manifest = build_corpus(bvh, args.out, config, progress=not args.quiet, with_text=not args.no_text,
                                amass_dir=args.amass)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from error
    if args.state_sheets:
        from training.data.build import write_state_sheets_of

        write_state_sheets_of(args.out / config.version, args.state_sheets, config.seed)
    counts = manifest["counts"]
    print(f"{args.out / config.version}: {counts['poses']} poses "
          f"({', '.join(f'{k} {v}' for k, v in counts['per_split'].items())}), "
          f"{counts.get('captions', 0)} captions, {counts.get('pairs', 0)} pairs")
    return 0


def _bvh2poses(args: argparse.Namespace) -> int:
    import numpy as np

    from training.data.bvh import BvhError, read_bvh
    from training.data.retarget import SkeletonMap, SkeletonMapError, retarget

    if not args.file.is_file():
        raise CommandError(f"no such file: {args.file}")
    try:
        bvh = read_bvh(args.file)
        skeleton_map = SkeletonMap.load(args.skeleton_map) if args.skeleton_map else None
        result = retarget(bvh, skeleton_map)
    except (BvhError, SkeletonMapError, KeyError, ValueError) as error:
        raise CommandError(f"{args.file}: {error}") from error
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, rotations=result.axis_angle.astype(np.float32),
                        fps=np.float32(bvh.fps), transl=result.transl.astype(np.float32))
    print(f"{args.output}: {len(result.axis_angle)} poses at {bvh.fps:g} fps (skeleton map {result.skeleton_map})")
    return 0
