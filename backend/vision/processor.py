"""VisualProcessor: image encoders -> fused tokens -> mlp2x_gelu projector -> LLM embedding space.

Grid encoders are resized (bilinear) to a common grid and concatenated along channels, as in UniPose
(CLIP 24x24 + the pose ViT's 16x12 map resized to 24x24). Set encoders (no grid, e.g. landmarks) add their
tokens after the grid tokens in their own channel block; other blocks are zero there. So an image becomes
`num_tokens = h*w + sum(set sizes)` tokens of `sum(out_dim)` channels before the projector.

Encoders are frozen; only the projector is trained. Saved as `config.json` + `projector.safetensors`.
An image may also be a `DetectedImage` (a photo whose landmarks were detected earlier, e.g. for UniPose's pose
hint): landmark encoders read its landmarks and the others its photo, so the photo is detected once.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from torch import nn

from backend.vision.encoders import build_encoder

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "projector.safetensors"


def load_image(image) -> Image.Image:
    """A path or a PIL image -> RGB PIL image."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    with Image.open(Path(image)) as opened:
        return opened.convert("RGB")


@dataclass(frozen=True, eq=False)
class DetectedImage:
    """A photo (path or PIL) with the body landmarks already detected on it (a PoseLandmarks)."""
    image: object
    landmarks: object


def _reads_landmarks(encoder: nn.Module) -> bool:
    """A landmark encoder: one that detects body landmarks on photos (has `detect`) and encodes those."""
    return hasattr(encoder, "detect")


def _encoder_input(encoder: nn.Module, item):
    """What one encoder reads of an image: a DetectedImage's landmarks for a landmark encoder, its photo for
    the others; anything else unchanged."""
    if not isinstance(item, DetectedImage):
        return item
    return item.landmarks if _reads_landmarks(encoder) else load_image(item.image)


def mlp2x_gelu(in_dim: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden))


def fuse_features(features: list[torch.Tensor], grids: list, grid: tuple[int, int] | None) -> torch.Tensor:
    """Fuse per-encoder features into one token sequence.

    features[k]: (N, T_k, C_k); grids[k]: (h_k, w_k) or None (a token set); grid: the common grid.
    Returns (N, h*w + sum of set T_k, sum C_k).
    """
    n = features[0].shape[0]
    widths = [f.shape[-1] for f in features]
    offsets = [sum(widths[:k]) for k in range(len(widths))]
    pieces = []
    grid_channels = []
    for f, g, offset in zip(features, grids, offsets):
        if g is None:
            continue
        maps = f.transpose(1, 2).reshape(n, f.shape[-1], *g)  # (N, C, h_k, w_k)
        if tuple(g) != tuple(grid):
            maps = nn.functional.interpolate(maps, size=grid, mode="bilinear", align_corners=False)
        grid_channels.append((offset, maps.flatten(2).transpose(1, 2)))  # (N, h*w, C_k)
    total = sum(widths)
    if grid_channels:
        tokens = features[0].new_zeros(n, grid[0] * grid[1], total)
        for offset, f in grid_channels:
            tokens[..., offset:offset + f.shape[-1]] = f
        pieces.append(tokens)
    for f, g, offset in zip(features, grids, offsets):
        if g is None:
            tokens = f.new_zeros(n, f.shape[1], total)
            tokens[..., offset:offset + f.shape[-1]] = f
            pieces.append(tokens)
    return torch.cat(pieces, dim=1)


class VisualProcessor(nn.Module):
    """encoders (frozen) + mlp2x_gelu projector into `hidden_size`.

    grid: the common grid; default the first grid encoder's.
    """

    def __init__(self, encoders: list[nn.Module], hidden_size: int, grid: tuple[int, int] | None = None):
        super().__init__()
        self.encoders = nn.ModuleList(encoders).requires_grad_(False)
        grids = [e.grid for e in encoders if e.grid is not None]
        self.grid = tuple(grid) if grid is not None else (tuple(grids[0]) if grids else None)
        self.hidden_size = hidden_size
        self.projector = mlp2x_gelu(sum(e.out_dim for e in encoders), hidden_size)

    @property
    def num_tokens(self) -> int:
        """Visual tokens per image."""
        grid_tokens = self.grid[0] * self.grid[1] if self.grid is not None else 0
        return grid_tokens + sum(e.num_tokens for e in self.encoders if e.grid is None)

    def forward(self, images: list) -> torch.Tensor:
        """images (paths or PIL) -> (N, num_tokens, hidden_size).

        Other objects (e.g. PoseLandmarks, synthetic at training time) go to the encoders unchanged; a
        DetectedImage gives each encoder what it reads (`_encoder_input`).
        """
        pil = [load_image(image) if isinstance(image, (str, Path, Image.Image)) else image for image in images]
        features = [e.encode([_encoder_input(e, item) for item in pil]).float() for e in self.encoders]
        fused = fuse_features(features, [e.grid for e in self.encoders], self.grid)
        weight = self.projector[0].weight
        return self.projector(fused.to(device=weight.device, dtype=weight.dtype))

    @property
    def reads_landmarks(self) -> bool:
        """True when one of the encoders reads body landmarks."""
        return any(_reads_landmarks(e) for e in self.encoders)

    def detect(self, image):
        """An image -> (what to encode in its place, its PoseLandmarks): a photo (path or PIL) is detected once
        by the landmark encoder and becomes a DetectedImage; ready PoseLandmarks and DetectedImages pass."""
        if isinstance(image, DetectedImage):
            return image, image.landmarks
        encoder = next((e for e in self.encoders if _reads_landmarks(e)), None)
        if encoder is None:
            raise ValueError("this visual processor has no landmark encoder")
        landmarks = encoder.detect(image)
        return (image, landmarks) if landmarks is image else (DetectedImage(image, landmarks), landmarks)

    def config(self) -> dict:
        return {"encoders": [e.to_config() for e in self.encoders], "hidden_size": self.hidden_size,
                "grid": list(self.grid) if self.grid else None}

    def save_pretrained(self, directory) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_NAME).write_text(json.dumps(self.config(), indent=2) + "\n")
        state = {k: v.detach().contiguous().cpu() for k, v in self.projector.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_NAME), metadata={"format": "pt"})

    @classmethod
    def from_config(cls, config: dict) -> "VisualProcessor":
        return cls([build_encoder(c) for c in config["encoders"]], config["hidden_size"], config.get("grid"))

    @classmethod
    def from_pretrained(cls, directory) -> "VisualProcessor":
        directory = Path(directory)
        processor = cls.from_config(json.loads((directory / CONFIG_NAME).read_text()))
        processor.projector.load_state_dict(load_file(str(directory / WEIGHTS_NAME)))
        return processor
