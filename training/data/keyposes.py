"""A small hand-built library of floor, kneeling, seated and yoga poses that the CMU clips lack.

Each key pose lists local joint rotations in degrees in the SMPL frame: either Euler angles (the
project's 'XYZ' order, X applied first) or a list of (axis, degrees) steps applied in the listed order. Useful facts for reading them (T-pose rest, +Y up, +X left, facing +Z):
hip flexion (thigh forward) is -X, knee flexion +X, spine forward bend +X, ankle pointing the toes +X;
left hip abduction +Z; left arm down -Z, up +Z, forward -Y; left elbow flexion -Y; the right side
mirrors the Y and Z signs. Whole-body orientation: lying on the back is root X -90, on the front X +90.
"""
import numpy as np

from backend.body.rotations import axis_angle_to_rotmat, euler_to_rotmat, rotmat_to_axis_angle
from backend.body.skeleton import JOINT_INDEX
from training.data.augment import mirror

ARMS_DOWN = {"left_shoulder": (0, 0, -75), "right_shoulder": (0, 0, 75)}
ARMS_UP = {"left_shoulder": (0, 0, 80), "right_shoulder": (0, 0, -80)}
ARMS_FORWARD = {"left_shoulder": (0, -90, 0), "right_shoulder": (0, 90, 0)}

KEYPOSES: dict[str, dict] = {
    "lying_on_back": {"pelvis": (-90, 0, 0), **ARMS_DOWN},
    "lying_on_back_arms_overhead": {"pelvis": (-90, 0, 0), **ARMS_UP},
    "lying_on_back_knees_up": {"pelvis": (-90, 0, 0), "left_hip": (-60, 0, 0), "right_hip": (-60, 0, 0),
                               "left_knee": (110, 0, 0), "right_knee": (110, 0, 0), **ARMS_DOWN},
    "lying_on_front": {"pelvis": (90, 0, 0), "left_shoulder": (0, 0, 60), "right_shoulder": (0, 0, -60),
                       "left_elbow": (0, 0, 40), "right_elbow": (0, 0, -40)},
    "lying_on_side": {"pelvis": (0, 0, -90), "left_hip": (-40, 0, 0), "right_hip": (-30, 0, 0),
                      "left_knee": (60, 0, 0), "right_knee": (50, 0, 0),
                      "left_shoulder": (0, -80, 0), "right_shoulder": (0, 0, 70), "right_elbow": (0, 30, 0)},
    "kneeling_on_both_knees": {"left_knee": (90, 0, 0), "right_knee": (90, 0, 0),
                               "left_ankle": (30, 0, 0), "right_ankle": (30, 0, 0), **ARMS_DOWN},
    "kneeling_on_one_knee": {"left_hip": (-90, 0, 0), "left_knee": (90, 0, 0), "right_hip": (10, 0, 0),
                             "right_knee": (100, 0, 0), "right_ankle": (20, 0, 0),
                             "left_shoulder": (0, 0, -70), "right_shoulder": (0, 0, 70),
                             "left_elbow": (0, -40, 0)},
    "sitting_on_heels": {"left_hip": (-85, 0, 0), "right_hip": (-85, 0, 0), "left_knee": (160, 0, 0),
                         "right_knee": (160, 0, 0), "left_ankle": (40, 0, 0), "right_ankle": (40, 0, 0),
                         "spine1": (5, 0, 0), "left_shoulder": (0, -30, -70), "right_shoulder": (0, 30, 70),
                         "left_elbow": (0, -40, 0), "right_elbow": (0, 40, 0)},
    "sitting_cross_legged": {"left_hip": [("Y", 90), ("X", -85), ("Y", 40)],
                             "right_hip": [("Y", -90), ("X", -85), ("Y", -40)],
                             "left_knee": (130, 0, 0), "right_knee": (130, 0, 0),
                             "left_shoulder": (0, -30, -70), "right_shoulder": (0, 30, 70),
                             "left_elbow": (0, -50, 0), "right_elbow": (0, 50, 0)},
    "sitting_on_floor_legs_straight": {"left_hip": (-90, 0, 0), "right_hip": (-90, 0, 0),
                                       "left_shoulder": (0, 25, -70), "right_shoulder": (0, -25, 70)},
    "sitting_on_chair": {"left_hip": (-90, 0, 5), "right_hip": (-90, 0, -5), "left_knee": (90, 0, 0),
                         "right_knee": (90, 0, 0), "left_shoulder": (0, -20, -75),
                         "right_shoulder": (0, 20, 75), "left_elbow": (0, -60, 0), "right_elbow": (0, 60, 0)},
    "squatting": {"left_hip": (-115, 0, 15), "right_hip": (-115, 0, -15), "left_knee": (135, 0, 0),
                  "right_knee": (135, 0, 0), "left_ankle": (-25, 0, 0), "right_ankle": (-25, 0, 0),
                  "spine1": (25, 0, 0), **ARMS_FORWARD},
    "lunge": {"left_hip": (-85, 0, 0), "left_knee": (90, 0, 0), "right_hip": (35, 0, 0), "right_knee": (15, 0, 0),
              "right_ankle": (-20, 0, 0), **ARMS_UP},
    "warrior_two": {"left_hip": (0, 90, 80), "left_knee": (80, 0, 0), "right_hip": (0, 0, -40),
                    "neck": (0, 30, 0), "head": (0, 40, 0)},
    "tree_pose": {"left_hip": (0, 90, 45), "left_knee": (140, 0, 0), "left_ankle": (30, 0, 0),
                  "left_shoulder": (0, 0, 80), "right_shoulder": (0, 0, -80),
                  "left_elbow": (0, 0, 10), "right_elbow": (0, 0, -10)},
    "downward_dog": {"pelvis": (135, 0, 0), "left_hip": (-95, 0, 0), "right_hip": (-95, 0, 0),
                     "left_ankle": (-20, 0, 0), "right_ankle": (-20, 0, 0), **ARMS_UP},
    "plank": {"pelvis": (72, 0, 0), "left_ankle": (-30, 0, 0), "right_ankle": (-30, 0, 0), **ARMS_FORWARD},
    "push_up_down": {"pelvis": (80, 0, 0), "left_shoulder": (0, -10, -60), "right_shoulder": (0, 10, 60),
                     "left_elbow": (0, -90, 0), "right_elbow": (0, 90, 0)},
    "crawling": {"pelvis": (82, 0, 0), "left_hip": (-78, 0, 0), "right_hip": (-88, 0, 0),
                 "left_knee": (90, 0, 0), "right_knee": (95, 0, 0),
                 **ARMS_FORWARD},
    "bending_to_touch_toes": {"pelvis": (60, 0, 0), "spine1": (15, 0, 0), "spine2": (15, 0, 0),
                              "spine3": (10, 0, 0), "left_hip": (-60, 0, 0), "right_hip": (-60, 0, 0),
                              **ARMS_FORWARD},  # forward of the bent torso = hanging towards the floor
    "handstand": {"pelvis": (0, 0, 180), **ARMS_UP},
    "bridge": {"pelvis": (-70, 0, 0), "left_hip": (-10, 0, 0), "right_hip": (-10, 0, 0),
               "left_knee": (100, 0, 0), "right_knee": (100, 0, 0), **ARMS_DOWN},
}
# Poses with a side: their mirror images are added as well.
ASYMMETRIC = ("lying_on_side", "kneeling_on_one_knee", "lunge", "warrior_two", "tree_pose")


def _joint_rotation(spec) -> np.ndarray:
    """(x, y, z) Euler degrees or [(axis, degrees), ...] steps -> (3, 3)."""
    if isinstance(spec, tuple):
        return euler_to_rotmat(np.radians(spec))
    rot = np.eye(3)
    for axis, degrees in spec:
        angles = np.zeros(3)
        angles["XYZ".index(axis)] = np.radians(degrees)
        rot = euler_to_rotmat(angles) @ rot
    return rot


def keypose(name: str) -> np.ndarray:
    """One key pose as (22, 3) axis-angle."""
    rotmats = np.broadcast_to(np.eye(3), (22, 3, 3)).copy()
    for joint, spec in KEYPOSES[name].items():
        rotmats[JOINT_INDEX[joint]] = _joint_rotation(spec)
    return rotmat_to_axis_angle(rotmats)


def keypose_library() -> tuple[np.ndarray, list[str]]:
    """All key poses and the mirror images of the one-sided ones: (K, 22, 3), names."""
    names = list(KEYPOSES)
    poses = np.stack([keypose(n) for n in names])
    mirrored = mirror(np.stack([keypose(n) for n in ASYMMETRIC]))
    return np.concatenate([poses, mirrored]), names + [f"{n}_mirrored" for n in ASYMMETRIC]


def perturb(axis_angle: np.ndarray, rng: np.random.Generator, body_deg: float = 7.0, root_deg: float = 6.0) -> np.ndarray:
    """Random small local rotations on top of each pose: (N, 22, 3) -> (N, 22, 3)."""
    n = len(axis_angle)
    scale = np.full(22, np.radians(body_deg))
    scale[0] = np.radians(root_deg)
    noise = rng.normal(size=(n, 22, 3)) * (scale / np.sqrt(3))[None, :, None]
    return rotmat_to_axis_angle(axis_angle_to_rotmat(axis_angle) @ axis_angle_to_rotmat(noise))


def perturbed_keyposes(variants: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """`variants` perturbed copies of every library pose (the first copy unperturbed). -> (K*variants, 22, 3), names."""
    rng = np.random.default_rng(seed)
    poses, names = keypose_library()
    repeated = np.repeat(poses, variants, axis=0)
    out = perturb(repeated, rng)
    out[::variants] = poses
    return out, [n for n in names for _ in range(variants)]
