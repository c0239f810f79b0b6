"""Pose files: the JSON interchange format every part of the project reads and writes.

    {"format": "smpl-axis-angle",
     "joints": [22 SMPL joint names],          # optional; when given, rotations are reordered to SMPL order
     "rotations": [[x, y, z], ... 22 rows],    # axis-angle, radians, local to the parent joint
     "text": "...", "transl": [x, y, z], "betas": [...]}   # optional

SMPL frame: +Y up, +X the body's left, the body faces +Z; joint 0 is the global orientation.
Every reader (CLI, server, add-on, training data) validates through `pose_from_dict`, whose errors
(`PoseFileError`) name the problem in one line.

Also reads AMASS-style `.npz` motion files (`poses`, optional `trans`, `mocap_framerate`).
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from backend.body.skeleton import NUM_POSE_JOINTS, POSE_JOINT_NAMES

POSE_FORMAT = "smpl-axis-angle"
_KEYS = ("format", "joints", "rotations", "text", "transl", "betas")
# An axis-angle vector longer than this is no sensible rotation in radians (2 pi is a full turn);
# 7 rad is about 400 degrees, while any joint bent by more than ~7 degrees is over it in degrees.
_MAX_RADIANS = 7.0
_MAX_BETAS = 400  # SMPL-X has 300 shape + 100 expression coefficients


class PoseFileError(ValueError):
    """An invalid pose file or pose dict; the message names the problem."""


@dataclass(eq=False)  # arrays have no single truth value; compare fields explicitly
class Pose:
    """One body pose in the SMPL frame.

    rotations: (22, 3) float64 axis-angle in radians, joint 0 the global orientation.
    transl: optional (3,) root translation in metres. betas: optional (K,) body shape coefficients.
    """

    rotations: np.ndarray
    text: str | None = None
    transl: np.ndarray | None = None
    betas: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.rotations = _check_rotations(self.rotations)
        if self.transl is not None:
            self.transl = _float_vector(self.transl, "transl", length=3)
        if self.betas is not None:
            self.betas = _float_vector(self.betas, "betas")
        if self.text is not None and not isinstance(self.text, str):
            raise PoseFileError(f'"text" must be a string, got {type(self.text).__name__}')


def pose_from_dict(data: object) -> Pose:
    """Validate a decoded pose file (or a JSON-RPC pose object) and build a `Pose`."""
    if not isinstance(data, dict):
        raise PoseFileError(f"a pose must be a JSON object, got {_json_type(data)}")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise PoseFileError(f"unknown key {unknown[0]!r}; allowed keys: {', '.join(_KEYS)}")
    if "format" not in data:
        raise PoseFileError(f'missing "format" (expected "{POSE_FORMAT}")')
    if data["format"] != POSE_FORMAT:
        raise PoseFileError(f'unsupported format {data["format"]!r} (expected "{POSE_FORMAT}")')
    if "rotations" not in data:
        raise PoseFileError('missing "rotations" (22 axis-angle vectors [x, y, z] in radians)')
    rotations = _nested_numbers(data["rotations"], "rotations")
    _check_shape(rotations)
    if "joints" in data:
        rotations = _reorder(rotations, data["joints"])
    return Pose(
        rotations=rotations,
        text=data.get("text"),
        transl=None if data.get("transl") is None else _nested_numbers(data["transl"], "transl"),
        betas=None if data.get("betas") is None else _nested_numbers(data["betas"], "betas"),
    )


def pose_to_dict(pose: Pose) -> dict:
    """The JSON-ready dict of a pose (joint names always written, SMPL order)."""
    data: dict = {
        "format": POSE_FORMAT,
        "joints": list(POSE_JOINT_NAMES),
        "rotations": [[float(v) for v in row] for row in pose.rotations],
    }
    if pose.text is not None:
        data["text"] = pose.text
    if pose.transl is not None:
        data["transl"] = [float(v) for v in pose.transl]
    if pose.betas is not None:
        data["betas"] = [float(v) for v in pose.betas]
    return data


def pose_to_json(pose: Pose) -> str:
    """Readable JSON text: one rotation per line."""
    data = pose_to_dict(pose)
    parts = []
    for key, value in data.items():
        if key == "rotations":
            rows = ",\n".join("    " + json.dumps(v) for v in value)
            parts.append(f"  {json.dumps(key)}: [\n{rows}\n  ]")
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def load_pose(path: str | Path) -> Pose:
    """Read and validate a pose JSON file. Errors name the file and the problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PoseFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PoseFileError(f"{path}: cannot read ({error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PoseFileError(f"{path}: not valid JSON ({error.msg} at line {error.lineno} "
                            f"column {error.colno})") from None
    try:
        return pose_from_dict(data)
    except PoseFileError as error:
        raise PoseFileError(f"{path}: {error}") from None


def save_pose(pose: Pose, path: str | Path) -> None:
    """Write a pose file (creates missing parent folders)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pose_to_json(pose), encoding="utf-8")


class AmassMotion(NamedTuple):
    """rotations (N, 22, 3) axis-angle; transl (N, 3) or None; fps or None. AMASS worlds are Z-up."""

    rotations: np.ndarray
    transl: np.ndarray | None
    fps: float | None


def load_amass_npz(path: str | Path) -> AmassMotion:
    """Read an AMASS-style `.npz` (SMPL, SMPL-H or SMPL-X parameters): the first 66 pose values per frame.

    The values are returned as stored (AMASS uses a Z-up world); see `z_up_to_y_up` for the SMPL frame.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "poses" not in npz.files:
                raise PoseFileError(f"{path}: no 'poses' array (found: {', '.join(npz.files)})")
            poses = np.asarray(npz["poses"], dtype=np.float64)
            trans = np.asarray(npz["trans"], dtype=np.float64) if "trans" in npz.files else None
            fps_key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in npz.files), None)
            fps = float(npz[fps_key]) if fps_key else None
    except FileNotFoundError:
        raise PoseFileError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:
        if isinstance(error, PoseFileError):
            raise
        raise PoseFileError(f"{path}: not a readable .npz motion file ({error})") from None
    if poses.ndim != 2 or poses.shape[1] < 3 * NUM_POSE_JOINTS:
        raise PoseFileError(f"{path}: 'poses' has shape {poses.shape}, expected (frames, >= 66)")
    if not np.all(np.isfinite(poses)):
        frame = int(np.flatnonzero(~np.all(np.isfinite(poses), axis=1))[0])
        raise PoseFileError(f"{path}: 'poses' has non-finite values (first at frame {frame})")
    rotations = poses[:, : 3 * NUM_POSE_JOINTS].reshape(-1, NUM_POSE_JOINTS, 3)
    if trans is not None and trans.shape != (len(poses), 3):
        raise PoseFileError(f"{path}: 'trans' has shape {trans.shape}, expected ({len(poses)}, 3)")
    return AmassMotion(rotations, trans, fps)


# Rotation taking a Z-up world (AMASS) to the Y-up SMPL frame: (x, y, z) -> (x, z, -y).
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def z_up_to_y_up(
    rotations: np.ndarray, transl: np.ndarray | None = None, rest_pelvis: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Re-express poses from a Z-up world in the Y-up SMPL frame (only the global orientation changes).

    rotations: (..., 22, 3); transl: optional (..., 3). The root rotates about the rest pelvis position
    `rest_pelvis` (3,) (zero for the project skeleton; SMPL's template pelvis is not at the origin).
    """
    from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle

    rotations = np.array(rotations, dtype=np.float64)
    rotations[..., 0, :] = rotmat_to_axis_angle(Z_UP_TO_Y_UP @ axis_angle_to_rotmat(rotations[..., 0, :]))
    if transl is None:
        return rotations, None
    pelvis = np.zeros(3) if rest_pelvis is None else np.asarray(rest_pelvis, dtype=np.float64)
    new_transl = (np.asarray(transl, dtype=np.float64) + pelvis) @ Z_UP_TO_Y_UP.T - pelvis
    return rotations, new_transl


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _nested_numbers(value: object, what: str) -> np.ndarray:
    """Lists (or arrays) of plain numbers -> float64 array; rejects strings, booleans, nulls."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise PoseFileError(f'"{what}" must hold numbers, got an array of {value.dtype}')
        return value.astype(np.float64)

    def check(item: object, where: str) -> None:
        if isinstance(item, (list, tuple)):
            for i, sub in enumerate(item):
                check(sub, f"{where}[{i}]")
        elif isinstance(item, bool) or not isinstance(item, (int, float, np.number)):
            raise PoseFileError(f"{where} must be a number, got {_json_type(item)}")

    if not isinstance(value, (list, tuple)):
        raise PoseFileError(f'"{what}" must be a list, got {_json_type(value)}')
    check(value, what)
    try:
        return np.array(value, dtype=np.float64)
    except ValueError:
        raise PoseFileError(f'"{what}" rows have different lengths') from None


def _check_shape(r: np.ndarray) -> None:
    if r.ndim != 2 or r.shape[1] != 3:
        raise PoseFileError(f'"rotations" must be {NUM_POSE_JOINTS} rows of [x, y, z], got shape {r.shape}')
    if r.shape[0] != NUM_POSE_JOINTS:
        raise PoseFileError(f'"rotations" has {r.shape[0]} joints, expected {NUM_POSE_JOINTS} (SMPL body joints)')


def _check_rotations(rotations: object) -> np.ndarray:
    r = np.array(rotations, dtype=np.float64)
    _check_shape(r)
    bad = ~np.all(np.isfinite(r), axis=1)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise PoseFileError(f"rotation of joint {j} ({POSE_JOINT_NAMES[j]}) is not finite: {r[j].tolist()}")
    angles = np.linalg.norm(r, axis=1)
    if angles.max() > _MAX_RADIANS:
        j = int(np.argmax(angles))
        raise PoseFileError(
            f"rotation of joint {j} ({POSE_JOINT_NAMES[j]}) has angle {angles[j]:.4g}, "
            f"which looks like degrees; pose files use radians"
        )
    return r


def _reorder(rotations: np.ndarray, joints: object) -> np.ndarray:
    """Rows given in the order of `joints` -> rows in SMPL order."""
    if not isinstance(joints, (list, tuple)) or not all(isinstance(n, str) for n in joints):
        raise PoseFileError('"joints" must be a list of joint-name strings')
    known = set(POSE_JOINT_NAMES)
    seen: set[str] = set()
    for name in joints:
        if name not in known:
            hint = " (hands are not part of a pose)" if name in ("left_hand", "right_hand") else ""
            raise PoseFileError(f"unknown joint name {name!r}{hint}; expected SMPL names such as 'left_knee'")
        if name in seen:
            raise PoseFileError(f"joint {name!r} is listed twice")
        seen.add(name)
    if len(joints) != NUM_POSE_JOINTS:
        missing = [n for n in POSE_JOINT_NAMES if n not in seen]
        raise PoseFileError(f'"joints" has {len(joints)} names, expected {NUM_POSE_JOINTS}; '
                            f'missing: {", ".join(missing)}')
    order = [list(joints).index(name) for name in POSE_JOINT_NAMES]
    return rotations[order]


def _float_vector(value: object, what: str, length: int | None = None) -> np.ndarray:
    v = np.array(value, dtype=np.float64)
    if v.ndim != 1 or (length is not None and v.shape[0] != length):
        expected = f"{length} numbers" if length else "a flat list of numbers"
        raise PoseFileError(f'"{what}" must be {expected}, got shape {v.shape}')
    if length is None and not 1 <= v.shape[0] <= _MAX_BETAS:
        raise PoseFileError(f'"{what}" has {v.shape[0]} values, expected 1 to {_MAX_BETAS}')
    if not np.all(np.isfinite(v)):
        raise PoseFileError(f'"{what}" has non-finite values: {v.tolist()}')
    return v

