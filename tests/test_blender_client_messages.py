"""One-sentence backend errors (blender_addon.client.exit_message), outside Blender."""
from blender_addon.client import exit_message


def test_missing_package_says_what_to_fix():
    tail = ["Traceback (most recent call last):", '  File "backend/__main__.py", line 1, in <module>',
            "ModuleNotFoundError: No module named 'numpy'"]
    message = exit_message(1, tail, "/usr/bin/python3")
    assert "(/usr/bin/python3) lacks the UniPose packages (no module 'numpy')" in message
    assert "Backend Python" in message and "Traceback" not in message


def test_other_exits_keep_the_last_lines():
    message = exit_message(3, [f"line {i}" for i in range(20)], "py")
    assert message == "backend exited with code 3: line 17 | line 18 | line 19"
    assert exit_message(9, [], "py") == "backend exited with code 9: no error output"
