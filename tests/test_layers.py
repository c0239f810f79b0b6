"""The layers point one way: training imports backend, never the reverse; the backend never imports bpy."""
import ast
from pathlib import Path

import pytest

from backend.cli import build_parser

BACKEND = Path(__file__).resolve().parents[1] / "backend"


def _imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(BACKEND.rglob("*.py")), ids=lambda p: str(p.relative_to(BACKEND)))
def test_backend_never_imports_training_or_blender(path):
    offending = [n for n in _imported_modules(path) if n.split(".")[0] in ("training", "bpy", "bmesh", "mathutils")]
    assert not offending, offending


def test_training_commands_reach_the_command_line_through_entry_points():
    parser = build_parser()
    for command in (["label", "pose.json"], ["caption", "pose.json"], ["data", "build"]):
        assert parser.parse_args(command).func.__module__.startswith("training.commands.")
