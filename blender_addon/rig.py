"""Read and write SMPL poses on Blender armatures, and create the SMPL rig with its capsule body.

The math lives in `rigmap` (numpy); this module moves numbers between it and bpy.
"""
import bpy
import numpy as np
from mathutils import Matrix, Vector

from . import capsules, rigmap, rignames, smplmesh
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


def _update_view_layer() -> None:
    """Re-evaluate the scene, so pose matrices read back what was just written."""
    view_layer = bpy.context.view_layer
    assert view_layer is not None  # a loaded scene always has one
    view_layer.update()


MAPPING_PROPERTY = "unipose_mapping"  # custom property on the armature object: a rignames preset (JSON)


def stored_mapping(ob) -> "rignames.RigMapping | None":
    """The mapping saved on the armature object, or None. Raises RigError for a broken one."""
    text = ob.get(MAPPING_PROPERTY) if ob is not None else None
    if not text:
        return None
    try:
        return rignames.RigMapping.from_json(str(text))
    except rignames.PresetError as error:
        raise RigError(f"'{ob.name}': the stored bone mapping is unreadable ({error}); use Detect Mapping") from error


def detect_mapping(ob) -> "rignames.RigMapping":
    """The automatic mapping of an armature (ignores a stored one). Raises RigError naming what is missing."""
    bones = ob.data.bones
    names = [b.name for b in bones]
    index = {name: i for i, name in enumerate(names)}
    parents = np.array([index[b.parent.name] if b.parent else -1 for b in bones])
    heads = np.array([b.head_local for b in bones]).reshape(-1, 3)
    try:
        return rignames.detect_mapping(names, parents, heads, rigmap.match_bones(names))
    except rignames.MappingError as error:
        reason = f" ({error.reason})" if error.reason else ""
        raise RigError(
            f"'{ob.name}' is not a humanoid rig UniPose can map; missing bones: {', '.join(error.missing)}{reason}. "
            "Pick them in the UniPose panel's Bone Mapping or use Add SMPL Rig") from error


class SmplRig:
    """An armature object seen as SMPL: which bones are which joint, and the rig's SMPL frame.

    SMPL-named rigs use the exact one-bone-per-joint path; any other humanoid goes through `rignames`'
    chains and `rigmap`'s rest alignments (its rest pose need not be SMPL's T-pose)."""

    def __init__(self, ob, mapping: "rignames.RigMapping | None" = None):
        if ob is None or ob.type != "ARMATURE":
            raise RigError("No armature: pick a target armature in the UniPose panel or use Add SMPL Rig")
        self.ob = ob
        bones = ob.data.bones
        self.bone_names = [b.name for b in bones]
        self.index = {name: i for i, name in enumerate(self.bone_names)}
        self.parents = np.array([self.index[b.parent.name] if b.parent else -1 for b in bones])
        self.info = mapping or stored_mapping(ob) or detect_mapping(ob)
        problems = rignames.validate(self.info, self.bone_names)
        if problems:
            raise RigError(f"'{ob.name}': the bone mapping does not fit this armature ({'; '.join(problems)}); "
                           "fix it in the UniPose panel or use Detect Mapping")
        self.chains = [[self.index[b] for b in chain] for chain in self.info.chains]  # (22,) bone indices
        self.exact = self.info.convention == "SMPL" and all(len(c) == 1 for c in self.chains)
        self.mapping = {j: chain[0] for j, chain in enumerate(self.info.chains) if chain}  # joint -> bone name
        if self.exact:  # the optional SMPL hand joints
            self.mapping.update({j: b for j, b in rigmap.match_bones(self.bone_names).items() if j >= 22})
        self.joint_bones = [chain[0] if chain else None for chain in self.info.chains]  # (22,) first bones
        self._heads = np.array([b.head_local for b in bones]).reshape(-1, 3)
        self.frame = rigmap.smpl_frame(self.rest_heads())
        self.align = None if self.exact else rigmap.rest_alignments(
            self.chains, self._heads, self.frame, np.asarray(skeleton.NEUTRAL_REST_JOINTS))

    @property
    def convention(self) -> str:
        return self.info.convention

    def rest_heads(self) -> np.ndarray:
        """(J, 3) armature-space rest heads of the joints (J = 22, or 24 with SMPL hand bones)."""
        if not self.exact:
            return rigmap.joint_heads(self.chains, self._heads)
        count = 24 if all(j in self.mapping for j in (22, 23)) else 22
        return np.array([self.ob.data.bones[self.mapping[j]].head_local for j in range(count)])

    def rest_joints(self) -> np.ndarray:
        """(J, 3) rest joints in the SMPL frame (the rig's own proportions)."""
        return self.rest_heads() @ self.frame  # row-vector form of F^T @ head

    def _rotations(self):
        """Q and M of every bone (B, 3, 3) each."""
        bones = self.ob.data.bones
        rest = np.stack([_matrix3(b.matrix_local) for b in bones])
        basis = np.stack([_matrix3(self.ob.pose.bones[b.name].matrix_basis) for b in bones])
        return rest, basis

    def _bone_rotations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Q and M of every bone (B, 3, 3) each, parents (B,), and the joints' bone indices (22,)."""
        rest, basis = self._rotations()
        return rest, basis, self.parents, np.array([self.index[name] for name in self.joint_bones])

    def read_locals(self) -> np.ndarray:
        """The current pose as (22, 3, 3) SMPL local rotations: SMPL rigs from the bones' own rotations,
        mapped rigs from the pose as Blender evaluates it."""
        if self.exact:
            return rigmap.read_smpl_locals(*self._bone_rotations(), self.frame)
        return rigmap.locals_from_deltas(self._evaluated_deltas(), self.parents, self.chains, self.frame, self.align)

    def _evaluated_deltas(self) -> np.ndarray:
        """D of every bone (B, 3, 3) as Blender evaluates the pose (constraints included): posed @ Q^T."""
        _update_view_layer()
        rest = self._rotations()[0]
        posed = np.stack([_matrix3(self.ob.pose.bones[name].matrix) for name in self.bone_names])
        return posed @ np.swapaxes(rest, -1, -2)

    def read_pose(self) -> np.ndarray:
        """The current pose as (22, 3) axis-angle."""
        return rotations.rotmat_to_axis_angle(self.read_locals())

    def selected_joints(self) -> np.ndarray:
        """(22,) bool: which joints have a selected bone."""
        def selected(name):
            pose_bone = self.ob.pose.bones[name]
            flag = getattr(pose_bone, "select", None)  # Blender 5 moved selection to pose bones
            return bool(pose_bone.bone.select if flag is None else flag)
        return np.array([any(selected(self.bone_names[b]) for b in chain) for chain in self.chains])

    def write_pose(self, axis_angle: np.ndarray, factor: float = 1.0, mask: np.ndarray | None = None,
                   keyframe: int | None = None) -> list[str]:
        """Pose the rig. axis_angle: (22, 3). Only `mask`ed joints change, `factor` of the way from the
        current pose; with `keyframe` their rotations are keyed at that frame. Returns the changed bones."""
        mask = np.ones(rigmap.NUM_POSE_JOINTS, bool) if mask is None else np.asarray(mask, bool)
        target = rotations.axis_angle_to_rotmat(np.asarray(axis_angle, dtype=np.float64))
        current = self.read_locals()
        local = rigmap.blend_locals(current, target, float(factor), mask) if factor < 1.0 or not mask.all() \
            else target
        if not self.exact:
            return self._write_evaluated(local, mask, keyframe)
        bases = rigmap.bone_bases_from_smpl(local, *self._bone_rotations(), self.frame)
        changed = []
        for j in np.flatnonzero(mask):
            pose_bone = self.ob.pose.bones[self.joint_bones[j]]
            path = _set_rotation(pose_bone, Matrix(bases[j].tolist()))
            if keyframe is not None:
                pose_bone.keyframe_insert(path, frame=keyframe, group=pose_bone.name)
            changed.append(pose_bone.name)
        return changed

    def _write_evaluated(self, local: np.ndarray, mask: np.ndarray, keyframe: int | None) -> list[str]:
        """Mapped rigs: turn each mapped bone to its target D_b, parents first, solving its rotation from its
        parent as Blender evaluates it (so mechanism bones with constraints in between are respected)."""
        if self.convention.startswith("Rigify (FK"):  # generated Rigify: limbs follow their FK controls
            for pose_bone in self.ob.pose.bones:
                if "IK_FK" in pose_bone.keys():
                    pose_bone["IK_FK"] = 1.0
        deltas = self._evaluated_deltas()
        pelvis_parent = self.parents[self.chains[0][0]]
        carrier = deltas[pelvis_parent] if pelvis_parent >= 0 else np.eye(3)
        targets = rigmap.chain_targets(local, carrier, self.chains, self.frame, self.align)
        rest = self._rotations()[0]
        depth = {bone: len(rignames.ancestors(bone, self.parents)) for bone, _, _ in targets}
        changed = []
        for level in sorted(set(depth.values())):
            _update_view_layer()  # the parents' new pose
            for bone, j, delta in targets:
                if depth[bone] != level or not mask[j]:
                    continue
                pose_bone = self.ob.pose.bones[self.bone_names[bone]]
                posed = np.array(pose_bone.matrix)
                scale = np.linalg.norm(posed[:3, :3], axis=0)
                posed[:3, :3] = delta @ rest[bone] * scale
                basis = self.ob.convert_space(pose_bone=pose_bone, matrix=Matrix(posed.tolist()),
                                              from_space="POSE", to_space="LOCAL")
                path = _set_rotation(pose_bone, Matrix(_matrix3(basis).tolist()))
                if keyframe is not None:
                    pose_bone.keyframe_insert(path, frame=keyframe, group=pose_bone.name)
                changed.append(pose_bone.name)
        return changed

    def joint_world_positions(self, depsgraph_update=True) -> np.ndarray:
        """(J, 3) world positions of the joints as Blender evaluates them."""
        if depsgraph_update:
            _update_view_layer()
        matrix = self.ob.matrix_world
        if not self.exact:
            posed = np.array([self.ob.pose.bones[name].head for name in self.bone_names]).reshape(-1, 3)
            return np.array([matrix @ Vector(p) for p in rigmap.joint_heads(self.chains, posed)])
        count = len(self.rest_heads())
        return np.array([matrix @ self.ob.pose.bones[self.mapping[j]].head for j in range(count)])

    # ----- standing on the floor -------------------------------------------------------------------
    def _carrier(self) -> np.ndarray:
        """W (3, 3): the pose of the bones above the pelvis, in armature axes (identity without any)."""
        parent = self.ob.data.bones[self.bone_names[self.chains[0][0]]].parent
        if parent is None:
            return np.eye(3)
        return _matrix3(self.ob.pose.bones[parent.name].matrix) @ _matrix3(parent.matrix_local).T

    def _body_scale(self, joints: np.ndarray) -> float:
        """The rig's size relative to the neutral skeleton, from world-space legs and trunk. joints: (22+, 3)."""
        j = skeleton.JOINT_INDEX
        pairs = [(j["left_hip"], j["left_knee"]), (j["left_knee"], j["left_ankle"]), (j["pelvis"], j["neck"])]

        def length(points):
            return sum(np.linalg.norm(points[a] - points[b]) for a, b in pairs)
        return float(length(joints) / length(np.asarray(skeleton.NEUTRAL_REST_JOINTS)))

    def body_surface_height(self, rest: bool = False) -> float:
        """World height (z) of the lowest point of the capsule body on the rig's current (or rest) pose."""
        _update_view_layer()
        world = np.array(self.ob.matrix_world)
        if rest:
            heads = self.rest_heads()
            joints = heads @ world[:3, :3].T + world[:3, 3]
            basis = np.tile(np.eye(3), (len(self.bone_names), 1, 1))
            rest_rot = self._rotations()[0]
            local = rigmap.read_chain_locals(rest_rot, basis, self.parents, self.chains, self.frame, self.align) \
                if not self.exact else np.tile(np.eye(3), (22, 1, 1))
            carrier = np.eye(3)
        else:
            joints, local, carrier = self.joint_world_positions(False), self.read_locals(), self._carrier()
        scale = self._body_scale(joints)
        to_world = world[:3, :3] / np.linalg.norm(world[:3, :3], axis=0) @ carrier @ self.frame
        padded = np.concatenate([local, np.tile(np.eye(3), (24 - len(local), 1, 1))])
        frames = to_world @ rigmap.smpl_globals(padded)  # (24, 3, 3)
        if len(joints) < 24:  # hands from the wrists along the neutral skeleton
            neutral = np.asarray(skeleton.NEUTRAL_REST_JOINTS)
            hands = [joints[w] + scale * frames[w] @ (neutral[h] - neutral[w]) for w, h in ((20, 22), (21, 23))]
            joints = np.vstack([joints[:22], hands])
        return capsules.lowest_surface(joints, frames, scale, np.array([0.0, 0.0, 1.0]))

    def root_bone(self) -> str:
        """The bone that carries the body: the pelvis's top-most ancestor that is not a mechanism bone
        (Rigify's `MCH-`, `ORG-`), else the pelvis itself."""
        bone = self.ob.data.bones[self.bone_names[self.chains[0][0]]]
        found = bone.name
        while bone.parent is not None:
            bone = bone.parent
            if not rignames.is_mechanism(bone.name):
                found = bone.name
        return found

    def place_on_ground(self, ground: float | None = None, keyframe: int | None = None) -> float:
        """Move the root bone up or down so the body's lowest point rests on `ground` (world z; default:
        where the rest pose stands). Returns the distance moved."""
        ground = self.body_surface_height(rest=True) if ground is None else ground
        lift = ground - self.body_surface_height()
        name = self.root_bone()
        pose_bone, bone = self.ob.pose.bones[name], self.ob.data.bones[name]
        world = np.array(self.ob.matrix_world)[:3, :3]
        parent: np.ndarray = np.eye(3)
        if bone.parent is not None:
            parent = np.array(self.ob.pose.bones[bone.parent.name].matrix)[:3, :3] @ \
                np.linalg.inv(np.array(bone.parent.matrix_local)[:3, :3])
        local = np.linalg.solve(world @ parent @ np.array(bone.matrix_local)[:3, :3], np.array([0.0, 0.0, lift]))
        pose_bone.location = Vector(pose_bone.location) + Vector(local.tolist())
        if keyframe is not None:
            pose_bone.keyframe_insert("location", frame=keyframe, group=pose_bone.name)
        return lift


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
        pose_bone.rotation_axis_angle = (angle, *axis.to_tuple())
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
        add_body(context, ob, to_blender(model["verts"]), model["faces"].tolist(), model["weights"], names)
        soles = model["verts"][:, 1].min()
    elif with_body:
        verts, faces, bone_of_vertex, material_of_face = capsules.body_capsules(rest)
        add_body(context, ob, to_blender(verts), faces, np.eye(24)[bone_of_vertex], names, material_of_face)
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
