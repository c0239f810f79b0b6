"""`unipose build-extension`: the zip layout, Blender's own validator, and a self-contained add-on."""
import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from backend.cli import main
from backend.cli.extension import ADDON_DIR, build_extension, manifest_version, vendor_source

REPO = Path(__file__).resolve().parents[1]


def blender_ext_script() -> Path | None:
    try:
        import importlib.util
        spec = importlib.util.find_spec("bpy")
    except ImportError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    return found[0] if found else None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    assert main(["build-extension", "-o", str(out)]) == 0
    return out / f"unipose-{manifest_version()}.zip"


def test_zip_name_and_contents(built):
    assert built.is_file() and built.name == "unipose-0.1.0.zip"
    names = set(zipfile.ZipFile(built).namelist())
    assert {"blender_manifest.toml", "__init__.py", "rig.py", "client.py", "project.json",
            "vendor/body/skeleton.py", "vendor/body/rotations.py", "vendor/body/kinematics.py",
            "vendor/tasks.py"} <= names
    assert not any("__pycache__" in n for n in names)


def test_blenders_validator_accepts_the_zip(built):
    script = blender_ext_script()
    if script is None:
        pytest.skip("bpy (which ships blender_ext.py) is not installed")
    run = subprocess.run([sys.executable, str(script), "validate", str(built)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Success" in run.stdout


def test_vendored_add_on_imports_without_backend_or_torch(built, tmp_path):
    """The zip's pure modules import from the zip alone (no repository on the path), without torch."""
    zipfile.ZipFile(built).extractall(tmp_path / "unipose")
    code = (f"import sys; sys.path[:] = [p for p in sys.path if p not in ('', {str(REPO)!r})]; "
            f"sys.path.insert(0, {str(tmp_path)!r}); "
            "import unipose.rigmap, unipose.client, unipose.capsules, unipose.posedata, unipose.tasks; "
            "assert unipose.body.skeleton.__name__ == 'unipose.vendor.body.skeleton'; "
            "assert unipose.tasks.TASKS['edit_pose'].output == 'pose' and len(unipose.tasks.TASKS) == 7; "
            "assert 'backend' not in sys.modules and 'torch' not in sys.modules and 'bpy' not in sys.modules; "
            "print(unipose.body.kinematics.pose_joints(__import__('numpy').zeros((22, 3))).shape)")
    run = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(24, 3)"


def test_add_on_source_never_imports_torch():
    """Only body.py and tasks.py may name the backend: their fallbacks to backend.body and backend.tasks when
    run from the repository (the zip vendors both)."""
    for path in ADDON_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                allowed = {"body.py": ["backend.body"], "tasks.py": ["backend.tasks"]}.get(path.name, [])
                assert not any(n.split(".")[0] in ("torch", "backend", "training") and n not in allowed
                               for n in names), (path, names)


def test_vendoring_rewrites_body_imports_and_rejects_others():
    source = "import numpy as np\nfrom backend.body.rotations import (\n    a,\n    b,\n)\nx = 1\n"
    rewritten = vendor_source(source, "m")
    assert "from .rotations import a, b\n" in rewritten and "backend" not in rewritten
    assert rewritten.count("\n") == source.count("\n")  # line numbers stay for tracebacks
    with pytest.raises(Exception, match="imports torch"):
        vendor_source("import torch\n", "m")


def test_build_extension_function_returns_path(tmp_path):
    assert build_extension(tmp_path) == tmp_path / "unipose-0.1.0.zip"
