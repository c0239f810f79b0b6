"""Photos of posed bodies with known ground truth: the capsule body, clothed and lit, rendered by Blender.

Used by the rendered-body benchmark and to make the test photos. bpy runs in its own process (it and
mediapipe each bundle native libraries; Blender also writes to HOME/TMPDIR), so the public entry point
`render_bodies(jobs, folder)` starts `python -m training.data.rendered_bodies JOBS.json`.

A job: {"pose": (22, 3) axis-angle, "cameras": [Camera.to_dict()], "name": str}; it writes
`<folder>/<name>_<k>.png` per camera. Scene: Cycles on the CPU, a ground plane, a sun and an area light,
skin, shirt, trousers and shoes; the head has eyes and hair so the facing is visible.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from backend.body.kinematics import forward_kinematics, pad_pose_rotmats
from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import JOINT_INDEX, NEUTRAL_REST_JOINTS, PARENTS

SMPL_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # Y-up -> Z-up
COLOURS = {"skin": (0.80, 0.56, 0.44), "shirt": (0.12, 0.32, 0.62), "trousers": (0.18, 0.18, 0.22),
           "shoes": (0.06, 0.05, 0.05), "hair": (0.10, 0.07, 0.05), "eyes": (0.03, 0.03, 0.03),
           "ground": (0.55, 0.53, 0.50)}


def _material(start: str, end: str) -> str:
    names = start + " " + end
    if "head" in names or "nose" in names or "neck" in names or "wrist" in names or "hand" in names \
            or "finger" in names:
        return "skin"
    if "heel" in names or "toe" in names or end.endswith("_foot"):
        return "shoes"
    if "knee" in names or "ankle" in names or end.endswith("_hip"):
        return "trousers"
    return "shirt"


def _unlifted_parts(pose: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float, float, str]]:
    from backend.render import BODY_CAPSULES, body_points

    points = body_points(pose)
    rotmats = pad_pose_rotmats(axis_angle_to_rotmat(np.asarray(pose, dtype=np.float64)))
    joints, rotations = forward_kinematics(rotmats, NEUTRAL_REST_JOINTS, PARENTS)
    head, frame = joints[JOINT_INDEX["head"]], rotations[JOINT_INDEX["head"]]
    parts = [(points[c.start], points[c.end], c.start_radius, c.end_radius, _material(c.start, c.end))
             for c in BODY_CAPSULES]
    for side in (1.0, -1.0):
        eye = head + frame @ np.array([0.033 * side, 0.062, 0.088])
        parts.append((eye, eye, 0.014, 0.014, "eyes"))
        ear = head + frame @ np.array([0.095 * side, 0.04, 0.0])
        parts.append((ear, ear, 0.022, 0.022, "skin"))
    hair = head + frame @ np.array([0.0, 0.085, -0.02])
    parts.append((hair, hair, 0.098, 0.098, "hair"))
    return parts


def body_lift(pose: np.ndarray) -> float:
    """How far up (+Y) the pelvis-centred body moves to stand on y = 0 in the rendered scene."""
    return -min(min(a[1] - ra, b[1] - rb) for a, b, ra, rb, _ in _unlifted_parts(pose))


def body_parts(pose: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float, float, str]]:
    """(22, 3) pose -> capsules (start (3,), end (3,), start radius, end radius, material) in the SMPL frame
    moved up by body_lift(pose): the scene's frame."""
    lift = np.array([0.0, body_lift(pose), 0.0])
    return [(a + lift, b + lift, ra, rb, m) for a, b, ra, rb, m in _unlifted_parts(pose)]


def render_bodies(jobs: list[dict], folder, samples: int = 24,
                  timeout: float = 1800) -> list[list[Path]]:
    """Render every job's cameras in a Blender subprocess; returns the image paths per job."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"jobs": [{**job, "pose": np.asarray(job["pose"]).tolist()} for job in jobs],
               "folder": str(folder), "samples": samples}
    with tempfile.TemporaryDirectory(prefix="unipose-blender-") as scratch:
        job_file = Path(scratch) / "jobs.json"
        job_file.write_text(json.dumps(payload))
        env = {**os.environ, "HOME": scratch, "TMPDIR": scratch}
        done = subprocess.run([sys.executable, "-m", "training.data.rendered_bodies", str(job_file)],
                              env=env, capture_output=True, text=True, timeout=timeout,
                              cwd=Path(__file__).resolve().parents[3])
        if done.returncode != 0:
            raise RuntimeError(f"Blender rendering failed:\n{done.stderr[-2000:]}")
    return [[folder / f"{job['name']}_{k}.png" for k in range(len(job["cameras"]))] for job in jobs]


# ------------------------------------------------------------------ inside the Blender process
def _scene(samples: int):
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.use_denoising = True
    scene.render.image_settings.file_format = "PNG"
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs[0].default_value = (0.72, 0.76, 0.82, 1.0)
    world.node_tree.nodes["Background"].inputs[1].default_value = 0.6
    scene.world = world
    sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (0.7, 0.2, 0.6)
    scene.collection.objects.link(sun)
    fill = bpy.data.objects.new("fill", bpy.data.lights.new("fill", "AREA"))
    fill.data.energy = 400.0
    fill.data.size = 3.0
    fill.location = (-2.5, -3.0, 2.5)
    fill.rotation_euler = (0.9, 0.0, -0.7)
    scene.collection.objects.link(fill)
    bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 0.0, 0.0))
    bpy.context.object.data.materials.append(_bsdf("ground", COLOURS["ground"], 0.9))
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    scene.collection.objects.link(camera)
    scene.camera = camera
    return scene


def _bsdf(name: str, colour, roughness: float = 0.6):
    import bpy

    material = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    material.use_nodes = True
    node = material.node_tree.nodes["Principled BSDF"]
    node.inputs["Base Color"].default_value = (*colour, 1.0)
    node.inputs["Roughness"].default_value = roughness
    return material


def _add_body(parts) -> list:
    import bpy
    from mathutils import Vector

    objects = []
    for a, b, ra, rb, material in parts:
        a, b = SMPL_TO_BLENDER @ a, SMPL_TO_BLENDER @ b
        for centre, radius in ((a, ra), (b, rb)):
            bpy.ops.mesh.primitive_uv_sphere_add(radius=radius, location=centre, segments=24, ring_count=12)
            objects.append(bpy.context.object)
        length = float(np.linalg.norm(b - a))
        if length > 1e-4:
            direction = Vector((b - a) / length)
            rotation = Vector((0.0, 0.0, 1.0)).rotation_difference(direction).to_euler()
            bpy.ops.mesh.primitive_cone_add(vertices=24, radius1=ra, radius2=rb, depth=length,
                                            location=(a + b) / 2, rotation=rotation)
            objects.append(bpy.context.object)
        for obj in objects[-3:]:
            if not obj.data.materials:
                obj.data.materials.append(_bsdf(material, COLOURS[material], 0.45 if material == "skin" else 0.7))
                obj.data.shade_smooth()
    return objects


def _place_camera(scene, camera: dict) -> None:
    from mathutils import Matrix

    rotation = np.asarray(camera["rotation"])  # rows: right, down, forward (SMPL)
    axes = SMPL_TO_BLENDER @ np.stack([rotation[0], -rotation[1], -rotation[2]], axis=1)  # Blender cam axes
    matrix = np.eye(4)
    matrix[:3, :3] = axes
    matrix[:3, 3] = SMPL_TO_BLENDER @ np.asarray(camera["position"])
    scene.camera.matrix_world = Matrix(matrix.tolist())
    width, height = camera["image_size"]
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.camera.data.sensor_fit = "VERTICAL"
    scene.camera.data.sensor_height = 24.0
    scene.camera.data.lens = camera["focal"] * 24.0 / height
    scene.camera.data.clip_end = 100.0


def _main(job_file: str) -> None:
    import bpy

    payload = json.loads(Path(job_file).read_text())
    scene = _scene(payload["samples"])
    for job in payload["jobs"]:
        objects = _add_body(body_parts(np.asarray(job["pose"])))
        for k, camera in enumerate(job["cameras"]):
            _place_camera(scene, camera)
            scene.render.filepath = str(Path(payload["folder"]) / f"{job['name']}_{k}.png")
            bpy.ops.render.render(write_still=True)
        for obj in objects:
            bpy.data.objects.remove(obj, do_unlink=True)
    os._exit(0)  # bpy 4.5 can hang at interpreter exit


if __name__ == "__main__":
    _main(sys.argv[1])
