"""Text steps in int8: a copy of the decoder whose linear layers run int8 matmuls, for one-token decode steps.

Writing a description is ~40 one-token steps, each reading every weight of the decoder once: memory-bound
matrix-vector products, which bfloat16 does not speed up on a CPU. With the weights in int8 (per output
channel, activations quantized on the fly) a step reads a quarter of the bytes of float32. Only the text steps
use the copy: the prompt, the pose queries and the pose spans (the forwards that choose pose codes, where a
flipped code moves a limb) keep the full-precision decoder, and the copy writes into the same KV cache.
On a CPU whose quantized kernels need an instruction set it lacks, or on a GPU, text steps stay in full
precision (`int8_available`).
"""
import copy
import warnings

import torch
from torch import nn

TEXT_STEPS = ("auto", "int8", "full")  # how one-token text steps run (UniPose.from_pretrained)


def int8_available(device) -> bool:
    """Whether int8 dynamic-quantized linears run on `device`: a CPU with AVX2 or better and a quantized engine
    (fbgemm / x86)."""
    if torch.device(device).type != "cpu":
        return False
    engines = torch.backends.quantized.supported_engines
    return torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512") and ("x86" in engines or "fbgemm" in engines)


def use_int8_steps(text_steps: str, device) -> bool:
    """Resolve a TEXT_STEPS choice: "auto" = int8 where it runs, "int8" = demand it, "full" = never."""
    if text_steps not in TEXT_STEPS:
        raise ValueError(f"text_steps must be one of {', '.join(TEXT_STEPS)}, got {text_steps!r}")
    if text_steps == "int8" and not int8_available(device):
        raise ValueError(f"int8 text steps do not run on {device} here (a CPU with AVX2 or better is needed)")
    return text_steps == "int8" or (text_steps == "auto" and int8_available(device))


class Int8Linear(nn.Module):
    """An nn.Linear with its weights in int8 (one scale per output channel); takes and returns the dtype of its
    input, so it drops into a bfloat16 decoder."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        full = nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None)
        full.load_state_dict({k: v.float() for k, v in linear.state_dict().items()})
        full.qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
        with warnings.catch_warnings():  # torch.ao's dynamic quantization announces its future move to torchao
            warnings.simplefilter("ignore", UserWarning)
            self.quantized = torch.ao.nn.quantized.dynamic.Linear.from_float(full)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.quantized(x.float()).to(x.dtype)  # (..., in) -> (..., out)


def int8_step_decoder(decoder: nn.Module) -> nn.Module:
    """A copy of `decoder` (the LM's transformer stack: embeddings, layers, final norm) whose linear layers are
    Int8Linear. The copy shares the token embeddings (steps are fed embeddings, never ids) and keeps each
    layer's index, so it reads and extends the same KV cache as the original."""
    shared = {id(decoder.embed_tokens): decoder.embed_tokens}
    steps = copy.deepcopy(decoder, memo=shared)
    for layer in steps.layers:
        for name, module in list(layer.named_modules()):
            if type(module) is nn.Linear:
                parent_name, _, child = name.rpartition(".")
                setattr(layer.get_submodule(parent_name) if parent_name else layer, child, Int8Linear(module))
    return steps.eval().requires_grad_(False)
