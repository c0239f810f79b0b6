"""An image without a usable person is the caller's input problem, not a model failure."""
import pytest
from PIL import Image

from backend.engine import InvalidInput, ModelError, Sampling, UniPoseEngine


class NoPersonFound(ValueError):
    """Stands in for backend.vision.landmarks.blazepose.NoPersonFound (matched by name)."""


class _ModelRaising:
    def __init__(self, error):
        self.error = error

    def run(self, task, **kwargs):
        raise self.error


def _image(tmp_path):
    path = tmp_path / "empty.png"
    Image.new("RGB", (64, 64), (90, 90, 90)).save(path)
    return str(path)


def test_no_person_found_becomes_invalid_image(tmp_path):
    engine = UniPoseEngine(_ModelRaising(NoPersonFound("no person found in empty.png")))
    with pytest.raises(InvalidInput) as caught:
        engine.image_to_pose(_image(tmp_path), Sampling())
    assert caught.value.field == "image"
    assert "no person found" in str(caught.value)


def test_other_failures_stay_model_errors(tmp_path):
    engine = UniPoseEngine(_ModelRaising(RuntimeError("kernel died")))
    with pytest.raises(ModelError):
        engine.image_to_pose(_image(tmp_path), Sampling())
