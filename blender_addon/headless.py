"""The main job without the UI: in headless Blender, take an armature (a new SMPL rig, or one from the
artist's .blend, mapped automatically), pose it from a text prompt (through the add-on's own backend
client) or from a pose file, stand it on the floor, then save the .blend and render a preview.

Run by `unipose blend` as
`python -m blender_addon.headless (PROMPT | --pose P.json) -o OUT.blend [--rig IN.blend [--armature NAME]]
[--preview PNG] -- BACKEND...`. Errors exit 1 with one `error: ...` line on stderr, before anything is written.
"""
import argparse
import json
import os
import sys
import time

import bpy
from mathutils import Vector

from . import jobs, posedata, rig
from .client import BackendClient, default_environment


def request_pose(command: list[str], cwd: str | None, prompt: str, seed: int | None, timeout: float) -> dict:
    """Ask a fresh backend for one pose; progress goes to stderr. Returns the result dict."""
    backend = BackendClient(command, cwd=cwd, env=default_environment())
    answer: dict = {}
    params = {"text": prompt, "num_samples": 1, **({"seed": seed} if seed is not None else {})}
    try:
        backend.submit("text_to_pose", params, lambda result, error: answer.update(result=result, error=error))
        end, shown = time.monotonic() + timeout, None
        while not answer and time.monotonic() < end:
            backend.poll()  # what the add-on's timer does in the UI
            if (backend.state, backend.message) != shown:
                shown = (backend.state, backend.message)
                print(f"backend: {backend.state.lower()} {backend.message}", file=sys.stderr, flush=True)
            time.sleep(0.05)
    finally:
        backend.stop()
    if not answer:
        raise RuntimeError(f"the backend gave no answer within {timeout:.0f} s")
    if answer["error"]:
        raise RuntimeError(f"the backend failed: {answer['error']}")
    return answer["result"]


def _look_at(ob, target: Vector) -> None:
    ob.rotation_euler = (target - ob.location).to_track_quat("-Z", "Y").to_euler()


def setup_preview(context, rig_ob, resolution=(720, 720)):
    """Camera (three-quarter front view framing the posed body), light, ground and render settings."""
    context.view_layer.update()
    points = []
    for child in rig_ob.children:
        evaluated = child.evaluated_get(context.evaluated_depsgraph_get())
        points += [evaluated.matrix_world @ Vector(corner) for corner in evaluated.bound_box]
    low = Vector([min(p[i] for p in points) for i in range(3)])
    high = Vector([max(p[i] for p in points) for i in range(3)])
    centre, size = (low + high) / 2, max((high - low).length, 0.5)
    return _place_camera(context, centre, size, low, resolution)


def setup_preview_for_rig(context, rig_ob, resolution=(720, 720)):
    """The preview set-up for any armature: framed on its meshes, else on its posed bones."""
    if any(child.type == "MESH" for child in rig_ob.children):
        return setup_preview(context, rig_ob, resolution)
    context.view_layer.update()
    points = [rig_ob.matrix_world @ p for b in rig_ob.pose.bones for p in (b.head, b.tail)]
    low = Vector([min(p[i] for p in points) for i in range(3)])
    high = Vector([max(p[i] for p in points) for i in range(3)])
    return _place_camera(context, (low + high) / 2, max((high - low).length, 0.5), low, resolution)


def _place_camera(context, centre, size, low, resolution):
    scene = context.scene
    camera = bpy.data.objects.new("Preview Camera", bpy.data.cameras.new("Preview Camera"))
    scene.collection.objects.link(camera)
    camera.data.type, camera.data.ortho_scale = "ORTHO", size * 1.05
    camera.location = centre + Vector((0.55, -1.0, 0.3)).normalized() * size * 3
    _look_at(camera, centre)
    scene.camera = camera
    ground = bpy.data.meshes.new("Ground")
    half = size * 2
    ground.from_pydata([(-half, -half, 0), (half, -half, 0), (half, half, 0), (-half, half, 0)], [], [(0, 1, 2, 3)])
    ground_ob = bpy.data.objects.new("Ground", ground)
    ground_ob.location = (centre.x, centre.y, low.z)
    scene.collection.objects.link(ground_ob)
    scene.render.resolution_x, scene.render.resolution_y = resolution
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    shading = scene.display.shading
    shading.light, shading.color_type = "STUDIO", "MATERIAL"
    shading.show_shadows, shading.show_cavity = True, True
    return camera


def render_preview(context, path: str) -> str:
    """Render with Workbench (fast), falling back to Cycles on machines where it cannot draw."""
    scene = context.scene
    scene.render.filepath = os.path.abspath(path)
    scene.render.image_settings.file_format = "PNG"
    for engine in ("BLENDER_WORKBENCH", "CYCLES"):
        scene.render.engine = engine
        if engine == "CYCLES":
            scene.cycles.samples, scene.cycles.device = 16, "CPU"
            sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
            sun.rotation_euler = (0.6, 0.2, 0.8)
            scene.collection.objects.link(sun)
        try:
            bpy.ops.render.render(write_still=True)
            if os.path.isfile(scene.render.filepath):
                return engine
        except RuntimeError as error:
            print(f"preview: {engine} failed ({error}); trying the next engine", file=sys.stderr)
    raise RuntimeError("could not render the preview")


def open_rig(rig_path: str, armature: str | None):
    """The armature to pose from the artist's .blend, mapped (raises ValueError naming what is wrong)."""
    if not os.path.isfile(rig_path):
        raise ValueError(f"rig file not found: {rig_path}")
    bpy.ops.wm.open_mainfile(filepath=os.path.abspath(rig_path))
    armatures = [ob for ob in bpy.data.objects if ob.type == "ARMATURE"]
    if armature is not None:
        chosen = [ob for ob in armatures if ob.name == armature]
        if not chosen:
            raise ValueError(f"no armature '{armature}' in {rig_path}; armatures: "
                             + (", ".join(ob.name for ob in armatures) or "none"))
    elif len(armatures) != 1:
        raise ValueError(f"{rig_path} has {len(armatures)} armatures"
                         + (f" ({', '.join(ob.name for ob in armatures)}): choose one with --armature" if armatures
                            else ""))
    else:
        chosen = armatures
    return rig.SmplRig(chosen[0])  # raises rig.RigError (a ValueError) naming the missing bones


def blend_pose(prompt: str | None, pose_json: dict | None, blend_path: str, preview_path: str | None,
               command: list[str], cwd: str | None = None, seed: int | None = None, timeout: float = 900.0,
               rig_path: str | None = None, armature: str | None = None) -> dict:
    """The whole job. Returns a summary: pose, timing, output paths, render engine, armature, mapping."""
    if rig_path:
        target = open_rig(rig_path, armature)
    else:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        target = rig.SmplRig(rig.create_smpl_rig(bpy.context, name="SMPL"))
    context = bpy.context
    if pose_json is None:
        if prompt is None:
            raise ValueError("give a prompt or a pose file (--pose)")
        result = request_pose(command, cwd, prompt, seed, timeout)
        pose_json = (result.get("poses") or [None])[0]
        title = f"text_to_pose: {prompt}"
    else:
        result, title = {}, "pose file"
    pose = posedata.pose_from_json(pose_json)
    target.write_pose(pose)
    target.place_on_ground()
    jobs.write_text(title, json.dumps(posedata.pose_to_json(pose)))
    summary = {"prompt": prompt, "blend": os.path.abspath(blend_path), "timing_ms": result.get("timing_ms"),
               "pose": posedata.pose_to_json(pose), "armature": target.ob.name, "convention": target.convention}
    setup_preview_for_rig(context, target.ob)
    os.makedirs(os.path.dirname(os.path.abspath(blend_path)), exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=os.path.abspath(blend_path))
    if preview_path:
        os.makedirs(os.path.dirname(os.path.abspath(preview_path)), exist_ok=True)
        summary["engine"] = render_preview(context, preview_path)
        summary["preview"] = os.path.abspath(preview_path)
    return summary


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m blender_addon.headless")
    parser.add_argument("prompt", nargs="?")
    parser.add_argument("--pose")
    parser.add_argument("--rig")
    parser.add_argument("--armature")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--preview")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--cwd")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv[:split])
    status = 0
    try:
        pose_json = None
        if args.pose:
            with open(args.pose, encoding="utf-8") as handle:
                pose_json = json.load(handle)
        summary = blend_pose(args.prompt, pose_json, args.output, args.preview, argv[split + 1:], args.cwd,
                             args.seed, args.timeout, args.rig, args.armature)
        print(json.dumps({key: summary[key] for key in summary if key != "pose"}))
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # bpy 4.5 can hang at interpreter exit


if __name__ == "__main__":
    main()
