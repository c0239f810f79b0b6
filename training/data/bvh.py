"""BVH motion files: parse any hierarchy and evaluate it with its own forward kinematics.

Handles any channel order (including position channels on non-root joints), CRLF or LF line endings,
End Sites (kept as extra channel-less joints named `<parent>_End`), and length units: offsets and
translations are converted to metres by guessing the unit from the skeleton's height.

BVH semantics used here: a joint's rotation channels compose in the listed order as intrinsic rotations
(`Zrotation Xrotation Yrotation` -> R = Rz @ Rx @ Ry); a joint's position is its parent's position plus the
parent's global rotation applied to its offset; position channels, where present, are added to the offset
(the iClone/Character Creator exports need this; the CMU conversions have zero root offsets).
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.body.rotations import euler_to_rotmat

# Candidate units (metres per file unit): metres, centimetres, millimetres, inches, CMU ASF units
# (1/0.45 inch). The one that makes the standing height closest to HUMAN_HEIGHT wins.
UNIT_SCALES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.0254 / 0.45}
HUMAN_HEIGHT = 1.7


class BvhError(ValueError):
    """A BVH file that cannot be parsed."""


@dataclass
class Bvh:
    """A parsed BVH motion. J joints (End Sites included), T frames, lengths in metres."""

    names: list[str]  # (J,)
    parents: np.ndarray  # (J,) int, -1 for the root; parents[j] < j
    offsets: np.ndarray  # (J, 3) rest offset from the parent, in the parent's frame
    rotations: np.ndarray  # (T, J, 3, 3) local rotations (identity for End Sites)
    translations: np.ndarray  # (T, J, 3) local translation (offset plus any position channels)
    frame_time: float  # seconds per frame, as the header says
    unit: str  # key of UNIT_SCALES that was applied
    is_end_site: np.ndarray  # (J,) bool

    @property
    def num_frames(self) -> int:
        return self.rotations.shape[0]

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def index(self, name: str) -> int:
        return self.names.index(name)

    def global_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """World joint positions (T, J, 3) and world rotations (T, J, 3, 3), BVH world frame."""
        return bvh_forward_kinematics(self.rotations, self.translations, self.parents)

    def world_positions(self) -> np.ndarray:
        """(T, J, 3) world joint positions in metres, BVH world frame."""
        return self.global_transforms()[0]

    def select_frames(self, frames: np.ndarray) -> "Bvh":
        """A copy holding only the given frame indices (frame_time unchanged)."""
        return Bvh(self.names, self.parents, self.offsets, self.rotations[frames], self.translations[frames],
                   self.frame_time, self.unit, self.is_end_site)


def bvh_forward_kinematics(
    rotations: np.ndarray, translations: np.ndarray, parents: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """rotations (T, J, 3, 3), translations (T, J, 3), parents (J,) -> positions (T, J, 3), rotations (T, J, 3, 3)."""
    num_joints = len(parents)
    glob_rot = np.empty_like(rotations)
    glob_pos = np.empty_like(translations)
    for j in range(num_joints):
        p = parents[j]
        if p < 0:
            glob_rot[:, j] = rotations[:, j]
            glob_pos[:, j] = translations[:, j]
        else:
            glob_rot[:, j] = glob_rot[:, p] @ rotations[:, j]
            glob_pos[:, j] = glob_pos[:, p] + np.einsum("tab,tb->ta", glob_rot[:, p], translations[:, j])
    return glob_pos, glob_rot


def _parse_hierarchy(tokens: list[str]) -> tuple[list[str], list[int], list[list[float]], list[list[str]], int]:
    """Walk the HIERARCHY tokens. Returns names, parents, offsets, channels per joint, index after MOTION."""
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []
    pending = -1  # the joint declared by the last ROOT/JOINT/End keyword, waiting for its "{"
    i = 0
    if not tokens or tokens[0] != "HIERARCHY":
        raise BvhError("missing HIERARCHY")
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            pending = len(names) - 1
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            i += 2
        elif tok == "End":
            parent = stack[-1]
            names.append(f"{names[parent]}_End")
            pending = len(names) - 1
            parents.append(parent)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            i += 2  # "End Site"
        elif tok == "{":
            stack.append(pending)
            i += 1
        elif tok == "}":
            stack.pop()
            i += 1
        elif tok == "OFFSET":
            offsets[stack[-1]] = [float(v) for v in tokens[i + 1:i + 4]]
            i += 4
        elif tok == "CHANNELS":
            count = int(tokens[i + 1])
            channels[stack[-1]] = tokens[i + 2:i + 2 + count]
            i += 2 + count
        elif tok == "MOTION":
            return names, parents, offsets, channels, i + 1
        else:
            raise BvhError(f"unexpected token {tok!r} in HIERARCHY")
    raise BvhError("missing MOTION section")


def _guess_unit(offsets: np.ndarray, parents: np.ndarray) -> str:
    """Pick the unit that makes the rest skeleton's extent along its longest axis about human height.

    Uses the longest root-to-leaf chain length upward plus downward, robust to odd rest orientations:
    the sum of the two longest root-to-leaf path lengths through the root spans feet to head.
    """
    lengths = np.linalg.norm(offsets, axis=-1)
    path = np.zeros(len(parents))
    for j in range(1, len(parents)):
        path[j] = path[parents[j]] + lengths[j]
    # first-level branch of each joint: the path sums of two distinct root branches span the body
    branch = np.arange(len(parents))
    for j in range(1, len(parents)):
        branch[j] = j if parents[j] == 0 else branch[parents[j]]
    best_per_branch = sorted(
        (path[branch == b].max() for b in np.unique(branch[1:])), reverse=True
    )
    span = sum(best_per_branch[:2]) if best_per_branch else 0.0
    if span <= 0:
        return "m"
    return min(UNIT_SCALES, key=lambda u: abs(np.log(span * UNIT_SCALES[u] / HUMAN_HEIGHT)))


def parse_bvh(text: str, unit: str | None = None) -> Bvh:
    """Parse BVH text. `unit` forces a key of UNIT_SCALES; None guesses it."""
    tokens = text.split()
    names, parents_list, offsets_list, channels, i = _parse_hierarchy(tokens)
    if tokens[i] != "Frames:" or tokens[i + 2:i + 4] != ["Frame", "Time:"]:
        raise BvhError("malformed MOTION header")
    num_frames = int(tokens[i + 1])
    frame_time = float(tokens[i + 4])
    values = np.asarray(tokens[i + 5:], dtype=np.float64)
    width = sum(len(c) for c in channels)
    if width == 0 or values.size < num_frames * width:
        num_frames = values.size // max(width, 1)
    values = values[: num_frames * width].reshape(num_frames, width)

    parents = np.asarray(parents_list, dtype=np.int64)
    offsets = np.asarray(offsets_list, dtype=np.float64)
    unit = unit or _guess_unit(offsets, parents)
    scale = UNIT_SCALES[unit]
    num_joints = len(names)
    rotations = np.broadcast_to(np.eye(3), (num_frames, num_joints, 3, 3)).copy()
    translations = np.broadcast_to(offsets * scale, (num_frames, num_joints, 3)).copy()
    column = 0
    for j, chans in enumerate(channels):
        block = values[:, column:column + len(chans)]
        column += len(chans)
        rot_axes = [c[0].upper() for c in chans if c.lower().endswith("rotation")]
        rot_cols = [k for k, c in enumerate(chans) if c.lower().endswith("rotation")]
        pos_cols = {c[0].upper(): k for k, c in enumerate(chans) if c.lower().endswith("position")}
        if rot_cols:
            r = np.broadcast_to(np.eye(3), (num_frames, 3, 3))
            for axis, k in zip(rot_axes, rot_cols):
                angles = np.deg2rad(block[:, k])
                euler = np.zeros((num_frames, 3))
                euler[:, "XYZ".index(axis)] = angles
                r = r @ euler_to_rotmat(euler)  # intrinsic: first listed channel outermost
            rotations[:, j] = r
        for axis, k in pos_cols.items():
            translations[:, j, "XYZ".index(axis)] += block[:, k] * scale
    return Bvh(names, parents, offsets * scale, rotations, translations, frame_time, unit,
               np.array([not c for c in channels]) & np.array([n.endswith("_End") for n in names]))


def read_bvh(path: str | Path, unit: str | None = None) -> Bvh:
    """Read a BVH file (CRLF or LF)."""
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        return parse_bvh(f.read(), unit)
