"""Visual processor: grid resizing, channel concatenation, token-set encoders, save/load."""
import torch
from PIL import Image
from torch import nn

from backend.vision import TinyGridEncoder, VisualProcessor, fuse_features, register_encoder


@register_encoder("test_landmarks")
class LandmarkSetEncoder(nn.Module):
    """A token-set encoder (like body landmarks): 5 tokens of 3 channels, no grid."""
    grid = None
    num_tokens = 5
    out_dim = 3

    def encode(self, images):
        return torch.stack([torch.arange(15.0).view(5, 3) + i for i in range(len(images))])

    def to_config(self):
        return {"kind": self.kind}

    @classmethod
    def from_config(cls, config):
        return cls()


def test_fuse_resizes_grids_and_concatenates_channels():
    a = torch.randn(2, 16, 4)  # 4x4 grid, 4 channels
    b = torch.ones(2, 4, 2)  # 2x2 grid of ones, 2 channels -> resized to 4x4 (still ones)
    fused = fuse_features([a, b], [(4, 4), (2, 2)], (4, 4))
    assert fused.shape == (2, 16, 6)
    assert torch.equal(fused[..., :4], a) and torch.allclose(fused[..., 4:], torch.ones(2, 16, 2))


def test_set_encoder_tokens_follow_the_grid_in_their_own_channels():
    a = torch.randn(1, 16, 4)
    s = torch.randn(1, 5, 3)
    fused = fuse_features([a, s], [(4, 4), None], (4, 4))
    assert fused.shape == (1, 21, 7)
    assert torch.equal(fused[0, 16:, 4:], s[0]) and (fused[0, 16:, :4] == 0).all() and (fused[0, :16, 4:] == 0).all()


def test_processor_projects_and_round_trips(tmp_path):
    processor = VisualProcessor([TinyGridEncoder(32, 8, 16, 0), TinyGridEncoder(24, 8, 8, 1), LandmarkSetEncoder()],
                                hidden_size=12)
    images = [Image.new("RGB", (50, 40), (255, 0, 0)), tmp_path / "img.png"]
    Image.new("RGB", (20, 20), (0, 0, 255)).save(images[1])
    out = processor(images)
    assert processor.num_tokens == 16 + 5 and out.shape == (2, 21, 12)
    assert not torch.allclose(out[0], out[1])
    processor.save_pretrained(tmp_path / "projector")
    again = VisualProcessor.from_pretrained(tmp_path / "projector")
    assert torch.allclose(again(images), out)
    assert not any(p.requires_grad for p in again.encoders.parameters())
