"""Add-on preferences: where the backend's Python lives, which checkpoint and device it uses."""
import json
import os
import sys

import bpy
from bpy.props import EnumProperty, StringProperty

ADDON_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_FILE = "project.json"  # written into the zip by `unipose build-extension`


def project_root() -> str | None:
    """The UniPose project this extension was built from (or, in development, the repository)."""
    try:
        with open(os.path.join(ADDON_DIR, PROJECT_FILE), encoding="utf-8") as handle:
            root = json.load(handle).get("project_root")
    except (OSError, ValueError):
        root = os.path.dirname(ADDON_DIR)  # running from the repository's blender_addon/
    return root if root and os.path.isdir(os.path.join(root, "backend")) else None


def _venv_python(root: str) -> str:
    return os.path.join(root, ".venv", "Scripts" if sys.platform == "win32" else "bin",
                        "python.exe" if sys.platform == "win32" else "python")


def detected_python() -> str | None:
    """The project's .venv interpreter, else $UNIPOSE_PYTHON; None when neither exists."""
    root = project_root()
    for candidate in ([_venv_python(root)] if root else []) + [os.environ.get("UNIPOSE_PYTHON", "")]:
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


class UniPosePreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    python_path: StringProperty(
        name="Backend Python", subtype="FILE_PATH",
        description="Python interpreter with the UniPose backend installed; empty: the project's .venv")
    checkpoint_dir: StringProperty(
        name="Checkpoint", subtype="DIR_PATH",
        description="Model checkpoint folder; empty: the shipped default model")
    device: EnumProperty(
        name="Device", items=(("auto", "Auto", "GPU when available"), ("cpu", "CPU", ""), ("cuda", "CUDA", "")),
        default="auto")
    smpl_dir: StringProperty(
        name="SMPL Models", subtype="DIR_PATH",
        description="Optional folder with SMPL model files (SMPL_NEUTRAL.npz); empty: a capsule body")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "python_path")
        if not self.python_path:
            found = detected_python()
            layout.label(text=f"Detected: {found}" if found else "Not detected: set the backend's Python",
                         icon="CHECKMARK" if found else "ERROR")
        layout.prop(self, "checkpoint_dir")
        layout.prop(self, "device")
        layout.prop(self, "smpl_dir")


def get(context) -> "UniPosePreferences":
    return context.preferences.addons[__package__].preferences


def backend_command(prefs) -> tuple[list[str], str | None]:
    """(argv, working folder) that starts `unipose serve` with these preferences.
    Raises ValueError with what to set when no interpreter is known."""
    python = bpy.path.abspath(prefs.python_path) if prefs.python_path else detected_python()
    if not python:
        raise ValueError("No backend Python found: set it in Preferences > Add-ons > UniPose "
                         "(the project's .venv/bin/python)")
    command = [python, "-m", "backend", "serve", "--device", prefs.device]
    if prefs.checkpoint_dir:
        command += ["--checkpoint", bpy.path.abspath(prefs.checkpoint_dir)]
    return command, project_root()
