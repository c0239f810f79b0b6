"""Convolutional encoder and decoder over the joint axis (TokenHMR-style, sizes from PoseTokenizerConfig).

The 22 joints are treated as a 1D sequence of 6D rotations. The encoder upsamples that sequence to
`stem_length` positions, then halves it `num_resamples` times with strided convolutions, each followed by
dilated residual blocks, ending at `num_tokens` positions of `code_dim` channels. The decoder mirrors it.
"""
import torch
from torch import nn
from torch.nn import functional as F

from backend.tokenizer.config import PoseTokenizerConfig


class ResBlock(nn.Module):
    """Pre-activation residual block: dilated 3-tap conv, then a 1x1 conv."""

    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation)
        self.proj = nn.Conv1d(width, width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, W, L) -> (B, W, L)
        return x + self.proj(F.relu(self.conv(F.relu(x))))


def _res_stack(config: PoseTokenizerConfig, width: int, reverse: bool) -> list[nn.Module]:
    dilations = [config.dilation_growth**i for i in range(config.res_blocks)]
    if reverse:
        dilations.reverse()
    return [ResBlock(width, d) for d in dilations]


class PoseEncoder(nn.Module):
    """(B, J, 6) rot6d -> (B, code_dim, num_tokens) continuous codes."""

    def __init__(self, config: PoseTokenizerConfig):
        super().__init__()
        self.config = config
        self.stem = nn.Conv1d(6, config.width, 3, padding=1)
        layers: list[nn.Module] = []
        for _ in range(config.num_resamples):
            layers.append(nn.Conv1d(config.width, config.width, 4, stride=2, padding=1))
            layers.extend(_res_stack(config, config.width, reverse=False))
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv1d(config.width, config.code_dim, 3, padding=1)

    def forward(self, rot6d: torch.Tensor) -> torch.Tensor:
        x = rot6d.transpose(1, 2)  # (B, 6, J)
        x = F.interpolate(x, size=self.config.stem_length, mode="linear", align_corners=True)  # (B, 6, L0)
        x = F.relu(self.stem(x))  # (B, W, L0)
        x = self.body(x)  # (B, W, num_tokens)
        return self.head(F.relu(x))  # (B, code_dim, num_tokens)


class PoseDecoder(nn.Module):
    """(B, code_dim, num_tokens) quantised codes -> (B, J, 6) rot6d (not yet orthonormal)."""

    def __init__(self, config: PoseTokenizerConfig):
        super().__init__()
        self.config = config
        width = config.decoder_channels
        self.stem = nn.Conv1d(config.code_dim, width, 3, padding=1)
        layers: list[nn.Module] = []
        for _ in range(config.num_resamples):
            layers.extend(_res_stack(config, width, reverse=True))
            layers.extend([nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(width, width, 3, padding=1)])
        self.body = nn.Sequential(*layers)
        self.joint_conv = nn.Conv1d(width, width, 3, padding=1)
        self.head = nn.Conv1d(width, 6, 3, padding=1)
        with torch.no_grad():  # start from the identity rotation (rot6d of I) rather than from zero
            self.head.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        x = self.body(F.relu(self.stem(codes)))  # (B, W, L0)
        # Sample the sequence back at the joints' positions (the inverse of the encoder's upsampling).
        x = F.interpolate(x, size=self.config.num_joints, mode="linear", align_corners=True)  # (B, W, J)
        x = self.head(F.relu(self.joint_conv(F.relu(x))))  # (B, 6, J)
        return x.transpose(1, 2)  # (B, J, 6)
