"""Pose pictures and the `render` / `demo` commands. Checks read colours back from the rendered panels."""
import json

import numpy as np
import pytest
from PIL import Image

from backend.body.example_poses import EXAMPLE_POSES
from backend.cli import main
from backend.posefile import Pose, save_pose
from backend.render import COLOURS, facing_yaw, render_overlay, render_pose, render_poses

SIZE = 160


def _panels(image, size=SIZE):
    """-> front and side panels as (rows, size, 3) int arrays: title, view labels and legend cut off."""
    a = np.asarray(image).astype(int)
    top = a.shape[0] - size + int(0.1 * size)
    bottom = a.shape[0] - size + int(0.86 * size)  # the ground line; the legend sits below it
    return a[top:bottom, :size], a[top:bottom, size : 2 * size]


def _head(panel):
    """The rows of a panel from the top of the body down to the chin."""
    rows = np.nonzero((np.abs(panel - panel[2, 2]).sum(-1) > 60).any(1))[0]
    return panel[rows.min() : rows.min() + int(0.09 * panel.shape[1])]


def _pixels_like(panel, colour, tol=60):
    """(x, y) coordinates of pixels whose hue is close to a base colour (shading only scales brightness)."""
    c = np.asarray(colour, dtype=float)
    rgb = panel.astype(float)
    norm = np.linalg.norm(rgb, axis=-1, keepdims=True) + 1e-9
    direction = np.linalg.norm(rgb / norm - c / np.linalg.norm(c), axis=-1)
    ys, xs = np.nonzero((direction < 0.12) & (norm[..., 0] > tol))
    return xs, ys


def test_front_view_shows_left_limbs_on_the_image_right():
    front, _ = _panels(render_pose(EXAMPLE_POSES["t_pose"], size=SIZE))
    lx, _ = _pixels_like(front, COLOURS["left"])
    rx, _ = _pixels_like(front, COLOURS["right"])
    assert len(lx) > 200 and len(rx) > 200
    assert lx.mean() > SIZE / 2 + 10 > SIZE / 2 - 10 > rx.mean()  # the body faces us: its left is on our right


def test_t_pose_is_wide_and_arms_down_is_narrow():
    def width(name):
        front, _ = _panels(render_pose(EXAMPLE_POSES[name], size=SIZE))
        xs, _ = _pixels_like(front, COLOURS["left"])
        xr, _ = _pixels_like(front, COLOURS["right"])
        return xs.max() - xr.min()

    assert width("t_pose") > 1.8 * width("standing_arms_down")


def test_side_view_shows_sitting_thighs_pointing_forward():
    _, side = _panels(render_pose(EXAMPLE_POSES["sitting"], size=SIZE))
    _, standing_side = _panels(render_pose(EXAMPLE_POSES["standing_arms_down"], size=SIZE))
    xs, ys = _pixels_like(side, COLOURS["right"])  # seen from its right side: right limbs in front
    sx, _ = _pixels_like(standing_side, COLOURS["right"])
    assert xs.max() - xs.min() > 2 * (sx.max() - sx.min())  # thighs stick out to the front (image right)
    grey = np.abs(side - side[:, :1]).sum(-1) > 40
    body_x = np.nonzero(grey)[1]
    assert np.median(xs) > np.median(body_x) - 5


def test_side_view_shows_the_lunge_left_leg_forward_right_leg_back():
    front, side = _panels(render_pose(EXAMPLE_POSES["lunge"], size=SIZE))
    lx, _ = _pixels_like(side, COLOURS["left"])  # the far leg shows where it sticks out in front
    rx, _ = _pixels_like(side, COLOURS["right"])
    assert len(lx) > 50 and lx.mean() > rx.mean() + 10
    assert rx.min() < lx.min() - 20  # the right foot is far behind


def test_nose_shows_which_way_the_face_points():
    size = 2 * SIZE
    facing = render_pose(EXAMPLE_POSES["t_pose"], size=size, face_viewer=False)
    turned = EXAMPLE_POSES["t_pose"].copy()
    turned[0] = [0.0, np.pi, 0.0]  # back to the camera
    away = render_pose(turned, size=size, face_viewer=False)
    nose = lambda image: len(_pixels_like(_head(_panels(image, size)[0]), COLOURS["nose"], tol=0)[0])  # noqa: E731
    assert nose(facing) > 3 and nose(away) == 0
    # the side view's nose is at the front (image right) of the head
    head = _head(_panels(facing, size)[1])
    xs, _ = _pixels_like(head, COLOURS["nose"], tol=0)
    head_x = np.nonzero((np.abs(head - head[0, 0]).sum(-1) > 60).any(0))[0]
    assert len(xs) > 2 and xs.min() > head_x.mean()


def test_facing_yaw_turns_the_body_to_the_viewer():
    aa = EXAMPLE_POSES["t_pose"].copy()
    aa[0] = [0.0, 1.0, 0.0]
    assert facing_yaw(aa) == pytest.approx(1.0)
    lying = np.zeros((22, 3))
    lying[0] = [-np.pi / 2, 0, 0]  # lying on the back, facing up: the yaw comes from the hips
    assert facing_yaw(lying) == pytest.approx(0.0, abs=1e-6)


def test_ground_line_under_the_lowest_point():
    for name in ("t_pose", "sitting", "squat"):
        front = np.asarray(render_pose(EXAMPLE_POSES[name], size=SIZE)).astype(int)[:, :SIZE]
        dark_rows = np.nonzero((np.abs(front - [150, 146, 138]).sum(-1) < 30).mean(1) > 0.6)[0]
        assert len(dark_rows) > 0
        body_rows = np.nonzero((np.abs(front - front[2, 2]).sum(-1) > 60).any(1))[0]
        body_rows = body_rows[body_rows < dark_rows.min()]
        assert dark_rows.min() - body_rows.max() <= 3, name  # feet touch the ground line


def test_sheet_overlay_and_title():
    poses = [EXAMPLE_POSES[n] for n in ("t_pose", "lunge", "squat")]
    sheet = render_poses(poses, ["a", "b", "c"], columns=2, size=100)
    single = render_pose(poses[0], "a", size=100)
    assert sheet.width >= 2 * single.width and sheet.height >= 2 * single.height
    with pytest.raises(ValueError):
        render_poses(poses, ["a"])
    overlay = render_overlay(poses[0], EXAMPLE_POSES["standing_arms_down"], title="input vs output", size=SIZE)
    front, _ = _panels(overlay)
    gx, _ = _pixels_like(front, (150, 200, 160), tol=0)  # the ghost blends green over the background
    assert len(gx) > 100
    assert render_pose(poses[0], title="x" * 500, size=SIZE).width == 2 * SIZE  # long titles are cut


def test_render_command_writes_a_png(tmp_path, capsys):
    path = tmp_path / "lunge.json"
    save_pose(Pose(EXAMPLE_POSES["lunge"], text="a lunge"), path)
    out = tmp_path / "pics" / "lunge.png"
    assert main(["render", str(path), "-o", str(out), "--size", "120"]) == 0
    image = Image.open(out)
    assert image.size[0] == 240 and str(out) in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"format": "smpl-axis-angle", "rotations": [[0, 0, 0]]}', "has 1 joints, expected 22"),
        ("{not json", "not valid JSON"),
        (json.dumps({"format": "smpl-axis-angle", "rotations": [[0, 90, 0]] * 22}), "degrees"),
    ],
)
def test_invalid_pose_file_exits_non_zero_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["render", str(path), "-o", str(tmp_path / "x.png")]) != 0
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and not (tmp_path / "x.png").exists()
