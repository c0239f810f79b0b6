"""UniPoseEngine input checks and task plumbing, over a fake model (no checkpoint needed)."""
import numpy as np
import pytest
from PIL import Image

from _server_fakes import FakeModel, write_images, zero_pose_dict
from backend.engine import (ImageLimits, InvalidInput, ModelError, Sampling, UniPoseEngine, check_image,
                            check_pose, check_sampling, check_text)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"))


def test_check_text_strips_and_rejects_bad_values():
    assert check_text("  arms up \n", "text") == "arms up"
    for bad, needle in ((None, "non-empty string"), ("   ", "empty"), (3, "non-empty string"),
                        ("x" * 5000, "at most"), ("\ud800", "Unicode")):
        with pytest.raises(InvalidInput, match=needle) as info:
            check_text(bad, "instruction")
        assert info.value.field == "instruction"


def test_check_pose_accepts_pose_json_and_arrays():
    pose = zero_pose_dict()
    pose["rotations"][4] = [0.5, 0.0, 0.0]
    rotations = check_pose(pose, "pose")
    assert rotations.shape == (22, 3) and rotations.dtype == np.float32 and rotations[4, 0] == 0.5
    assert check_pose(np.ones((22, 3)) * 0.1, "pose").shape == (22, 3)


@pytest.mark.parametrize("mutate, needle", [
    (lambda p: p["rotations"].pop(), "21"),                              # wrong joint count
    (lambda p: p["rotations"][2].__setitem__(1, float("nan")), "not finite"),
    (lambda p: p["rotations"][2].__setitem__(1, "0.1"), "number"),
    (lambda p: p.pop("format"), "format"),
    (lambda p: p.__setitem__("rotations", "flat"), "list"),
])
def test_check_pose_names_the_problem(mutate, needle):
    pose = zero_pose_dict()
    mutate(pose)
    with pytest.raises(InvalidInput, match=needle) as info:
        check_pose(pose, "pose_b")
    assert info.value.field == "pose_b" and str(info.value).startswith("pose_b: expected a pose JSON object")


@pytest.mark.parametrize("bad", ["pose.json", None, 3, [[0.0, 0.0]] * 22, np.full((22, 3), np.inf)])
def test_check_pose_rejects_non_poses(bad):
    with pytest.raises(InvalidInput):
        check_pose(bad, "pose")


def test_check_image_decodes_valid_files_to_rgb(images):
    image = check_image(images["person"], "image")
    assert image.mode == "RGB" and image.size == (64, 48)


@pytest.mark.parametrize("name, needle", [
    ("missing", "no such file"), ("folder", "a folder"), ("text", "decoded"), ("truncated", "decoded"),
    ("huge", "5000x4000"), ("tiny", "at least 8 pixels"),
])
def test_check_image_rejects_bad_files(images, name, needle):
    with pytest.raises(InvalidInput, match=needle) as info:
        check_image(images[name], "image_a")
    assert info.value.field == "image_a"


def test_check_image_limits_bytes_and_non_strings(images):
    with pytest.raises(InvalidInput, match="MiB"):
        check_image(images["person"], "image", ImageLimits(max_bytes=10))
    for bad in (None, 7, "", "a\x00b", "x" * 5000):
        with pytest.raises(InvalidInput):
            check_image(bad, "image")


def test_check_sampling_ranges():
    assert check_sampling() == Sampling()
    assert check_sampling(seed=3, num_samples=4, temperature=0.7, top_p=0.9) == Sampling(3, 4, 0.7, 0.9)
    assert check_sampling(guidance=2) == Sampling(guidance=2.0)
    for kwargs, field in (({"seed": -1}, "seed"), ({"seed": True}, "seed"), ({"seed": 1.5}, "seed"),
                          ({"num_samples": 0}, "num_samples"), ({"num_samples": 17}, "num_samples"),
                          ({"num_samples": "2"}, "num_samples"), ({"temperature": float("nan")}, "temperature"),
                          ({"temperature": -0.1}, "temperature"), ({"temperature": "hot"}, "temperature"),
                          ({"top_p": 0}, "top_p"), ({"guidance": -1}, "guidance"), ({"guidance": 9}, "guidance"),
                          ({"guidance": "strong"}, "guidance"), ({"guidance": float("nan")}, "guidance")):
        with pytest.raises(InvalidInput) as info:
            check_sampling(**kwargs)
        assert info.value.field == field


def test_several_poses_without_a_temperature_are_the_greedy_pose_then_sampled_variants():
    model = FakeModel()
    poses = UniPoseEngine(model).text_to_pose("kneel", Sampling(seed=5, num_samples=3))
    assert len(poses) == 3
    best, variants = model.calls
    assert (best["num_samples"], best["temperature"], best["top_p"]) == (1, 0.0, 1.0)
    assert (variants["num_samples"], variants["temperature"], variants["top_p"], variants["seed"]) == (2, 0.7, 0.9, 5)
    UniPoseEngine(model).text_to_pose("kneel", Sampling(seed=5))     # one answer: greedy
    assert (model.calls[-1]["num_samples"], model.calls[-1]["temperature"]) == (1, 0.0)


def test_engine_tasks_pass_checked_inputs_to_the_model(images):
    model = FakeModel()
    engine = UniPoseEngine(model)
    poses = engine.text_to_pose(" raise both arms ", Sampling(seed=1, num_samples=3, temperature=1.0))
    assert len(poses) == 3 and all(p.shape == (22, 3) for p in poses)
    assert model.calls[-1] == dict(task="text_to_pose", text="raise both arms", poses=(), images=(),
                                   num_samples=3, temperature=1.0, top_p=1.0, seed=1)
    engine.text_to_pose("kneel", Sampling(guidance=3.0))             # only an explicit guidance reaches the model
    assert model.calls[-1]["guidance"] == 3.0
    assert engine.pose_diff(zero_pose_dict(), np.zeros((22, 3))) == "pose_diff with 2 poses and 0 images"
    edited = engine.edit_pose(zero_pose_dict(), "bend the knees")
    assert len(edited) == 1 and model.calls[-1]["text"] == "bend the knees"
    assert engine.image_diff(images["person"], images["other"]).startswith("image_diff")
    sent = model.calls[-1]["images"]
    assert [type(i) for i in sent] == [Image.Image, Image.Image] and sent[1].size == (32, 40)
    assert engine.image_to_pose(images["person"])[0].dtype == np.float32
    assert engine.pose_to_text(zero_pose_dict()) and engine.image_to_text(images["other"])


def test_engine_reports_model_failures_and_bad_outputs():
    engine = UniPoseEngine(FakeModel())
    with pytest.raises(ModelError, match="boom"):
        engine.text_to_pose("explode")
    with pytest.raises(ModelError, match="invalid pose.*not finite"):
        engine.text_to_pose("nan")
    with pytest.raises(InvalidInput, match="num_samples"):
        engine.pose_to_text(zero_pose_dict(), Sampling(num_samples=2))
    with pytest.raises(InvalidInput) as info:
        engine.edit_pose(zero_pose_dict(), "")
    assert info.value.field == "instruction"
    assert engine.text_to_pose("still works")  # a failure does not break the engine


def test_load_rejects_missing_checkpoints_and_unknown_devices(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint folder not found"):
        UniPoseEngine.load(tmp_path / "none", device="cpu")
    with pytest.raises(ValueError, match="device must be one of"):
        UniPoseEngine.load(tmp_path, device="tpu")


def test_text_tasks_turn_an_empty_answer_into_empty_text():
    class Silent(FakeModel):
        def run(self, task, **kwargs):
            return super().run(task, **kwargs).__class__(text=None, poses=[])

    assert UniPoseEngine(Silent()).pose_diff(zero_pose_dict(), zero_pose_dict()) == ""
    with pytest.raises(ModelError, match="no pose"):
        UniPoseEngine(Silent()).text_to_pose("arms up")
