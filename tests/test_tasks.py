"""The task registry (backend/tasks.py) agrees with every reader: engine methods, server, command line, templates."""
import inspect

import pytest

from backend.cli import build_parser
from backend.engine import UniPoseEngine
from backend.model.templates import TEMPLATES
from backend.tasks import FLAGS, INPUTS, POSE_TASKS, TASKS, TEXT_TASKS, check_task_inputs


@pytest.mark.parametrize("name", list(TASKS))
def test_engine_method_takes_the_task_inputs_and_flags_by_name(name):
    parameters = list(inspect.signature(getattr(UniPoseEngine, name)).parameters)
    assert parameters == ["self", *TASKS[name].inputs, "sampling", *TASKS[name].flags]


@pytest.mark.parametrize("name", list(TASKS))
def test_command_line_takes_the_task_inputs_in_order(name):
    task = TASKS[name]
    parser = build_parser()
    values = {"text": "raise the arms", "instruction": "sit", "pose": "p.json", "pose_a": "a.json",
              "pose_b": "b.json", "image": "i.png", "image_a": "a.png", "image_b": "b.png"}
    args = parser.parse_args([task.command, *(values[i] for i in task.inputs)])
    assert args.task == name and [getattr(args, i) for i in task.inputs] == [values[i] for i in task.inputs]
    assert args.produces_poses == (task.output == "pose")


def test_every_task_has_templates_and_every_input_a_kind():
    assert set(TEMPLATES) == set(TASKS) and set(POSE_TASKS) | set(TEXT_TASKS) == set(TASKS)
    assert all(INPUTS[i].kind in ("text", "pose", "image") for task in TASKS.values() for i in task.inputs)
    assert all(flag in FLAGS for task in TASKS.values() for flag in task.flags)


def test_input_counts_are_checked():
    assert check_task_inputs("edit_pose", "raise the arm", [object()], []).name == "edit_pose"
    with pytest.raises(ValueError, match="needs a text"):
        check_task_inputs("text_to_pose", " ", [], [])
    with pytest.raises(ValueError, match="takes 2 pose"):
        check_task_inputs("pose_diff", None, [object()], [])
    with pytest.raises(ValueError, match="unknown task"):
        check_task_inputs("dance", None, [], [])
