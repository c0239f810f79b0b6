"""Shared test set-up: Blender (bpy) writes to HOME and TMPDIR, so tests get private ones; one BlazePose
detector fixture for the image tests."""
import os
import tempfile

import pytest

_SANDBOX = tempfile.mkdtemp(prefix="unipose-tests-")
os.environ.setdefault("UNIPOSE_CACHE_DIR", os.path.join(_SANDBOX, "cache"))
os.environ["HOME"] = os.path.join(_SANDBOX, "home")
os.makedirs(os.environ["HOME"], exist_ok=True)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="module")
def detector():
    """A BlazePose detector (skips without mediapipe), closed after the module."""
    pytest.importorskip("mediapipe")
    from backend.vision.landmarks.blazepose import BlazePoseDetector
    found = BlazePoseDetector()
    yield found
    found.close()
