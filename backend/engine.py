"""UniPoseEngine: the seven UniPose tasks as typed, validated functions over a loaded model.

The engine is the one place that checks user input (texts, pose JSON, image files, sampling
parameters) before it reaches the model; the JSON-RPC server and the command line both call it.
Bad input raises `InvalidInput` naming the field and what was expected; a failure inside the model
raises `ModelError`. The model is any object with the `UniPose.run` signature, so everything here can
be tested with a small fake model.
"""
import functools
import platform
import time
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np
from PIL import Image

from backend.body.heading import facing_rotation, rotate_root
from backend.body.skeleton import NUM_POSE_JOINTS
from backend.edit_scope import keep_unnamed, read_scope
from backend.posefile import Pose, PoseFileError, pose_from_dict
from backend.sampling import Sampling

Progress = Callable[[str, float], None]  # (stage, fraction in [0, 1])

MAX_TEXT_CHARS = 2000
MAX_SAMPLES = 16
MAX_TEMPERATURE = 5.0
MAX_GUIDANCE = 8.0
MAX_SEED = 2**63 - 1
# Variants of a pose answer when no temperature is asked for: the first is the greedy answer, the others are
# sampled this warm (temperature 1 tips bodies over; greedy repeats the same pose; measured by eye on rendered
# variants of the shipped model, docs/experiments/variants.png).
VARIANT_TEMPERATURE = 0.7
VARIANT_TOP_P = 0.9
DEVICES = ("auto", "cpu", "cuda")


class InvalidInput(ValueError):
    """A request value that is missing, malformed or out of range; `field` names it."""

    def __init__(self, field: str, expected: str, got: str | None = None):
        self.field = field
        self.expected = expected
        message = f"{field}: expected {expected}"
        super().__init__(f"{message}, got {got}" if got else message)


class ModelError(RuntimeError):
    """The model failed while running one task; the engine stays usable."""


class PoseModel(Protocol):
    def run(self, task: str, text: str | None = None, poses=(), images=(), num_samples: int = 1,
            temperature: float = 0.0, top_p: float = 1.0, seed: int | None = None, **options) -> Any: ...


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 32 * 2**20
    max_pixels: int = 4096 * 4096
    min_side: int = 8


# ---------------------------------------------------------------- input checks

def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_text(value: Any, field: str) -> str:
    """A non-empty text of at most MAX_TEXT_CHARS characters, stripped of outer whitespace."""
    if not isinstance(value, str):
        raise InvalidInput(field, "a non-empty string", _describe(value))
    text = value.strip()
    if not text:
        raise InvalidInput(field, "a non-empty string", "an empty one")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(field, f"at most {MAX_TEXT_CHARS} characters", f"{len(text)}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field, "valid Unicode text", "an unpaired surrogate") from None
    return text


def check_pose(value: Any, field: str) -> np.ndarray:
    """A pose JSON object (or an array-like) -> axis-angle rotations (22, 3) float32, all finite."""
    if isinstance(value, dict):
        try:
            value = pose_from_dict(value).rotations
        except PoseFileError as error:
            raise InvalidInput(field, "a pose JSON object", str(error)) from None
        except RecursionError:
            raise InvalidInput(field, "a pose JSON object", "a too deeply nested value") from None
    elif isinstance(value, (str, bytes)) or value is None or _is_number(value):
        raise InvalidInput(field, 'a pose JSON object {"format": "smpl-axis-angle", ...}',
                           _describe(value))
    try:
        rotations = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(field, f"({NUM_POSE_JOINTS}, 3) numbers", _describe(value)) from None
    if rotations.shape != (NUM_POSE_JOINTS, 3):
        raise InvalidInput(field, f"rotations of shape ({NUM_POSE_JOINTS}, 3)", f"{rotations.shape}")
    if not np.isfinite(rotations).all():
        raise InvalidInput(field, "finite rotation values", "NaN or infinity")
    return rotations.astype(np.float32)


def check_image(value: Any, field: str, limits: ImageLimits = ImageLimits()) -> Image.Image:
    """A path to a readable image file within `limits` -> the decoded RGB image."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "a path to an image file", _describe(value))
    path = Path(value).expanduser()
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
        size = path.stat().st_size if is_file else 0
    except (OSError, ValueError) as error:  # name too long, embedded NUL, permissions
        raise InvalidInput(field, "a path to an existing image file", str(error)) from None
    if not is_file:
        raise InvalidInput(field, "a path to an existing image file",
                           "a folder" if is_dir else f"no such file: {value}")
    if size > limits.max_bytes:
        raise InvalidInput(field, f"an image file of at most {limits.max_bytes // 2**20} MiB",
                           f"{size / 2**20:.1f} MiB")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > limits.max_pixels:
                raise InvalidInput(field, f"an image of at most {limits.max_pixels} pixels",
                                   f"{width}x{height}")
            if min(width, height) < limits.min_side:
                raise InvalidInput(field, f"an image at least {limits.min_side} pixels on each side",
                                   f"{width}x{height}")
            return image.convert("RGB")
    except InvalidInput:
        raise
    except Exception as error:  # PIL raises many types for undecodable files
        raise InvalidInput(field, "an image file that can be decoded (PNG, JPEG, ...)",
                           f"{type(error).__name__}: {error}") from None


def check_flag(value: Any, field: str) -> bool:
    """A true/false option (JSON true or false, not 0/1 or a string)."""
    if not isinstance(value, bool):
        raise InvalidInput(field, "true or false", _describe(value))
    return value


def check_sampling(seed: Any = None, num_samples: Any = 1, temperature: Any = None,
                   top_p: Any = 1.0, guidance: Any = None) -> Sampling:
    """Range-check the optional sampling parameters."""
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)
                             or not 0 <= seed <= MAX_SEED):
        raise InvalidInput("seed", f"an integer from 0 to {MAX_SEED} or null", _describe(seed))
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) \
            or not 1 <= num_samples <= MAX_SAMPLES:
        raise InvalidInput("num_samples", f"an integer from 1 to {MAX_SAMPLES}", _describe(num_samples))
    if temperature is not None and (not _is_number(temperature) or not 0.0 <= temperature <= MAX_TEMPERATURE):
        raise InvalidInput("temperature", f"a number from 0 to {MAX_TEMPERATURE:g} (0 = greedy) or null",
                           _describe(temperature))
    if not _is_number(top_p) or not 0.0 < top_p <= 1.0:
        raise InvalidInput("top_p", "a number in (0, 1]", _describe(top_p))
    if guidance is not None and (not _is_number(guidance) or not 0.0 <= guidance <= MAX_GUIDANCE):
        raise InvalidInput("guidance", f"a number from 0 to {MAX_GUIDANCE:g} (1 = plain decoding) or null",
                           _describe(guidance))
    return Sampling(seed, num_samples, None if temperature is None else float(temperature), float(top_p),
                    None if guidance is None else float(guidance))


# ---------------------------------------------------------------- engine

def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is usable, else 'cpu'; 'cuda' without a GPU is an error."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    import torch
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


@functools.cache
def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name, dist in (("unipose", "unipose-blender"), ("torch", "torch"),
                       ("transformers", "transformers"), ("numpy", "numpy")):
        try:
            found[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _face_front(pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn a (22, 3) pose about the vertical to face +Z, as every training pose does.
    Returns the turned pose and the (3, 3) rotation that was applied."""
    facing = facing_rotation(pose[None].astype(np.float64))  # (1, 3, 3)
    return rotate_root(pose[None].astype(np.float64), facing)[0].astype(np.float32), facing[0]


# Raised by backend.vision.landmarks for images without a detectable person; matched by name so the
# engine does not import mediapipe-dependent modules.
_IMAGE_CONTENT_ERRORS = frozenset({"LandmarkError", "NoPersonFound"})


class UniPoseEngine:
    """The seven tasks over one loaded model. Pose results are lists of (22, 3) axis-angle arrays,
    best first; text results are strings."""

    def __init__(self, model: PoseModel, *, checkpoint: str | Path | None = None, device: str = "cpu",
                 image_limits: ImageLimits = ImageLimits(), load_seconds: float | None = None,
                 refine_contacts: bool = True):
        self.model = model
        self.refine_contacts = refine_contacts
        self.checkpoint = None if checkpoint is None else str(checkpoint)
        self.device = device
        self.image_limits = image_limits
        self.load_seconds = load_seconds

    @classmethod
    def load(cls, checkpoint: str | Path, device: str = "auto",
             progress: Progress | None = None, text_steps: str = "auto") -> "UniPoseEngine":
        """Load the UniPose checkpoint folder once; `progress(stage, fraction)` reports loading. text_steps:
        how one-token text steps run, "auto" (int8 where the CPU runs it), "int8" or "full" (int8_steps.py)."""
        checkpoint = Path(checkpoint).expanduser()
        if not checkpoint.is_dir():
            raise FileNotFoundError(f"checkpoint folder not found: {checkpoint}")
        device = resolve_device(device)
        from backend.model import UniPose
        start = time.perf_counter()
        model = UniPose.from_pretrained(checkpoint, device=device, text_steps=text_steps,
                                        progress=progress or (lambda stage, fraction: None))
        return cls(model, checkpoint=checkpoint.resolve(), device=device,
                   load_seconds=time.perf_counter() - start)

    def status(self) -> dict[str, Any]:
        return {"loaded": True, "checkpoint": self.checkpoint, "device": self.device,
                "text_steps": "int8" if self.model.int8_text_steps else "full",
                "load_ms": None if self.load_seconds is None else round(self.load_seconds * 1e3, 1),
                "versions": versions()}

    # pose-producing tasks

    def text_to_pose(self, text: Any, sampling: Sampling = Sampling()) -> list[np.ndarray]:
        text = check_text(text, "text")
        return self._with_contacts(self._poses("text_to_pose", sampling, text=text), text)

    def edit_pose(self, pose: Any, instruction: Any, sampling: Sampling = Sampling(),
                  whole_body: bool = False) -> list[np.ndarray]:
        """The model's edited poses; unless `whole_body`, only the limbs the instruction names change
        (backend.edit_scope; an instruction that moves the whole body keeps the model's answer)."""
        start, facing = _face_front(check_pose(pose, "pose"))
        instruction = check_text(instruction, "instruction")
        limbs = None if check_flag(whole_body, "whole_body") else read_scope(instruction)
        generated = self._poses("edit_pose", sampling, text=instruction, poses=(start,))
        scoped = [keep_unnamed(start, p, limbs) for p in generated]
        turn_back = facing.T  # the edited pose keeps the heading of the pose it started from
        restored = [rotate_root(p[None].astype(np.float64), turn_back[None])[0].astype(np.float32) for p in scoped]
        return self._with_contacts(restored, instruction)

    def image_to_pose(self, image: Any, sampling: Sampling = Sampling()) -> list[np.ndarray]:
        return self._poses("image_to_pose", sampling, images=(self._image(image, "image"),))

    # text-producing tasks

    def pose_to_text(self, pose: Any, sampling: Sampling = Sampling()) -> str:
        return self._text("pose_to_text", sampling, poses=(_face_front(check_pose(pose, "pose"))[0],))

    def pose_diff(self, pose_a: Any, pose_b: Any, sampling: Sampling = Sampling()) -> str:
        poses = (_face_front(check_pose(pose_a, "pose_a"))[0], _face_front(check_pose(pose_b, "pose_b"))[0])
        return self._text("pose_diff", sampling, poses=poses)

    def image_to_text(self, image: Any, sampling: Sampling = Sampling()) -> str:
        return self._text("image_to_text", sampling, images=(self._image(image, "image"),))

    def image_diff(self, image_a: Any, image_b: Any, sampling: Sampling = Sampling()) -> str:
        images = (self._image(image_a, "image_a"), self._image(image_b, "image_b"))
        return self._text("image_diff", sampling, images=images)

    # helpers

    def _image(self, value: Any, field: str) -> Image.Image:
        return check_image(value, field, self.image_limits)

    def _run(self, task: str, sampling: Sampling, **inputs) -> Any:
        try:
            return self.model.run(task, sampling=sampling, **inputs)
        except MemoryError:
            raise ModelError(f"{task}: out of memory") from None
        except Exception as error:
            if type(error).__name__ in _IMAGE_CONTENT_ERRORS:  # BlazePose found no usable person
                raise InvalidInput("image", "a photo with one clearly visible person", str(error)) from None
            raise ModelError(f"{task} failed: {type(error).__name__}: {error}") from error

    def _poses(self, task: str, sampling: Sampling, **inputs) -> list[np.ndarray]:
        if sampling.temperature is None and sampling.num_samples > 1:  # the best answer, then variants
            best = self._run(task, replace(sampling, num_samples=1, temperature=0.0), **inputs).poses or []
            variants = replace(sampling, num_samples=sampling.num_samples - 1, temperature=VARIANT_TEMPERATURE,
                               top_p=min(sampling.top_p, VARIANT_TOP_P))
            poses = list(best) + list(self._run(task, variants, **inputs).poses or [])
        else:
            poses = list(self._run(task, replace(sampling, temperature=sampling.temperature or 0.0), **inputs).poses
                         or [])
        if not poses:
            raise ModelError(f"{task}: the model produced no pose")
        try:
            return [Pose(np.asarray(pose, dtype=np.float64)).rotations.astype(np.float32) for pose in poses]
        except (PoseFileError, ValueError, TypeError) as error:
            raise ModelError(f"{task}: the model produced an invalid pose: {error}") from None

    def _with_contacts(self, poses: list[np.ndarray], text: str) -> list[np.ndarray]:
        """Bend each generated pose until the contacts its text names really touch ("hands on the hips")."""
        if not self.refine_contacts:
            return poses
        from backend.contact import apply_contacts

        return [apply_contacts(pose, text)[0].astype(np.float32) for pose in poses]

    def _text(self, task: str, sampling: Sampling, **inputs) -> str:
        if sampling.num_samples != 1:
            raise InvalidInput("num_samples", f"1 ({task} returns one text)", str(sampling.num_samples))
        text = self._run(task, replace(sampling, temperature=sampling.temperature or 0.0), **inputs).text
        return text if isinstance(text, str) else ""  # None: the model answered with nothing usable

