"""How an answer is decoded: one settings type from the Blender panel, the server and the command line down to
the decoder (pure Python, so the engine and the server check requests without importing the model)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Sampling:
    """seed: makes sampling repeatable (None: a new one each time).
    temperature: 0 greedy; None lets the engine choose: greedy for one answer, and for several poses the greedy
    pose first and the others sampled (backend/engine.py, VARIANT_TEMPERATURE); the decoder reads None as 0.
    top_p: nucleus sampling. guidance: prompt guidance of pose codes (backend/model/guidance.py): 1 plain
    decoding, higher follows the input more strongly, 0 the model's prior (average) pose; None the checkpoint's
    default. max_new_tokens: text tokens and poses of an answer. expected_pose: a greedy pose is decoded from each
    token's expected code vector (PoseTokenizer.decode_expected) instead of its likeliest code."""
    seed: int | None = None
    num_samples: int = 1
    temperature: float | None = None
    top_p: float = 1.0
    guidance: float | None = None
    max_new_tokens: int = 96
    expected_pose: bool = True
