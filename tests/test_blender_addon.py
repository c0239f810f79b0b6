"""The extension in real headless Blender: install the built zip, call every operator end to end.

Each Blender run is one subprocess (tests/blender_checks.py) so bpy never shares a process with torch;
every check inside it becomes one test here. The fake-backend run covers everything (rig I/O, FK
equality, undo, options, error paths); the real-backend run repeats the request paths against
`unipose serve` with a tiny random checkpoint.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.cli.extension import build_extension

HERE = Path(__file__).parent
CHECKS_SCRIPT = HERE / "blender_checks.py"
FAKE_BACKEND = HERE / "blender_fake_backend.py"
ALL_CHECKS = sorted(node.name for node in ast.parse(CHECKS_SCRIPT.read_text()).body
                    if isinstance(node, ast.FunctionDef) and node.name.startswith("check_"))
# request paths, the backend crash last (it reloads the model)
REAL_BACKEND_CHECKS = ["check_pose_from_text_applies_variants_and_undo", "check_describe_pose_writes_text_block",
                       "check_edit_pose_changes_the_rig", "check_compare_with_armature_and_frame",
                       "check_image_operators", "check_whole_body_reaches_edit_requests",
                       "check_backend_crash_mid_request_then_restart"]

pytest.importorskip("bpy")  # only to know it is installed; imported in the subprocess


def run_checks(tmp: Path, python: str, extra: list[str], timeout: float) -> dict:
    zip_path = build_extension(tmp / "dist")
    env = dict(os.environ, HOME=str(tmp / "home"), TMPDIR=str(tmp / "tmp"))
    for folder in ("home", "tmp"):
        (tmp / folder).mkdir(exist_ok=True)
    results = tmp / "results.json"
    run = subprocess.run([sys.executable, str(CHECKS_SCRIPT), str(zip_path), str(results), "--python", python,
                          *extra], env=env, capture_output=True, text=True, timeout=timeout)
    if not results.exists():
        pytest.fail(f"Blender checks did not finish (exit {run.returncode}):\n{run.stdout[-3000:]}\n"
                    f"{run.stderr[-3000:]}")
    return json.loads(results.read_text())


@pytest.fixture(scope="module")
def fake_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("blender_fake")
    wrapper = tmp / "fake-python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_BACKEND}" "$@"\n')
    wrapper.chmod(0o755)
    return run_checks(tmp, str(wrapper), ["--fake"], timeout=300)


@pytest.fixture(scope="module")
def real_results(tmp_path_factory):
    testing = pytest.importorskip("support.tiny_model")
    tmp = tmp_path_factory.mktemp("blender_real")
    checkpoint = testing.make_tiny_checkpoint(tmp / "tiny")
    return run_checks(tmp, sys.executable, ["--checkpoint", str(checkpoint), "--only", ",".join(REAL_BACKEND_CHECKS)],
                      timeout=900)


@pytest.mark.slow
@pytest.mark.parametrize("check", ALL_CHECKS)
def test_in_blender_with_fake_backend(fake_results, check):
    result = fake_results.get(check)
    assert result is not None, f"{check} did not run"
    assert result["ok"], result["error"]


@pytest.mark.slow
@pytest.mark.parametrize("check", REAL_BACKEND_CHECKS)
def test_in_blender_with_real_backend(real_results, check):
    result = real_results.get(check)
    assert result is not None, f"{check} did not run"
    assert result["ok"], result["error"]
