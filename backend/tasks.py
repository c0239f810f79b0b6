"""The seven UniPose tasks: the one table that the server, engine, model, command line, training, evaluation
and the Blender add-on read (pure Python, so the add-on vendors it).

A task's inputs are named like the server's request params and the engine's keyword arguments. Each input
name has one kind (text, pose or image), one meaning on the command line and one error wording. A task's flags
are optional true/false params, named the same way (`--name-with-dashes` switches on the command line).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Input:
    kind: str        # "text", "pose" or "image"
    metavar: str     # command-line argument name
    help: str        # command-line help
    expected: str    # what a valid value is, for error messages


INPUTS = {
    "text": Input("text", "PROMPT", "what the pose looks like", "a non-empty string"),
    "instruction": Input("text", "INSTRUCTION", "how to change the pose", "a non-empty string"),
    "pose": Input("pose", "POSE", "a pose JSON file", "a pose JSON object"),
    "pose_a": Input("pose", "A", "a pose JSON file", "a pose JSON object"),
    "pose_b": Input("pose", "B", "a pose JSON file", "a pose JSON object"),
    "image": Input("image", "IMG", "an image file (PNG, JPEG, ...)", "a path to an image file"),
    "image_a": Input("image", "A", "an image file (PNG, JPEG, ...)", "a path to an image file"),
    "image_b": Input("image", "B", "an image file (PNG, JPEG, ...)", "a path to an image file"),
}


FLAGS = {  # optional true/false params -> command-line help
    "whole_body": "let the model change the whole body (default: only the limbs the instruction names change, "
                  "the rest of the pose stays)",
}


@dataclass(frozen=True)
class Task:
    name: str
    inputs: tuple[str, ...]  # keys of INPUTS, in order
    output: str              # "pose" or "text"
    command: str             # `unipose COMMAND`
    summary: str             # one line for --help
    title: str               # heading in reports
    from_pairs: bool         # trained and evaluated on pose pairs (corpus edit pairs) rather than single poses
    flags: tuple[str, ...] = ()  # keys of FLAGS

    def count(self, kind: str) -> int:
        """How many inputs of a kind ("text", "pose", "image") the task takes."""
        return sum(INPUTS[name].kind == kind for name in self.inputs)

    @property
    def needs_text(self) -> bool:
        return self.count("text") > 0


_TASK_LIST = (
    Task("text_to_pose", ("text",), "pose", "text2pose", "generate a pose from a text description",
         "Text → pose", False),
    Task("image_to_pose", ("image",), "pose", "image2pose", "estimate the pose of the person in an image",
         "Image → pose", False),
    Task("edit_pose", ("pose", "instruction"), "pose", "edit", "change a pose by an instruction",
         "Pose editing (pose + instruction → pose)", True, flags=("whole_body",)),
    Task("pose_to_text", ("pose",), "text", "pose2text", "describe a pose in words", "Pose → text", False),
    Task("image_to_text", ("image",), "text", "image2text", "describe the pose of the person in an image",
         "Image → text", False),
    Task("pose_diff", ("pose_a", "pose_b"), "text", "posediff", "describe how to get from pose A to pose B",
         "Pose-pair difference → text", True),
    Task("image_diff", ("image_a", "image_b"), "text", "imagediff",
         "describe how the pose in image A differs from image B", "Image-pair difference → text", True),
)
TASKS: dict[str, Task] = {task.name: task for task in _TASK_LIST}
POSE_TASKS = tuple(name for name, task in TASKS.items() if task.output == "pose")
TEXT_TASKS = tuple(name for name, task in TASKS.items() if task.output == "text")


def check_task_inputs(task: str, text, poses, images) -> Task:
    """The task, after checking that it exists and gets the right number of texts, poses and images."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    spec = TASKS[task]
    if spec.needs_text and not (text and text.strip()):
        raise ValueError(f"{task} needs a text")
    if len(poses) != spec.count("pose") or len(images) != spec.count("image"):
        raise ValueError(f"{task} takes {spec.count('pose')} pose(s) and {spec.count('image')} image(s), "
                         f"got {len(poses)} and {len(images)}")
    return spec
