"""A stand-in body made of capsules along the SMPL bones, as plain arrays (no bpy).

Each capsule is rigidly bound to one bone, so the body follows any pose without skinning weights to
paint. Coordinates are in the SMPL frame (+Y up, +X the body's left, faces +Z), metres.
"""
import numpy as np

from .body import skeleton

# (from joint, to joint or None, radius, bone that moves it). None = a cap that continues the bone:
# `CAP_OFFSETS` gives its end relative to the joint.
_SEGMENTS = (
    ("pelvis", "spine1", 0.110, "pelvis"),
    ("pelvis", "left_hip", 0.095, "pelvis"), ("pelvis", "right_hip", 0.095, "pelvis"),
    ("spine1", "spine2", 0.115, "spine1"), ("spine2", "spine3", 0.125, "spine2"),
    ("spine3", "neck", 0.060, "spine3"),
    ("spine3", "left_collar", 0.070, "spine3"), ("spine3", "right_collar", 0.070, "spine3"),
    ("neck", "head", 0.055, "neck"), ("head", None, 0.095, "head"),
    ("left_collar", "left_shoulder", 0.060, "left_collar"), ("right_collar", "right_shoulder", 0.060, "right_collar"),
    ("left_shoulder", "left_elbow", 0.050, "left_shoulder"), ("right_shoulder", "right_elbow", 0.050, "right_shoulder"),
    ("left_elbow", "left_wrist", 0.042, "left_elbow"), ("right_elbow", "right_wrist", 0.042, "right_elbow"),
    ("left_wrist", "left_hand", 0.036, "left_wrist"), ("right_wrist", "right_hand", 0.036, "right_wrist"),
    ("left_hand", None, 0.030, "left_hand"), ("right_hand", None, 0.030, "right_hand"),
    ("left_hip", "left_knee", 0.075, "left_hip"), ("right_hip", "right_knee", 0.075, "right_hip"),
    ("left_knee", "left_ankle", 0.055, "left_knee"), ("right_knee", "right_ankle", 0.055, "right_knee"),
    ("left_ankle", "left_foot", 0.045, "left_ankle"), ("right_ankle", "right_foot", 0.045, "right_ankle"),
    ("left_foot", None, 0.035, "left_foot"), ("right_foot", None, 0.035, "right_foot"),
)
CAP_OFFSETS = {
    "head": (0.0, 0.14, 0.0),
    "left_hand": (0.07, 0.0, 0.0), "right_hand": (-0.07, 0.0, 0.0),
    "left_foot": (0.0, -0.01, 0.06), "right_foot": (0.0, -0.01, 0.06),
}
# Material slot per capsule: 0 midline, 1 the body's left, 2 its right (tells sides apart in previews).
MATERIAL_NAMES = ("UniPose Body", "UniPose Left", "UniPose Right")


def capsule(start: np.ndarray, end: np.ndarray, radius: float, rings: int = 4, segments: int = 12):
    """A closed capsule from `start` to `end`. Returns verts (V, 3) and faces (list of index tuples)."""
    axis = end - start
    length = float(np.linalg.norm(axis))
    z = axis / length if length > 1e-9 else np.array([0.0, 1.0, 0.0])
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    angles = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    circle = np.cos(angles)[:, None] * x + np.sin(angles)[:, None] * y  # (S, 3)
    verts = [start - radius * z]  # bottom pole
    lats = np.linspace(-np.pi / 2, 0.0, rings + 1)[1:]  # lower hemisphere rings, ending at the equator
    for centre, ring_lats in ((start, lats), (end, -lats[::-1])):
        for lat in ring_lats:
            verts.extend(centre + radius * (np.sin(lat) * z + np.cos(lat) * circle))
    verts.append(end + radius * z)  # top pole
    num_rings = 2 * rings
    ring = lambda r, s: 1 + r * segments + s % segments  # noqa: E731 (index of ring r, segment s)
    faces: list[tuple[int, ...]] = [(0, ring(0, s + 1), ring(0, s)) for s in range(segments)]
    for r in range(num_rings - 1):
        faces += [(ring(r, s), ring(r, s + 1), ring(r + 1, s + 1), ring(r + 1, s)) for s in range(segments)]
    top = len(verts) - 1
    faces += [(ring(num_rings - 1, s), ring(num_rings - 1, s + 1), top) for s in range(segments)]
    return np.asarray(verts), faces


def body_capsules(rest_joints: np.ndarray):
    """Capsules for a skeleton. rest_joints: (24, 3) SMPL frame.

    Returns verts (V, 3), faces (list), bone_of_vertex (V,) joint index, material_of_face (F,) slot.
    """
    j = skeleton.JOINT_INDEX
    all_verts, all_faces, bones, materials, offset = [], [], [], [], 0
    for start_name, end_name, radius, bone in _SEGMENTS:
        start = rest_joints[j[start_name]]
        end = rest_joints[j[end_name]] if end_name else start + np.asarray(CAP_OFFSETS[start_name])
        verts, faces = capsule(start, end, radius)
        all_verts.append(verts)
        all_faces += [tuple(i + offset for i in face) for face in faces]
        bones.append(np.full(len(verts), j[bone]))
        side = 1 if bone.startswith("left_") else 2 if bone.startswith("right_") else 0
        materials += [side] * len(faces)
        offset += len(verts)
    return np.concatenate(all_verts), all_faces, np.concatenate(bones), np.asarray(materials)


def lowest_surface(joints: np.ndarray, frames: np.ndarray, scale: float, up: np.ndarray) -> float:
    """Height along `up` of the lowest point of the capsule body on a posed skeleton.

    joints: (24, 3) posed joint positions in any frame; frames: (24, 3, 3) each joint's global rotation
    from the SMPL frame into that frame (it turns the end caps); scale: the body's size relative to the
    neutral skeleton (scales the radii and caps); up: (3,) unit up direction of that frame.
    """
    j = skeleton.JOINT_INDEX
    lowest = np.inf
    for start_name, end_name, radius, bone in _SEGMENTS:
        start = joints[j[start_name]]
        end = joints[j[end_name]] if end_name else start + scale * frames[j[bone]] @ np.asarray(CAP_OFFSETS[start_name])
        lowest = min(lowest, min(float(start @ up), float(end @ up)) - scale * radius)
    return lowest
