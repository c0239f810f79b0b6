"""Generation with one-shot pose decoding.

Text is generated token by token with a KV cache. When a row emits <pose_start>, its 80 pose queries are
run in one forward pass (they see the cache and each other) and all 80 pose codes are chosen at once from
the code logits; the queries are then cropped from the cache and the chosen codes are fed as a
bidirectional span followed by <pose_end>, after which text may continue. This is exactly the training
layout (see `sequence.py`), so one-shot decoding equals the full mixed-mask forward.

Rows of a batch (samples of one prompt) advance in lock step; a row that is not taking part in a step
feeds "holes": positions marked invalid in the attention mask, which no later token can see.
"""
from dataclasses import dataclass, field

import torch
from transformers import DynamicCache

from backend.model.attention import mixed_attention_mask
from backend.model.backbone import base_model


@dataclass(frozen=True)
class SamplingSettings:
    """temperature 0 = greedy. top_p: nucleus sampling. max_new_tokens counts text tokens and poses."""
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 96
    seed: int | None = None


@dataclass
class Generated:
    """One row's answer: `pieces` alternate text token id lists and (num_pose_tokens,) code tensors."""
    pieces: list = field(default_factory=list)

    def add_text(self, token: int) -> None:
        if not self.pieces or not isinstance(self.pieces[-1], list):
            self.pieces.append([])
        self.pieces[-1].append(token)


def choose(logits: torch.Tensor, temperature: float, top_p: float, generator) -> torch.Tensor:
    """Pick one index per row of logits (..., V): argmax at temperature 0, else nucleus sampling."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    if top_p < 1.0:
        sorted_probs, order = flat.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs  # mass strictly above each entry
        sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)  # keeps at least the top entry
        flat = torch.zeros_like(flat).scatter(-1, order, sorted_probs)
    picked = torch.multinomial(flat, 1, generator=generator).squeeze(-1)
    return picked.reshape(logits.shape[:-1])


class _Stream:
    """KV cache plus per-key-position bookkeeping (valid, span ids) for a batch of rows."""

    def __init__(self, model, batch: int, device):
        self.model = model
        self.cache = DynamicCache()
        self.valid = torch.zeros(batch, 0, dtype=torch.bool, device=device)
        self.spans = torch.zeros(batch, 0, dtype=torch.long, device=device)
        self.next_span = 0

    def new_span(self) -> int:
        self.next_span += 1
        return self.next_span - 1

    def feed(self, embeds, valid, spans, positions, keep: str = "last") -> torch.Tensor:
        """embeds (B, T, H), valid/spans/positions (B, T) -> logits.

        keep: "last" -> (B, V) logits of the last position; "codes" -> (B, T, codebook) pose-code logits of
        every position (only those rows of the output layer are computed); "all" -> (B, T, V).
        """
        self.valid = torch.cat([self.valid, valid], dim=1)
        self.spans = torch.cat([self.spans, spans], dim=1)
        llm = self.model.llm
        mask = mixed_attention_mask(llm.config, embeds, self.valid, self.spans, past_key_values=self.cache)
        base = base_model(llm)
        hidden = base.get_decoder()(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                                    past_key_values=self.cache, use_cache=True).last_hidden_state  # (B, T, H)
        head = base.get_output_embeddings()
        if keep == "last":
            return head(hidden[:, -1])
        if keep == "codes":
            vocab = self.model.vocab
            rows = slice(vocab.first_id, vocab.first_id + vocab.codebook_size)
            if type(head) is torch.nn.Linear and head.bias is None:
                return torch.nn.functional.linear(hidden, head.weight[rows])
            return head(hidden)[..., rows]
        return head(hidden)

    def crop(self, count: int) -> None:
        self.cache.crop(-count)
        self.valid = self.valid[:, :-count]
        self.spans = self.spans[:, :-count]


@torch.no_grad()
def generate(model, prompt_ids: torch.Tensor, prompt_spans: torch.Tensor, prompt_positions: torch.Tensor,
             images: list, num_samples: int, settings: SamplingSettings,
             start_with_pose: bool = False, stop_after_pose: bool = False) -> list[Generated]:
    """Answers for one prompt, `num_samples` rows in one batch.

    model: a UniPose (uses .llm, .vocab, .embed, .eos_ids, .device). prompt_*: (L,) tensors from a prompt
    Sample. start_with_pose forces <pose_start> as the first answer token; stop_after_pose ends a row's
    answer with its first pose (both used for the pose-output tasks).
    """
    vocab = model.vocab
    device = model.device
    generator = torch.Generator(device=device)
    if settings.seed is not None:
        generator.manual_seed(settings.seed)
    else:
        generator.seed()
    b, n = num_samples, vocab.num_pose_tokens
    ids = prompt_ids.to(device).expand(b, -1)
    embeds = model.embed(ids[:1], images).expand(b, -1, -1)
    stream = _Stream(model, b, device)
    span_offset = int(prompt_spans.max()) + 1 if len(prompt_spans) else 0
    stream.next_span = max(span_offset, 0)
    logits = stream.feed(embeds, torch.ones_like(ids, dtype=torch.bool), prompt_spans.to(device).expand(b, -1),
                         prompt_positions.to(device).expand(b, -1))  # (B, V)
    next_position = torch.full((b,), int(prompt_positions.max()) + 1, device=device)
    text_bias = _text_logit_bias(model, logits.shape[-1], device)
    eos = torch.tensor(sorted(model.eos_ids), device=device)
    active = torch.ones(b, dtype=torch.bool, device=device)
    answers = [Generated() for _ in range(b)]
    embedding = model.llm.get_input_embeddings()

    for step_index in range(settings.max_new_tokens):
        tokens = choose(logits + text_bias, settings.temperature, settings.top_p, generator)  # (B,)
        if start_with_pose and step_index == 0:
            tokens = torch.full_like(tokens, vocab.pose_start)
        for row in torch.nonzero(active & ~torch.isin(tokens, eos)).flatten().tolist():
            if int(tokens[row]) != vocab.pose_start:
                answers[row].add_text(int(tokens[row]))
        active &= ~torch.isin(tokens, eos)
        if not active.any():
            break
        posing = active & (tokens == vocab.pose_start)
        logits = stream.feed(embedding(tokens[:, None]), active[:, None], torch.full_like(tokens[:, None], -1),
                             next_position[:, None])
        next_position = next_position + active.long()
        if posing.any():
            codes = _one_shot_pose(model, stream, posing, next_position, settings, generator)  # (B, n)
            for row in torch.nonzero(posing).flatten().tolist():
                answers[row].pieces.append(codes[row].cpu())
            if stop_after_pose:
                active &= ~posing
                if not active.any():
                    break
                posing = torch.zeros_like(posing)  # stopped rows feed nothing more
            code_ids = vocab.code_ids(codes)
            chunk_ids = torch.cat([code_ids, torch.full_like(code_ids[:, :1], vocab.pose_end)], dim=1)
            span = stream.new_span()
            spans = torch.cat([torch.full_like(code_ids, span), torch.full_like(code_ids[:, :1], -1)], dim=1)
            positions = next_position[:, None] + torch.arange(n + 1, device=device)
            valid = posing[:, None].expand(-1, n + 1)
            after = stream.feed(embedding(chunk_ids), valid, spans, positions)
            logits = torch.where(posing[:, None], after, logits)
            next_position = next_position + posing.long() * (n + 1)
    return answers


def _one_shot_pose(model, stream: _Stream, rows: torch.Tensor, next_position: torch.Tensor,
                   settings: SamplingSettings, generator) -> torch.Tensor:
    """Run the pose queries for `rows` (B,) bool in one forward; returns codes (B, n) (garbage elsewhere)."""
    vocab = model.vocab
    n = vocab.num_pose_tokens
    query_ids = vocab.query_ids().to(stream.valid.device).expand(rows.shape[0], -1)  # (B, n)
    positions = next_position[:, None] + torch.arange(n, device=query_ids.device)
    spans = torch.full_like(query_ids, stream.new_span())
    code_logits = stream.feed(model.llm.get_input_embeddings()(query_ids), rows[:, None].expand(-1, n), spans,
                              positions, keep="codes")  # (B, n, codebook)
    stream.crop(n)
    return choose(code_logits, settings.temperature, settings.top_p, generator)


def _text_logit_bias(model, size: int, device) -> torch.Tensor:
    """(V,) 0 where text mode may emit a token, -inf elsewhere (codes, queries, pose_end, image slot)."""
    bias = torch.zeros(size, device=device)
    vocab = model.vocab
    bias[vocab.first_id:] = float("-inf")
    bias[vocab.pose_start] = 0.0
    return bias
