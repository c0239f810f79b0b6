"""Read and write SMPL poses on Blender armatures, and create the SMPL rig with its capsule body.

The math lives in `rigmap` (numpy); this module moves numbers between it and bpy.
"""
import bpy
import numpy as np
from mathutils import Matrix

from . import capsules, rigmap, smplmesh
from .body import rotations, skeleton

SMPL_TO_BLENDER = rigmap.SMPL_TO_BLENDER
LEAF_OFFSETS = {"head": (0.0, 0.14, 0.0), "left_foot": (0.0, 0.0, 0.08), "right_foot": (0.0, 0.0, 0.08),
                "left_hand": (0.08, 0.0, 0.0), "right_hand": (-0.08, 0.0, 0.0)}
MAIN_CHILD = {"pelvis": "spine1", "spine3": "neck"}  # bones with several children point at this one


class RigError(ValueError):
    """The object cannot be used as an SMPL rig; the message says why and what to do."""


def _matrix3(m) -> np.ndarray:
    """A mathutils matrix -> (3, 3) rotation with unit columns (scale removed)."""
    a = np.array(m.to_3x3(), dtype=np.float64)
    return a / np.linalg.norm(a, axis=0, keepdims=True)


class SmplRig:
    """An armature object seen as SMPL: which bone is which joint, and the rig's SMPL frame."""

    def __init__(self, ob):
        if ob is None or ob.type != "ARMATURE":
            raise RigError("No armature: pick a target armature in the UniPose panel or use Add SMPL Rig")
        self.ob = ob
        self.mapping = rigmap.match_bones([b.name for b in ob.data.bones])
        missing = rigmap.missing_pose_joints(self.mapping)
        if missing:
            raise RigError(
                f"'{ob.name}' is not an SMPL-like rig; missing bones: {', '.join(missing)}. "
                "Name bones like SMPL (pelvis/left_hip, Pelvis/L_Hip or m_avg_L_Hip) or use Add SMPL Rig")
        bones = ob.data.bones
        self.joint_bones = [self.mapping[j] for j in range(rigmap.NUM_POSE_JOINTS)]  # (22,) bone names
        self.frame = rigmap.smpl_frame(self.rest_heads())

    def rest_heads(self) -> np.ndarray:
        """(J, 3) armature-space rest heads of the mapped joints (J = 22, or 24 with hand bones)."""
        count = 24 if all(j in self.mapping for j in (22, 23)) else 22
        return np.array([self.ob.data.bones[self.mapping[j]].head_local for j in range(count)])

    def rest_joints(self) -> np.ndarray:
        """(J, 3) rest joints in the SMPL frame (the rig's own proportions)."""
        return self.rest_heads() @ self.frame  # row-vector form of F^T @ head

    def _bone_rotations(self):
        """Q and M of every bone (B, 3, 3) each, parents (B,), and the joints' bone indices (22,)."""
        bones = self.ob.data.bones
        index = {b.name: i for i, b in enumerate(bones)}
        rest = np.stack([_matrix3(b.matrix_local) for b in bones])
        basis = np.stack([_matrix3(self.ob.pose.bones[b.name].matrix_basis) for b in bones])
        parents = np.array([index[b.parent.name] if b.parent else -1 for b in bones])
        return rest, basis, parents, np.array([index[name] for name in self.joint_bones])

    def read_locals(self) -> np.ndarray:
        """The current pose as (22, 3, 3) SMPL local rotations (from the bones' own rotations)."""
        return rigmap.read_smpl_locals(*self._bone_rotations(), self.frame)

    def read_pose(self) -> np.ndarray:
        """The current pose as (22, 3) axis-angle."""
        return rotations.rotmat_to_axis_angle(self.read_locals())

    def selected_joints(self) -> np.ndarray:
        """(22,) bool: which joints' bones are selected."""
        def selected(name):
            pose_bone = self.ob.pose.bones[name]
            flag = getattr(pose_bone, "select", None)  # Blender 5 moved selection to pose bones
            return bool(pose_bone.bone.select if flag is None else flag)
        return np.array([selected(name) for name in self.joint_bones])

    def write_pose(self, axis_angle: np.ndarray, factor: float = 1.0, mask: np.ndarray | None = None,
                   keyframe: int | None = None) -> list[str]:
        """Pose the rig. axis_angle: (22, 3). Only `mask`ed joints change, `factor` of the way from the
        current pose; with `keyframe` their rotations are keyed at that frame. Returns the changed bones."""
        mask = np.ones(rigmap.NUM_POSE_JOINTS, bool) if mask is None else np.asarray(mask, bool)
        target = rotations.axis_angle_to_rotmat(np.asarray(axis_angle, dtype=np.float64))
        current = self.read_locals()
        local = rigmap.blend_locals(current, target, float(factor), mask) if factor < 1.0 or not mask.all() \
            else target
        bases = rigmap.bone_bases_from_smpl(local, *self._bone_rotations(), self.frame)
        changed = []
        for j in np.flatnonzero(mask):
            pose_bone = self.ob.pose.bones[self.joint_bones[j]]
            path = _set_rotation(pose_bone, Matrix(bases[j].tolist()))
            if keyframe is not None:
                pose_bone.keyframe_insert(path, frame=keyframe, group=pose_bone.name)
            changed.append(pose_bone.name)
        return changed

    def joint_world_positions(self, depsgraph_update=True) -> np.ndarray:
        """(J, 3) world positions of the joints as Blender evaluates them."""
        if depsgraph_update:
            bpy.context.view_layer.update()
        count = len(self.rest_heads())
        matrix = self.ob.matrix_world
        return np.array([matrix @ self.ob.pose.bones[self.mapping[j]].head for j in range(count)])


def _set_rotation(pose_bone, basis: Matrix) -> str:
    """Set a pose bone's rotation in its own rotation mode, continuous with its current value.
    Returns the data path to key."""
    mode = pose_bone.rotation_mode
    quat = basis.to_quaternion()
    if mode == "QUATERNION":
        if quat.dot(pose_bone.rotation_quaternion) < 0:
            quat.negate()
        pose_bone.rotation_quaternion = quat
        return "rotation_quaternion"
    if mode == "AXIS_ANGLE":
        axis, angle = quat.to_axis_angle()
        pose_bone.rotation_axis_angle = (angle, *axis)
        return "rotation_axis_angle"
    pose_bone.rotation_euler = basis.to_euler(mode, pose_bone.rotation_euler)
    return "rotation_euler"


def ensure_object_mode(context) -> None:
    if context.mode != "OBJECT" and context.view_layer.objects.active is not None:
        bpy.ops.object.mode_set(mode="OBJECT")


def build_armature(context, name: str, bone_names, heads, tails, parents, rolls=None):
    """A new armature object in the scene. heads, tails: (B, 3) armature space; parents: (B,) or -1."""
    ensure_object_mode(context)
    data = bpy.data.armatures.new(name)
    ob = bpy.data.objects.new(name, data)
    context.scene.collection.objects.link(ob)
    for other in context.view_layer.objects.selected:
        other.select_set(False)
    ob.select_set(True)
    context.view_layer.objects.active = ob
    bpy.ops.object.mode_set(mode="EDIT")
    edit_bones = [data.edit_bones.new(n) for n in bone_names]
    for i, bone in enumerate(edit_bones):
        bone.head, bone.tail = heads[i], tails[i]
        bone.roll = 0.0 if rolls is None else float(rolls[i])
        bone.use_connect = False
        if parents[i] >= 0:
            bone.parent = edit_bones[parents[i]]
    bpy.ops.object.mode_set(mode="OBJECT")
    return ob


def smpl_bone_tails(rest_joints: np.ndarray) -> np.ndarray:
    """(24, 3) bone tails in the SMPL frame: the main child joint, or a short stub for end bones."""
    tails = np.zeros_like(rest_joints)
    for j, name in enumerate(skeleton.JOINT_NAMES):
        kids = skeleton.children(j)
        if name in MAIN_CHILD:
            tails[j] = rest_joints[skeleton.JOINT_INDEX[MAIN_CHILD[name]]]
        elif kids:
            tails[j] = rest_joints[kids[0]]
        else:
            tails[j] = rest_joints[j] + np.asarray(LEAF_OFFSETS[name])
    return tails


def create_smpl_rig(context, name: str = "SMPL", style: str = "smplx", with_body: bool = True,
                    smpl_dir: str = ""):
    """Add an SMPL armature (24 bones, standing on z = 0 at the 3D cursor) with a body skinned to it:
    the real SMPL mesh and its joints when `smpl_dir` holds SMPL_NEUTRAL.npz (raises
    smplmesh.SmplFileError otherwise), else the project's neutral skeleton and a capsule body."""
    model = smplmesh.load_model(smpl_dir) if smpl_dir and with_body else None
    rest = model["joints"] if model else np.asarray(skeleton.NEUTRAL_REST_JOINTS, dtype=np.float64)
    to_blender = lambda points: points @ SMPL_TO_BLENDER.T  # noqa: E731 (rows: (N, 3) SMPL -> Blender)
    names = [rigmap.styled_bone_name(n, style) for n in skeleton.JOINT_NAMES]
    ob = build_armature(context, name, names, to_blender(rest), to_blender(smpl_bone_tails(rest)),
                        skeleton.PARENTS)
    ob.data.display_type = "STICK"
    ob.show_in_front = True
    for pose_bone in ob.pose.bones:
        pose_bone.rotation_mode = "QUATERNION"
    if model:
        body = add_body(context, ob, to_blender(model["verts"]), model["faces"].tolist(), model["weights"], names)
        soles = model["verts"][:, 1].min()
    elif with_body:
        verts, faces, bone_of_vertex, material_of_face = capsules.body_capsules(rest)
        body = add_body(context, ob, to_blender(verts), faces, np.eye(24)[bone_of_vertex], names, material_of_face)
        soles = verts[:, 1].min()
    else:
        soles = rest[:, 1].min() - skeleton.FOOT_SOLE_BELOW_ANKLE
    ob.location = context.scene.cursor.location.copy()
    ob.location.z -= soles
    context.view_layer.objects.active = ob
    ob.select_set(True)
    return ob


def _material(name: str, color):
    material = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    material.diffuse_color = color
    return material


def add_body(context, rig_ob, verts, faces, weights, bone_names, material_of_face=None):
    """A mesh parented to the rig and skinned by an Armature modifier. verts: (V, 3) armature space;
    weights: (V, 24) per SMPL joint; material_of_face: (F,) slot in capsules.MATERIAL_NAMES or None."""
    mesh = bpy.data.meshes.new(rig_ob.name + "_body")
    mesh.from_pydata(np.asarray(verts).tolist(), [], faces)
    colors = ((0.8, 0.62, 0.5, 1.0), (0.45, 0.6, 0.85, 1.0), (0.85, 0.45, 0.4, 1.0))
    for material_name, color in zip(capsules.MATERIAL_NAMES, colors):
        mesh.materials.append(_material(material_name, color))
    if material_of_face is not None:
        mesh.polygons.foreach_set("material_index", np.asarray(material_of_face, np.int32))
    mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), bool))
    mesh.update()
    body = bpy.data.objects.new(rig_ob.name + "_body", mesh)
    context.scene.collection.objects.link(body)
    body.parent = rig_ob
    for j, bone_name in enumerate(bone_names):
        group = body.vertex_groups.new(name=bone_name)
        for weight in np.unique(weights[:, j][weights[:, j] > 1e-4]):
            group.add(np.flatnonzero(weights[:, j] == weight).tolist(), float(weight), "REPLACE")
    modifier = body.modifiers.new("Armature", "ARMATURE")
    modifier.object = rig_ob
    return body
