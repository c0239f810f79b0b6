"""Image -> pose with a pose hint (UniPoseConfig.image_pose_hint): the IK fit of the landmarks as an input pose.

Tiny random models with the landmark encoder; the hint's frame is checked on corpus poses with exact landmarks.
"""
import json
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image

from backend.body.kinematics import forward_kinematics, pad_pose_rotmats, pose_joints
from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import PARENTS
from backend.model import UniPose
from backend.model.checkpoint import CONFIG_NAME, MODEL_DIR
from backend.model.tasks import SYSTEM_PROMPT
from backend.model.templates import TEMPLATES
from backend.model.vocab import POSE_PLACEHOLDER
from backend.vision import DetectedImage, LandmarkEncoder, TinyGridEncoder, VisualProcessor
from backend.vision.landmarks.camera import Camera, fov_focal, look_at
from backend.vision.landmarks.definitions import landmarks_from_joints
from backend.vision.landmarks.hint import ASSUMED_CAMERA_ELEVATION, lean_on_hint, pose_hint
from backend.vision.landmarks.ik import landmarks_to_pose
from backend.vision.landmarks.synthetic import (SyntheticSettings, landmarks_in_view, random_camera,
                                                random_rest_joints, synthesize_landmarks)
from support.tiny_model import tiny_llm_config, tiny_pose_tokenizer, tiny_text_tokenizer

torch.set_num_threads(2)
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "v1" / "poses.npz"
SQUAT = np.zeros((22, 3), np.float32)
SQUAT[[1, 2], 0], SQUAT[[4, 5], 0] = -1.4, 2.0  # hips flexed, knees bent


def _build(folder: Path, hint: bool, vision=None) -> UniPose:
    return UniPose.from_backbone(str(folder), tiny_pose_tokenizer(0),
                                 vision or VisualProcessor([LandmarkEncoder()], 64), seed=0, image_pose_hint=hint)


@pytest.fixture(scope="module")
def backbone(tmp_path_factory) -> Path:
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("hint") / "llm"
    text_tokenizer = tiny_text_tokenizer()
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(tiny_llm_config(len(text_tokenizer))).save_pretrained(folder)
    text_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(backbone) -> tuple[UniPose, UniPose]:
    """(plain, hinted): the same tiny model without and with the pose hint."""
    return _build(backbone, False), _build(backbone, True)


def _landmarks(seed: int = 0):
    return synthesize_landmarks(SQUAT, np.random.default_rng(seed))


def _input_spans(model: UniPose, sample) -> list[torch.Tensor]:
    """The code ids of each input pose span (a span that is neither a query span nor after one)."""
    first_query = int(torch.nonzero(sample.branch).min()) if sample.branch.any() else len(sample)
    spans = sample.span_ids[:first_query]
    return [sample.input_ids[:first_query][spans == s] for s in spans[spans >= 0].unique()]


def _hint_ids(model: UniPose, landmarks) -> torch.Tensor:
    codes = model._encode_poses(torch.as_tensor(pose_hint(landmarks))[None])[0]
    return model.vocab.code_ids(codes)


def _plain_messages(content: str, images: list, target=None) -> list[dict]:
    """The image -> pose conversation as it was before the hint existed, built by hand."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": content, "poses": [], "images": images}]
    if target is not None:
        messages.append({"role": "assistant", "content": POSE_PLACEHOLDER, "poses": [target]})
    return messages


def test_training_sample_carries_the_ik_pose_of_the_same_landmarks(models):
    plain, hinted = models
    landmarks = _landmarks()
    sample = hinted.build_sample("image_to_pose", images=[landmarks], target=SQUAT, template=3)
    spans = _input_spans(hinted, sample)
    assert len(spans) == 1
    torch.testing.assert_close(spans[0], _hint_ids(hinted, landmarks))
    assert sample.images == [landmarks]  # the encoder reads the very landmarks the hint came from
    text = hinted.text_tokenizer.decode(sample.input_ids[sample.span_ids < 0])
    assert "A geometric fit of the landmarks:" in text
    assert _input_spans(plain, plain.build_sample("image_to_pose", images=[landmarks], target=SQUAT)) == []


def test_inference_prompt_carries_the_hint_and_a_photo_is_detected_once(models):
    _, hinted = models
    landmarks = _landmarks(1)
    photo = Image.new("RGB", (64, 80), (90, 90, 90))
    calls = []

    def detect(encoder, image):
        calls.append(image)
        return landmarks if image is photo else image

    prompts = []
    import backend.model.unipose as unipose

    def spy(model, input_ids, *args, **kwargs):
        prompts.append(input_ids)
        return real_generate(model, input_ids, *args, **kwargs)

    real_generate = unipose.generate
    with mock.patch.object(LandmarkEncoder, "detect", detect), mock.patch.object(unipose, "generate", spy):
        answer = hinted.run("image_to_pose", images=[photo])
    assert len(answer.poses) == 1 and answer.poses[0].shape == (22, 3)
    assert [c for c in calls if c is photo] == [photo]  # BlazePose ran once, for the hint and the tokens alike
    prompt = prompts[0][0] if prompts[0].dim() == 2 else prompts[0]
    sample = hinted.builder.prompt(hinted._messages("image_to_pose", images=[landmarks], template=0))
    torch.testing.assert_close(prompt.cpu(), sample.input_ids)
    spans = _input_spans(hinted, sample)
    assert len(spans) == 1
    torch.testing.assert_close(spans[0], _hint_ids(hinted, landmarks))


def test_without_the_flag_sequences_are_unchanged(models):
    plain, hinted = models
    landmarks = _landmarks(2)
    for template in (0, 7):
        content = TEMPLATES["image_to_pose"][template]
        sample = plain.build_sample("image_to_pose", images=[landmarks], target=SQUAT, template=template)
        expected = plain.builder.training(_plain_messages(content, [landmarks], SQUAT))
        for name in ("input_ids", "targets", "position_ids", "span_ids", "branch"):
            torch.testing.assert_close(getattr(sample, name), getattr(expected, name))
    prompt = plain.builder.prompt(plain._messages("image_to_pose", images=[landmarks], template=0))
    expected = plain.builder.prompt(_plain_messages(TEMPLATES["image_to_pose"][0], [landmarks]))
    torch.testing.assert_close(prompt.input_ids, expected.input_ids)
    # the hint is for image -> pose only: other tasks of a hinted model are built as before
    for task, target in (("image_to_text", "squatting"), ("text_to_pose", SQUAT)):
        inputs = {"images": [landmarks]} if task == "image_to_text" else {"text": "squat down"}
        a = plain.build_sample(task, target=target, template=1, **inputs)
        b = hinted.build_sample(task, target=target, template=1, **inputs)
        torch.testing.assert_close(a.input_ids, b.input_ids)


def test_a_saved_checkpoint_keeps_the_flag_and_old_ones_read_as_off(models, tmp_path):
    _, hinted = models
    hinted.save_pretrained(tmp_path / "hinted")
    loaded = UniPose.from_pretrained(tmp_path / "hinted")
    assert loaded.config.image_pose_hint is True
    landmarks = _landmarks(3)
    sample = loaded.build_sample("image_to_pose", images=[landmarks], target=SQUAT, template=0)
    assert len(_input_spans(loaded, sample)) == 1
    config = tmp_path / "hinted" / MODEL_DIR / CONFIG_NAME
    values = json.loads(config.read_text())
    del values["image_pose_hint"]  # a checkpoint from before the flag
    config.write_text(json.dumps(values))
    assert UniPose.from_pretrained(tmp_path / "hinted").config.image_pose_hint is False


def test_leaning_on_the_hint_slerps_every_joint_along_the_shorter_arc():
    hint, answer = np.zeros((22, 3)), np.zeros((22, 3))
    hint[3], answer[3] = [0.4, 0.0, 0.0], [1.2, 0.0, 0.0]  # one axis: the angle moves linearly
    hint[5], answer[5] = [np.deg2rad(170), 0.0, 0.0], [np.deg2rad(-170), 0.0, 0.0]  # 20 deg apart through 180
    hint[0], answer[0] = [0.0, 0.3, 0.0], [0.0, 0.0, 0.9]  # the root leans too
    np.testing.assert_allclose(lean_on_hint(answer, hint, 0.0), hint, atol=1e-6)
    np.testing.assert_allclose(lean_on_hint(answer, hint, 1.0), answer, atol=1e-6)
    half = lean_on_hint(answer, hint, 0.5)
    np.testing.assert_allclose(half[3], [0.8, 0.0, 0.0], atol=1e-6)
    assert np.linalg.norm(half[5]) == pytest.approx(np.pi, abs=1e-5)  # through 180 deg, not back through 0
    quarter = lean_on_hint(answer, hint, 0.25)
    angle = np.arccos((np.trace(axis_angle_to_rotmat(quarter[0]).T @ axis_angle_to_rotmat(hint[0])) - 1) / 2)
    whole = np.arccos((np.trace(axis_angle_to_rotmat(answer[0]).T @ axis_angle_to_rotmat(hint[0])) - 1) / 2)
    assert angle == pytest.approx(0.25 * whole, abs=1e-6)


def test_image_answers_lean_on_the_hint_by_the_configured_model_weight(models, tmp_path):
    from training.image_pose_weight import set_model_weight

    plain, hinted = models
    landmarks = _landmarks(5)
    hint = pose_hint(landmarks)
    hinted.save_pretrained(tmp_path / "hinted")
    assert set_model_weight(tmp_path / "hinted", 0.25) == 1.0  # a trained checkpoint answers on its own
    loaded = UniPose.from_pretrained(tmp_path / "hinted")
    assert loaded.config.image_pose_model_weight == 0.25
    answer = loaded.run("image_to_pose", images=[landmarks]).poses[0]
    text_answer = loaded.run("text_to_pose", text="squat down").poses[0]
    loaded.config.image_pose_model_weight = 1.0
    own = loaded.run("image_to_pose", images=[landmarks]).poses[0]
    assert np.abs(own - hint).max() > 0.1  # a random model does not copy its hint
    np.testing.assert_allclose(answer, lean_on_hint(own, hint, 0.25), atol=1e-5)
    np.testing.assert_array_equal(text_answer, loaded.run("text_to_pose", text="squat down").poses[0])
    plain.save_pretrained(tmp_path / "plain")
    with pytest.raises(SystemExit, match="no pose hint"):
        set_model_weight(tmp_path / "plain", 0.25)
    with pytest.raises(SystemExit, match="from 0"):
        set_model_weight(tmp_path / "hinted", 1.5)


def test_the_hint_needs_a_landmark_encoder(backbone):
    with pytest.raises(ValueError, match="landmark encoder"):
        _build(backbone, True, VisualProcessor([TinyGridEncoder(32, 8, 16, 0)], 64))


def test_a_detected_photo_feeds_landmarks_and_pixels_to_their_encoders():
    processor = VisualProcessor([TinyGridEncoder(32, 16, 8, 0), LandmarkEncoder()], 16)
    photo, landmarks = Image.new("RGB", (40, 40), (200, 30, 30)), _landmarks(4)
    def detect(encoder, image):
        return landmarks if isinstance(image, Image.Image) else image

    with mock.patch.object(LandmarkEncoder, "detect", detect):
        item, found = processor.detect(photo)
        assert isinstance(item, DetectedImage) and found is landmarks
        assert processor.detect(item) == (item, landmarks)
        assert processor.detect(landmarks) == (landmarks, landmarks)
        torch.testing.assert_close(processor([item]), processor([photo]))


def _corpus_poses(count: int, seed: int) -> np.ndarray:
    if not CORPUS.is_file():
        pytest.skip("no corpus v1")
    with np.load(CORPUS) as npz:
        rotations = np.asarray(npz["rotations"], np.float64).reshape(-1, 22, 3)
        originals = np.nonzero(~np.asarray(npz["augmented"], bool))[0]
    chosen = np.sort(np.random.default_rng(seed).choice(originals, count, replace=False))
    return rotations[chosen]


def _mpjpe_mm(estimates, truths) -> float:
    a, b = pose_joints(np.asarray(estimates, np.float64))[:, :22], pose_joints(np.asarray(truths, np.float64))[:, :22]
    return float(np.linalg.norm(a - b, axis=-1).mean() * 1000.0)


def test_the_hint_is_in_the_corpus_frame_the_model_answers_in():
    """MPJPE of the hint against the corpus pose, from exact landmarks of 48 corpus poses (random body
    proportions) under the training cameras (random yaw, elevation -15..35 deg) and under cameras at the
    assumed elevation with random yaw. Measured: 98 mm under the training cameras (camera-relative IK: 245 mm;
    1000 poses: 100 vs 244 mm), 28 mm at the assumed elevation, which is IK's own error with the camera known
    (26 mm over 300 poses): the yaw and the mean tilt come out exactly, the elevation's spread is what is left."""
    rng = np.random.default_rng(0)
    poses = _corpus_poses(48, 0)
    settings = SyntheticSettings()
    hints, camera_relative, assumed = [], [], []
    for pose in poses:
        rest, scale = random_rest_joints(rng, settings)
        joints, rotmats = forward_kinematics(pad_pose_rotmats(axis_angle_to_rotmat(pose)), rest, PARENTS)
        points = landmarks_from_joints(joints, rotmats, scale)  # (33, 3)
        landmarks = landmarks_in_view(points, random_camera(points, rng, settings))
        hints.append(pose_hint(landmarks))
        camera_relative.append(landmarks_to_pose(landmarks))
        rotation, position = look_at(points.mean(0), rng.uniform(-np.pi, np.pi), ASSUMED_CAMERA_ELEVATION, 4.0)
        assumed.append(pose_hint(landmarks_in_view(points, Camera(rotation, position, fov_focal(0.7, 512),
                                                                  (512, 512)))))
    assert _mpjpe_mm(hints, poses) < 115.0
    assert _mpjpe_mm(camera_relative, poses) > 2 * _mpjpe_mm(hints, poses)
    assert _mpjpe_mm(assumed, poses) < 35.0


def test_the_assumed_elevation_is_the_training_cameras_mean():
    low, high = SyntheticSettings().elevation
    assert np.rad2deg(ASSUMED_CAMERA_ELEVATION) == pytest.approx((low + high) / 2)


def test_a_training_config_turns_the_hint_on_through_its_model_section(backbone, tmp_path):
    from training.stages.model_setup import build_unipose, config_image_source, make_collate

    tiny_pose_tokenizer(0).save_pretrained(tmp_path / "tokenizer")
    model_cfg = {"backbone": str(backbone), "visual": {"encoders": [{"kind": "landmarks"}]},
                 "lora": {"r": 4, "alpha": 8, "dropout": 0.0}, "image_pose_hint": True}
    model = build_unipose(model_cfg, tmp_path / "tokenizer", tmp_path / "work", [])
    assert model.config.image_pose_hint is True
    record = {"task": "image_to_pose", "pose": SQUAT, "text": "", "references": []}
    batch = make_collate(model, config_image_source(model_cfg, seed=0))([record])
    (landmarks,) = batch.images
    codes = batch.input_ids[0][(batch.span_ids[0] >= 0) & ~batch.branch[0]][:model.vocab.num_pose_tokens]
    torch.testing.assert_close(codes, _hint_ids(model, landmarks))
