"""Settings saved with the scene, and the session's request history (kept on the window manager, so
undoing a pose does not undo the history that produced it)."""
import bpy
from bpy.props import (BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty,
                       PointerProperty, StringProperty)

from .body import skeleton


def _is_armature(_self, ob) -> bool:
    return ob.type == "ARMATURE"


class UniPoseSettings(bpy.types.PropertyGroup):
    target: PointerProperty(name="Armature", type=bpy.types.Object, poll=_is_armature,
                            description="The rig to read and pose; empty: the active armature")
    prompt: StringProperty(name="Prompt", description="Describe the pose, e.g. 'sitting cross-legged'")
    num_variants: IntProperty(name="Variants", default=3, min=1, max=8,
                              description="How many poses to generate and browse")
    seed: IntProperty(name="Seed", default=0, min=0, description="0: a new random seed every request")
    set_guidance: BoolProperty(name="Set Guidance", description="Choose how closely poses follow the prompt, "
                                                                "instead of the model's default")
    guidance: FloatProperty(name="Guidance", default=1.0, min=0.0, max=8.0, step=25,
                            description="How closely generated poses follow the prompt, instruction or image: "
                                        "1 plain decoding, higher stronger but less natural, "
                                        "0 the model's average pose")
    instruction: StringProperty(name="Instruction", description="How to change the pose, e.g. 'raise the left arm'")
    whole_body: BoolProperty(name="Whole Body", description="Let the model change the whole body; off: only the "
                                                            "limbs the instruction names change")
    compare_mode: EnumProperty(name="Compare With", items=(
        ("ARMATURE", "Armature", "Another armature's current pose"),
        ("FRAME", "Frame", "The target's pose at another frame")))
    compare_armature: PointerProperty(name="Other Armature", type=bpy.types.Object, poll=_is_armature)
    compare_frame: IntProperty(name="Other Frame", default=1)
    image_path: StringProperty(name="Image", subtype="FILE_PATH")
    image_path_b: StringProperty(name="Second Image", subtype="FILE_PATH")
    keyframe: BoolProperty(name="Insert Keyframes", description="Key the posed bones at the current frame")
    selected_only: BoolProperty(name="Selected Bones Only", description="Pose only the selected bones")
    show_mapping: BoolProperty(name="Bone Mapping", description="Show which bone is which SMPL joint")
    map_joint: EnumProperty(name="Joint", items=tuple((n, n, "") for n in skeleton.POSE_JOINT_NAMES))
    map_bone: StringProperty(name="Bone", description="The bone to use for the joint")
    keep_location: BoolProperty(name="Keep Location",
                                description="Only turn bones; otherwise the root moves so the body rests on the floor")
    blend: FloatProperty(name="Blend", default=1.0, min=0.0, max=1.0, subtype="FACTOR",
                         description="0: keep the current pose, 1: the new pose")


class UniPoseHistoryItem(bpy.types.PropertyGroup):
    uid: IntProperty()
    task: StringProperty()
    request: StringProperty()  # what the user asked, for the list
    status: StringProperty()  # RUNNING, DONE, ERROR, CANCELLED
    text: StringProperty()  # text result or error message
    poses_json: StringProperty()  # JSON list of pose objects
    num_poses: IntProperty()
    variant: IntProperty()
    armature: StringProperty()
    timing_ms: FloatProperty()


class UniPoseSession(bpy.types.PropertyGroup):
    history: CollectionProperty(type=UniPoseHistoryItem)
    history_index: IntProperty(name="History")
    next_uid: IntProperty(default=1)


CLASSES = (UniPoseSettings, UniPoseHistoryItem, UniPoseSession)


def register_properties():
    bpy.types.Scene.unipose = PointerProperty(type=UniPoseSettings)
    bpy.types.WindowManager.unipose = PointerProperty(type=UniPoseSession)


def unregister_properties():
    del bpy.types.WindowManager.unipose
    del bpy.types.Scene.unipose
