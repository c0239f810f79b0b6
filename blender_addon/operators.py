"""Operators: thin wrappers over `rig` and `jobs`; every rig change is one undo step."""
import os
from typing import TYPE_CHECKING, Any, Callable

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty
from bpy_extras.io_utils import ExportHelper, ImportHelper

from . import jobs, posedata, preferences, rig, rignames, smplmesh
from .body import skeleton
from .client import BackendError

if TYPE_CHECKING:  # fake-bpy-module's names for Blender's enum strings; the real bpy has no such module
    from bpy.stub_internal.rna_enums import OperatorTypeFlagItems


def _report_failure(operator, error: Exception) -> set:
    operator.report({"ERROR"}, str(error))
    return {"CANCELLED"}


class _RequestOperator:
    """Sends one backend request; the result arrives later in the panel and history."""
    bl_options: "set[OperatorTypeFlagItems]" = {"REGISTER"}
    report: Callable[..., Any]  # bpy.types.Operator's, next in every subclass's bases

    def send(self, context, task: str, params: dict, request: str, armature: str = "") -> set:
        try:
            jobs.submit(context, task, params, request, armature)
        except (ValueError, BackendError) as error:
            return _report_failure(self, error)
        self.report({"INFO"}, f"UniPose: {request} (running in the background)")
        return {"FINISHED"}


def pose_params(settings, **params) -> dict:
    """A pose request's parameters plus the panel's variants and, when set, its guidance (else the model's default)."""
    params["num_samples"] = settings.num_variants
    if settings.set_guidance:
        params["guidance"] = round(settings.guidance, 3)
    return params


def _image(path: str, label: str) -> str:
    absolute = bpy.path.abspath(path) if path else ""
    if not absolute or not os.path.isfile(absolute):
        raise ValueError(f"{label} not found ({path or 'empty'}): choose an image file in the UniPose panel")
    return absolute


def _pose_target(context):
    """The target rig of a pose request; refuses now, before the model runs, when 'Selected Bones Only' is
    on and none of its mapped bones is selected. Raises rig.RigError."""
    target = jobs.target_rig(context)
    if context.scene.unipose.selected_only and not target.selected_joints().any():
        raise rig.RigError("No bones selected: select bones in Pose Mode or turn off 'Selected Bones Only'")
    return target


class UNIPOSE_OT_backend_start(bpy.types.Operator):
    bl_idname = "unipose.backend_start"
    bl_label = "Start Backend"
    bl_description = "Start the local UniPose backend (loads the model)"

    def execute(self, context):
        try:
            jobs.get_client(context).start()
        except (ValueError, BackendError) as error:
            return _report_failure(self, error)
        return {"FINISHED"}


class UNIPOSE_OT_backend_stop(bpy.types.Operator):
    bl_idname = "unipose.backend_stop"
    bl_label = "Stop Backend"
    bl_description = "Stop the backend process and free its memory"

    def execute(self, context):
        jobs.shutdown()
        return {"FINISHED"}


class UNIPOSE_OT_cancel(bpy.types.Operator):
    bl_idname = "unipose.cancel"
    bl_label = "Cancel"
    bl_description = "Stop waiting for the running requests (their late answers are ignored)"

    def execute(self, context):
        backend = jobs.current_client()
        count = backend.cancel() if backend is not None else 0
        jobs.timer_tick()  # show the cancellation now
        count += jobs.cancel_orphans(context)
        self.report({"INFO"}, f"Cancelled {count} request(s)")
        return {"FINISHED"}


class UNIPOSE_OT_add_smpl_rig(bpy.types.Operator):
    bl_idname = "unipose.add_smpl_rig"
    bl_label = "Add SMPL Rig"
    bl_description = "Add a 24-bone SMPL armature with a body at the 3D cursor (the SMPL mesh if its folder is set)"
    bl_options = {"REGISTER", "UNDO"}

    style: EnumProperty(name="Bone Names", items=(
        ("smplx", "pelvis, left_hip", "Lowercase SMPL-X names"),
        ("smpl", "Pelvis, L_Hip", "SMPL joint names"),
        ("m_avg", "m_avg_Pelvis", "Names of the SMPL FBX rigs")))
    with_body: BoolProperty(name="Body", default=True, description="Add a capsule body skinned to the rig")

    def execute(self, context):
        smpl_dir = bpy.path.abspath(preferences.get(context).smpl_dir) if preferences.get(context).smpl_dir else ""
        try:
            ob = rig.create_smpl_rig(context, style=self.style, with_body=self.with_body, smpl_dir=smpl_dir)
        except smplmesh.SmplFileError as error:
            return _report_failure(self, error)
        context.scene.unipose.target = ob
        return {"FINISHED"}


class UNIPOSE_OT_pose_from_text(_RequestOperator, bpy.types.Operator):
    bl_idname = "unipose.pose_from_text"
    bl_label = "Pose from Text"
    bl_description = "Generate poses from the prompt and apply the first; browse the others"

    def execute(self, context):
        settings = context.scene.unipose
        if not settings.prompt.strip():
            return _report_failure(self, ValueError("Type a prompt first, e.g. 'a person kneeling'"))
        try:
            target = _pose_target(context)
        except rig.RigError as error:
            return _report_failure(self, error)
        return self.send(context, "text_to_pose", pose_params(settings, text=settings.prompt), settings.prompt,
                         target.ob.name)


class UNIPOSE_OT_describe_pose(_RequestOperator, bpy.types.Operator):
    bl_idname = "unipose.describe_pose"
    bl_label = "Describe Pose"
    bl_description = "Describe the target armature's current pose in words"

    def execute(self, context):
        try:
            target = jobs.target_rig(context)
        except rig.RigError as error:
            return _report_failure(self, error)
        pose = posedata.pose_to_json(target.read_pose())
        return self.send(context, "pose_to_text", {"pose": pose}, f"describe {target.ob.name}", target.ob.name)


class UNIPOSE_OT_edit_pose(_RequestOperator, bpy.types.Operator):
    bl_idname = "unipose.edit_pose"
    bl_label = "Edit Pose"
    bl_description = "Change the current pose as the instruction says"

    def execute(self, context):
        settings = context.scene.unipose
        if not settings.instruction.strip():
            return _report_failure(self, ValueError("Type an instruction first, e.g. 'raise your left arm'"))
        try:
            target = _pose_target(context)
        except rig.RigError as error:
            return _report_failure(self, error)
        params = pose_params(settings, pose=posedata.pose_to_json(target.read_pose()),
                             instruction=settings.instruction, whole_body=settings.whole_body)
        return self.send(context, "edit_pose", params, settings.instruction, target.ob.name)


def _pose_at_frame(context, target, frame: int):
    """The rig's animated pose at another frame; the current frame and any unkeyed pose edits stay."""
    scene, current = context.scene, context.scene.frame_current
    unkeyed = [pose_bone.matrix_basis.copy() for pose_bone in target.ob.pose.bones]
    scene.frame_set(frame)
    pose = target.read_pose()
    scene.frame_set(current)
    for pose_bone, matrix in zip(target.ob.pose.bones, unkeyed):
        pose_bone.matrix_basis = matrix
    return pose


class UNIPOSE_OT_compare_poses(_RequestOperator, bpy.types.Operator):
    bl_idname = "unipose.compare_poses"
    bl_label = "Compare"
    bl_description = "Describe how to change the target's pose into the other armature's (or other frame's)"

    def execute(self, context):
        settings = context.scene.unipose
        try:
            target = jobs.target_rig(context)
            this_pose = target.read_pose()
            if settings.compare_mode == "ARMATURE":
                if settings.compare_armature is None:
                    raise rig.RigError("Pick the other armature to compare with in the UniPose panel")
                other = rig.SmplRig(settings.compare_armature).read_pose()
                label = settings.compare_armature.name
            else:
                other = _pose_at_frame(context, target, settings.compare_frame)
                label = f"frame {settings.compare_frame}"
        except rig.RigError as error:
            return _report_failure(self, error)
        params = {"pose_a": posedata.pose_to_json(this_pose), "pose_b": posedata.pose_to_json(other)}
        return self.send(context, "pose_diff", params, f"{target.ob.name} vs {label}", target.ob.name)


class UNIPOSE_OT_pose_from_image(_RequestOperator, bpy.types.Operator):
    bl_idname = "unipose.pose_from_image"
    bl_label = "Pose from Image"
    bl_description = "Estimate the pose of the person in the image and apply it"

    def execute(self, context):
        settings = context.scene.unipose
        try:
            target = _pose_target(context)
            image = _image(settings.image_path, "Image")
        except (rig.RigError, ValueError) as error:
            return _report_failure(self, error)
        return self.send(context, "image_to_pose", pose_params(settings, image=image),
                         os.path.basename(image), target.ob.name)


class UNIPOSE_OT_describe_image(_RequestOperator, bpy.types.Operator):
    bl_idname = "unipose.describe_image"
    bl_label = "Describe Image"
    bl_description = "Describe the pose of the person in the image"

    def execute(self, context):
        try:
            image = _image(context.scene.unipose.image_path, "Image")
        except ValueError as error:
            return _report_failure(self, error)
        return self.send(context, "image_to_text", {"image": image}, f"describe {os.path.basename(image)}")


class UNIPOSE_OT_compare_images(_RequestOperator, bpy.types.Operator):
    bl_idname = "unipose.compare_images"
    bl_label = "Compare Images"
    bl_description = "Describe how the pose in the first image differs from the second"

    def execute(self, context):
        settings = context.scene.unipose
        try:
            image_a = _image(settings.image_path, "Image")
            image_b = _image(settings.image_path_b, "Second image")
        except ValueError as error:
            return _report_failure(self, error)
        return self.send(context, "image_diff", {"image_a": image_a, "image_b": image_b},
                         f"{os.path.basename(image_a)} vs {os.path.basename(image_b)}")


def apply_and_ground(context, item, variant: int) -> list[str]:
    """Apply a result's pose (jobs.apply_item), then stand the body on the floor unless 'Keep Location'
    is on (the root bone moves, keyed with the rotations). Raises rig.RigError or ValueError."""
    changed = jobs.apply_item(context, item, variant)
    settings = context.scene.unipose
    if not settings.keep_location:
        target = rig.SmplRig(bpy.data.objects[item.armature])
        target.place_on_ground(keyframe=context.scene.frame_current if settings.keyframe else None)
        changed.append(target.root_bone())
    return changed


class UNIPOSE_OT_apply_result(bpy.types.Operator):
    bl_idname = "unipose.apply_result"
    bl_label = "Apply Pose"
    bl_description = "Apply this result's pose to its armature (with the panel's options)"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    uid: IntProperty(name="Request")
    variant: IntProperty(name="Variant", min=0)

    def execute(self, context):
        item = jobs.find_item(context, self.uid)
        if item is None or not item.poses_json:
            return _report_failure(self, ValueError("This history entry has no pose to apply"))
        try:
            changed = apply_and_ground(context, item, self.variant)
        except (rig.RigError, ValueError) as error:
            return _report_failure(self, error)
        self.report({"INFO"}, f"Posed {len(changed)} bones of {item.armature}")
        return {"FINISHED"}


class UNIPOSE_OT_browse_variant(bpy.types.Operator):
    bl_idname = "unipose.browse_variant"
    bl_label = "Browse Variants"
    bl_description = "Apply the previous or next generated pose"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    step: IntProperty(default=1)

    def execute(self, context):
        session = context.window_manager.unipose
        if not 0 <= session.history_index < len(session.history):
            return _report_failure(self, ValueError("Select a result in the history first"))
        item = session.history[session.history_index]
        if item.num_poses == 0:
            return _report_failure(self, ValueError("The selected result has no poses"))
        variant = (item.variant + self.step) % item.num_poses
        try:
            apply_and_ground(context, item, variant)
        except (rig.RigError, ValueError) as error:
            return _report_failure(self, error)
        return {"FINISHED"}


class UNIPOSE_OT_clear_history(bpy.types.Operator):
    bl_idname = "unipose.clear_history"
    bl_label = "Clear History"
    bl_description = "Forget past requests (running ones finish unrecorded)"

    def execute(self, context):
        context.window_manager.unipose.history.clear()
        return {"FINISHED"}


def _mapping_target(context):
    """The armature whose bone mapping the panel edits (raises rig.RigError)."""
    ob = context.scene.unipose.target
    if ob is None and context.active_object is not None and context.active_object.type == "ARMATURE":
        ob = context.active_object
    if ob is None or ob.type != "ARMATURE":
        raise rig.RigError("No armature: pick a target armature in the UniPose panel")
    return ob


def _editable_mapping(ob) -> rignames.RigMapping:
    """The stored mapping, else the detected one, else an empty one to fill in by hand."""
    try:
        return rig.stored_mapping(ob) or rig.detect_mapping(ob)
    except rig.RigError:
        return rignames.RigMapping([() for _ in range(skeleton.NUM_POSE_JOINTS)], "manual")


class UNIPOSE_OT_detect_mapping(bpy.types.Operator):
    bl_idname = "unipose.detect_mapping"
    bl_label = "Detect Mapping"
    bl_description = "Map the armature's bones to the SMPL joints automatically and store it on the armature"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            ob = _mapping_target(context)
            mapping = rig.detect_mapping(ob)
        except rig.RigError as error:
            return _report_failure(self, error)
        ob[rig.MAPPING_PROPERTY] = mapping.to_json()
        self.report({"INFO"}, f"{ob.name}: {mapping.convention} mapping stored")
        return {"FINISHED"}


class UNIPOSE_OT_set_mapping_bone(bpy.types.Operator):
    bl_idname = "unipose.set_mapping_bone"
    bl_label = "Set Bone"
    bl_description = "Map the chosen SMPL joint to the chosen bone (stored on the armature)"
    bl_options = {"REGISTER", "UNDO"}

    joint: EnumProperty(name="Joint", items=tuple((name, name, "") for name in skeleton.POSE_JOINT_NAMES))
    bone: StringProperty(name="Bone", description="Bone name; empty: the joint has no bone")

    def execute(self, context):
        try:
            ob = _mapping_target(context)
        except rig.RigError as error:
            return _report_failure(self, error)
        if self.bone and self.bone not in ob.data.bones:
            return _report_failure(self, ValueError(f"'{ob.name}' has no bone '{self.bone}'"))
        mapping = _editable_mapping(ob)
        mapping.chains[skeleton.JOINT_INDEX[self.joint]] = (self.bone,) if self.bone else ()
        if not mapping.convention.endswith("(edited)"):
            mapping.convention += " (edited)"
        ob[rig.MAPPING_PROPERTY] = mapping.to_json()
        return {"FINISHED"}


class UNIPOSE_OT_clear_mapping(bpy.types.Operator):
    bl_idname = "unipose.clear_mapping"
    bl_label = "Automatic Mapping"
    bl_description = "Forget the stored mapping: detect it automatically every time"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            ob = _mapping_target(context)
        except rig.RigError as error:
            return _report_failure(self, error)
        if rig.MAPPING_PROPERTY in ob:
            del ob[rig.MAPPING_PROPERTY]
        return {"FINISHED"}


# Blender's own pattern (Operator, then the helper); fake-bpy-module types the two classes' check() and
# invoke() differently, which mypy reports on the class line.
class UNIPOSE_OT_export_mapping(bpy.types.Operator, ExportHelper):  # type: ignore[misc]
    bl_idname = "unipose.export_mapping"
    bl_label = "Export Mapping"
    bl_description = "Save the armature's bone mapping as a JSON preset"
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        try:
            mapping = rig.SmplRig(_mapping_target(context)).info
        except rig.RigError as error:
            return _report_failure(self, error)
        with open(self.filepath, "w", encoding="utf-8") as handle:
            handle.write(mapping.to_json() + "\n")
        return {"FINISHED"}


class UNIPOSE_OT_import_mapping(bpy.types.Operator, ImportHelper):  # type: ignore[misc]  # as export_mapping
    bl_idname = "unipose.import_mapping"
    bl_label = "Import Mapping"
    bl_description = "Load a JSON bone-mapping preset onto the armature"
    bl_options = {"REGISTER", "UNDO"}
    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context):
        try:
            ob = _mapping_target(context)
            with open(self.filepath, encoding="utf-8") as handle:
                mapping = rignames.RigMapping.from_json(handle.read())
        except (rig.RigError, rignames.PresetError) as error:
            return _report_failure(self, error)
        except OSError as error:
            return _report_failure(self, ValueError(f"cannot read {self.filepath}: {error.strerror}"))
        problems = rignames.validate(mapping, [b.name for b in ob.data.bones])
        if problems:
            return _report_failure(self, ValueError(f"the preset does not fit '{ob.name}': {'; '.join(problems[:4])}"))
        ob[rig.MAPPING_PROPERTY] = mapping.to_json()
        return {"FINISHED"}


CLASSES = (
    UNIPOSE_OT_detect_mapping, UNIPOSE_OT_set_mapping_bone, UNIPOSE_OT_clear_mapping, UNIPOSE_OT_export_mapping,
    UNIPOSE_OT_import_mapping,
    UNIPOSE_OT_backend_start, UNIPOSE_OT_backend_stop, UNIPOSE_OT_cancel, UNIPOSE_OT_add_smpl_rig,
    UNIPOSE_OT_pose_from_text, UNIPOSE_OT_describe_pose, UNIPOSE_OT_edit_pose, UNIPOSE_OT_compare_poses,
    UNIPOSE_OT_pose_from_image, UNIPOSE_OT_describe_image, UNIPOSE_OT_compare_images,
    UNIPOSE_OT_apply_result, UNIPOSE_OT_browse_variant, UNIPOSE_OT_clear_history,
)
