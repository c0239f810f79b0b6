"""The add-on's session: one backend client, requests recorded in the history, and results applied on
Blender's main thread by a timer (`timer_tick`; headless tests call it directly)."""
import json

import bpy

from . import posedata, preferences, rig
from .client import STOPPED_MESSAGE, BackendClient, default_environment
from .tasks import POSE_TASKS

TEXT_NAME = "UniPose"
TIMER_INTERVAL = 0.2  # seconds

_client: BackendClient | None = None


def current_client() -> BackendClient | None:
    return _client


def get_client(context) -> BackendClient:
    """The backend client for the current preferences (a changed preference means a new process).
    Raises ValueError when no interpreter is configured."""
    global _client
    command, cwd = preferences.backend_command(preferences.get(context))
    if _client is None or _client.command != command:
        if _client is not None:
            _client.stop()
        _client = BackendClient(command, cwd=cwd, env=default_environment())
    return _client


def shutdown() -> None:
    """Stop the backend (add-on disabled, Blender quitting)."""
    global _client
    if _client is not None:
        _client.stop()
        try:
            _client.poll()  # the stopped requests' callbacks: their history entries stop RUNNING
        except Exception:  # noqa: BLE001 (Blender quitting: no context left to record them in)
            pass
        _client = None


def cancel_orphans(context) -> int:
    """Mark RUNNING history entries that no backend is working on any more as cancelled; returns how many."""
    backend = _client
    busy = set(backend.pending_labels()) if backend is not None else set()
    count = 0
    for item in context.window_manager.unipose.history:
        if item.status == "RUNNING" and item.request not in busy:
            item.status, item.text = "CANCELLED", "cancelled"
            count += 1
    return count


def target_rig(context) -> rig.SmplRig:
    """The panel's target armature, else the active armature, as an SMPL rig (raises rig.RigError)."""
    ob = context.scene.unipose.target
    if ob is None and context.active_object is not None and context.active_object.type == "ARMATURE":
        ob = context.active_object
    return rig.SmplRig(ob)


def find_item(context, uid: int):
    for item in context.window_manager.unipose.history:
        if item.uid == uid:
            return item
    return None


def submit(context, task: str, params: dict, request: str, armature: str = ""):
    """Record a request in the history and send it; the result arrives through `timer_tick`.
    Raises ValueError (no interpreter) or client.BackendError (cannot start)."""
    backend = get_client(context)
    settings = context.scene.unipose
    if settings.seed:
        params = dict(params, seed=settings.seed)
    session = context.window_manager.unipose
    item = session.history.add()
    item.uid, session.next_uid = session.next_uid, session.next_uid + 1
    item.task, item.request, item.status, item.armature = task, request, "RUNNING", armature
    session.history_index = len(session.history) - 1
    uid = item.uid
    try:
        backend.submit(task, params, lambda result, error: finish(uid, result, error), label=request)
    except Exception:
        session.history.remove(len(session.history) - 1)
        raise
    return item


def finish(uid: int, result: dict | None, error: str | None) -> None:
    """A request's callback (main thread): store the result, apply a pose, write text to the Text block."""
    context = bpy.context
    item = find_item(context, uid)
    if item is None:
        return
    if error is not None:
        stopped = error in ("cancelled", STOPPED_MESSAGE)
        item.status, item.text = ("CANCELLED" if stopped else "ERROR"), error
        return
    assert result is not None  # the client passes a dict whenever there is no error
    item.timing_ms = float(result.get("timing_ms") or 0.0)
    if item.task in POSE_TASKS:
        poses = result.get("poses") or []
        item.poses_json, item.num_poses, item.status = json.dumps(poses), len(poses), "DONE"
        if not poses:
            item.status, item.text = "ERROR", "the backend returned no pose"
            return
        try:
            # registered by this add-on at run time, so not in fake-bpy-module's bpy.ops
            bpy.ops.unipose.apply_result("EXEC_DEFAULT", True, uid=uid, variant=0)  # type: ignore[attr-defined]
        except RuntimeError as failure:  # the operator reported an error: keep it on the item
            item.status, item.text = "ERROR", str(failure).splitlines()[-1].strip()
    else:
        item.text, item.status = str(result.get("text", "")), "DONE"
        write_text(f"{item.task}: {item.request}", item.text)
        bpy.ops.ed.undo_push(message=f"UniPose {item.task}")


def write_text(title: str, body: str) -> None:
    """Append a result to the Text datablock `UniPose` (open it in the Text Editor)."""
    text = bpy.data.texts.get(TEXT_NAME) or bpy.data.texts.new(TEXT_NAME)
    text.write(f"# {title}\n{body}\n\n")


def apply_item(context, item, variant: int) -> list[str]:
    """Pose the item's armature with one of its poses, using the panel's options. Raises rig.RigError
    or ValueError with a message for the user. Returns the names of the changed bones."""
    poses = json.loads(item.poses_json or "[]")
    if not 0 <= variant < len(poses):
        raise ValueError(f"no pose #{variant + 1} in this result ({len(poses)} poses)")
    pose = posedata.pose_from_json(poses[variant])
    ob = bpy.data.objects.get(item.armature)
    if ob is None:
        raise rig.RigError(f"Armature '{item.armature}' no longer exists: pick a target and re-apply")
    smpl_rig = rig.SmplRig(ob)
    settings = context.scene.unipose
    mask = smpl_rig.selected_joints() if settings.selected_only else None
    if mask is not None and not mask.any():
        raise rig.RigError("No bones selected: select bones in Pose Mode or turn off 'Selected Bones Only'")
    frame = context.scene.frame_current if settings.keyframe else None
    changed = smpl_rig.write_pose(pose, settings.blend, mask, frame)
    item.variant = variant
    return changed


def _redraw() -> None:
    window_manager = bpy.context.window_manager
    if window_manager is None:
        return
    for window in window_manager.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


def timer_tick() -> float:
    """Runs finished requests' callbacks on the main thread and refreshes the panel."""
    if _client is not None:
        ran = _client.poll()
        if ran or _client.busy or _client.state == "LOADING":
            _redraw()
    return TIMER_INTERVAL
