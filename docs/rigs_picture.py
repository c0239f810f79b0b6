"""Render docs/rigs.png: the same three poses on the SMPL rig and on rigs in other conventions, side by side.

    .venv/bin/python docs/rigs_picture.py docs/rigs.png

Headless Blender (bpy). Every rig is posed through the add-on's own mapping (`blender_addon.rig.SmplRig`)
and stood on the floor; the mapped rigs wear one capsule per bone of their own skeleton (their A-pose rest,
proportions and extra bones), so the picture shows each rig's bones, not a shared body.
"""
import os
import sys

import bpy
import numpy as np
from mathutils import Euler, Matrix, Vector

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, "tests")]

import _rig_conventions as rc  # noqa: E402
from backend.body import example_poses  # noqa: E402
from blender_addon import capsules, headless, rig  # noqa: E402

POSES = ("waving_right_hand", "lunge", "squat")
RIGS = ("SMPL", "Rigify metarig", "mixamo", "ue5", "daz")
LABELS = ("SMPL rig", "Rigify meta-rig", "Mixamo (FBX, A-pose)", "Unreal UE5", "DAZ Genesis")
SPACING_X, SPACING_Z = 1.25, 2.1


def bone_body(ob, color):
    """A capsule along each bone (radius from its length), rigidly skinned to it."""
    verts, faces, groups = [], [], []
    unit = np.ptp(np.array([b.head_local for b in ob.data.bones]), axis=0).max() / 1.7  # armature units a metre
    for bone in ob.data.bones:
        head, tail = np.array(bone.head_local), np.array(bone.tail_local)
        length = np.linalg.norm(tail - head)
        if length < 1e-6 or "root" in bone.name.lower() or bone.name.lower().startswith(("ik_", "heel")) or \
                bone.name.lower().startswith(("face", "lip", "lid", "brow", "cheek", "nose", "jaw",
                                                          "ear", "eye", "tongue", "teeth", "chin", "temple",
                                                          "forehead")):
            continue
        v, f = capsules.capsule(head, tail, min(0.045 * unit, 0.12 * length), rings=3, segments=8)
        faces += [tuple(i + len(verts) for i in face) for face in f]
        verts += v.tolist()
        groups.append((bone.name, range(len(verts) - len(v), len(verts))))
    mesh = bpy.data.meshes.new(ob.name + "_bones")
    mesh.from_pydata(verts, [], faces)
    material = bpy.data.materials.new(ob.name + "_color")
    material.diffuse_color = color
    mesh.materials.append(material)
    body = bpy.data.objects.new(ob.name + "_bones", mesh)
    bpy.context.scene.collection.objects.link(body)
    body.parent = ob
    for name, indices in groups:
        body.vertex_groups.new(name=name).add(list(indices), 1.0, "REPLACE")
    body.modifiers.new("Armature", "ARMATURE").object = ob


def make_rig(kind):
    context = bpy.context
    if kind == "SMPL":
        return rig.create_smpl_rig(context, name="SMPL")
    if kind == "Rigify metarig":
        import addon_utils
        addon_utils.enable("rigify", default_set=False)
        bpy.ops.object.armature_human_metarig_add()
        ob = context.view_layer.objects.active
        bpy.ops.object.mode_set(mode="OBJECT")
        bone_body(ob, (0.55, 0.75, 0.55, 1.0))
        return ob
    names, parents, heads, tails, rolls, yup, _ = rc.build(kind, np.random.default_rng(0))
    scale = 100.0 if yup else 1.0
    ob = rig.build_armature(context, kind, names, heads * scale, tails * scale, parents, rolls)
    if yup:  # an FBX import: Y-up bones in centimetres under a turned, scaled object
        ob.matrix_world = Matrix.LocRotScale((0, 0, 0), Euler((np.pi / 2, 0, 0)), (0.01, 0.01, 0.01))
    colors = {"mixamo": (0.85, 0.6, 0.4, 1.0), "ue5": (0.6, 0.65, 0.9, 1.0), "daz": (0.85, 0.55, 0.75, 1.0)}
    bone_body(ob, colors[kind])
    return ob


def main(out):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    context = bpy.context
    for row, pose_name in enumerate(POSES):
        for column, kind in enumerate(RIGS):
            ob = make_rig(kind)
            target = rig.SmplRig(ob)
            ob.location = Vector(ob.location) + Vector((column * SPACING_X, 0.0, -row * SPACING_Z))
            target.write_pose(np.array(example_poses.EXAMPLE_POSES[pose_name]))
            target.place_on_ground(-row * SPACING_Z)
            print(f"{pose_name:18s} {kind:15s} {target.convention}", flush=True)
    for column, label in enumerate(LABELS):
        text = bpy.data.objects.new(label, bpy.data.curves.new(label, "FONT"))
        text.data.body, text.data.size, text.data.align_x = label, 0.13, "CENTER"
        text.location, text.rotation_euler = (column * SPACING_X, 0.0, 1.95), (np.pi / 2, 0.0, 0.0)
        text.data.materials.append(bpy.data.materials.new(label))
        text.data.materials[0].diffuse_color = (0.1, 0.1, 0.1, 1.0)
        context.scene.collection.objects.link(text)
    context.view_layer.update()
    centre = Vector(((len(RIGS) - 1) * SPACING_X / 2, 0.0, 1.05 - (len(POSES) - 1) * SPACING_Z / 2))
    camera = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    context.scene.collection.objects.link(camera)
    camera.data.type = "ORTHO"
    camera.data.ortho_scale = max(len(RIGS) * SPACING_X, len(POSES) * SPACING_Z + 0.3) * 1.02
    camera.location = centre + Vector((0.3, -1.0, 0.12)).normalized() * 20
    camera.rotation_euler = (centre - camera.location).to_track_quat("-Z", "Y").to_euler()
    context.scene.camera = camera
    scene = context.scene
    scene.render.resolution_x = 1400
    scene.render.resolution_y = int(1400 * (len(POSES) * SPACING_Z + 0.3) / (len(RIGS) * SPACING_X))
    shading = scene.display.shading
    shading.light, shading.color_type = "STUDIO", "MATERIAL"
    shading.show_shadows, shading.show_cavity = True, True
    print("engine", headless.render_preview(context, out))


if __name__ == "__main__":
    status = 1
    try:
        main(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "docs", "rigs.png")))
        status = 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)  # bpy 4.5 can hang at interpreter exit
