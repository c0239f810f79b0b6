"""Joint positions beside the codes of a pose in a sequence (UniPoseConfig.joint_features).

Every complete run of pose-code tokens the LM reads (an input pose, or an answer's codes fed back) also gets one
vector, added to each of its tokens: the 24 joint positions of the pose the codes decode to (pelvis at the
origin, the frozen pose tokenizer's decoder and the neutral skeleton), through one trained linear map that starts
at zero. A model with the map at zero is the model without it, so a trained checkpoint can grow one and go on
training (`python -m training.train --init`).

Why: the tokenizer's codes are entangled (no code means "left hand up"), so the LM must learn to read 80 of them
before a description can depend on the pose; what descriptions say (a hand above the head, knees bent) is close
to linear in joint positions, which this map hands over directly.
"""
import torch
from torch import nn

from backend.body.skeleton import NUM_JOINTS
from backend.tokenizer.losses import pose_joints_from_rotmats

WEIGHTS_NAME = "joint_features.safetensors"  # in the checkpoint's MODEL_DIR (checkpoint.py)
# Joint positions enter in decimetres (inputs of order 1 to 10): Adam moves each weight by about the learning rate
# per step, so in metres the map's output grew to only 4 % of a code row's norm in 250 steps at lr 2e-4
# (docs/experiments/joint-features.md).
INPUT_PER_METRE = 10.0


class JointFeatures(nn.Module):
    """(S, 24, 3) joint positions -> (S, H) one vector per span."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.map = nn.Linear(NUM_JOINTS * 3, hidden_size)
        nn.init.zeros_(self.map.weight)
        nn.init.zeros_(self.map.bias)

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        return self.map(joints.flatten(1).to(self.map.weight) * INPUT_PER_METRE)  # (S, H)

    def add_to(self, embeds: torch.Tensor, code_mask: torch.Tensor, codes: torch.Tensor,
               pose_tokenizer) -> torch.Tensor:
        """embeds (B, L, H) with each span's vector added at its code positions.

        code_mask (B, L): True on pose-code tokens, which come in complete spans of num_pose_tokens, row-major;
        codes (N,): the codes at those positions, in the same order; pose_tokenizer: the model's (frozen)."""
        n = pose_tokenizer.config.num_tokens
        if codes.numel() % n:
            raise ValueError(f"pose codes must come in complete spans of {n}, got {codes.numel()} codes")
        with torch.no_grad():
            joints = pose_joints_from_rotmats(pose_tokenizer.decode(codes.view(-1, n)))  # (S, 24, 3)
        rows = self(joints).to(embeds.dtype).repeat_interleave(n, dim=0)  # (N, H)
        added = torch.zeros_like(embeds)
        added[code_mask] = rows
        return embeds + added

    def state(self) -> dict[str, torch.Tensor]:
        return {"weight": self.map.weight.detach().cpu().contiguous(),
                "bias": self.map.bias.detach().cpu().contiguous()}

    @torch.no_grad()
    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.map.weight.copy_(tensors["weight"])
        self.map.bias.copy_(tensors["bias"])
