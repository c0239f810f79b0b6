"""Hand-made poses for the benchmark-scoring tests, written as joint-angle statements (backend.body), so they
do not change when the corpus's key-pose library does. Signs (SMPL rest frame, T-pose, +X the body's left,
+Y up, +Z forward): hip flexion -x, knee flexion +x, spine forward bend +x; left arm down -z, up +z,
forward -y; left elbow flexion -y; root x -90 lies on the back, +90 on the front. `mirrored` swaps the sides."""
import numpy as np

from backend.body.example_poses import EXAMPLE_POSES, pose_from_statements

Statements = dict[str, list[tuple[str, float]]]


def xyz(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> list[tuple[str, float]]:
    """Euler degrees, X applied first."""
    return [("x", x), ("y", y), ("z", z)]


def mirrored(statements: Statements) -> Statements:
    """The mirror image: left and right swapped, rotations about y and z reversed."""
    def swap(name: str) -> str:
        return name.replace("left", "@").replace("right", "left").replace("@", "right")

    return {swap(joint): [(axis, deg if axis == "x" else -deg) for axis, deg in turns]
            for joint, turns in statements.items()}


ARMS_DOWN: Statements = {"left_shoulder": xyz(z=-75), "right_shoulder": xyz(z=75)}
ARMS_UP: Statements = {"left_shoulder": xyz(z=80), "right_shoulder": xyz(z=-80)}
ARMS_FORWARD: Statements = {"left_shoulder": xyz(y=-90), "right_shoulder": xyz(y=90)}

STATEMENTS: dict[str, Statements] = {
    "lying_on_back": {"pelvis": xyz(-90), **ARMS_DOWN},
    "lying_on_back_knees_up": {"pelvis": xyz(-90), "left_hip": xyz(-60), "right_hip": xyz(-60),
                               "left_knee": xyz(110), "right_knee": xyz(110), **ARMS_DOWN},
    "lying_on_front": {"pelvis": xyz(90), "left_shoulder": xyz(z=60), "right_shoulder": xyz(z=-60)},
    "lying_on_side": {"pelvis": xyz(z=-90), "left_hip": xyz(-40), "right_hip": xyz(-30), "left_knee": xyz(60),
                      "right_knee": xyz(50), "left_shoulder": xyz(y=-80), "right_shoulder": xyz(z=70)},
    "kneeling_on_both_knees": {"left_knee": xyz(90), "right_knee": xyz(90), "left_ankle": xyz(30),
                               "right_ankle": xyz(30), **ARMS_DOWN},
    "kneeling_on_right_knee": {"left_hip": xyz(-90), "left_knee": xyz(90), "right_hip": xyz(10),
                               "right_knee": xyz(100), "right_ankle": xyz(20), **ARMS_DOWN},
    "sitting_on_heels": {"left_hip": xyz(-85), "right_hip": xyz(-85), "left_knee": xyz(160), "right_knee": xyz(160),
                         "left_ankle": xyz(40), "right_ankle": xyz(40), "spine1": xyz(5), **ARMS_DOWN},
    "sitting_cross_legged": {"left_hip": [("y", 90), ("x", -85), ("y", 40)],
                             "right_hip": [("y", -90), ("x", -85), ("y", -40)],
                             "left_knee": xyz(130), "right_knee": xyz(130), **ARMS_DOWN},
    "sitting_on_floor_legs_straight": {"left_hip": xyz(-90), "right_hip": xyz(-90),
                                       "left_shoulder": xyz(y=25, z=-70), "right_shoulder": xyz(y=-25, z=70)},
    "sitting_on_chair": {"left_hip": xyz(-90, z=5), "right_hip": xyz(-90, z=-5), "left_knee": xyz(90),
                         "right_knee": xyz(90), "left_shoulder": xyz(y=-20, z=-75), "right_shoulder": xyz(y=20, z=75),
                         "left_elbow": xyz(y=-60), "right_elbow": xyz(y=60)},
    "squatting": {"left_hip": xyz(-115, z=15), "right_hip": xyz(-115, z=-15), "left_knee": xyz(135),
                  "right_knee": xyz(135), "left_ankle": xyz(-25), "right_ankle": xyz(-25), "spine1": xyz(25),
                  **ARMS_FORWARD},
    "warrior_two": {"left_hip": xyz(0, 90, 80), "left_knee": xyz(80), "right_hip": xyz(z=-40)},
    "tree_pose": {"left_hip": xyz(0, 90, 45), "left_knee": xyz(140), "left_ankle": xyz(30), **ARMS_UP},
    "downward_dog": {"pelvis": xyz(135), "left_hip": xyz(-95), "right_hip": xyz(-95), "left_ankle": xyz(-20),
                     "right_ankle": xyz(-20), **ARMS_UP},
    "plank": {"pelvis": xyz(72), "left_ankle": xyz(-30), "right_ankle": xyz(-30), **ARMS_FORWARD},
    "crawling": {"pelvis": xyz(82), "left_hip": xyz(-78), "right_hip": xyz(-88), "left_knee": xyz(90),
                 "right_knee": xyz(95), **ARMS_FORWARD},
    "bending_forward": {"pelvis": xyz(70), "left_hip": xyz(-70), "right_hip": xyz(-70), **ARMS_DOWN},
    "handstand": {"pelvis": xyz(z=180), **ARMS_UP},
    # arm states on a standing body
    "hands_on_hips": {"left_shoulder": xyz(z=-45), "right_shoulder": xyz(z=45),
                      "left_elbow": xyz(z=-100), "right_elbow": xyz(z=100)},
    "arms_crossed": {"left_shoulder": [("z", -50), ("y", -90)], "right_shoulder": [("z", 50), ("y", 90)],
                     "left_elbow": xyz(y=-90), "right_elbow": xyz(y=90)},
    "praying": {"left_shoulder": [("z", -60), ("y", -50), ("x", -30)],
                "right_shoulder": [("z", 60), ("y", 50), ("x", -30)],
                "left_elbow": xyz(y=-110), "right_elbow": xyz(y=110)},
    "hands_on_head": {"left_shoulder": xyz(z=20), "right_shoulder": xyz(z=-20),
                      "left_elbow": xyz(z=130), "right_elbow": xyz(z=-130)},
    "waving_left": {"right_shoulder": xyz(z=78), "left_shoulder": xyz(z=-10), "left_elbow": xyz(z=90)},
    "left_arm_up": {"left_shoulder": xyz(z=80), "right_shoulder": xyz(z=78)},
    "a_pose": {"left_shoulder": xyz(z=-45), "right_shoulder": xyz(z=45)},
    "star": {"left_shoulder": xyz(z=45), "right_shoulder": xyz(z=-45), "left_hip": xyz(z=25), "right_hip": xyz(z=-25)},
    "on_left_leg": {"right_hip": xyz(-60), "right_knee": xyz(90), "left_shoulder": xyz(z=-78),
                    "right_shoulder": xyz(z=78)},
    "lean_back": {"spine1": xyz(-15), "spine2": xyz(-10), "left_shoulder": xyz(z=-78), "right_shoulder": xyz(z=78)},
    "side_bend": {"spine1": xyz(z=15), "spine2": xyz(z=10), "left_shoulder": xyz(z=-78), "right_shoulder": xyz(z=78)},
    "split": {"left_hip": xyz(-70), "right_hip": xyz(45)},
    "lunge_left_forward": {"left_hip": xyz(-80), "left_knee": xyz(80), "right_hip": xyz(15), "right_knee": xyz(62),
                           "right_ankle": xyz(-40), "spine1": xyz(-5), **ARMS_DOWN},
}
STATEMENTS["kneeling_on_left_knee"] = mirrored(STATEMENTS["kneeling_on_right_knee"])
STATEMENTS["on_right_leg"] = mirrored(STATEMENTS["on_left_leg"])
STATEMENTS["lunge_right_forward"] = mirrored(STATEMENTS["lunge_left_forward"])


def pose(name: str) -> np.ndarray:
    """A (22, 3) axis-angle pose by name: the statements above, or backend.body.example_poses."""
    if name in EXAMPLE_POSES:
        return np.asarray(EXAMPLE_POSES[name], np.float64)
    return pose_from_statements(STATEMENTS[name])

