"""Pose / pose-pair and text encoders in a shared space, and the batch-based classification loss.

Pose input is axis-angle (B, 22, 3); the encoder sees both 6D rotations and forward-kinematics joint
positions. The text side is a trainable head over frozen MiniLM sentence embeddings, so texts can be
embedded once and cached.
"""
import dataclasses
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from backend.body.kinematics_torch import pose_joints
from backend.body.rotations_torch import axis_angle_to_rotmat, rotmat_to_rot6d

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
KINDS = ("pose", "pair")


@dataclasses.dataclass(frozen=True)
class RetrievalConfig:
    kind: str = "pose"        # "pose": pose <-> caption; "pair": (pose A, pose B) <-> modification text
    latent_dim: int = 256
    hidden_dim: int = 512
    text_dim: int = 384       # MiniLM sentence embedding size
    num_joints: int = 22
    dropout: float = 0.1
    init_scale: float = 10.0  # initial similarity scale (inverse temperature) of the BBC loss

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"retrieval kind must be one of {KINDS}, not {self.kind!r}")


def _mlp(in_dim: int, hidden: int, out_dim: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, out_dim))


def pose_features(axis_angle: torch.Tensor) -> torch.Tensor:
    """(B, 22, 3) axis-angle -> (B, 22 * 9): 6D rotations and root-relative joint positions."""
    rot6d = rotmat_to_rot6d(axis_angle_to_rotmat(axis_angle))       # (B, 22, 6)
    joints = pose_joints(axis_angle)[..., :axis_angle.shape[-2], :]  # (B, 22, 3)
    joints = joints - joints[..., :1, :]
    return torch.cat([rot6d, joints], -1).flatten(-2)


class RetrievalModel(nn.Module):
    def __init__(self, config: RetrievalConfig):
        super().__init__()
        self.config = config
        c = config
        pose_in = c.num_joints * 9
        self.pose_trunk = _mlp(pose_in, c.hidden_dim, c.hidden_dim if c.kind == "pair" else c.latent_dim,
                               c.dropout)
        # Pair fusion as in PoseFix: features of A, B and their difference.
        self.pair_head = _mlp(3 * c.hidden_dim, c.hidden_dim, c.latent_dim, c.dropout) if c.kind == "pair" else None
        self.text_head = _mlp(c.text_dim, c.hidden_dim, c.latent_dim, c.dropout)
        self.log_scale = nn.Parameter(torch.tensor(float(c.init_scale)).log())

    def encode_poses(self, axis_angle: torch.Tensor) -> torch.Tensor:
        """(B, 22, 3) -> (B, latent) unit vectors. Only for kind "pose"."""
        return F.normalize(self.pose_trunk(pose_features(axis_angle)), dim=-1)

    def encode_pairs(self, pose_a: torch.Tensor, pose_b: torch.Tensor) -> torch.Tensor:
        """(B, 22, 3) x 2 -> (B, latent) unit vectors. Only for kind "pair"."""
        fa, fb = self.pose_trunk(pose_features(pose_a)), self.pose_trunk(pose_features(pose_b))
        return F.normalize(self.pair_head(torch.cat([fa, fb, fb - fa], -1)), dim=-1)

    def encode_text_features(self, sentence_embeddings: torch.Tensor) -> torch.Tensor:
        """(B, 384) MiniLM embeddings -> (B, latent) unit vectors."""
        return F.normalize(self.text_head(sentence_embeddings), dim=-1)

    def encode_inputs(self, poses: torch.Tensor, poses_b: torch.Tensor | None = None) -> torch.Tensor:
        """The pose side for either kind."""
        return self.encode_pairs(poses, poses_b) if self.config.kind == "pair" else self.encode_poses(poses)

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_NAME).write_text(json.dumps(dataclasses.asdict(self.config), indent=2) + "\n")
        save_file({k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()},
                  str(directory / WEIGHTS_NAME))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> "RetrievalModel":
        directory = Path(directory)
        model = cls(RetrievalConfig(**json.loads((directory / CONFIG_NAME).read_text())))
        model.load_state_dict(load_file(str(directory / WEIGHTS_NAME)))
        return model.eval()


def bbc_loss(pose_emb: torch.Tensor, text_emb: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """Batch-based classification loss: every pose must pick its own text among the batch's texts and
    vice versa (symmetric cross-entropy over scaled cosine similarities). (B, D) x 2 -> ()."""
    logits = log_scale.exp() * pose_emb @ text_emb.T                    # (B, B)
    target = torch.arange(len(logits), device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
