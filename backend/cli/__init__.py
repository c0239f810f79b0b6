"""`unipose` command line. Every module in this package that defines `register(subparsers)` adds commands.

So does every module named by a `unipose.commands` entry point: the training package's commands, so that the
backend never imports training (an environment without it simply lacks those commands).

A command's `register` adds a sub-parser and sets `func=handler` on it; the handler takes the parsed
arguments and returns an exit code. Errors meant for the user are raised as `CommandError` and printed
as one line on stderr.
"""
import argparse
import importlib
import pkgutil
import sys
from importlib.metadata import entry_points

COMMAND_ENTRY_POINTS = "unipose.commands"


class CommandError(Exception):
    """A failure to report as one line on stderr with a non-zero exit code."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def load_pose_file(path: str):
    """Read a pose file for a command; an invalid file becomes a one-line `CommandError`."""
    from backend.posefile import PoseFileError, load_pose

    try:
        return load_pose(path)
    except PoseFileError as error:
        raise CommandError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="unipose", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = [f"{__name__}.{m.name}" for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)]
    names += sorted(point.value for point in entry_points(group=COMMAND_ENTRY_POINTS))
    for name in names:
        register = getattr(importlib.import_module(name), "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as error:
        print(f"unipose {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"unipose {args.command}: interrupted", file=sys.stderr)
        return 130
