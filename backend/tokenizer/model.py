"""PoseTokenizer: a VQ-VAE that turns a pose (22 joint rotations) into 80 discrete tokens and back."""
import dataclasses
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from backend.body.rotations_torch import axis_angle_to_rotmat, rot6d_to_rotmat, rotmat_to_axis_angle, rotmat_to_rot6d
from backend.tokenizer.config import WEIGHTS_NAME, PoseTokenizerConfig
from backend.tokenizer.network import PoseDecoder, PoseEncoder
from backend.tokenizer.quantizer import EMACodebook


@dataclasses.dataclass
class TokenizerOutput:
    rot6d: torch.Tensor  # (B, J, 6) raw decoder output
    rotmats: torch.Tensor  # (B, J, 3, 3) orthonormalised
    ids: torch.Tensor  # (B, num_tokens)
    commit_loss: torch.Tensor  # ()
    perplexity: torch.Tensor  # ()


class PoseTokenizer(nn.Module):
    def __init__(self, config: PoseTokenizerConfig):
        super().__init__()
        self.config = config
        self.encoder = PoseEncoder(config)
        self.codebook = EMACodebook(config.codebook_size, config.code_dim, config.ema_decay, config.dead_code_threshold)
        self.decoder = PoseDecoder(config)

    @property
    def device(self) -> torch.device:
        return self.codebook.codes.device

    def forward(self, rot6d: torch.Tensor) -> TokenizerOutput:
        """rot6d (B, J, 6) -> reconstruction; in training mode this also updates the codebook."""
        z = self.encoder(rot6d)  # (B, D, T)
        batch, dim, length = z.shape
        quantized = self.codebook(z.transpose(1, 2).reshape(batch * length, dim))
        codes = quantized.codes.reshape(batch, length, dim).transpose(1, 2)  # (B, D, T)
        out6d = self.decoder(codes)  # (B, J, 6)
        ids = quantized.ids.reshape(batch, length)
        return TokenizerOutput(out6d, rot6d_to_rotmat(out6d), ids, quantized.commit_loss, quantized.perplexity)

    def to_rot6d(self, rotations: torch.Tensor) -> torch.Tensor:
        """(B, J, 3) axis-angle or (B, J, 3, 3) rotmat -> (B, J, 6) float32 on this model's device."""
        rotations = torch.as_tensor(rotations).to(self.device, torch.float32)
        if rotations.shape[1:] == (self.config.num_joints, 3):
            rotations = axis_angle_to_rotmat(rotations)
        if rotations.ndim != 4 or rotations.shape[1:] != (self.config.num_joints, 3, 3):
            raise ValueError(f"expected (B, {self.config.num_joints}, 3) or (B, {self.config.num_joints}, 3, 3), "
                             f"got {tuple(rotations.shape)}")
        return rotmat_to_rot6d(rotations)

    @torch.no_grad()
    def encode(self, rotations: torch.Tensor) -> torch.Tensor:
        """(B, J, 3) axis-angle or (B, J, 3, 3) rotmat -> (B, num_tokens) long token ids."""
        z = self.encoder(self.to_rot6d(rotations))  # (B, D, T)
        batch, dim, length = z.shape
        return self.codebook.nearest(z.transpose(1, 2).reshape(batch * length, dim)).reshape(batch, length)

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, num_tokens) token ids -> (B, J, 3, 3) orthonormal rotation matrices."""
        ids = torch.as_tensor(ids, device=self.device).long()
        if ids.ndim != 2 or ids.shape[1] != self.config.num_tokens:
            raise ValueError(f"expected (B, {self.config.num_tokens}) token ids, got {tuple(ids.shape)}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.config.codebook_size):
            raise ValueError(f"token ids must lie in [0, {self.config.codebook_size})")
        return self.decode_vectors(self.codebook.lookup(ids))

    def decode_axis_angle(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, num_tokens) -> (B, J, 3) axis-angle."""
        return rotmat_to_axis_angle(self.decode(ids))

    @torch.no_grad()
    def decode_expected(self, probs: torch.Tensor) -> torch.Tensor:
        """(B, num_tokens, K) distributions over the codes -> (B, J, 3, 3) rotation matrices.

        Each position gets its expected code vector before the decoder runs: a single pose answer that
        keeps what the modes agree on, where choosing each position's likeliest code on its own can mix
        codes of different poses (an upright body's legs with an upside-down one's root).
        One-hot distributions give exactly `decode` of their codes.
        """
        probs = torch.as_tensor(probs, device=self.device, dtype=self.codebook.codes.dtype)
        expected_shape = (self.config.num_tokens, self.config.codebook_size)
        if probs.ndim != 3 or tuple(probs.shape[1:]) != expected_shape:
            raise ValueError(f"expected (B, {expected_shape[0]}, {expected_shape[1]}) code probabilities, "
                             f"got {tuple(probs.shape)}")
        return self.decode_vectors(probs @ self.codebook.codes)

    def decode_vectors(self, vectors: torch.Tensor) -> torch.Tensor:
        """(B, num_tokens, D) code vectors -> (B, J, 3, 3) rotation matrices; differentiable, so a loss on the
        decoded pose can train whatever chose the vectors (the tokenizer itself stays frozen there)."""
        return rot6d_to_rotmat(self.decoder(vectors.transpose(1, 2)))  # decoder reads (B, D, T)

    def save_pretrained(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.save(directory)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_NAME), metadata={"format": "pt"})

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str | torch.device = "cpu") -> "PoseTokenizer":
        directory = Path(directory)
        model = cls(PoseTokenizerConfig.load(directory))
        model.load_state_dict(load_file(str(directory / WEIGHTS_NAME)))
        return model.to(device).eval()
