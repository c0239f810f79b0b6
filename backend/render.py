"""Pictures of poses: a solid body of capsules seen from the front and from the side.

The body is the project skeleton posed by forward kinematics; every limb is a tapered capsule, drawn as
a sweep of spheres into a z-buffer, shaded with one light and outlined where the depth jumps. The body's
left limbs are blue and its right limbs orange; the head carries a nose so the side view shows where
the face points. A ground line sits under the lowest point. numpy + Pillow only.

Reused across the project: `render_pose` (one pose), `render_poses` (a contact sheet),
`render_overlay` (a reference pose as a ghost over another, e.g. input vs reconstruction).
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from backend.body.kinematics import forward_kinematics, pad_pose_rotmats
from backend.body.rotations import axis_angle_to_rotmat
from backend.body.skeleton import JOINT_INDEX, NEUTRAL_REST_JOINTS, PARENTS

BACKGROUND = (250, 249, 246)
OUTLINE = (45, 45, 55)
GROUND = (150, 146, 138)
COLOURS = {  # part -> base colour
    "left": (52, 118, 216),
    "right": (236, 112, 40),
    "center": (204, 199, 190),
    "nose": (125, 62, 58),
    "ghost": (70, 170, 110),
}
REFERENCE_EXTENT = 1.95  # metres that fill a panel's height; bigger poses shrink to fit
SUPERSAMPLE = 2

# Extra surface points: (name, joint whose position and global rotation carry it, offset in that frame).
_EXTRA_POINTS = (
    ("head_center", "head", (0.0, 0.065, 0.02)),
    ("nose", "head", (0.0, 0.045, 0.125)),
    ("left_heel", "left_ankle", (0.0, -0.045, -0.045)),
    ("right_heel", "right_ankle", (0.0, -0.045, -0.045)),
    ("left_toe", "left_foot", (0.0, 0.0, 0.06)),
    ("right_toe", "right_foot", (0.0, 0.0, 0.06)),
    ("left_fingertip", "left_hand", (0.08, 0.0, 0.0)),
    ("right_fingertip", "right_hand", (-0.08, 0.0, 0.0)),
)


@dataclass(frozen=True)
class Capsule:
    start: str
    end: str
    start_radius: float
    end_radius: float
    part: str  # key of COLOURS


def _limb(side: str) -> tuple[Capsule, ...]:
    s = side
    return (
        Capsule(f"{s}_hip", f"{s}_knee", 0.080, 0.056, s),
        Capsule(f"{s}_knee", f"{s}_ankle", 0.054, 0.040, s),
        Capsule(f"{s}_heel", f"{s}_foot", 0.034, 0.034, s),
        Capsule(f"{s}_foot", f"{s}_toe", 0.032, 0.024, s),
        Capsule(f"{s}_shoulder", f"{s}_elbow", 0.050, 0.042, s),
        Capsule(f"{s}_elbow", f"{s}_wrist", 0.040, 0.031, s),
        Capsule(f"{s}_wrist", f"{s}_hand", 0.032, 0.037, s),
        Capsule(f"{s}_hand", f"{s}_fingertip", 0.034, 0.020, s),
        # torso flesh on this side stays neutral
        Capsule("pelvis", f"{s}_hip", 0.105, 0.085, "center"),
        Capsule("spine3", f"{s}_collar", 0.085, 0.065, "center"),
        Capsule(f"{s}_collar", f"{s}_shoulder", 0.065, 0.055, "center"),
        Capsule("spine2", f"{s}_shoulder", 0.085, 0.055, "center"),
    )


BODY_CAPSULES: tuple[Capsule, ...] = (
    Capsule("pelvis", "spine1", 0.115, 0.105, "center"),
    Capsule("spine1", "spine2", 0.105, 0.108, "center"),
    Capsule("spine2", "spine3", 0.108, 0.115, "center"),
    Capsule("spine3", "neck", 0.085, 0.055, "center"),
    Capsule("neck", "head", 0.052, 0.052, "center"),
    Capsule("head_center", "head_center", 0.100, 0.100, "center"),
    Capsule("nose", "nose", 0.033, 0.033, "nose"),
) + _limb("left") + _limb("right")

# Views: rows are the camera's right, up and towards-the-camera axes in the SMPL frame.
VIEWS = {
    "front": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),  # the body faces us, its left on our right
    "side": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]),  # seen from its right, facing right
}
_LIGHT = np.array([-0.45, 0.6, 0.66]) / np.linalg.norm([-0.45, 0.6, 0.66])  # camera frame, upper left
_HALF = (_LIGHT + np.array([0.0, 0.0, 1.0])) / np.linalg.norm(_LIGHT + np.array([0.0, 0.0, 1.0]))


def body_points(axis_angle: np.ndarray) -> dict[str, np.ndarray]:
    """Joint and surface points of a posed body. axis_angle (22, 3) -> {name: (3,)} in the SMPL frame."""
    rotmats = pad_pose_rotmats(axis_angle_to_rotmat(np.asarray(axis_angle, dtype=np.float64)))
    joints, global_rot = forward_kinematics(rotmats, NEUTRAL_REST_JOINTS, PARENTS)  # (24, 3), (24, 3, 3)
    points = {name: joints[i] for name, i in JOINT_INDEX.items()}
    for name, joint, offset in _EXTRA_POINTS:
        i = JOINT_INDEX[joint]
        points[name] = joints[i] + global_rot[i] @ np.asarray(offset)
    return points


def facing_yaw(axis_angle: np.ndarray) -> float:
    """Rotation about +Y (radians) that brings the body's facing direction to the world's +Z."""
    root = axis_angle_to_rotmat(np.asarray(axis_angle, dtype=np.float64)[0])
    forward, lateral = root[:, 2], root[:, 0]
    direction = forward if np.hypot(forward[0], forward[2]) > 0.3 else np.array([-lateral[2], 0.0, lateral[0]])
    return float(np.arctan2(direction[0], direction[2]))


def _yaw_rotation(yaw: float) -> np.ndarray:
    c, s = np.cos(-yaw), np.sin(-yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def body_capsules(axis_angle: np.ndarray, yaw: float = 0.0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The posed body as capsules. -> ends (C, 2, 3) in the SMPL frame turned by -yaw, radii (C, 2), parts."""
    points = body_points(axis_angle)
    turn = _yaw_rotation(yaw)
    ends = np.array([[turn @ points[c.start], turn @ points[c.end]] for c in BODY_CAPSULES])
    radii = np.array([[c.start_radius, c.end_radius] for c in BODY_CAPSULES])
    return ends, radii, [c.part for c in BODY_CAPSULES]


def sweep_spheres(ends: np.ndarray, radii: np.ndarray,
                  spacing: float = 0.2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capsules as sphere sweeps, `spacing` times the smaller radius apart.

    ends (C, 2, 3), radii (C, 2) -> centres (S, 3), radii (S,), capsule index (S,).
    """
    centres, sphere_radii, owner = [], [], []
    for c, ((a, b), (ra, rb)) in enumerate(zip(ends, radii)):
        count = int(np.ceil(np.linalg.norm(b - a) / (spacing * min(ra, rb)))) + 1
        t = np.linspace(0.0, 1.0, count)[:, None]  # (count, 1)
        centres.append(a + t * (b - a))
        sphere_radii.append(ra + t[:, 0] * (rb - ra))
        owner.append(np.full(count, c))
    return np.concatenate(centres), np.concatenate(sphere_radii), np.concatenate(owner)


def _rasterize(screen: np.ndarray, radii: np.ndarray, owner: np.ndarray, height: int,
               width: int) -> tuple[np.ndarray, np.ndarray]:
    """Z-buffer a set of spheres.

    screen: (S, 3) pixel x, pixel y (down), depth in pixels (towards the camera); radii (S,) pixels;
    owner (S,) capsule index. -> depth (H, W) (-inf where empty), capsule index (H, W) (-1 where empty).
    """
    depth = np.full((height, width), -np.inf)
    capsule = np.full((height, width), -1, dtype=np.int64)
    for (cx, cy, cz), r, c in zip(screen, radii, owner):
        x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 2, width)
        y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 2, height)
        if x0 >= x1 or y0 >= y1:
            continue
        dx = np.arange(x0, x1) + 0.5 - cx  # (w,)
        dy = np.arange(y0, y1)[:, None] + 0.5 - cy  # (h, 1)
        d2 = dx * dx + dy * dy  # (h, w)
        z = np.where(d2 < r * r, cz + np.sqrt(np.maximum(r * r - d2, 0.0)), -np.inf)
        window = depth[y0:y1, x0:x1]
        closer = z > window
        window[closer] = z[closer]
        capsule[y0:y1, x0:x1][closer] = c
    return depth, capsule


def _capsule_normals(depth: np.ndarray, capsule: np.ndarray, screen_ends: np.ndarray) -> np.ndarray:
    """Smooth surface normals: from each pixel's surface point away from its capsule's axis.

    screen_ends (C, 2, 3) capsule ends in (x right, y down, depth) pixels -> normals (H, W, 3) in the
    camera frame (x right, y up, z towards the camera).
    """
    ys, xs = np.nonzero(capsule >= 0)
    normal = np.zeros(depth.shape + (3,))
    if len(ys) == 0:
        return normal
    p = np.stack([xs + 0.5, ys + 0.5, depth[ys, xs]], -1)  # (P, 3)
    a, b = screen_ends[capsule[ys, xs], 0], screen_ends[capsule[ys, xs], 1]  # (P, 3) each
    ab = b - a
    t = np.clip(np.sum((p - a) * ab, -1) / np.maximum(np.sum(ab * ab, -1), 1e-9), 0.0, 1.0)
    n = p - (a + t[:, None] * ab)
    n[:, 1] = -n[:, 1]  # image y points down, the camera's up points up
    normal[ys, xs] = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
    return normal


def _shade(
    depth: np.ndarray, capsule: np.ndarray, normal: np.ndarray, colours: np.ndarray, edge_jump: float
) -> tuple[np.ndarray, np.ndarray]:
    """colours (C, 3) per capsule -> rgb (H, W, 3) float in [0, 255] and coverage (H, W), outlines drawn in."""
    mask = capsule >= 0
    lambert = np.clip(normal @ _LIGHT, 0.0, 1.0)[..., None]
    specular = np.clip(normal @ _HALF, 0.0, 1.0)[..., None] ** 24
    rgb = colours[np.maximum(capsule, 0)] * (0.42 + 0.58 * lambert) + 255.0 * 0.2 * specular * mask[..., None]
    # outline: coverage boundaries and depth jumps between neighbouring pixels
    filled = np.where(mask, depth, -1e9)
    edge = np.zeros_like(mask)
    for axis in (0, 1):
        for shift in (1, -1):
            edge |= mask & (np.roll(filled, shift, axis=axis) < filled - edge_jump)
    rgb[edge] = OUTLINE
    return np.clip(rgb, 0, 255), mask


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


@dataclass
class _CapsuleBody:
    """The project skeleton as capsules. ends (C, 2, 3) in the SMPL frame (after the yaw turn)."""

    ends: np.ndarray
    radii: np.ndarray  # (C, 2)
    colours: np.ndarray  # (C, 3)

    def __post_init__(self) -> None:
        self.centres, self.sphere_radii, self.owner = sweep_spheres(self.ends, self.radii)

    def extent_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Points (P, 3) and radii (P,) that bound the body, for framing."""
        return self.centres, self.sphere_radii

    def draw(self, to_screen, scale: float, s: int) -> tuple[np.ndarray, np.ndarray]:
        """-> rgb (s, s, 3) float and coverage mask (s, s)."""
        depth, capsule = _rasterize(to_screen(self.centres), self.sphere_radii * scale, self.owner, s, s)
        normal = _capsule_normals(depth, capsule, to_screen(self.ends))
        return _shade(depth, capsule, normal, self.colours, edge_jump=0.045 * scale)


@dataclass
class _MeshBody:
    """A posed body mesh (e.g. SMPL): vertices (V, 3) after the yaw turn, faces (F, 3), colours (F, 3)."""

    vertices: np.ndarray
    faces: np.ndarray
    colours: np.ndarray

    def extent_points(self) -> tuple[np.ndarray, np.ndarray]:
        return self.vertices, np.zeros(len(self.vertices))

    def draw(self, to_screen, scale: float, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Painter's algorithm with flat shading (far triangles first)."""
        tri = to_screen(self.vertices)[self.faces]  # (F, 3 corners, 3): x, y down, depth
        cam = tri * [1.0, -1.0, 1.0]  # y up for normals
        normal = np.cross(cam[:, 1] - cam[:, 0], cam[:, 2] - cam[:, 0])  # (F, 3)
        normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-12)
        normal *= np.where(normal[:, 2:] < 0, -1.0, 1.0)  # the side we see, whatever the winding
        shade = self.colours * (0.42 + 0.58 * np.clip(normal @ _LIGHT, 0.0, 1.0))[:, None]
        image = Image.new("RGB", (s, s), BACKGROUND)
        mask = Image.new("L", (s, s), 0)
        draw, draw_mask = ImageDraw.Draw(image), ImageDraw.Draw(mask)
        for f in np.argsort(tri[:, :, 2].mean(1)):
            corners = [tuple(c) for c in tri[f, :, :2]]
            draw.polygon(corners, fill=tuple(int(v) for v in shade[f]))
            draw_mask.polygon(corners, fill=255)
        return np.asarray(image, dtype=np.float64), np.asarray(mask) > 0


def _capsule_body(axis_angle: np.ndarray, yaw: float, ghost: bool = False) -> _CapsuleBody:
    ends, radii, parts = body_capsules(axis_angle, yaw)
    colours = np.array([COLOURS["ghost" if ghost else p] for p in parts], dtype=np.float64)
    return _CapsuleBody(ends, radii, colours)


def _mesh_body(axis_angle: np.ndarray, yaw: float, body_model, ghost: bool = False) -> _MeshBody:
    """Pose a `backend.body.smpl_model.SmplBodyModel`; faces take the colour of their main joint's side."""
    vertices = np.asarray(body_model.forward(axis_angle).vertices, dtype=np.float64)  # (V, 3)
    vertices = vertices @ _yaw_rotation(yaw).T
    sides = body_model.vertex_sides()[body_model.faces[:, 0]]  # (F,) in {"left", "right", "center"}
    colours = np.array([COLOURS["ghost" if ghost else side] for side in sides], dtype=np.float64)
    return _MeshBody(vertices, body_model.faces, colours)


def _render_views(bodies: list, size: int, views: tuple[str, ...], ghost_alpha: float) -> list[Image.Image]:
    """Panels (size x size) of the same scene from each view; bodies[0] solid, the rest as ghosts."""
    s = size * SUPERSAMPLE
    margin, floor_band = 0.05 * s, 0.09 * s
    # one scale and ground for all views and bodies
    bounds = [b.extent_points() for b in bodies]
    all_c = np.concatenate([c for c, _ in bounds])
    all_r = np.concatenate([r for _, r in bounds])
    ground = float(np.min(all_c[:, 1] - all_r))
    extents = [float(np.max(all_c[:, 1] + all_r)) - ground]
    for view in views:
        x = all_c @ VIEWS[view][0]
        extents.append(float(np.max(x + all_r) - np.min(x - all_r)))
    scale = (s - 2 * margin - floor_band) / max(REFERENCE_EXTENT, max(extents))  # pixels per metre
    ground_px = s - margin - floor_band
    panels = []
    for view in views:
        axes = VIEWS[view]
        x_all = all_c @ axes[0]
        x_mid = 0.5 * (np.max(x_all + all_r) + np.min(x_all - all_r))

        def to_screen(points: np.ndarray) -> np.ndarray:
            cam = points @ axes.T  # (..., 3): right, up, towards
            return np.stack(
                [s / 2 + (cam[..., 0] - x_mid) * scale, ground_px - (cam[..., 1] - ground) * scale,
                 cam[..., 2] * scale], -1
            )

        rgb = np.empty((s, s, 3))
        rgb[:] = BACKGROUND
        rgb[np.arange(s) > ground_px] = 0.93 * np.array(BACKGROUND)
        for k in reversed(range(len(bodies))):  # ghosts first, the solid body last
            colour, mask = bodies[k].draw(to_screen, scale, s)
            alpha = 1.0 if k == 0 else ghost_alpha
            rgb[mask] = (1 - alpha) * rgb[mask] + alpha * colour[mask]
        image = Image.fromarray(rgb.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        draw.line([(margin * 0.5, ground_px), (s - margin * 0.5, ground_px)], fill=GROUND, width=2 * SUPERSAMPLE)
        draw.text((margin * 0.6, margin * 0.4), view, fill=(120, 120, 120), font=_font(int(0.05 * s)))
        panels.append(image.resize((size, size), Image.LANCZOS))
    return panels


def _legend(draw: ImageDraw.ImageDraw, x: float, y: float, font_size: int, entries: list[tuple[str, tuple]]) -> None:
    font = _font(font_size)
    for label, colour in entries:
        draw.rectangle([x, y + 2, x + font_size - 2, y + font_size], fill=colour, outline=OUTLINE)
        x += font_size + 4
        draw.text((x, y), label, fill=(70, 70, 70), font=font)
        x += draw.textlength(label, font=font) + font_size


def _compose(panels: list[Image.Image], size: int, title: str | None, legend: list[tuple[str, tuple]]) -> Image.Image:
    title_h = int(0.09 * size) if title else 0
    image = Image.new("RGB", (size * len(panels), size + title_h), BACKGROUND)
    for i, panel in enumerate(panels):
        image.paste(panel, (i * size, title_h))
    draw = ImageDraw.Draw(image)
    for i in range(1, len(panels)):
        draw.line([(i * size, title_h + 0.05 * size), (i * size, title_h + 0.95 * size)], fill=(222, 220, 215))
    if title:
        font = _font(int(0.055 * size))
        text = _fit_text(draw, title, font, image.width - 0.04 * size)
        draw.text((0.03 * size, 0.02 * size), text, fill=(30, 30, 30), font=font)
    _legend(draw, 0.03 * size, title_h + size - 0.07 * size, int(0.04 * size), legend)
    return image


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


_LEGEND = [("left", COLOURS["left"]), ("right", COLOURS["right"])]


def render_pose(
    axis_angle: np.ndarray,
    title: str | None = None,
    size: int = 320,
    views: tuple[str, ...] = ("front", "side"),
    face_viewer: bool = True,
    body_model=None,
) -> Image.Image:
    """Picture of one pose: a `size` x `size` panel per view, side by side, under an optional title.

    axis_angle: (22, 3) SMPL pose. face_viewer turns the body about the vertical so that it faces the
    front camera (global orientation otherwise kept: a body lying down still lies down).
    body_model: optional `SmplBodyModel`; its mesh is drawn instead of the capsule body.
    """
    aa = np.asarray(axis_angle, dtype=np.float64).reshape(22, 3)
    yaw = facing_yaw(aa) if face_viewer else 0.0
    body = _capsule_body(aa, yaw) if body_model is None else _mesh_body(aa, yaw, body_model)
    return _compose(_render_views([body], size, views, 1.0), size, title, _LEGEND)


def render_overlay(
    reference: np.ndarray,
    candidate: np.ndarray,
    title: str | None = None,
    size: int = 320,
    labels: tuple[str, str] = ("reference", "candidate"),
    views: tuple[str, ...] = ("front", "side"),
) -> Image.Image:
    """`candidate` drawn solid with `reference` as a green ghost over it, both turned by the reference's yaw."""
    ref = np.asarray(reference, dtype=np.float64).reshape(22, 3)
    cand = np.asarray(candidate, dtype=np.float64).reshape(22, 3)
    yaw = facing_yaw(ref)
    bodies = [_capsule_body(cand, yaw), _capsule_body(ref, yaw, ghost=True)]
    legend = [(labels[1] + ": left", COLOURS["left"]), ("right", COLOURS["right"]), (labels[0], COLOURS["ghost"])]
    return _compose(_render_views(bodies, size, views, 0.45), size, title, legend)


def render_poses(
    poses,
    titles: list[str] | None = None,
    columns: int = 4,
    size: int = 200,
    views: tuple[str, ...] = ("front", "side"),
) -> Image.Image:
    """Contact sheet: `poses` (N, 22, 3) (or a list of (22, 3)) as a grid of `render_pose` tiles."""
    poses = [np.asarray(p, dtype=np.float64) for p in poses]
    if titles is not None and len(titles) != len(poses):
        raise ValueError(f"{len(titles)} titles for {len(poses)} poses")
    tiles = [render_pose(p, None if titles is None else titles[i], size, views) for i, p in enumerate(poses)]
    return grid(tiles, columns)


def grid(images: list[Image.Image], columns: int = 4, gap: int = 6) -> Image.Image:
    """Lay images out in rows of `columns` on the background colour."""
    if not images:
        raise ValueError("no images to lay out")
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    cell_w = max(im.width for im in images)
    cell_h = max(im.height for im in images)
    sheet = Image.new("RGB", (columns * cell_w + (columns + 1) * gap, rows * cell_h + (rows + 1) * gap),
                      (225, 223, 218))
    for i, im in enumerate(images):
        r, c = divmod(i, columns)
        sheet.paste(im, (gap + c * (cell_w + gap), gap + r * (cell_h + gap)))
    return sheet
