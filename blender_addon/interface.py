"""The "UniPose" tab in the 3D View sidebar."""
import textwrap
from typing import TYPE_CHECKING

import bpy

from . import jobs, rig
from .body import skeleton
from .client import ERROR, LOADING, READY

if TYPE_CHECKING:  # fake-bpy-module's names for Blender's enum strings; the real bpy has no such module
    from bpy.stub_internal.rna_enums import RegionTypeItems, SpaceTypeItems

STATUS_ICONS = {"RUNNING": "SORTTIME", "DONE": "CHECKMARK", "ERROR": "ERROR", "CANCELLED": "X"}


class _UniPosePanel:
    bl_space_type: "SpaceTypeItems" = "VIEW_3D"
    bl_region_type: "RegionTypeItems" = "UI"
    bl_category = "UniPose"


def _wrapped(layout, text: str, width: int = 42, icon: str = "NONE") -> None:
    column = layout.column(align=True)
    for i, line in enumerate(textwrap.wrap(text, width) or [""]):
        column.label(text=line, icon=icon if i == 0 else "NONE")


class UNIPOSE_PT_backend(_UniPosePanel, bpy.types.Panel):
    bl_label = "Backend"

    def draw(self, context):
        layout = self.layout
        backend = jobs.current_client()
        state = backend.state if backend is not None else "STOPPED"
        if state == LOADING:
            layout.progress(factor=backend.progress or 0.0, type="BAR",
                            text=f"Loading: {backend.message}" if backend.message else "Loading")
        elif state == ERROR:
            _wrapped(layout, backend.message, icon="ERROR")
        else:
            layout.label(text="Ready" if state == READY else "Stopped",
                         icon="CHECKMARK" if state == READY else "RADIOBUT_OFF")
        row = layout.row(align=True)
        row.operator("unipose.backend_start", icon="PLAY")
        row.operator("unipose.backend_stop", icon="PAUSE")
        if backend is not None and backend.busy:
            running = backend.pending_labels()
            if backend.progress is not None and state == READY:
                layout.progress(factor=backend.progress, type="BAR", text=backend.message or "Working")
            layout.label(text=f"Running: {running[0]}" + (f" (+{len(running) - 1})" if len(running) > 1 else ""),
                         icon="SORTTIME")
            layout.operator("unipose.cancel", icon="CANCEL")


class UNIPOSE_PT_rig(_UniPosePanel, bpy.types.Panel):
    bl_label = "Rig"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.unipose
        layout.prop(settings, "target")
        layout.operator("unipose.add_smpl_rig", icon="ARMATURE_DATA")
        target = None
        try:
            target = jobs.target_rig(context)
            layout.label(text=f"Posing {target.ob.name} ({target.convention})", icon="CHECKMARK")
        except rig.RigError as error:
            _wrapped(layout, str(error), icon="INFO")
        ob = settings.target or (context.active_object if context.active_object is not None
                                 and context.active_object.type == "ARMATURE" else None)
        if ob is None:
            return
        layout.prop(settings, "show_mapping", icon="TRIA_DOWN" if settings.show_mapping else "TRIA_RIGHT")
        if not settings.show_mapping:
            return
        box = layout.box()
        stored = rig.MAPPING_PROPERTY in ob
        box.label(text="Stored on the armature" if stored else "Detected automatically",
                  icon="PINNED" if stored else "UNPINNED")
        if target is not None:
            column = box.column(align=True)
            for name, chain in zip(skeleton.POSE_JOINT_NAMES, target.info.chains):
                row = column.row()
                row.label(text=name)
                row.label(text=", ".join(chain) or "-")
        row = box.row(align=True)
        row.prop(settings, "map_joint", text="")
        row.prop_search(settings, "map_bone", ob.data, "bones", text="")
        op = box.operator("unipose.set_mapping_bone", icon="BONE_DATA")
        op.joint, op.bone = settings.map_joint, settings.map_bone
        row = box.row(align=True)
        row.operator("unipose.detect_mapping", icon="VIEWZOOM")
        row.operator("unipose.clear_mapping", icon="X")
        row = box.row(align=True)
        row.operator("unipose.import_mapping", icon="IMPORT")
        row.operator("unipose.export_mapping", icon="EXPORT")


class UNIPOSE_PT_actions(_UniPosePanel, bpy.types.Panel):
    bl_label = "Actions"

    def draw(self, context):
        layout = self.layout
        settings = context.scene.unipose
        box = layout.box()
        box.prop(settings, "prompt", text="")
        row = box.row(align=True)
        row.prop(settings, "num_variants")
        row.prop(settings, "seed")
        row = box.row(align=True)
        row.prop(settings, "set_guidance", text="")
        value = row.row(align=True)
        value.enabled = settings.set_guidance
        value.prop(settings, "guidance")
        box.operator("unipose.pose_from_text", icon="OUTLINER_OB_ARMATURE")
        box = layout.box()
        box.operator("unipose.describe_pose", icon="TEXT")
        row = box.row(align=True)
        row.prop(settings, "instruction", text="")
        row.prop(settings, "whole_body")
        box.operator("unipose.edit_pose", icon="MODIFIER")
        box = layout.box()
        box.prop(settings, "compare_mode", expand=True)
        box.prop(settings, "compare_armature" if settings.compare_mode == "ARMATURE" else "compare_frame")
        box.operator("unipose.compare_poses", icon="ARROW_LEFTRIGHT")
        box = layout.box()
        box.prop(settings, "image_path")
        row = box.row(align=True)
        row.operator("unipose.pose_from_image", icon="IMAGE_DATA")
        row.operator("unipose.describe_image", icon="TEXT")
        box.prop(settings, "image_path_b")
        box.operator("unipose.compare_images", icon="ARROW_LEFTRIGHT")


class UNIPOSE_PT_options(_UniPosePanel, bpy.types.Panel):
    bl_label = "Options"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.unipose
        self.layout.prop(settings, "keyframe")
        self.layout.prop(settings, "selected_only")
        self.layout.prop(settings, "keep_location")
        self.layout.prop(settings, "blend", slider=True)


class UNIPOSE_UL_history(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index):
        layout.label(text=f"{item.task}: {item.request}", icon=STATUS_ICONS.get(item.status, "NONE"))
        if item.num_poses:
            layout.label(text=f"{item.variant + 1}/{item.num_poses}")


class UNIPOSE_PT_results(_UniPosePanel, bpy.types.Panel):
    bl_label = "Results"

    def draw(self, context):
        layout = self.layout
        session = context.window_manager.unipose
        layout.template_list("UNIPOSE_UL_history", "", session, "history", session, "history_index", rows=3)
        if not 0 <= session.history_index < len(session.history):
            return
        item = session.history[session.history_index]
        if item.num_poses:
            row = layout.row(align=True)
            row.operator("unipose.browse_variant", text="", icon="TRIA_LEFT").step = -1
            apply = row.operator("unipose.apply_result", text=f"Re-apply {item.variant + 1}/{item.num_poses}",
                                 icon="FILE_REFRESH")
            apply.uid, apply.variant = item.uid, item.variant
            row.operator("unipose.browse_variant", text="", icon="TRIA_RIGHT").step = 1
        if item.text:
            _wrapped(layout.box(), item.text, icon="ERROR" if item.status == "ERROR" else "NONE")
        if item.timing_ms:
            layout.label(text=f"{item.timing_ms:.0f} ms")
        layout.operator("unipose.clear_history", icon="TRASH")


CLASSES = (UNIPOSE_PT_backend, UNIPOSE_PT_rig, UNIPOSE_PT_actions, UNIPOSE_PT_options,
           UNIPOSE_UL_history, UNIPOSE_PT_results)
