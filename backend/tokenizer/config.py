"""PoseTokenizerConfig: every size of the VQ-VAE, saved next to its weights as config.json."""
import dataclasses
import json
from pathlib import Path

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclasses.dataclass(frozen=True)
class PoseTokenizerConfig:
    num_joints: int = 22  # global orientation + 21 body joints, 6D each
    num_tokens: int = 80  # encoder output positions = token ids per pose
    codebook_size: int = 2048
    code_dim: int = 256  # dimension of one codebook entry
    width: int = 256  # channels of the convolutional trunk
    decoder_width: int | None = None  # channels of the decoder's trunk when it differs from the encoder's
    num_resamples: int = 1  # strided convs (encoder) / upsamplings (decoder) between the stem and the codes
    res_blocks: int = 3  # dilated residual blocks after every resampling
    dilation_growth: int = 3  # residual block i uses dilation growth**i
    ema_decay: float = 0.99
    dead_code_threshold: float = 1.0  # codes whose EMA usage (vectors per batch) falls below are reset

    def __post_init__(self):
        if self.num_tokens < 1 or self.codebook_size < 2 or self.num_resamples < 0 or self.res_blocks < 0:
            raise ValueError(f"invalid tokenizer sizes: {self}")

    @property
    def decoder_channels(self) -> int:
        return self.decoder_width or self.width

    @property
    def stem_length(self) -> int:
        """Positions the joint axis is upsampled to before the strided convolutions."""
        return self.num_tokens * 2**self.num_resamples

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "PoseTokenizerConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown tokenizer config keys: {sorted(unknown)}")
        return cls(**values)

    def save(self, directory: str | Path) -> None:
        path = Path(directory) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> "PoseTokenizerConfig":
        return cls.from_dict(json.loads((Path(directory) / CONFIG_NAME).read_text()))
