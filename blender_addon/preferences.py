"""Add-on preferences: where the backend's Python lives, which checkpoint and device it uses."""
import json
import os
import sys

import bpy
from bpy.props import EnumProperty, StringProperty

ADDON_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_FILE = "project.json"  # written into the zip by `unipose build-extension`


def recorded_root() -> str | None:
    """The checkout named in the zip's project.json (it may have moved since), or None."""
    try:
        with open(os.path.join(ADDON_DIR, PROJECT_FILE), encoding="utf-8") as handle:
            return json.load(handle).get("project_root")
    except (OSError, ValueError):
        return None


def is_checkout(folder: str | None) -> bool:
    return bool(folder and os.path.isdir(os.path.join(folder, "backend")))


def project_root(folder: str = "") -> str | None:
    """The UniPose checkout: the preference's folder, else the one this extension was built from, else (in
    development) the repository around blender_addon/, else $UNIPOSE_HOME. None when none exists."""
    candidates = [folder, recorded_root(), os.path.dirname(ADDON_DIR), os.environ.get("UNIPOSE_HOME", "")]
    return next((c for c in candidates if is_checkout(c)), None)


def _venv_python(root: str) -> str:
    return os.path.join(root, ".venv", "Scripts" if sys.platform == "win32" else "bin",
                        "python.exe" if sys.platform == "win32" else "python")


def detected_python(folder: str = "") -> str | None:
    """The project's .venv interpreter, else $UNIPOSE_PYTHON; None when neither exists."""
    root = project_root(folder)
    for candidate in ([_venv_python(root)] if root else []) + [os.environ.get("UNIPOSE_PYTHON", "")]:
        if candidate and os.path.isfile(candidate):
            return candidate
    return None


class UniPosePreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    python_path: StringProperty(
        name="Backend Python", subtype="FILE_PATH",
        description="Python interpreter with the UniPose backend installed (or the checkout folder); "
                    "empty: the project's .venv")
    backend_dir: StringProperty(
        name="Backend Folder", subtype="DIR_PATH",
        description="The UniPose checkout (where `backend/` and `.venv/` are); empty: the one the extension "
                    "was built from")
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
        layout.prop(self, "backend_dir")
        layout.prop(self, "python_path")
        if not self.python_path:
            found = detected_python(bpy.path.abspath(self.backend_dir) if self.backend_dir else "")
            layout.label(text=f"Detected: {found}" if found else not_found_message(),
                         icon="CHECKMARK" if found else "ERROR")
        layout.prop(self, "checkpoint_dir")
        layout.prop(self, "device")
        layout.prop(self, "smpl_dir")


def get(context) -> "UniPosePreferences":
    return context.preferences.addons[__package__].preferences


def not_found_message() -> str:
    recorded = recorded_root()
    moved = (f"the checkout this extension was built from ({recorded}) is gone (moved?); "
             if recorded and not is_checkout(recorded) else "")
    return (f"No UniPose backend found: {moved}set Preferences > Add-ons > UniPose > Backend Folder to the "
            "UniPose checkout, or Backend Python to its .venv/bin/python")


def backend_command(prefs) -> tuple[list[str], str | None]:
    """(argv, working folder) that starts `unipose serve` with these preferences.
    Raises ValueError with what to set when no interpreter is known."""
    folder = bpy.path.abspath(prefs.backend_dir) if getattr(prefs, "backend_dir", "") else ""
    python = bpy.path.abspath(prefs.python_path) if prefs.python_path else ""
    if python and os.path.isdir(python):  # a folder given as the backend: the checkout (or a venv in it)
        folder, python = python, detected_python(python) or ""
        if not python:
            raise ValueError(f"No .venv Python in {folder}: " + not_found_message().split(": ", 1)[1])
    python = python or detected_python(folder) or ""
    if not python:
        raise ValueError(not_found_message())
    command = [python, "-m", "backend", "serve", "--device", prefs.device]
    if prefs.checkpoint_dir:
        command += ["--checkpoint", bpy.path.abspath(prefs.checkpoint_dir)]
    return command, project_root(folder)
