"""Checks that run inside headless Blender (the `bpy` module) against the installed extension zip.

Run by tests/test_blender_addon.py in a subprocess (so bpy never shares a process with torch):
    python tests/blender_checks.py ZIP RESULTS.json --python PY [--checkpoint DIR] [--fake]
It installs ZIP with `extensions.package_install_files`, runs every `check_*` function on a fresh scene,
writes {name: {"ok": bool, "error": str}} to RESULTS.json, unregisters the add-on and exits.
With --fake, PY is a fake backend speaking the protocol; otherwise it is the real `unipose serve`.
"""
import argparse
import importlib
import json
import os
import sys
import time
import traceback

import numpy as np

bpy = None  # imported in main(), so pytest can import this file to list the checks
ADDON = "bl_ext.user_default.unipose"
OPTS = None
TOL = 1e-4


def addon_module(name):
    return importlib.import_module(f"{ADDON}.{name}")


def fresh_scene():
    jobs = addon_module("jobs")
    for ob in list(bpy.data.objects):
        bpy.data.objects.remove(ob)
    bpy.context.window_manager.unipose.history.clear()
    settings = bpy.context.scene.unipose
    settings.target = None
    settings.keyframe = settings.selected_only = settings.keep_location = settings.whole_body = False
    settings.blend, settings.num_variants, settings.seed = 1.0, 3, 0
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.python_path, prefs.device = OPTS.python, "cpu"
    prefs.checkpoint_dir = OPTS.checkpoint or ""
    prefs.smpl_dir = ""
    return jobs


def add_rig(**kwargs):
    bpy.ops.unipose.add_smpl_rig(**kwargs)  # called from Python: no undo step of its own
    return bpy.context.view_layer.objects.active


def wait_item(item_uid, timeout=None):
    """Drive the add-on's timer callback (timers do not fire headless) until the request finishes."""
    jobs = addon_module("jobs")
    end = time.monotonic() + (timeout or (15 if OPTS.fake else 240))
    while time.monotonic() < end:
        jobs.timer_tick()
        item = jobs.find_item(bpy.context, item_uid)
        if item.status != "RUNNING":
            return item
        time.sleep(0.02)
    raise AssertionError(f"request {item_uid} did not finish")


def last_item():
    return bpy.context.window_manager.unipose.history[-1]


def pose_of(name):
    return addon_module("rig").SmplRig(bpy.data.objects[name]).read_pose()


def rotmats(axis_angle):
    return addon_module("body").rotations.axis_angle_to_rotmat(np.asarray(axis_angle))


def assert_same_pose(a, b, tol=TOL):
    err = np.abs(rotmats(a) - rotmats(b)).max()
    assert err < tol, f"rotations differ by {err}"


def assert_text_done(item):
    """A finished text request (the random tiny model may well answer with an empty text)."""
    assert item.status == "DONE", (item.status, item.text)
    assert item.text or not OPTS.fake


def result_pose(item, variant=0):
    posedata = addon_module("posedata")
    return posedata.pose_from_json(json.loads(item.poses_json)[variant])


def expect_operator_error(call, fragment):
    try:
        call()
    except RuntimeError as error:
        assert fragment in str(error), f"{fragment!r} not in {error}"
        return str(error)
    raise AssertionError(f"no error containing {fragment!r}")


def select_bone(ob, name, flag):
    """Blender 5 moved bone selection to pose bones."""
    pose_bone = ob.pose.bones[name]
    if hasattr(pose_bone, "select"):
        pose_bone.select = flag
    else:
        ob.data.bones[name].select = flag


def world_fk(smpl_rig, axis_angle):
    """The backend's forward kinematics placed like the rig: object matrix @ carrier @ F @ FK."""
    body = addon_module("body")
    ob = smpl_rig.ob
    rest = smpl_rig.rest_joints()
    local = body.kinematics.pad_pose_rotmats(rotmats(axis_angle))[:len(rest)]
    fk, _ = body.kinematics.forward_kinematics(local, rest, body.skeleton.PARENTS[:len(rest)])
    matrix = np.array(ob.matrix_world)
    carrier = ob.data.bones[smpl_rig.joint_bones[0]].parent
    if carrier is not None:
        matrix = matrix @ np.array(ob.pose.bones[carrier.name].matrix) @ np.linalg.inv(np.array(carrier.matrix_local))
    return (fk @ smpl_rig.frame.T) @ matrix[:3, :3].T + matrix[:3, 3]


# ----- checks --------------------------------------------------------------------------------------

def check_panel_and_operators_registered():
    panels = ["UNIPOSE_PT_backend", "UNIPOSE_PT_rig", "UNIPOSE_PT_actions", "UNIPOSE_PT_options", "UNIPOSE_PT_results"]
    for name in panels:
        panel = getattr(bpy.types, name)
        assert panel.bl_category == "UniPose" and panel.bl_space_type == "VIEW_3D" and panel.bl_region_type == "UI"
    for op in ["backend_start", "backend_stop", "cancel", "add_smpl_rig", "pose_from_text", "describe_pose",
               "edit_pose", "compare_poses", "pose_from_image", "describe_image", "compare_images",
               "apply_result", "browse_variant", "clear_history"]:
        assert hasattr(bpy.ops.unipose, op) and getattr(bpy.ops.unipose, op).get_rna_type() is not None
    assert addon_module("preferences").detected_python() is not None  # project.json -> this checkout's .venv
    assert "torch" not in sys.modules, "the add-on imported torch"


def check_add_smpl_rig_styles_and_undo():
    fresh_scene()
    skeleton = addon_module("body").skeleton
    bpy.ops.ed.undo_push(message="empty scene")
    for style, first in (("smplx", "left_hip"), ("smpl", "L_Hip"), ("m_avg", "m_avg_L_Hip")):
        bpy.ops.unipose.add_smpl_rig("EXEC_DEFAULT", True, style=style)  # as from the UI: one undo step
        ob = bpy.context.view_layer.objects.active
        assert len(ob.data.bones) == 24 and ob.data.bones[1].name == first
        body = [c for c in ob.children if c.type == "MESH"]
        assert body and body[0].modifiers["Armature"].object == ob and len(body[0].vertex_groups) == 24
        rest = addon_module("rig").SmplRig(ob).rest_joints()
        assert np.abs(rest - skeleton.NEUTRAL_REST_JOINTS).max() < 1e-5
    count = len(bpy.data.objects)
    bpy.ops.ed.undo()
    assert len(bpy.data.objects) == count - 2, "undo did not remove the last rig in one step"


def check_add_smpl_rig_with_user_smpl_model():
    """A fake SMPL_NEUTRAL.npz (the capsule body with offset joints) gives a rig on the model's joints, skinned
    by its weights; a folder without the file gives an error saying what to set."""
    fresh_scene()
    capsules, skeleton = addon_module("capsules"), addon_module("body").skeleton
    joints = np.asarray(skeleton.NEUTRAL_REST_JOINTS) * 1.1 + np.array([0.0, -0.2, 0.03])
    verts, faces, bone_of_vertex, _ = capsules.body_capsules(joints)
    centres = np.vstack([joints, verts])  # the joints first, so the regressor just picks them
    triangles = [t for f in faces for t in ([f] if len(f) == 3 else [(f[0], f[1], f[2]), (f[0], f[2], f[3])])]
    folder = os.path.join(OPTS.workdir, "smpl_models")
    os.makedirs(folder, exist_ok=True)
    np.savez(os.path.join(folder, "SMPL_NEUTRAL.npz"), v_template=centres, f=np.array(triangles) + 24,
             weights=np.eye(24)[np.concatenate([np.arange(24), bone_of_vertex])],
             J_regressor=np.hstack([np.eye(24), np.zeros((24, len(verts)))]))
    prefs = bpy.context.preferences.addons[ADDON].preferences
    prefs.smpl_dir = folder
    try:
        ob = add_rig()
        smpl_rig = addon_module("rig").SmplRig(ob)
        assert np.abs(smpl_rig.rest_joints() - joints).max() < 1e-5
        body = ob.children[0]
        assert len(body.data.vertices) == len(centres) and len(body.vertex_groups) == 24
        pose = np.zeros((22, 3))
        pose[18] = (0.0, -1.2, 0.0)
        smpl_rig.write_pose(pose)
        world = np.array(smpl_rig.joint_world_positions())
        assert np.abs(world - world_fk(smpl_rig, pose)).max() < TOL
        prefs.smpl_dir = OPTS.workdir  # no model there
        expect_operator_error(add_rig, "no SMPL_NEUTRAL.npz")
    finally:
        prefs.smpl_dir = ""


def _custom_rig(style, rolls, with_root, yup):
    """An SMPL-like armature built by hand: any bone names style, random rolls, optional root bone,
    Y-up armature data (as some importers make)."""
    rig, rigmap = addon_module("rig"), addon_module("rigmap")
    skeleton = addon_module("body").skeleton
    rest = np.asarray(skeleton.NEUTRAL_REST_JOINTS)
    names = [rigmap.styled_bone_name(n, style) for n in skeleton.JOINT_NAMES]
    tails = rig.smpl_bone_tails(rest)
    parents = np.asarray(skeleton.PARENTS).copy()
    if not yup:
        rest, tails = rest @ rig.SMPL_TO_BLENDER.T, tails @ rig.SMPL_TO_BLENDER.T
    if with_root:
        names = ["root"] + names
        rest, tails = np.vstack([rest[:1] * 0 - 0.9, rest]), np.vstack([rest[:1] * 0 - 0.7, tails])
        parents = np.concatenate([[-1], parents + 1])
        parents[1] = 0
    return rig.build_armature(bpy.context, f"custom_{style}", names, rest, tails, parents, rolls[:len(names)])


def check_fk_equality_and_read_back_on_any_rig():
    from mathutils import Euler, Matrix
    fresh_scene()
    rig = addon_module("rig")
    rng = np.random.default_rng(7)
    scaled = add_rig()
    scaled.matrix_world = Matrix.LocRotScale((1, 2, 3), Euler((0.3, 1.2, -0.7)), (2.5, 2.5, 2.5))
    pelvis_style = _custom_rig("smpl", rng.uniform(-3, 3, 25), with_root=False, yup=False)
    pelvis_style.matrix_world = Matrix.LocRotScale((0, -1, 0), Euler((0, 0, 2.0)), (0.4, 0.4, 0.4))
    m_avg = _custom_rig("m_avg", rng.uniform(-3, 3, 25), with_root=True, yup=True)
    m_avg.matrix_world = Matrix.LocRotScale((-1, 0, 0.5), Euler((1.5708, 0.2, 0.1)), (0.5, 0.7, 1.3))
    m_avg.pose.bones["root"].rotation_quaternion = (0.9, 0.1, 0.3, 0.2)
    m_avg.pose.bones["root"].location = (0.1, 0.2, 0.3)
    for i, mode in ((5, "XZY"), (8, "ZXY"), (11, "AXIS_ANGLE"), (14, "YXZ")):
        m_avg.pose.bones[i].rotation_mode = mode
    for ob, scale in ((scaled, 2.5), (pelvis_style, 0.4), (m_avg, 1.3)):
        smpl_rig = rig.SmplRig(ob)
        for _ in range(5):
            pose = rng.normal(0.0, 0.7, (22, 3))
            smpl_rig.write_pose(pose)
            got = smpl_rig.joint_world_positions()
            err = np.abs(got - world_fk(smpl_rig, pose)).max()
            assert err < TOL * scale, f"{ob.name}: joints differ from FK by {err}"
            assert_same_pose(smpl_rig.read_pose(), pose)


def check_pose_from_text_applies_variants_and_undo():
    fresh_scene()
    ob = add_rig()
    bpy.context.scene.unipose.prompt = "a person waving with the left hand"
    bpy.context.scene.unipose.num_variants = 3
    bpy.ops.ed.undo_push(message="before pose")
    rest_pose = pose_of(ob.name)
    bpy.ops.unipose.pose_from_text()
    item = wait_item(last_item().uid)
    assert item.status == "DONE" and item.num_poses == 3, (item.status, item.text)
    uid, name = item.uid, ob.name
    assert_same_pose(pose_of(name), result_pose(item, 0))
    assert np.abs(rotmats(result_pose(item, 0)) - rotmats(rest_pose)).max() > 1e-3, "pose did not change"
    after_first = pose_of(name)
    bpy.ops.unipose.browse_variant("EXEC_DEFAULT", True, step=1)  # as from the UI: one undo step each
    item = addon_module("jobs").find_item(bpy.context, uid)
    assert item.variant == 1
    assert_same_pose(pose_of(name), result_pose(item, 1))
    bpy.ops.unipose.apply_result("EXEC_DEFAULT", True, uid=uid, variant=2)
    assert_same_pose(pose_of(name), result_pose(item, 2))
    bpy.ops.ed.undo()
    assert_same_pose(pose_of(name), result_pose(item, 1))
    bpy.ops.ed.undo()
    assert_same_pose(pose_of(name), after_first)
    bpy.ops.ed.undo()  # the timer applied the first result as one undo step
    assert_same_pose(pose_of(name), rest_pose)
    assert len(bpy.context.window_manager.unipose.history) == 1, "undo must not lose the history"


def check_guidance_reaches_pose_requests_only_when_set():
    settings = bpy.context.scene.unipose
    pose_params = addon_module("operators").pose_params
    settings.num_variants, settings.set_guidance, settings.guidance = 2, False, 2.5
    assert pose_params(settings, text="kneel") == {"text": "kneel", "num_samples": 2}
    settings.set_guidance = True
    assert pose_params(settings, text="kneel") == {"text": "kneel", "num_samples": 2, "guidance": 2.5}
    settings.guidance = 0.0  # the same meaning as everywhere: the model's average pose, not its default
    assert pose_params(settings, text="kneel")["guidance"] == 0.0
    settings.set_guidance, settings.guidance = False, 1.0


def check_describe_pose_writes_text_block():
    fresh_scene()
    ob = add_rig()
    pose = np.zeros((22, 3))
    pose[18] = (0.0, 0.0, 1.2)  # left elbow, 69 degrees
    addon_module("rig").SmplRig(ob).write_pose(pose)
    bpy.ops.unipose.describe_pose()
    item = wait_item(last_item().uid)
    assert_text_done(item)
    if OPTS.fake:
        assert item.text.startswith("largest rotation: left_elbow 69"), item.text
    assert f"# pose_to_text: describe {ob.name}\n{item.text}\n" in bpy.data.texts["UniPose"].as_string()


def check_edit_pose_changes_the_rig():
    fresh_scene()
    ob = add_rig()
    bpy.context.scene.unipose.instruction = "look up"
    before = pose_of(ob.name)
    bpy.ops.unipose.edit_pose()
    item = wait_item(last_item().uid)
    assert item.status == "DONE", item.text
    assert_same_pose(pose_of(ob.name), result_pose(item))
    if OPTS.fake:
        assert abs(pose_of(ob.name)[15, 0] - before[15, 0] - 0.5) < 1e-4


def check_whole_body_reaches_edit_requests():
    """'look up' changes only the neck and head unless Whole Body is on (the fake backend then also bends the
    right knee, which shows that the option reaches the request)."""
    fresh_scene()
    ob = add_rig()
    settings = bpy.context.scene.unipose
    settings.instruction = "look up"
    names = addon_module("body").skeleton.POSE_JOINT_NAMES
    kept = [i for i, name in enumerate(names) if name not in ("neck", "head")]
    for whole_body in (False, True):
        settings.whole_body = whole_body
        before = pose_of(ob.name)
        bpy.ops.unipose.edit_pose()
        item = wait_item(last_item().uid)
        assert item.status == "DONE", item.text
        after = pose_of(ob.name)
        if OPTS.fake:
            assert abs(after[names.index("right_knee"), 0] - before[names.index("right_knee"), 0]
                       - (0.5 if whole_body else 0.0)) < 1e-4
        elif not whole_body:
            assert_same_pose(after[kept], before[kept])


def check_compare_with_armature_and_frame():
    fresh_scene()
    rig = addon_module("rig")
    a, b = add_rig(), add_rig()
    pose = np.zeros((22, 3))
    pose[4] = (1.0, 0.0, 0.0)  # left knee
    rig.SmplRig(b).write_pose(pose)
    settings = bpy.context.scene.unipose
    settings.target, settings.compare_mode, settings.compare_armature = a, "ARMATURE", b
    bpy.ops.unipose.compare_poses()
    item = wait_item(last_item().uid)
    assert_text_done(item)
    if OPTS.fake:
        assert item.text.startswith("most different: left_knee 57"), item.text
    # another frame: key the knee at frame 10, compare frame 1 with it
    bpy.context.scene.frame_set(1)
    settings.keyframe = True
    rig.SmplRig(a).write_pose(np.zeros((22, 3)), keyframe=1)
    rig.SmplRig(a).write_pose(pose, keyframe=10)
    bpy.context.scene.frame_set(1)  # the rig shows frame 1 (rest) again
    settings.compare_mode, settings.compare_frame = "FRAME", 10
    bpy.ops.unipose.compare_poses()
    item = wait_item(last_item().uid)
    assert item.status == "DONE", item.text
    if OPTS.fake:
        assert item.text.startswith("most different: left_knee 57"), item.text
    assert bpy.context.scene.frame_current == 1


def _write_png(path, shade):
    image = bpy.data.images.new(os.path.basename(path), 96, 128)
    pixels = np.ones((128, 96, 4), np.float32)
    pixels[..., :3] = shade
    pixels[30:110, 40:56, :3] = 0.1  # a dark figure
    image.pixels.foreach_set(pixels.ravel())
    image.filepath_raw, image.file_format = path, "PNG"
    image.save()
    return path


def check_image_operators():
    fresh_scene()
    ob = add_rig()
    settings = bpy.context.scene.unipose
    settings.image_path = _write_png(os.path.join(OPTS.workdir, "a.png"), 0.9)
    settings.image_path_b = _write_png(os.path.join(OPTS.workdir, "b.png"), 0.5)
    bpy.ops.unipose.pose_from_image()
    item = wait_item(last_item().uid)
    assert item.status == "DONE", item.text
    assert_same_pose(pose_of(ob.name), result_pose(item))
    for op in (bpy.ops.unipose.describe_image, bpy.ops.unipose.compare_images):
        op()
        assert_text_done(wait_item(last_item().uid))
    settings.image_path = "/no/such/image.png"
    expect_operator_error(bpy.ops.unipose.describe_image, "Image not found")


def check_options_keyframe_selected_blend():
    fresh_scene()
    rig = addon_module("rig")
    ob = add_rig()
    smpl_rig = rig.SmplRig(ob)
    settings = bpy.context.scene.unipose
    target = np.zeros((22, 3))
    target[18] = (0.0, -1.0, 0.0)  # left elbow
    target[19] = (0.0, 1.0, 0.0)  # right elbow
    # selected bones only: only the left elbow moves
    for bone in ob.data.bones:
        select_bone(ob, bone.name, bone.name == "left_elbow")
    settings.selected_only = True
    item = _fake_result_item(ob, target)
    bpy.ops.unipose.apply_result(uid=item.uid, variant=0)
    now = smpl_rig.read_pose()
    assert abs(now[18, 1] + 1.0) < 1e-4 and np.abs(now[19]).max() < 1e-6
    # blend: half way, keyed at frame 7
    settings.selected_only, settings.blend, settings.keyframe = False, 0.5, True
    bpy.context.scene.frame_set(7)
    bpy.ops.unipose.apply_result(uid=item.uid, variant=0)
    now = smpl_rig.read_pose()
    assert abs(now[19, 1] - 0.5) < 1e-4 and abs(now[18, 1] + 1.0) < 1e-4
    channelbag_keys = [fc.data_path for fc in _fcurves(ob)]
    assert 'pose.bones["right_elbow"].rotation_quaternion' in channelbag_keys
    assert all(kp.co[0] == 7 for fc in _fcurves(ob) for kp in fc.keyframe_points)
    # nothing selected with 'selected only' -> a clear error
    settings.selected_only = True
    for bone in ob.data.bones:
        select_bone(ob, bone.name, False)
    expect_operator_error(lambda: bpy.ops.unipose.apply_result(uid=item.uid, variant=0), "No bones selected")


def _fcurves(ob):
    from bpy_extras import anim_utils
    action = ob.animation_data.action
    slot = ob.animation_data.action_slot
    return anim_utils.action_get_channelbag_for_slot(action, slot).fcurves


def _fake_result_item(ob, axis_angle):
    """A history entry holding one pose, as a finished text_to_pose would leave it."""
    posedata = addon_module("posedata")
    session = bpy.context.window_manager.unipose
    item = session.history.add()
    item.uid, session.next_uid = session.next_uid, session.next_uid + 1
    item.task, item.status, item.armature, item.num_poses = "text_to_pose", "DONE", ob.name, 1
    item.poses_json = json.dumps([posedata.pose_to_json(axis_angle)])
    return item


def check_error_no_armature():
    fresh_scene()
    bpy.context.scene.unipose.prompt = "standing"
    for op in (bpy.ops.unipose.pose_from_text, bpy.ops.unipose.describe_pose):
        expect_operator_error(op, "No armature")
    assert len(bpy.context.window_manager.unipose.history) == 0


def check_error_wrong_rig_lists_missing_bones():
    fresh_scene()
    bpy.ops.object.armature_add()
    bpy.ops.object.mode_set(mode="OBJECT")
    bpy.context.scene.unipose.prompt = "standing"
    message = expect_operator_error(bpy.ops.unipose.pose_from_text, "missing bones: pelvis, left_hip")
    assert "right_wrist" in message


def check_error_backend_missing():
    jobs = fresh_scene()
    jobs.shutdown()
    bpy.context.preferences.addons[ADDON].preferences.python_path = "/no/such/python"
    add_rig()
    bpy.context.scene.unipose.prompt = "standing"
    expect_operator_error(bpy.ops.unipose.pose_from_text, "set the Python interpreter")
    assert len(bpy.context.window_manager.unipose.history) == 0


def check_backend_crash_mid_request_then_restart():
    jobs = fresh_scene()
    ob = add_rig()
    bpy.context.scene.unipose.prompt = "CRASH" if OPTS.fake else "standing"
    bpy.ops.unipose.pose_from_text()
    if not OPTS.fake:  # kill the real backend while the request runs
        process = jobs.current_client()._connection.process
        process.kill()
    item = wait_item(last_item().uid)
    assert item.status == "ERROR" and "exited with code" in item.text, (item.status, item.text)
    assert jobs.current_client().state == "ERROR"
    bpy.context.scene.unipose.prompt = "standing"
    bpy.ops.unipose.pose_from_text()
    item = wait_item(last_item().uid)
    assert item.status == "DONE", item.text
    assert_same_pose(pose_of(ob.name), result_pose(item))


def check_cancel_running_request():
    if not OPTS.fake:
        return
    jobs = fresh_scene()
    add_rig()
    bpy.context.scene.unipose.prompt = "SLOW"
    bpy.ops.unipose.pose_from_text()
    bpy.ops.unipose.cancel()
    item = last_item()
    assert item.status == "CANCELLED" and not jobs.current_client().busy


def check_stop_on_disable():
    jobs = fresh_scene()
    backend = jobs.get_client(bpy.context)
    backend.start()
    process = backend._connection.process
    bpy.ops.unipose.backend_stop()
    assert process.wait(10) is not None and jobs.current_client() is None
    jobs.get_client(bpy.context).start()
    process = jobs.current_client()._connection.process
    import addon_utils
    addon_utils.disable(ADDON, default_set=True)
    assert process.wait(10) is not None, "disabling the add-on did not stop the backend"
    addon_utils.enable(ADDON, default_set=True)


def check_zzz_unregister_leaves_nothing():
    import addon_utils
    addon_utils.disable(ADDON, default_set=True)
    assert not hasattr(bpy.types, "UNIPOSE_PT_backend") and not hasattr(bpy.types.Scene, "unipose")


# ----- any humanoid rig (issue 20) ---------------------------------------------------------------------

CORPUS = ("sitting", "lunge", "waving_right_hand")


def _example_pose(name):
    from backend.body import example_poses
    return np.array(example_poses.EXAMPLE_POSES[name])


def _floor_poses():
    """A seated (on the floor), a kneeling and a lying pose (axis-angle, SMPL frame)."""
    seated, kneeling, lying = np.zeros((22, 3)), np.zeros((22, 3)), np.zeros((22, 3))
    for side in (1, 2):  # hips, knees
        seated[side] = (-np.pi / 2, 0.0, 0.0)
        kneeling[side + 3] = (np.pi / 2, 0.0, 0.0)
    lying[0] = (-np.pi / 2, 0.0, 0.0)  # on its back
    lying[16], lying[17] = (0.0, 0.0, -1.2), (0.0, 0.0, 1.2)
    return {"seated": seated, "kneeling": kneeling, "lying": lying}


def convention_rig(convention, seed=1):
    """An armature in a naming convention (tests/_rig_conventions.py): A-pose rest, random rolls; Y-up
    conventions get centimetre bones under an object turned 90 degrees with scale 0.01, as FBX imports."""
    import _rig_conventions as rc
    from mathutils import Euler, Matrix
    rig = addon_module("rig")
    names, parents, heads, tails, rolls, yup, expected = rc.build(convention, np.random.default_rng(seed))
    scale = 100.0 if yup else 1.0
    ob = rig.build_armature(bpy.context, convention, names, heads * scale, tails * scale, parents, rolls)
    if yup:
        ob.matrix_world = Matrix.LocRotScale((1.0, 0.5, 1.0), Euler((1.5708, 0.0, 0.4)), (0.01, 0.01, 0.01))
    else:
        ob.matrix_world = Matrix.LocRotScale((-1.0, 0.0, 1.1), Euler((0.0, 0.0, -0.6)), (1.2, 1.2, 1.2))
    for pose_bone in ob.pose.bones:
        pose_bone.rotation_mode = "XYZ" if len(pose_bone.name) % 2 else "QUATERNION"
    return ob, expected


def metarig():
    import addon_utils
    addon_utils.enable("rigify", default_set=True)
    bpy.ops.object.armature_human_metarig_add()
    ob = bpy.context.view_layer.objects.active
    bpy.ops.object.mode_set(mode="OBJECT")
    return ob


def _direction_errors(smpl_rig, axis_angle):
    """Degrees between each mapped one-bone joint's posed world direction and the SMPL bone's."""
    rigmap = addon_module("rigmap")
    points = smpl_rig.joint_world_positions()
    world = np.array(smpl_rig.ob.matrix_world)[:3, :3]
    frame = world / np.linalg.norm(world, axis=0) @ smpl_rig._carrier() @ smpl_rig.frame
    wanted = rigmap.posed_directions(rotmats(axis_angle), frame)
    errors = []
    for j in range(22):
        child = rigmap._main_child(j)
        if child is not None and len(smpl_rig.chains[j]) == 1:
            got = points[child] - points[j]
            cos = got @ wanted[j] / np.linalg.norm(got)
            errors.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return np.array(errors)


def _joint_errors_deg(a, b):
    body = addon_module("body")
    relative = np.swapaxes(rotmats(a), -1, -2) @ rotmats(b)
    return np.degrees(np.linalg.norm(body.rotations.rotmat_to_axis_angle(relative), axis=-1))


def check_mapped_rigs_every_convention():
    """Every naming convention and Rigify's own meta-rig: all 22 joints mapped, corpus poses point the bones
    like SMPL (< 2 deg) and read back (< 3 deg per joint)."""
    import _rig_conventions as rc
    fresh_scene()
    rig = addon_module("rig")
    report = {}
    rigs = [(name, *convention_rig(name)) for name in sorted(rc.CONVENTIONS)] + [("rigify_metarig", metarig(), None)]
    for name, ob, expected in rigs:
        smpl_rig = rig.SmplRig(ob)
        assert all(smpl_rig.chains[j] for j in range(22)) or name == "rigify_metarig", (name, smpl_rig.info.chains)
        assert smpl_rig.convention not in ("names", "structure"), (name, smpl_rig.convention)
        if expected is not None:
            got = {addon_module("body").skeleton.JOINT_NAMES[j]: list(c) for j, c in enumerate(smpl_rig.info.chains)}
            assert got == expected, name
        worst_direction = worst_read = 0.0
        for pose_name in CORPUS:
            pose = _example_pose(pose_name)
            smpl_rig.write_pose(pose)
            worst_direction = max(worst_direction, _direction_errors(smpl_rig, pose).max())
            worst_read = max(worst_read, _joint_errors_deg(smpl_rig.read_pose(), pose).max())
        assert worst_direction < 2.0 and worst_read < 3.0, (name, worst_direction, worst_read)
        report[name] = (smpl_rig.convention, round(worst_direction, 4), round(worst_read, 4))
    with open(os.path.join(OPTS.workdir, "conventions.json"), "w") as handle:
        json.dump(report, handle, indent=1)


def check_generated_rigify_rig_posed_through_fk_controls():
    """Rigify's generated rig: the FK controls are mapped and solved through its mechanism bones, so the
    deform bones (what the mesh follows) point like the SMPL bones."""
    fresh_scene()
    rig, rigmap = addon_module("rig"), addon_module("rigmap")
    meta = metarig()
    bpy.context.view_layer.objects.active = meta
    bpy.ops.pose.rigify_generate()
    ob = next(o for o in bpy.data.objects if o.type == "ARMATURE" and o is not meta)
    smpl_rig = rig.SmplRig(ob)
    assert smpl_rig.convention == "Rigify (FK controls)", smpl_rig.convention
    assert smpl_rig.info.chains[1] == ("thigh_fk.L",) and smpl_rig.info.chains[0] == ("torso",)
    index = addon_module("body").skeleton.JOINT_INDEX
    for pose_name in CORPUS:
        pose = _example_pose(pose_name)
        smpl_rig.write_pose(pose)
        bpy.context.view_layer.update()
        world = np.array(ob.matrix_world)[:3, :3]
        frame = world / np.linalg.norm(world, axis=0) @ smpl_rig._carrier() @ smpl_rig.frame
        wanted = rigmap.posed_directions(rotmats(pose), frame)
        for bone, joint in (("DEF-thigh.L", "left_hip"), ("DEF-shin.R", "right_knee"),
                            ("DEF-upper_arm.L", "left_shoulder"), ("DEF-forearm.R", "right_elbow")):
            pose_bone = ob.pose.bones[bone]
            got = np.array(ob.matrix_world @ pose_bone.tail - ob.matrix_world @ pose_bone.head)
            cos = got @ wanted[index[joint]] / np.linalg.norm(got)
            assert np.degrees(np.arccos(min(1.0, cos))) < 2.0, (pose_name, bone, np.degrees(np.arccos(cos)))
        assert _joint_errors_deg(smpl_rig.read_pose(), pose).max() < 3.0
    assert smpl_rig.root_bone() == "torso"  # the body's control, not the MCH bone above it
    smpl_rig.write_pose(_floor_poses()["kneeling"])
    smpl_rig.place_on_ground()
    assert abs(smpl_rig.body_surface_height() - smpl_rig.body_surface_height(rest=True)) < 0.02


def check_mapped_rig_undo_keyframes_and_floor():
    """Through the operators on a Mixamo-style FBX rig: keyframes on the mapped bones (and the root's
    location), the body on the floor, undo restores the previous pose and location."""
    fresh_scene()
    rig = addon_module("rig")
    ob, _ = convention_rig("mixamo")
    smpl_rig = rig.SmplRig(ob)
    ground = smpl_rig.body_surface_height(rest=True)
    settings = bpy.context.scene.unipose
    settings.target, settings.keyframe = ob, True
    bpy.context.scene.frame_set(4)
    kneeling = _floor_poses()["kneeling"]
    item = _fake_result_item(ob, kneeling)
    bpy.ops.ed.undo_push(message="before")
    before_pose, before_location = smpl_rig.read_pose(), ob.pose.bones["mixamorig:Hips"].location.copy()
    name = ob.name
    bpy.ops.unipose.apply_result("EXEC_DEFAULT", True, uid=item.uid, variant=0)
    ob = bpy.data.objects[name]
    assert_same_pose(rig.SmplRig(ob).read_pose(), kneeling)
    smpl_rig = rig.SmplRig(ob)
    assert abs(smpl_rig.body_surface_height() - ground) < 0.02 * 1.05, "kneeling body not on the floor"
    keyed = {fc.data_path for fc in _fcurves(ob)}
    for bone in ("mixamorig:LeftLeg", "mixamorig:Spine1", "mixamorig:RightForeArm"):
        mode = "rotation_euler" if ob.pose.bones[bone].rotation_mode == "XYZ" else "rotation_quaternion"
        assert f'pose.bones["{bone}"].{mode}' in keyed, (bone, keyed)
    assert 'pose.bones["mixamorig:Hips"].location' in keyed
    assert not any("HandIndex1" in path or "HeadTop_End" in path for path in keyed), "unmapped bones were keyed"
    assert all(kp.co[0] == 4 for fc in _fcurves(ob) for kp in fc.keyframe_points)
    settings.keyframe = False
    bpy.ops.ed.undo()
    ob = bpy.data.objects[name]
    assert_same_pose(rig.SmplRig(ob).read_pose(), before_pose)
    assert (ob.pose.bones["mixamorig:Hips"].location - before_location).length < 1e-6


def check_floor_seated_kneeling_lying():
    """Seated, kneeling and lying answers rest on the floor (< 2 cm): the SMPL rig's capsule mesh as Blender
    deforms it, and a mapped UE5 rig; 'Keep Location' leaves the root where it is."""
    fresh_scene()
    rig = addon_module("rig")
    smpl_ob = add_rig()
    ue5, _ = convention_rig("ue5")
    settings = bpy.context.scene.unipose
    results = {}
    for name, pose in _floor_poses().items():
        for ob in (smpl_ob, ue5):
            settings.target = ob
            bpy.ops.unipose.apply_result(uid=_fake_result_item(ob, pose).uid, variant=0)
            smpl_rig = rig.SmplRig(ob)
            if ob is smpl_ob:
                bpy.context.view_layer.update()
                body = ob.children[0].evaluated_get(bpy.context.evaluated_depsgraph_get())
                mesh = body.to_mesh()
                lowest = min((body.matrix_world @ v.co).z for v in mesh.vertices)
                body.to_mesh_clear()
                ground = 0.0
            else:
                lowest, ground = smpl_rig.body_surface_height(), smpl_rig.body_surface_height(rest=True)
            results[f"{name} {ob.name}"] = round((lowest - ground) * 100, 2)
            assert abs(lowest - ground) < 0.02, (name, ob.name, lowest, ground)
    root = ue5.pose.bones["root"]
    where = root.location.copy()
    settings.keep_location, settings.target = True, ue5
    bpy.ops.unipose.apply_result(uid=_fake_result_item(ue5, _floor_poses()["lying"]).uid, variant=0)
    assert (root.location - where).length < 1e-9
    settings.keep_location = False
    with open(os.path.join(OPTS.workdir, "floor.json"), "w") as handle:
        json.dump(results, handle, indent=1)


def check_mapping_edit_and_presets_saved_with_blend():
    fresh_scene()
    rig = addon_module("rig")
    ob, _ = convention_rig("vrm")
    bpy.context.scene.unipose.target = ob
    bpy.ops.unipose.detect_mapping()
    assert json.loads(ob[rig.MAPPING_PROPERTY])["convention"] == "VRM"
    bpy.ops.unipose.set_mapping_bone(joint="head", bone="neck")  # a manual edit
    assert rig.SmplRig(ob).info.chains[15] == ("neck",)
    preset = os.path.join(OPTS.workdir, "vrm_mapping.json")
    bpy.ops.unipose.export_mapping(filepath=preset)
    path = os.path.join(OPTS.workdir, "mapped.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path, copy=True)
    with bpy.data.libraries.load(path) as (_, loaded):
        loaded.objects = [ob.name]
    reloaded = loaded.objects[0]
    assert json.loads(reloaded[rig.MAPPING_PROPERTY])["joints"]["head"] == ["neck"]
    bpy.data.objects.remove(reloaded)
    bpy.ops.unipose.clear_mapping()
    assert rig.SmplRig(ob).info.chains[15] == ("head",)
    bpy.ops.unipose.import_mapping(filepath=preset)
    assert rig.SmplRig(ob).info.chains[15] == ("neck",)
    with open(preset, "w") as handle:
        handle.write('{"format": "unipose-rig-mapping", "joints": {"pelvis": "nope"}}')
    expect_operator_error(lambda: bpy.ops.unipose.import_mapping(filepath=preset), "no bone 'nope'")
    bpy.ops.unipose.set_mapping_bone(joint="left_knee", bone="")  # an unmapped joint: a clear message
    expect_operator_error(bpy.ops.unipose.describe_pose, "missing left_knee")


class _Layout:
    """Stands in for a panel's layout headless: records labels, accepts every other call."""

    def __init__(self, labels):
        self.labels = labels

    def label(self, text="", **_):
        self.labels.append(text)

    def __getattr__(self, name):
        return lambda *args, **kwargs: _Layout(self.labels)


def check_rig_panel_shows_the_mapping():
    fresh_scene()
    ob, _ = convention_rig("daz")
    settings = bpy.context.scene.unipose
    settings.target, settings.show_mapping = ob, True
    panel = type("Panel", (), {})()
    labels = []
    panel.layout = _Layout(labels)
    bpy.types.UNIPOSE_PT_rig.draw(panel, bpy.context)
    assert f"Posing {ob.name} (DAZ Genesis)" in labels, labels
    assert "lThighBend" in labels and "chestUpper" in labels and "Detected automatically" in labels, labels
    settings.show_mapping = False


def check_non_humanoid_rigs_are_refused_and_left_alone():
    fresh_scene()
    rig = addon_module("rig")
    names, parents, heads, tails = ["hips"], [-1], [(0, 0, 1.0)], [(0, -0.3, 1.0)]
    for k in range(3):
        names.append(f"spine{k}")
        parents.append(k)
        heads.append((0, -0.3 * (k + 1), 1.0))
        tails.append((0, -0.3 * (k + 2), 1.0))
    for end, base in (("hind", 0), ("front", 3)):
        for side, x in (("L", 0.2), ("R", -0.2)):
            for k, part in enumerate(("thigh", "shin", "foot", "toe")):
                names.append(f"{end}_{part}.{side}")
                parents.append(base if k == 0 else len(names) - 2)
                y = heads[base][1]
                heads.append((x, y, 1.0 - 0.3 * k))
                tails.append((x, y - 0.01, 0.7 - 0.3 * k))
    quadruped = rig.build_armature(bpy.context, "Quadruped", names, heads, tails, parents)
    chain = rig.build_armature(bpy.context, "Chain", [f"Bone.{k}" for k in range(4)],
                               [(0, 0, k * 0.3) for k in range(4)], [(0, 0, k * 0.3 + 0.3) for k in range(4)],
                               [-1, 0, 1, 2])
    settings = bpy.context.scene.unipose
    settings.prompt = "standing"
    for ob in (quadruped, chain):
        settings.target = ob
        before = [pb.matrix_basis.copy() for pb in ob.pose.bones]
        message = expect_operator_error(bpy.ops.unipose.pose_from_text, "missing bones:")
        assert "pelvis" in message and "Bone Mapping" in message, message
        expect_operator_error(lambda: bpy.ops.unipose.apply_result(uid=_fake_result_item(ob, np.zeros((22, 3))).uid,
                                                                   variant=0), "missing bones:")
        assert all(pb.matrix_basis == m for pb, m in zip(ob.pose.bones, before))
    assert not [item for item in bpy.context.window_manager.unipose.history if item.status == "RUNNING"]


def check_selected_only_with_nothing_selected_refuses_before_the_model():
    fresh_scene()
    ob = add_rig()
    settings = bpy.context.scene.unipose
    settings.selected_only, settings.prompt = True, "standing"
    for bone in ob.data.bones:
        select_bone(ob, bone.name, False)
    expect_operator_error(bpy.ops.unipose.pose_from_text, "No bones selected")
    assert len(bpy.context.window_manager.unipose.history) == 0
    settings.selected_only = False


def check_stop_backend_while_running_leaves_no_running_entry():
    if not OPTS.fake:
        return
    jobs = fresh_scene()
    add_rig()
    bpy.context.scene.unipose.prompt = "SLOW"
    bpy.ops.unipose.pose_from_text()
    bpy.ops.unipose.backend_stop()
    item = last_item()
    assert item.status == "CANCELLED", (item.status, item.text)
    assert jobs.current_client() is None


def check_wrong_backend_python_is_one_sentence():
    fresh_scene()
    fake = os.path.join(OPTS.workdir, "python-without-packages")
    with open(fake, "w") as handle:
        handle.write("#!/bin/sh\necho 'Traceback (most recent call last):' >&2\n"
                     "echo '  File \"x.py\", line 1, in <module>' >&2\n"
                     "echo \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n")
    os.chmod(fake, 0o755)
    bpy.context.preferences.addons[ADDON].preferences.python_path = fake
    add_rig()
    bpy.context.scene.unipose.prompt = "standing"
    bpy.ops.unipose.pose_from_text()
    item = wait_item(last_item().uid)
    assert item.status == "ERROR" and "lacks the UniPose packages (no module 'torch')" in item.text, item.text
    assert "Traceback" not in item.text and "\n" not in item.text
    addon_module("jobs").shutdown()


def check_moved_checkout_is_reported_and_backend_folder_fixes_it():
    fresh_scene()
    preferences = addon_module("preferences")
    prefs = bpy.context.preferences.addons[ADDON].preferences
    saved = preferences.recorded_root
    preferences.recorded_root = lambda: "/no/longer/here/unipose"
    try:
        prefs.python_path, prefs.backend_dir = "", ""
        try:
            preferences.backend_command(prefs)
            raise AssertionError("a moved checkout was not reported")
        except ValueError as error:
            assert "(/no/longer/here/unipose) is gone (moved?)" in str(error) and "Backend Folder" in str(error)
        repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        prefs.backend_dir = repo
        command, cwd = preferences.backend_command(prefs)
        assert command[0] == os.path.join(repo, ".venv", "bin", "python") and cwd == repo
        prefs.backend_dir, prefs.python_path = "", repo  # a folder as the backend Python works too
        command, cwd = preferences.backend_command(prefs)
        assert command[0] == os.path.join(repo, ".venv", "bin", "python") and cwd == repo
    finally:
        preferences.recorded_root = saved
        prefs.backend_dir = ""


CHECKS = sorted(name for name in dir(sys.modules[__name__]) if name.startswith("check_"))


def main():
    global bpy, OPTS
    parser = argparse.ArgumentParser()
    parser.add_argument("zip")
    parser.add_argument("results")
    parser.add_argument("--python", required=True)
    parser.add_argument("--checkpoint", default="")
    parser.add_argument("--fake", action="store_true")
    parser.add_argument("--only", default="")
    OPTS = parser.parse_args()
    OPTS.workdir = os.path.dirname(os.path.abspath(OPTS.results))
    import bpy as bpy_module
    bpy = bpy_module
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # backend.body for poses
    results = {}
    bpy.ops.extensions.package_install_files(filepath=OPTS.zip, repo="user_default", enable_on_install=True)
    for name in OPTS.only.split(",") if OPTS.only else CHECKS:
        started = time.perf_counter()
        try:
            globals()[name]()
            results[name] = {"ok": True, "error": ""}
        except Exception:
            results[name] = {"ok": False, "error": traceback.format_exc()}
        results[name]["seconds"] = round(time.perf_counter() - started, 2)
        print(name, "ok" if results[name]["ok"] else "FAILED", flush=True)
    with open(OPTS.results, "w") as handle:
        json.dump(results, handle, indent=1)
    import addon_utils
    if ADDON in bpy.context.preferences.addons:
        addon_utils.disable(ADDON, default_set=True)
    sys.stdout.flush()
    os._exit(0)  # bpy 4.5 can hang at interpreter exit


if __name__ == "__main__":
    main()
