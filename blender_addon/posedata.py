"""The project's pose JSON object <-> (22, 3) axis-angle arrays (no bpy)."""
import numpy as np

from .body import skeleton

POSE_FORMAT = "smpl-axis-angle"


def pose_to_json(axis_angle: np.ndarray) -> dict:
    """(22, 3) axis-angle -> {"format", "joints", "rotations"}."""
    values = np.asarray(axis_angle, dtype=np.float64).reshape(skeleton.NUM_POSE_JOINTS, 3)
    return {
        "format": POSE_FORMAT,
        "joints": list(skeleton.POSE_JOINT_NAMES),
        "rotations": [[float(v) for v in row] for row in values],
    }


def pose_from_json(pose: dict) -> np.ndarray:
    """Pose object -> (22, 3) axis-angle in SMPL joint order; joints may come in any order.

    Raises ValueError naming what is wrong.
    """
    if not isinstance(pose, dict) or pose.get("format") != POSE_FORMAT:
        raise ValueError(f"expected a pose object with format {POSE_FORMAT!r}")
    joints, values = pose.get("joints"), np.asarray(pose.get("rotations"), dtype=np.float64)
    if values.shape != (skeleton.NUM_POSE_JOINTS, 3) or not np.all(np.isfinite(values)):
        raise ValueError(f"expected 22 finite [x, y, z] rotations, got shape {values.shape}")
    if joints is None:
        return values
    order = {name: i for i, name in enumerate(joints)}
    missing = [name for name in skeleton.POSE_JOINT_NAMES if name not in order]
    if missing:
        raise ValueError(f"pose lacks joints: {', '.join(missing)}")
    return values[[order[name] for name in skeleton.POSE_JOINT_NAMES]]
