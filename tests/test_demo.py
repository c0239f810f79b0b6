"""README's main job: `unipose demo` poses a Blender rig with the shipped model and writes .blend + preview."""
import pytest
from PIL import Image

from backend.cli import main
from backend.paths import DEFAULT_CHECKPOINT


@pytest.mark.slow
def test_demo_poses_a_rig_with_the_shipped_model(tmp_path, capsys):
    assert (DEFAULT_CHECKPOINT / "unipose").is_dir(), "the shipped model is missing from checkpoints/default"
    blend, preview = tmp_path / "demo.blend", tmp_path / "demo.png"
    assert main(["demo", "-o", str(blend), "--preview", str(preview)]) == 0
    assert blend.stat().st_size > 10_000
    with Image.open(preview) as image:
        assert min(image.size) >= 256
        assert len(set(image.convert("L").getdata())) > 20  # a rendered scene, not a blank frame
    assert "saved" in capsys.readouterr().out
