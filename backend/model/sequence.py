"""Token sequences for UniPose: conversations with poses and images -> ids, targets, spans, positions.

A conversation is a list of messages `{"role": ..., "content": str, "poses": [...], "images": [...]}`.
Contents mark where poses and images go with `<pose>` / `<image>` (POSE_PLACEHOLDER, IMAGE_PLACEHOLDER);
the k-th placeholder of a kind takes the k-th item of that message's list. The text is rendered with the
language model's own chat template, then split at the placeholders.

How a pose is laid out:
- in a prompt (an input pose):  <pose_start> c_0 .. c_79 <pose_end>   the 80 code tokens form one
  bidirectional span;
- in the supervised answer:     <pose_start> q_0 .. q_79 c_0 .. c_79 <pose_end>   the 80 query tokens
  (one span, a side branch) are trained to predict c_i at q_i (unshifted); the codes follow at the same
  position ids as the queries, hidden from the queries and seeing the prompt, exactly what decoding
  feeds after the one-shot step. Nothing after the queries sees them.

`targets[t]` is what the logits at position t must predict (-100: no loss): the next token for text,
the pose code token for a query.

With `end_at_pose`, an answer that ends with a pose stops after its query span: the codes, <pose_end> and
the end of the turn that would follow teach nothing one-shot decoding uses (it stops after that pose), and
nothing in the query span sees them, so the pose loss is the same for about half the tokens.
"""
import re
from dataclasses import dataclass, field

import numpy as np
import torch

from backend.body.skeleton import NUM_POSE_JOINTS
from backend.model.vocab import IMAGE_PLACEHOLDER, POSE_PLACEHOLDER, PoseVocab

IGNORE = -100
_PLACEHOLDER = re.compile(f"({re.escape(POSE_PLACEHOLDER)}|{re.escape(IMAGE_PLACEHOLDER)})")


@dataclass
class Sample:
    """One sequence before batching. All tensors (L,)."""
    input_ids: torch.Tensor  # long
    targets: torch.Tensor  # long, IGNORE where there is no loss
    position_ids: torch.Tensor  # long; pose codes after a query span repeat the queries' positions
    span_ids: torch.Tensor  # long, -1 text, else pose span index (bidirectional inside)
    branch: torch.Tensor  # bool, True on pose-query positions
    images: list = field(default_factory=list)  # one per run of image slots, in order

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


@dataclass
class Batch:
    """Right-padded samples. Tensors (B, L); `valid` False on padding."""
    input_ids: torch.Tensor
    targets: torch.Tensor
    position_ids: torch.Tensor
    span_ids: torch.Tensor
    branch: torch.Tensor
    valid: torch.Tensor
    images: list  # all images of the batch in row-major order of their slots

    def to(self, device) -> "Batch":
        moved = {k: v.to(device) for k, v in vars(self).items() if isinstance(v, torch.Tensor)}
        return Batch(**moved, images=self.images)


class _Builder:
    """Accumulates one sequence piece by piece."""

    def __init__(self):
        self.ids, self.targets, self.positions, self.spans, self.branch = [], [], [], [], []
        self.images = []
        self.next_span = 0

    @property
    def next_position(self) -> int:
        return self.positions[-1] + 1 if self.positions else 0

    def add(self, ids, supervised: bool, span: int = -1, branch: bool = False, positions=None, targets=None):
        ids = [int(i) for i in ids]
        if supervised and targets is None and self.ids:
            self.targets[-1] = ids[0]  # the previous token predicts this piece's first token
        positions = list(range(self.next_position, self.next_position + len(ids))) if positions is None else positions
        if targets is None:
            targets = (ids[1:] + [IGNORE]) if supervised else [IGNORE] * len(ids)
        self.ids += ids
        self.targets += list(targets)
        self.positions += list(positions)
        self.spans += [span] * len(ids)
        self.branch += [branch] * len(ids)

    def new_span(self) -> int:
        self.next_span += 1
        return self.next_span - 1

    def sample(self) -> Sample:
        return Sample(torch.tensor(self.ids), torch.tensor(self.targets), torch.tensor(self.positions),
                      torch.tensor(self.spans), torch.tensor(self.branch, dtype=torch.bool), self.images)


def split_placeholders(text: str) -> list[str]:
    """'a <pose> b' -> ['a ', '<pose>', ' b'] (empty pieces dropped)."""
    return [piece for piece in _PLACEHOLDER.split(text) if piece]


def with_placeholders(message: dict) -> str:
    """The message content, with placeholders prepended for poses/images the content does not mark."""
    content = message.get("content") or ""
    missing_images = len(message.get("images", ())) - content.count(IMAGE_PLACEHOLDER)
    missing_poses = len(message.get("poses", ())) - content.count(POSE_PLACEHOLDER)
    if missing_images < 0 or missing_poses < 0:
        raise ValueError(f"message has more placeholders than items: {content!r}")
    prefix = " ".join([IMAGE_PLACEHOLDER] * missing_images + [POSE_PLACEHOLDER] * missing_poses)
    return f"{prefix}\n{content}" if prefix and content else (prefix or content)


class SequenceBuilder:
    """Turns conversations into `Sample`s for one language model's tokenizer and vocabulary.

    pose_encoder: callable (N, 22, 3) float axis-angle -> (N, num_pose_tokens) long codes (the pose
    tokenizer's `encode`); poses given as integer code arrays (num_pose_tokens,) skip it.
    num_visual_tokens: how many slots one image occupies (0 when the model has no visual processor).
    """

    def __init__(self, text_tokenizer, vocab: PoseVocab, pose_encoder, num_visual_tokens: int = 0,
                 end_at_pose: bool = False):
        self.text_tokenizer = text_tokenizer
        self.vocab = vocab
        self.pose_encoder = pose_encoder
        self.num_visual_tokens = num_visual_tokens
        self.end_at_pose = end_at_pose  # training answers that end with a pose stop after its queries

    # ------------------------------------------------------------------ pieces
    def pose_codes(self, poses) -> list[np.ndarray]:
        """Each pose as (num_pose_tokens,) int64 codes; float (22, 3) poses go through the pose tokenizer."""
        codes: list = [None] * len(poses)
        to_encode = []
        for i, pose in enumerate(poses):
            array = np.asarray(pose)
            if np.issubdtype(array.dtype, np.integer):
                if array.shape != (self.vocab.num_pose_tokens,):
                    raise ValueError(f"pose codes must have shape ({self.vocab.num_pose_tokens},)")
                codes[i] = array.astype(np.int64)
            elif array.shape != (NUM_POSE_JOINTS, 3):
                raise ValueError(f"a pose must be ({NUM_POSE_JOINTS}, 3) axis-angle, got shape {array.shape}")
            else:
                to_encode.append(i)
        if to_encode:
            stacked = torch.as_tensor(np.stack([np.asarray(poses[i], np.float32) for i in to_encode]))
            encoded = self.pose_encoder(stacked).cpu().numpy()  # (N, num_pose_tokens)
            for row, i in enumerate(to_encode):
                codes[i] = encoded[row].astype(np.int64)
        return codes

    def _text(self, builder: _Builder, text: str, supervised: bool) -> None:
        ids = self.text_tokenizer(text, add_special_tokens=False)["input_ids"]
        if ids:
            builder.add(ids, supervised)

    def _input_pose(self, builder: _Builder, codes: np.ndarray) -> None:
        builder.add([self.vocab.pose_start], False)
        builder.add(self.vocab.code_ids(torch.as_tensor(codes)).tolist(), False, span=builder.new_span())
        builder.add([self.vocab.pose_end], False)

    def _output_pose(self, builder: _Builder, codes: np.ndarray, last: bool = False) -> None:
        v = self.vocab
        builder.add([v.pose_start], supervised=True)
        start = builder.next_position
        positions = list(range(start, start + v.num_pose_tokens))
        code_ids = v.code_ids(torch.as_tensor(codes)).tolist()
        builder.add(v.query_ids().tolist(), False, span=builder.new_span(), branch=True,
                    positions=positions, targets=code_ids)
        if last:  # end_at_pose: the answer stops here
            return
        builder.add(code_ids, False, span=builder.new_span(), positions=positions)
        builder.add([v.pose_end], supervised=True, targets=[IGNORE])  # forced, never predicted; the
        # next supervised piece fills its target

    def _image(self, builder: _Builder, image) -> None:
        if self.num_visual_tokens == 0:
            raise ValueError("this model has no visual processor; images are not supported")
        builder.add([self.vocab.image] * self.num_visual_tokens, False)
        builder.images.append(image)

    def _content(self, builder: _Builder, text: str, poses, images, supervised: bool,
                 end_at_pose: bool = False) -> None:
        """end_at_pose: the text ends with an output pose, and the sequence stops after its query span."""
        pose_codes = self.pose_codes(list(poses))
        pose_index = image_index = 0
        pieces = split_placeholders(text)
        for i, piece in enumerate(pieces):
            if piece == POSE_PLACEHOLDER:
                if supervised:
                    self._output_pose(builder, pose_codes[pose_index], last=end_at_pose and i == len(pieces) - 1)
                else:
                    self._input_pose(builder, pose_codes[pose_index])
                pose_index += 1
            elif piece == IMAGE_PLACEHOLDER:
                self._image(builder, images[image_index])
                image_index += 1
            else:
                self._text(builder, piece, supervised)

    # ------------------------------------------------------------------ conversations
    def render(self, messages: list[dict], add_generation_prompt: bool) -> str:
        plain = [{"role": m["role"], "content": with_placeholders(m)} for m in messages]
        try:
            return self.text_tokenizer.apply_chat_template(plain, tokenize=False,
                                                           add_generation_prompt=add_generation_prompt)
        except Exception:  # noqa: BLE001 - templates without a system role (Mistral) raise from Jinja
            if len(plain) < 2 or plain[0]["role"] != "system":
                raise
            folded = [{"role": plain[1]["role"], "content": f"{plain[0]['content']}\n\n{plain[1]['content']}"}]
            return self.text_tokenizer.apply_chat_template(folded + plain[2:], tokenize=False,
                                                           add_generation_prompt=add_generation_prompt)

    def prompt(self, messages: list[dict]) -> Sample:
        """The sequence for generating the next assistant turn (no targets)."""
        builder = _Builder()
        text = self.render(messages, add_generation_prompt=True)
        self._content(builder, text, _all(messages, "poses"), _all(messages, "images"), supervised=False)
        return builder.sample()

    def training(self, messages: list[dict]) -> Sample:
        """The sequence for a conversation whose last message is the assistant answer to learn.

        Only the last message is supervised; poses in it are output poses (query span + codes).
        """
        if messages[-1]["role"] != "assistant":
            raise ValueError("the last message of a training conversation must be the assistant's")
        prompt_text = self.render(messages[:-1], add_generation_prompt=True)
        full_text = self.render(messages, add_generation_prompt=False)
        if not full_text.startswith(prompt_text):
            raise ValueError("the chat template does not extend the prompt with the answer")
        answer_text = full_text[len(prompt_text):].rstrip("\n")
        builder = _Builder()
        context = messages[:-1]
        self._content(builder, prompt_text, _all(context, "poses"), _all(context, "images"), supervised=False)
        answer = messages[-1]
        end_at_pose = self.end_at_pose and (answer.get("content") or "").rstrip().endswith(POSE_PLACEHOLDER)
        if end_at_pose:
            answer_text = answer_text[:answer_text.rindex(POSE_PLACEHOLDER) + len(POSE_PLACEHOLDER)]
        self._content(builder, answer_text, answer.get("poses", ()), answer.get("images", ()), supervised=True,
                      end_at_pose=end_at_pose)
        return builder.sample()


def _all(messages: list[dict], key: str) -> list:
    return [item for m in messages for item in m.get(key, ())]


def collate(samples: list[Sample], pad_id: int = 0) -> Batch:
    """Right-pad samples into a Batch (padding: pad_id, targets IGNORE, invalid, span -1)."""
    length = max(len(s) for s in samples)

    def pad(values: torch.Tensor, fill) -> torch.Tensor:
        return torch.nn.functional.pad(values, (0, length - len(values)), value=fill)

    def positions(s: Sample) -> torch.Tensor:  # padding continues the positions (any value works: it is masked)
        extra = torch.arange(length - len(s)) + int(s.position_ids.max()) + 1
        return torch.cat([s.position_ids, extra])

    return Batch(
        input_ids=torch.stack([pad(s.input_ids, pad_id) for s in samples]),
        targets=torch.stack([pad(s.targets, IGNORE) for s in samples]),
        position_ids=torch.stack([positions(s) for s in samples]),
        span_ids=torch.stack([pad(s.span_ids, -1) for s in samples]),
        branch=torch.stack([pad(s.branch, False) for s in samples]),
        valid=torch.stack([pad(torch.ones(len(s), dtype=torch.bool), False) for s in samples]),
        images=[image for s in samples for image in s.images],
    )
