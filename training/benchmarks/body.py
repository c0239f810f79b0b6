"""One pose measured in the body's own frame, for checks a person would agree with.

Up is the world's +Y; heights are above the floor, taken as the lowest joint. `left` is the hip axis
(right hip -> left hip) and `front` the direction the torso faces (the posecodes' body frame: horizontal
for an upright body, the chest's own front for a lying or inverted one). `heading` is the front made
horizontal, for telling a forward bend from a backward lean. Metres and degrees throughout.
"""
from dataclasses import dataclass

import numpy as np

from backend.body.kinematics import pose_joints
from backend.body.skeleton import JOINT_INDEX
from backend.facts.posecodes import body_frame

_UP = np.array([0.0, 1.0, 0.0])
_LIMB_ENDS = {"elbow": ("shoulder", "wrist"), "knee": ("hip", "ankle")}


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    cos = a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


@dataclass(frozen=True)
class Body:
    joints: np.ndarray   # (24, 3) joint positions, SMPL frame (+Y up)
    left: np.ndarray     # (3,) unit hip axis
    front: np.ndarray    # (3,) unit: where the torso faces
    heading: np.ndarray  # (3,) unit horizontal front (zero-safe: +Z when the body is vertical-sideways)

    @classmethod
    def from_pose(cls, axis_angle: np.ndarray) -> "Body":
        """(22, 3) axis-angle -> Body."""
        return cls.from_joints(pose_joints(np.asarray(axis_angle, np.float64))[:24])

    @classmethod
    def from_joints(cls, joints: np.ndarray) -> "Body":
        """(24, 3) joint positions -> Body."""
        joints = np.asarray(joints, np.float64)
        left, front, _ = body_frame(joints[None])
        left_h = left[0] * np.array([1.0, 0.0, 1.0])
        norm = np.linalg.norm(left_h)
        heading = np.cross(left_h / norm, _UP) if norm > 1e-6 else np.array([0.0, 0.0, 1.0])
        return cls(joints, left[0], front[0], heading)

    def at(self, name: str) -> np.ndarray:
        return self.joints[JOINT_INDEX[name]]

    def height(self, name: str) -> float:
        """Height of a joint above the floor (the lowest joint)."""
        return float(self.at(name)[1] - self.joints[:, 1].min())

    def above(self, a: str, b: str) -> float:
        """How far joint a is above joint b (negative: below)."""
        return float(self.at(a)[1] - self.at(b)[1])

    def ahead(self, a: str, b: str) -> float:
        """How far joint a is in front of joint b along the torso's front."""
        return float((self.at(a) - self.at(b)) @ self.front)

    def leftward(self, a: str, b: str) -> float:
        """How far joint a is to the body's left of joint b (along the hip axis)."""
        return float((self.at(a) - self.at(b)) @ self.left)

    def distance(self, a: str, b: str) -> float:
        return float(np.linalg.norm(self.at(a) - self.at(b)))

    def flexion(self, joint: str) -> float:
        """How far an elbow or knee is bent: 0 straight, 90 a right angle."""
        side, part = joint.split("_", 1)
        parent, child = _LIMB_ENDS[part]
        mid = self.at(joint)
        return 180.0 - _angle(self.at(f"{side}_{parent}") - mid, self.at(f"{side}_{child}") - mid)

    def torso(self) -> np.ndarray:
        """Unit pelvis -> neck direction."""
        v = self.at("neck") - self.at("pelvis")
        return v / np.linalg.norm(v)

    def torso_tilt(self) -> float:
        """Angle of the torso from vertical: 0 upright, 90 lying or bent flat, 180 upside down."""
        return _angle(self.torso(), _UP)

    def torso_lean(self) -> float:
        """Forward (+) or backward (-) lean of the torso from vertical, in the sagittal plane."""
        t = self.torso()
        return float(np.degrees(np.arctan2(t @ self.heading, t[1])))

    def torso_side_lean(self) -> float:
        """Lean of the torso to the body's left (+) or right (-)."""
        t = self.torso()
        left_h = np.cross(_UP, self.heading)
        return float(np.degrees(np.arctan2(t @ left_h, t[1])))

    def limb_from_vertical(self, a: str, b: str) -> float:
        """Angle of the segment a -> b from vertical, folded to 0-90 (0 vertical, 90 horizontal)."""
        angle = _angle(self.at(b) - self.at(a), _UP)
        return min(angle, 180.0 - angle)

    def chest_up(self) -> float:
        """Vertical component of the torso's front: +1 facing the sky, -1 facing the floor."""
        return float(self.front[1])

    def hip_axis_up(self) -> float:
        """Vertical component of the hip axis: +-1 when lying on a side."""
        return float(self.left[1])
