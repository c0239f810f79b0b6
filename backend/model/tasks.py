"""The seven UniPose tasks: what each takes and returns, and how it becomes a conversation."""
import random
from dataclasses import dataclass

from backend.model.templates import TEMPLATES
from backend.model.vocab import POSE_PLACEHOLDER

SYSTEM_PROMPT = "You are UniPose, an assistant for 3D human body poses."  # short: every request pays for it


@dataclass(frozen=True)
class TaskSpec:
    needs_text: bool
    num_poses: int  # input poses
    num_images: int
    output: str  # "text" or "pose"


TASKS: dict[str, TaskSpec] = {
    "pose_to_text": TaskSpec(False, 1, 0, "text"),
    "image_to_text": TaskSpec(False, 0, 1, "text"),
    "pose_diff": TaskSpec(False, 2, 0, "text"),
    "image_diff": TaskSpec(False, 0, 2, "text"),
    "text_to_pose": TaskSpec(True, 0, 0, "pose"),
    "image_to_pose": TaskSpec(False, 0, 1, "pose"),
    "edit_pose": TaskSpec(True, 1, 0, "pose"),
}


def check_task_inputs(task: str, text, poses, images) -> TaskSpec:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    spec = TASKS[task]
    if spec.needs_text and not (text and text.strip()):
        raise ValueError(f"{task} needs a text")
    if len(poses) != spec.num_poses or len(images) != spec.num_images:
        raise ValueError(f"{task} takes {spec.num_poses} pose(s) and {spec.num_images} image(s), "
                         f"got {len(poses)} and {len(images)}")
    return spec


def task_messages(task: str, *, text=None, poses=(), images=(), target=None, template: int | None = None,
                  rng: random.Random | None = None) -> list[dict]:
    """The conversation for one task instance.

    template: index into TEMPLATES[task]; None picks one with `rng` (training) - inference uses 0.
    target: the answer to learn (a str for text tasks, a pose for pose tasks); None for a prompt.
    """
    spec = check_task_inputs(task, text, list(poses), list(images))
    templates = TEMPLATES[task]
    index = template if template is not None else (rng or random).randrange(len(templates))
    content = templates[index].format(text=(text or "").strip())
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": content, "poses": list(poses), "images": list(images)}]
    if target is not None:
        if spec.output == "pose":
            messages.append({"role": "assistant", "content": POSE_PLACEHOLDER, "poses": [target]})
        else:
            messages.append({"role": "assistant", "content": str(target).strip()})
    return messages
