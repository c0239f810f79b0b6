"""UniPose with the landmark encoder: synthetic landmarks train the projector; a saved model runs on them."""
from unittest import mock

import numpy as np
import pytest

from backend.body.example_poses import EXAMPLE_POSES
from backend.vision.landmarks import landmark_source
from training.stages.model_setup import set_trainable


@pytest.mark.slow
def test_synthetic_landmarks_train_and_run_through_unipose(tmp_path):
    import support.tiny_model as testing
    from backend.model import UniPose
    from backend.vision import LandmarkEncoder, VisualProcessor

    with mock.patch.object(testing, "tiny_vision", lambda hidden, seed=0: VisualProcessor([LandmarkEncoder()], hidden)):
        testing.make_tiny_checkpoint(tmp_path / "ckpt")
    model = UniPose.from_pretrained(tmp_path / "ckpt", trainable=True)
    assert model.vision.num_tokens == 34
    source = landmark_source(0)
    squat, lunge = EXAMPLE_POSES["squat"], EXAMPLE_POSES["lunge"]
    samples = [model.build_sample("image_to_pose", images=[source(squat)], target=squat),
               model.build_sample("image_diff", images=[source(squat), source(lunge)], target="bend your knees")]
    set_trainable(model, ("projector",))
    out = model(model.collate(samples))
    out.loss.backward()
    assert np.isfinite(float(out.loss))
    assert float(model.vision.projector[0].weight.grad.abs().sum()) > 0
    model.eval()
    answer = model.run("image_to_pose", images=[source(lunge)])
    assert len(answer.poses) == 1 and answer.poses[0].shape == (22, 3)
