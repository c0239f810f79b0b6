"""Training losses of the pose tokenizer: 6D rotation, joint positions (FK), optional body vertices, commitment."""
import dataclasses
from collections.abc import Callable

import torch
from torch.nn import functional as F

from backend.body.kinematics_torch import forward_kinematics, pad_pose_rotmats
from backend.body.skeleton import NEUTRAL_REST_JOINTS, PARENTS
from backend.tokenizer.model import TokenizerOutput

# (B, 22, 3, 3) local rotmats -> (B, V, 3) vertices of a real body model (e.g. SMPL).
VertexFunction = Callable[[torch.Tensor], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """Paper weights by default (TokenHMR / UniPose): pose 20, joints 100, vertices 100, commitment 1."""

    pose: float = 20.0
    joints: float = 100.0
    vertices: float = 100.0
    commit: float = 1.0
    kind: str = "l1"  # reconstruction distance: "l1" or "mse"

    def __post_init__(self):
        if self.kind not in ("l1", "mse"):
            raise ValueError(f"loss kind must be 'l1' or 'mse', got {self.kind!r}")


def pose_joints_from_rotmats(rotmats: torch.Tensor) -> torch.Tensor:
    """(B, 22, 3, 3) local rotations -> (B, 24, 3) joints of the neutral skeleton, pelvis at the origin."""
    return forward_kinematics(pad_pose_rotmats(rotmats), NEUTRAL_REST_JOINTS, PARENTS)[0]


def tokenizer_losses(
    output: TokenizerOutput,
    target_rotmats: torch.Tensor,
    weights: LossWeights,
    vertex_fn: VertexFunction | None = None,
) -> dict[str, torch.Tensor]:
    """Weighted loss terms and their sum under "total". target_rotmats: (B, 22, 3, 3)."""
    distance = F.l1_loss if weights.kind == "l1" else F.mse_loss
    target6d = torch.cat([target_rotmats[..., :, 0], target_rotmats[..., :, 1]], -1)  # (B, 22, 6)
    terms = {
        "pose": weights.pose * distance(output.rot6d, target6d),
        "joints": weights.joints * distance(pose_joints_from_rotmats(output.rotmats),
                                            pose_joints_from_rotmats(target_rotmats)),
        "commit": weights.commit * output.commit_loss,
    }
    if vertex_fn is not None and weights.vertices > 0:
        predicted = vertex_fn(output.rotmats)
        with torch.no_grad():
            target = vertex_fn(target_rotmats)
        terms["vertices"] = weights.vertices * distance(predicted, target)
    terms["total"] = sum(terms.values())
    return terms
