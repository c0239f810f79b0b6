"""`unipose blend --pose POSE.json --rig IN.blend [--armature NAME]`: the artist's own rig, mapped automatically,
posed from a pose file in headless Blender (no model); an unmappable rig is a one-line error and no file."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.body import example_poses
from backend.cli import main
from backend.posefile import Pose, save_pose

REPO = Path(__file__).resolve().parents[1]
MAKE_RIGS = """
import os, sys
import numpy as np
import bpy
sys.path.insert(0, "tests")
import _rig_conventions as rc
from blender_addon import rig
bpy.ops.wm.read_factory_settings(use_empty=True)
names, parents, heads, tails, rolls, yup, _ = rc.build("ue4")
ob = rig.build_armature(bpy.context, "Hero", names, heads, tails, parents, rolls)
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[1])
rig.build_armature(bpy.context, "Snake", ["a", "b", "c"], [(0, 0, 0), (0, 0, 1), (0, 0, 2)],
                   [(0, 0, 1), (0, 0, 2), (0, 0, 3)], [-1, 0, 1])
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[2])
sys.stdout.flush()
os._exit(0)
"""
READ_BACK = """
import json, os, sys
import bpy
from blender_addon import rig
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
hero = rig.SmplRig(bpy.data.objects["Hero"])
print(json.dumps({"pose": hero.read_pose().tolist(), "floor": hero.body_surface_height(),
                  "rest_floor": hero.body_surface_height(rest=True), "convention": hero.convention}))
sys.stdout.flush()
os._exit(0)
"""


def test_prompt_or_pose_and_armature_needs_rig(tmp_path, capsys):
    pytest.importorskip("bpy")
    assert main(["blend", "-o", str(tmp_path / "a.blend")]) == 2
    assert "give either a PROMPT or --pose" in capsys.readouterr().err
    assert main(["blend", "x", "-o", str(tmp_path / "a.blend"), "--armature", "Hero"]) == 2
    assert "--armature needs --rig" in capsys.readouterr().err
    assert main(["blend", "x", "-o", str(tmp_path / "a.blend"), "--rig", str(tmp_path / "none.blend")]) == 2
    assert "rig file not found" in capsys.readouterr().err


def test_blend_poses_a_mapped_rig_from_a_pose_file(tmp_path):
    pytest.importorskip("bpy")
    hero, snake = tmp_path / "hero.blend", tmp_path / "snake.blend"
    env = {"HOME": str(tmp_path), "TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", MAKE_RIGS, str(hero), str(snake)], cwd=REPO, check=True, timeout=120,
                   capture_output=True, env=env)
    pose = np.array(example_poses.EXAMPLE_POSES["sitting"])
    save_pose(Pose(pose), tmp_path / "sitting.json")
    out = tmp_path / "out" / "posed.blend"
    run = subprocess.run([sys.executable, "-m", "backend", "blend", "--pose", str(tmp_path / "sitting.json"),
                          "-o", str(out), "--rig", str(hero), "--armature", "Hero"],
                         cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert "Unreal UE4 mapping" in run.stdout
    read = subprocess.run([sys.executable, "-c", READ_BACK, str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=env)
    found = json.loads(read.stdout.strip().splitlines()[-1])
    assert np.abs(np.array(found["pose"]) - pose).max() < 1e-3
    assert abs(found["floor"] - found["rest_floor"]) < 0.02  # the seated body on the floor
    # the snake: one line naming what is missing, exit status non-zero, nothing written
    bad_out = tmp_path / "out" / "snake.blend"
    run = subprocess.run([sys.executable, "-m", "backend", "blend", "--pose", str(tmp_path / "sitting.json"),
                          "-o", str(bad_out), "--rig", str(snake), "--armature", "Snake"],
                         cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode != 0 and not bad_out.exists()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing bones: pelvis" in lines[0], run.stderr
    # two armatures and no --armature: say which to choose
    run = subprocess.run([sys.executable, "-m", "backend", "blend", "--pose", str(tmp_path / "sitting.json"),
                          "-o", str(bad_out), "--rig", str(snake)], cwd=REPO, capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode != 0 and "choose one with --armature" in run.stderr and not bad_out.exists()
