"""The shipped default model (checkpoints/default) loads with no flag and answers the main job sensibly."""
import numpy as np
import pytest

from backend.body.kinematics import pose_joints
from backend.body.skeleton import JOINT_INDEX
from backend.paths import DEFAULT_CHECKPOINT


@pytest.fixture(scope="module")
def engine():
    from backend.engine import UniPoseEngine
    return UniPoseEngine.load(DEFAULT_CHECKPOINT, device="cpu")


@pytest.mark.slow
def test_shipped_model_raises_both_arms(engine):
    from backend.engine import Sampling
    pose = engine.text_to_pose("raise both arms above the head", Sampling(seed=0))[0]
    joints = pose_joints(pose.astype(np.float64))
    head_y = joints[JOINT_INDEX["head"], 1]
    assert head_y > joints[JOINT_INDEX["pelvis"], 1] + 0.3     # upright: an upside-down body has its wrists "up" too
    assert joints[JOINT_INDEX["left_wrist"], 1] > head_y
    assert joints[JOINT_INDEX["right_wrist"], 1] > head_y


@pytest.mark.slow
def test_shipped_model_answers_depend_on_the_prompt(engine):
    """Two unrelated prompts must not get the same pose (the first CPU-trained model gave every prompt one pose)."""
    from backend.engine import Sampling
    poses = [engine.text_to_pose(text, Sampling(seed=0))[0]
             for text in ("raise both arms above the head", "a person sitting cross-legged on the floor")]
    joints = [pose_joints(p.astype(np.float64))[:22] for p in poses]
    assert np.linalg.norm(joints[0] - joints[1], axis=-1).mean() > 0.05   # metres, mean over joints


@pytest.mark.slow
def test_shipped_model_describes_a_pose_in_words(engine):
    from backend.body.example_poses import EXAMPLE_POSES
    from backend.engine import Sampling
    from backend.posefile import Pose, pose_to_dict
    text = engine.pose_to_text(pose_to_dict(Pose(np.asarray(EXAMPLE_POSES["sitting"]))), Sampling(seed=0))
    assert len(text.split()) >= 4 and any(c.isalpha() for c in text)


@pytest.mark.slow
def test_image2pose_on_a_real_photograph_with_no_flag(tmp_path, capsys):
    """`unipose image2pose photo.jpg` on a real photo (tests/fixtures/photos) with the shipped model."""
    pytest.importorskip("mediapipe")
    from pathlib import Path

    from backend.cli import main
    from backend.posefile import load_pose

    photo = Path(__file__).parent / "fixtures" / "photos" / "cameraman.jpg"
    assert main(["image2pose", str(photo), "-o", str(tmp_path / "pose.json")]) == 0
    rotations = load_pose(tmp_path / "pose.json").rotations
    assert rotations.shape == (22, 3) and np.isfinite(rotations).all()
    assert main(["image2text", str(photo)]) == 0
    assert any(c.isalpha() for c in capsys.readouterr().out)
