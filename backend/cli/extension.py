"""`unipose build-extension [-o dist/]`: the installable Blender extension zip, `dist/unipose-<version>.zip`.

The zip holds blender_manifest.toml, the add-on (blender_addon/*.py) at its root, a vendored copy of the
pure-numpy body modules under `vendor/body/` and of the task registry as `vendor/tasks.py` (so the add-on needs
nothing from the project's Python), and
`project.json` naming this checkout, from which the add-on finds the backend's .venv interpreter.
"""
import ast
import json
import tomllib
import zipfile
from pathlib import Path

from backend.cli import CommandError

REPO_ROOT = Path(__file__).resolve().parents[2]
ADDON_DIR = REPO_ROOT / "blender_addon"
MANIFEST = REPO_ROOT / "blender_manifest.toml"
BODY_DIR = REPO_ROOT / "backend" / "body"
TASKS_MODULE = REPO_ROOT / "backend" / "tasks.py"
VENDORED_BODY_MODULES = ("skeleton", "rotations", "kinematics")
ALLOWED_VENDOR_IMPORTS = {"numpy", "math", "__future__", "dataclasses", "typing"}


def vendor_source(source: str, module_name: str) -> str:
    """Rewrite `backend.body.X` imports to relative ones and refuse any other non-numpy import, so the
    vendored module imports inside Blender without the backend."""
    tree = ast.parse(source, filename=f"{module_name}.py")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.startswith("backend.body"):
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        for name in names:
            if name.split(".")[0] not in ALLOWED_VENDOR_IMPORTS:
                raise CommandError(f"{module_name}.py imports {name}: the Blender add-on can only "
                                   "vendor modules that import numpy and each other")
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.startswith("backend.body"):
            relative = "." + node.module[len("backend.body"):].lstrip(".")
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
            first, last = node.lineno - 1, node.end_lineno - 1
            lines[first:last + 1] = [f"from {relative} import {names}\n"] + ["\n"] * (last - first)
    return "".join(lines)


def manifest_version() -> str:
    with open(MANIFEST, "rb") as handle:
        return tomllib.load(handle)["version"]


def build_extension(output_dir: Path) -> Path:
    """Write `<output_dir>/unipose-<version>.zip` and return its path."""
    if not MANIFEST.is_file() or not ADDON_DIR.is_dir():
        raise CommandError(f"run from a UniPose checkout: {MANIFEST} or {ADDON_DIR} is missing")
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"unipose-{manifest_version()}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(MANIFEST, "blender_manifest.toml")
        for source in sorted(ADDON_DIR.rglob("*.py")):
            if "__pycache__" not in source.parts:
                archive.write(source, source.relative_to(ADDON_DIR).as_posix())
        archive.writestr("vendor/__init__.py", '"""Copies of project modules the add-on needs."""\n')
        archive.writestr("vendor/body/__init__.py", '"""backend/body, numpy-only modules."""\n')
        for name in VENDORED_BODY_MODULES:
            source = (BODY_DIR / f"{name}.py").read_text(encoding="utf-8")
            archive.writestr(f"vendor/body/{name}.py", vendor_source(source, name))
        archive.writestr("vendor/tasks.py", vendor_source(TASKS_MODULE.read_text(encoding="utf-8"), "tasks"))
        archive.writestr("project.json", json.dumps({"project_root": str(REPO_ROOT)}, indent=2) + "\n")
    return path


def _handle(args) -> int:
    path = build_extension(Path(args.output))
    print(path)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "build-extension", help="build the installable Blender extension zip",
        description="Write dist/unipose-<version>.zip: install it in Blender with Edit > Preferences > "
                    "Get Extensions > Install from Disk.")
    parser.add_argument("-o", "--output", default="dist", help="output folder (default: dist/)")
    parser.set_defaults(func=_handle)
