"""The SMPL kinematic tree and the project's own neutral skeleton.

The joint names, their order and the parent table are SMPL's (they are facts about a public format,
listed e.g. in `smplx.joint_names`). The rest joint positions are NOT SMPL's licensed template: they are
this project's own numbers for a neutral adult about 1.70 m tall, taken from anthropometric segment
proportions (Drillis & Contini / Winter, "Biomechanics and Motor Control of Human Movement": hip height
0.53 H, knee 0.285 H, ankle 0.039 H, shoulder 0.818 H, shoulder breadth 0.259 H, upper arm 0.186 H,
forearm 0.146 H, hand 0.108 H, foot length 0.152 H), rounded and adjusted so joints sit at joint centres
rather than at the bony landmarks those tables measure.

Frame (SMPL's): +Y up, +X the body's left, the body faces +Z, metres. The pelvis joint is the origin.
Rest pose: a T-pose, arms along +-X, legs straight down, as in SMPL.
"""
import numpy as np

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)
NUM_JOINTS = len(JOINT_NAMES)  # 24
NUM_POSE_JOINTS = 22  # UniPose poses: global orientation + 21 body joints (no hands)
POSE_JOINT_NAMES: tuple[str, ...] = JOINT_NAMES[:NUM_POSE_JOINTS]
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

PARENTS = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21], dtype=np.int64
)


def _mirror_name(name: str) -> str:
    if name.startswith("left_"):
        return "right_" + name[len("left_"):]
    if name.startswith("right_"):
        return "left_" + name[len("right_"):]
    return name


# MIRROR_INDEX[i] is the joint that i becomes when the body is mirrored left <-> right.
MIRROR_INDEX = np.array([JOINT_INDEX[_mirror_name(n)] for n in JOINT_NAMES], dtype=np.int64)

# Height of the pelvis joint above the soles in the rest pose; the skeleton's ground is at -PELVIS_HEIGHT.
PELVIS_HEIGHT = 0.96
FOOT_SOLE_BELOW_ANKLE = 0.075  # ankle joint centre above the sole
TOE_SOLE_BELOW_FOOT = 0.02  # SMPL's `foot` joint is at the ball of the foot

# Rest positions of the left side and the midline; the right side mirrors x. Absolute heights above the
# soles (y) are converted to pelvis-relative coordinates below.
_REST_ABSOLUTE = {
    "pelvis": (0.0, 0.960, 0.000),
    "left_hip": (0.085, 0.895, 0.005),
    "spine1": (0.0, 1.065, -0.010),
    "left_knee": (0.095, 0.490, 0.010),
    "spine2": (0.0, 1.185, -0.005),
    "left_ankle": (0.100, FOOT_SOLE_BELOW_ANKLE, -0.030),
    "spine3": (0.0, 1.245, 0.000),
    "left_foot": (0.110, TOE_SOLE_BELOW_FOOT, 0.110),
    "neck": (0.0, 1.450, -0.015),
    "left_collar": (0.070, 1.375, -0.005),
    "head": (0.0, 1.540, 0.025),
    "left_shoulder": (0.175, 1.395, -0.015),
    "left_elbow": (0.445, 1.395, -0.030),
    "left_wrist": (0.690, 1.395, -0.025),
    "left_hand": (0.775, 1.390, -0.025),
}


def _build_rest_joints() -> np.ndarray:
    rest = np.zeros((NUM_JOINTS, 3), dtype=np.float64)
    for i, name in enumerate(JOINT_NAMES):
        source = name.replace("right_", "left_")
        x, y, z = _REST_ABSOLUTE[source]
        if name.startswith("right_"):
            x = -x
        rest[i] = (x, y - PELVIS_HEIGHT, z)
    return rest


NEUTRAL_REST_JOINTS: np.ndarray = _build_rest_joints()  # (24, 3) metres, pelvis at the origin
NEUTRAL_REST_JOINTS.setflags(write=False)
HEAD_TOP_ABOVE_HEAD_JOINT = 0.16  # the skull top is about 1.70 m above the soles

LEFT_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES) if n.startswith("left_"))
RIGHT_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES) if n.startswith("right_"))


def children(joint: int) -> tuple[int, ...]:
    """Indices of the joints whose parent is `joint`."""
    return tuple(int(i) for i in np.flatnonzero(PARENTS == joint))


