"""The task registry (backend/tasks.py): the copy vendored into the extension zip, else the repository's."""
try:
    from .vendor.tasks import POSE_TASKS, TASKS
except ImportError:
    from backend.tasks import POSE_TASKS, TASKS

__all__ = ["POSE_TASKS", "TASKS"]
