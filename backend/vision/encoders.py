"""Pluggable image encoders for the visual processor.

An encoder is an `nn.Module` with
- `out_dim: int`                       channels of one output token,
- `grid: tuple[int, int] | None`       (h, w) when its tokens are a row-major patch grid; None when they are
                                       a set (e.g. body landmarks), which is never resized,
- `num_tokens: int`                    tokens per image (h * w for a grid),
- `encode(images: list[PIL.Image]) -> (N, num_tokens, out_dim)` float features (preprocessing included),
- `to_config() -> dict`                JSON-able, with "kind"; `build_encoder(config)` rebuilds it.

Register new kinds with `@register_encoder("kind")` on a class that has `from_config(config)`.
"""
import importlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

ENCODERS: dict[str, type] = {}
# kinds defined outside this module, imported on first use so a saved config can name them
ENCODER_MODULES = {"landmarks": "backend.vision.landmarks.encoder"}


def register_encoder(kind: str):
    def decorate(cls):
        ENCODERS[kind] = cls
        cls.kind = kind
        return cls

    return decorate


def build_encoder(config: dict) -> nn.Module:
    kind = config.get("kind")
    if kind not in ENCODERS and kind in ENCODER_MODULES:
        importlib.import_module(ENCODER_MODULES[kind])
    if kind not in ENCODERS:
        raise ValueError(f"unknown image encoder kind {kind!r}; known: {sorted(ENCODERS)}")
    return ENCODERS[kind].from_config(config)


def images_to_tensor(images, size: int, mean, std) -> torch.Tensor:
    """PIL images -> (N, 3, size, size) normalized float (plain resize, no crop)."""
    arrays = [np.asarray(image.convert("RGB").resize((size, size)), dtype=np.float32) / 255.0 for image in images]
    pixels = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)  # (N, 3, S, S)
    return (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


@register_encoder("tiny_grid")
class TinyGridEncoder(nn.Module):
    """A random patch-embedding encoder for tests: (size/patch)^2 grid of `dim` channels.

    Its weights come from `seed`, so the config alone rebuilds it exactly.
    """

    def __init__(self, image_size: int = 32, patch: int = 8, dim: int = 16, seed: int = 0):
        super().__init__()
        self.image_size, self.patch, self.out_dim, self.seed = image_size, patch, dim, seed
        self.grid = (image_size // patch, image_size // patch)
        self.num_tokens = self.grid[0] * self.grid[1]
        generator = torch.Generator().manual_seed(seed)
        self.proj = nn.Conv2d(3, dim, patch, stride=patch)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(self.proj.weight.shape, generator=generator) * 0.1)
            self.proj.bias.zero_()

    @torch.no_grad()
    def encode(self, images) -> torch.Tensor:
        pixels = images_to_tensor(images, self.image_size, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
        pixels = pixels.to(self.proj.weight.device)
        return self.proj(pixels).flatten(2).transpose(1, 2)  # (N, h*w, dim)

    def to_config(self) -> dict:
        return {"kind": self.kind, "image_size": self.image_size, "patch": self.patch, "dim": self.out_dim,
                "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict) -> "TinyGridEncoder":
        return cls(config["image_size"], config["patch"], config["dim"], config["seed"])


@register_encoder("hf_vision")
class HFVisionEncoder(nn.Module):
    """A transformers vision tower (CLIP vision, ViT, ...) from a local folder; frozen.

    Features are the patch tokens of hidden layer `layer` (LLaVA/UniPose use the second to last), class
    token dropped. The folder needs the model's config, weights and image-processor config.
    """

    def __init__(self, path: str, layer: int = -2):
        super().__init__()
        from transformers import AutoImageProcessor, AutoModel

        self.path, self.layer = str(path), layer
        self.model = AutoModel.from_pretrained(Path(path)).eval().requires_grad_(False)
        self.processor = AutoImageProcessor.from_pretrained(Path(path))
        config = getattr(self.model.config, "vision_config", self.model.config)
        side = config.image_size // config.patch_size
        self.grid = (side, side)
        self.num_tokens = side * side
        self.out_dim = config.hidden_size

    @torch.no_grad()
    def encode(self, images) -> torch.Tensor:
        pixels = self.processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        device = next(self.model.parameters()).device
        outputs = self.model(pixel_values=pixels["pixel_values"].to(device), output_hidden_states=True)
        hidden = outputs.hidden_states[self.layer]  # (N, [CLS] + h*w, C)
        return hidden[:, -self.num_tokens:]

    def to_config(self) -> dict:
        return {"kind": self.kind, "path": self.path, "layer": self.layer}

    @classmethod
    def from_config(cls, config: dict) -> "HFVisionEncoder":
        return cls(config["path"], config.get("layer", -2))
