"""How one instance of a task (backend/tasks.py) becomes a conversation for the model."""
import random

from backend.model.templates import TEMPLATES
from backend.model.vocab import POSE_PLACEHOLDER
from backend.tasks import check_task_inputs

SYSTEM_PROMPT = "You are UniPose, an assistant for 3D human body poses."  # short: every request pays for it
POSE_HINT = f"A geometric fit of the landmarks: {POSE_PLACEHOLDER}"  # after the request (image_pose_hint)


def task_messages(task: str, *, text=None, poses=(), images=(), target=None, template: int | None = None,
                  rng: random.Random | None = None, system_prompt: str = SYSTEM_PROMPT,
                  pose_hint=None) -> list[dict]:
    """The conversation for one task instance.

    template: index into TEMPLATES[task]; None picks one with `rng` (training) - inference uses 0.
    target: the answer to learn (a str for text tasks, a pose for pose tasks); None for a prompt.
    system_prompt: the checkpoint's (UniPoseConfig.system_prompt); "" still renders an (empty) system turn,
    which keeps chat templates from inserting their own default one.
    pose_hint: a pose (22, 3) given after the request as an input pose, "<request> A geometric fit of the
    landmarks: <pose>" (image -> pose with UniPoseConfig.image_pose_hint); None: the plain request.
    """
    spec = check_task_inputs(task, text, list(poses), list(images))
    templates = TEMPLATES[task]
    index = template if template is not None else (rng or random).randrange(len(templates))
    content = templates[index].format(text=(text or "").strip())
    poses = list(poses)
    if pose_hint is not None:
        content, poses = f"{content} {POSE_HINT}", poses + [pose_hint]
    messages = [{"role": "system", "content": system_prompt},
                {"role": "user", "content": content, "poses": poses, "images": list(images)}]
    if target is not None:
        if spec.output == "pose":
            messages.append({"role": "assistant", "content": POSE_PLACEHOLDER, "poses": [target]})
        else:
            messages.append({"role": "assistant", "content": str(target).strip()})
    return messages
