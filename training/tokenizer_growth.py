"""Widening a trained tokenizer decoder without changing what it computes.

Every convolution of the wider decoder gets the trained kernel in its first channels. The weights from the
new input channels to the old output channels start at zero, so the old channels compute exactly what they
did; the new channels start from their random initialisation and join in as training moves those zeros.
"""
import torch
from torch import nn

from backend.tokenizer.network import PoseDecoder


@torch.no_grad()
def widen_decoder(trained: PoseDecoder, wider: PoseDecoder) -> None:
    """Copies `trained` into the (equally deep, at least as wide) `wider` decoder in place."""
    trained_convs = [m for m in trained.modules() if isinstance(m, nn.Conv1d)]
    wider_convs = [m for m in wider.modules() if isinstance(m, nn.Conv1d)]
    if len(trained_convs) != len(wider_convs):
        raise ValueError(f"decoders differ in depth: {len(trained_convs)} vs {len(wider_convs)} convolutions")
    for old, new in zip(trained_convs, wider_convs):
        out_old, in_old, taps = old.weight.shape
        out_new, in_new, new_taps = new.weight.shape
        if out_new < out_old or in_new < in_old or taps != new_taps:
            raise ValueError(f"cannot widen a {tuple(old.weight.shape)} kernel into {tuple(new.weight.shape)}")
        new.weight[:out_old] = 0.0  # (out, in, taps): the old outputs ignore the new inputs
        new.weight[:out_old, :in_old] = old.weight
        new.bias[:out_old] = old.bias
