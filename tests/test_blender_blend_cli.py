"""`unipose blend`: headless Blender poses an SMPL rig from text through the add-on code and a real backend."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backend.cli import main

REPO = Path(__file__).resolve().parents[1]
READ_BACK = """
import json, os, sys
import bpy
from blender_addon import posedata, rig
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
text = bpy.data.texts["UniPose"].as_string()
saved = posedata.pose_from_json(json.loads(text.split("\\n", 1)[1]))
print(json.dumps({"saved": saved.tolist(), "rig": rig.SmplRig(bpy.data.objects["SMPL"]).read_pose().tolist()}))
sys.stdout.flush()
os._exit(0)
"""


def test_missing_checkpoint_is_a_one_line_error(tmp_path, capsys):
    assert main(["blend", "standing", "-o", str(tmp_path / "a.blend"), "--checkpoint", str(tmp_path / "nope")]) == 2
    assert "checkpoint folder not found" in capsys.readouterr().err


@pytest.mark.slow
def test_blend_writes_posed_rig_and_preview(tmp_path):
    pytest.importorskip("bpy")
    testing = pytest.importorskip("support.tiny_model")
    checkpoint = testing.make_tiny_checkpoint(tmp_path / "tiny")
    out, preview = tmp_path / "out" / "pose.blend", tmp_path / "out" / "pose.png"
    run = subprocess.run([sys.executable, "-m", "backend", "blend", "a person kneeling", "-o", str(out),
                          "--preview", str(preview), "--checkpoint", str(checkpoint), "--device", "cpu", "--seed", "1"],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert f"saved {out}" in run.stdout
    from PIL import Image
    image = np.asarray(Image.open(preview).convert("RGB"), dtype=np.float32)
    assert image.shape == (720, 720, 3) and image.std() > 10  # a picture, not a blank frame
    read = subprocess.run([sys.executable, "-c", READ_BACK, str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    poses = json.loads(read.stdout.strip().splitlines()[-1])
    rotations = __import__("backend.body.rotations", fromlist=["x"])
    saved, posed = (rotations.axis_angle_to_rotmat(np.array(poses[k])) for k in ("saved", "rig"))
    assert np.abs(saved - posed).max() < 1e-4  # the rig in the file carries the backend's pose
    assert np.abs(saved - np.eye(3)).max() > 1e-3  # and it is not the rest pose
