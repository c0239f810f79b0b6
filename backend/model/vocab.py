"""The UniPose vocabulary: pose-code tokens, pose-start/-end, pose-query tokens and the image placeholder.

New tokens are appended to the language model's tokenizer; `PoseVocab` records their ids so that every
other module can map between pose codes (0..codebook_size-1) and token ids without string lookups.
"""
from dataclasses import dataclass

import torch

POSE_START = "<pose_start>"
POSE_END = "<pose_end>"
IMAGE_TOKEN = "<image_slot>"  # one per image in token sequences; replaced by the projected visual tokens
POSE_PLACEHOLDER = "<pose>"  # in prompt/answer *strings*: where a pose goes (never tokenized)
IMAGE_PLACEHOLDER = "<image>"  # in prompt strings: where an image goes (never tokenized)


def pose_code_token(code: int) -> str:
    return f"<pose_{code}>"


def pose_query_token(index: int) -> str:
    return f"<pose_query_{index}>"


def new_token_strings(codebook_size: int, num_pose_tokens: int) -> list[str]:
    """All added tokens in id order: codes, start, end, queries, image slot."""
    return ([pose_code_token(c) for c in range(codebook_size)] + [POSE_START, POSE_END]
            + [pose_query_token(i) for i in range(num_pose_tokens)] + [IMAGE_TOKEN])


@dataclass(frozen=True)
class PoseVocab:
    """Token ids of the added vocabulary (contiguous, starting at `first_id`)."""
    first_id: int  # id of <pose_0>
    codebook_size: int  # 2048
    num_pose_tokens: int  # 80 tokens per pose

    @property
    def pose_start(self) -> int:
        return self.first_id + self.codebook_size

    @property
    def pose_end(self) -> int:
        return self.pose_start + 1

    @property
    def first_query(self) -> int:
        return self.pose_start + 2

    @property
    def image(self) -> int:
        return self.first_query + self.num_pose_tokens

    @property
    def size(self) -> int:
        """Vocabulary size of the language model after adding the tokens."""
        return self.image + 1

    @property
    def new_token_ids(self) -> list[int]:
        return list(range(self.first_id, self.size))

    def code_ids(self, codes: torch.Tensor) -> torch.Tensor:
        """Pose codes (...,) in [0, codebook_size) -> token ids (...,)."""
        return codes + self.first_id

    def is_code(self, token_ids: torch.Tensor) -> torch.Tensor:
        """bool (...,): which token ids are pose codes."""
        return (token_ids >= self.first_id) & (token_ids < self.pose_start)

    def codes(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Pose-code token ids (...,) -> codes (...,)."""
        return token_ids - self.first_id

    def query_ids(self) -> torch.Tensor:
        """(num_pose_tokens,) ids of the pose-query tokens."""
        return torch.arange(self.first_query, self.first_query + self.num_pose_tokens)

    def to_dict(self) -> dict:
        return {"first_id": self.first_id, "codebook_size": self.codebook_size,
                "num_pose_tokens": self.num_pose_tokens}


def add_pose_vocab(tokenizer, codebook_size: int, num_pose_tokens: int) -> PoseVocab:
    """Append the UniPose tokens to a HF tokenizer (idempotent) and return their ids.

    The tokens must land contiguously at the end of the vocabulary; that is checked, not assumed.
    """
    strings = new_token_strings(codebook_size, num_pose_tokens)
    if strings[0] not in tokenizer.get_vocab():
        tokenizer.add_tokens(strings, special_tokens=True)
    ids = tokenizer.convert_tokens_to_ids(strings)
    first = ids[0]
    if ids != list(range(first, first + len(strings))):
        raise ValueError("the UniPose tokens were not added contiguously to the tokenizer")
    return PoseVocab(first_id=first, codebook_size=codebook_size, num_pose_tokens=num_pose_tokens)
