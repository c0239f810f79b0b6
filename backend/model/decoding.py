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
from backend.model.guidance import amplifies, guided_scores, in_nucleus
from backend.sampling import Sampling


@dataclass
class Generated:
    """One row's answer: `pieces` alternate text token id lists and (num_pose_tokens,) code tensors;
    `code_probs` has one entry per pose: the (num_pose_tokens, K) distribution its codes were chosen from
    when the answer keeps it (greedy with expected_pose), else None. `unguided` has one entry per pose: under
    amplifying guidance, the (codes, code_probs) the same forward gives without it, whose body orientation the
    pose keeps (guidance.py); else None."""
    pieces: list = field(default_factory=list)
    code_probs: list = field(default_factory=list)
    unguided: list = field(default_factory=list)

    def poses(self) -> list[torch.Tensor]:
        return [piece for piece in self.pieces if not isinstance(piece, list)]

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
        flat = flat.masked_fill(~in_nucleus(flat, top_p), 0.0)
    picked = torch.multinomial(flat, 1, generator=generator).squeeze(-1)
    return picked.reshape(logits.shape[:-1])


class _Stream:
    """KV cache plus per-key-position bookkeeping (valid, span ids) for a batch of rows."""

    def __init__(self, model, batch: int, device, text_ids: torch.Tensor | None = None):
        self.model = model
        self.text_ids = text_ids  # (A,) the only tokens text mode may write (answer_vocabulary.py), or None
        self.cache = DynamicCache()
        self.valid = torch.zeros(batch, 0, dtype=torch.bool, device=device)
        self.spans = torch.zeros(batch, 0, dtype=torch.long, device=device)
        self.next_span = 0
        self.base = base_model(model.llm)

    def new_span(self) -> int:
        self.next_span += 1
        return self.next_span - 1

    def feed(self, embeds, valid, spans, positions) -> torch.Tensor:
        """embeds (B, T, H), valid/spans/positions (B, T) -> last hidden states (B, T, H); extends the cache."""
        self.valid = torch.cat([self.valid, valid], dim=1)
        self.spans = torch.cat([self.spans, spans], dim=1)
        mask = mixed_attention_mask(self.base.config, embeds, self.valid, self.spans, past_key_values=self.cache)
        step = self.model.step_decoder() if embeds.shape[1] == 1 else None  # a text token: int8 where served
        decoder = step if step is not None else self.base.get_decoder()
        return decoder(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                       past_key_values=self.cache, use_cache=True).last_hidden_state

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., H) -> (..., V) over the whole vocabulary; with text_ids only their rows are computed and every
        other token scores -inf."""
        if self.text_ids is None:
            return self.base.get_output_embeddings()(hidden)
        vocab_size = self.base.get_output_embeddings().weight.shape[0]
        scores = hidden.new_full((*hidden.shape[:-1], vocab_size), float("-inf"))
        scores[..., self.text_ids] = self._head_rows(hidden, self.text_ids)
        return scores

    def code_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., H) -> (..., codebook): only the pose-code rows of the output layer are computed."""
        vocab = self.model.vocab
        return self._head_rows(hidden, slice(vocab.first_id, vocab.first_id + vocab.codebook_size))

    def _head_rows(self, hidden: torch.Tensor, rows) -> torch.Tensor:
        """(..., H) -> (..., R): the output layer's logits for `rows` (a slice or an index tensor) only."""
        head = self.base.get_output_embeddings()
        if type(head) is torch.nn.Linear and head.bias is None:
            return torch.nn.functional.linear(hidden, head.weight[rows])
        return head(hidden)[..., rows]  # a peft wrapper: let it apply its token rows

    def crop(self, count: int) -> None:
        self.cache.crop(-count)
        self.valid = self.valid[:, :-count]
        self.spans = self.spans[:, :-count]


@dataclass(frozen=True)
class TextReference:
    """Text guided against a reference prompt (guidance.py): `prompt_ids` (L,) has the layout of the real
    prompt (the same length, spans and positions; e.g. another input pose), with `images` in its image slots,
    and text tokens are chosen by guided_scores of the real next-token log-probabilities over the reference's
    at `weight` (> 1)."""
    prompt_ids: torch.Tensor
    weight: float
    images: list = field(default_factory=list)


@torch.no_grad()
def generate(model, prompt_ids: torch.Tensor, prompt_spans: torch.Tensor, prompt_positions: torch.Tensor,
             images: list, sampling: Sampling, pose_prior: torch.Tensor | None = None,
             start_with_pose: bool = False, stop_after_pose: bool = False,
             text_reference: TextReference | None = None) -> list[Generated]:
    """Answers for one prompt, `sampling.num_samples` rows in one batch.

    model: a UniPose (uses .llm, .vocab, .embed, .eos_ids, .device, .config.guidance). prompt_*: (L,) tensors
    from a prompt Sample. pose_prior (n, K): the task's prior for guided pose codes (guidance.py), applied
    unless the guidance weight (sampling.guidance, else the checkpoint's default) is 1. start_with_pose forces
    <pose_start> as the first answer token; stop_after_pose ends a row's answer with its first pose (both used
    for the pose-output tasks).

    A token is fed together with the pose queries when it is <pose_start> (one forward, queries cropped
    after), and with start_with_pose the prompt itself goes in that same forward. With a text_reference the
    batch holds a mirror row per answer row, fed the reference prompt and then the same tokens and codes as
    its row; only text choices read it.
    """
    vocab = model.vocab
    device = model.device
    generator = torch.Generator(device=device)
    if sampling.seed is not None:
        generator.manual_seed(sampling.seed)
    else:
        generator.seed()
    temperature = sampling.temperature or 0.0
    weight = model.config.guidance if sampling.guidance is None else sampling.guidance
    if weight == 1.0:
        pose_prior = None  # plain decoding
    b, n = sampling.num_samples, vocab.num_pose_tokens
    if text_reference is not None and (len(text_reference.prompt_ids) != len(prompt_ids)
                                       or not amplifies(text_reference.weight)):
        raise ValueError("a text reference needs the prompt's layout and a weight above 1")
    rows = 2 * b if text_reference is not None else b  # answer rows, then their mirrors

    def mirrored(values: torch.Tensor) -> torch.Tensor:
        """(b, ...) per answer row -> (rows, ...) for the stream."""
        return torch.cat([values, values]) if text_reference is not None else values

    embedding = model.llm.get_input_embeddings()
    eos = torch.tensor(sorted(model.eos_ids), device=device)
    text_ids = None
    if model.answer_ids is not None:  # the answer vocabulary, the end of the answer and the start of a pose
        text_ids = torch.cat([model.answer_ids.to(device), eos, torch.tensor([vocab.pose_start], device=device)])
        text_ids = text_ids.unique()
    stream = _Stream(model, rows, device, text_ids)
    stream.next_span = int(prompt_spans.max()) + 1 if len(prompt_spans) else 0
    prompt_embeds = model.embed(prompt_ids[None].to(device), images).expand(b, -1, -1)  # (b, L, H)
    if text_reference is not None:
        reference_embeds = model.embed(text_reference.prompt_ids[None].to(device),
                                       text_reference.images).expand(b, -1, -1)
        prompt_embeds = torch.cat([prompt_embeds, reference_embeds])  # (rows, L, H)
    prompt = (prompt_embeds, torch.ones(rows, len(prompt_ids), dtype=torch.bool, device=device),
              prompt_spans.to(device).expand(rows, -1), prompt_positions.to(device).expand(rows, -1))
    next_position = torch.full((b,), int(prompt_positions.max()) + 1, device=device)
    logits = None if start_with_pose else stream.logits(stream.feed(*prompt)[:, -1])  # (rows, V)
    text_bias = _text_logit_bias(model, vocab.size, device)
    active = torch.ones(b, dtype=torch.bool, device=device)
    answers = [Generated() for _ in range(b)]
    query_ids = vocab.query_ids().to(device).expand(b, -1)  # (B, n)

    for step_index in range(sampling.max_new_tokens):
        if logits is None:
            tokens = torch.full((b,), vocab.pose_start, device=device)
        else:
            scores = logits[:, :vocab.size] + text_bias  # (rows, V)
            if text_reference is not None:
                scores = guided_scores(scores[:b], torch.log_softmax(scores[b:].float(), -1), text_reference.weight)
            tokens = choose(scores, temperature, sampling.top_p, generator)
        finished = torch.isin(tokens, eos)
        for row in torch.nonzero(active & ~finished & (tokens != vocab.pose_start)).flatten().tolist():
            answers[row].add_text(int(tokens[row]))
        active &= ~finished
        if not active.any():
            break
        posing = active & (tokens == vocab.pose_start)
        token_chunk = (embedding(mirrored(tokens)[:, None]), mirrored(active)[:, None],
                       torch.full_like(mirrored(tokens)[:, None], -1), mirrored(next_position)[:, None])
        next_position = next_position + active.long()
        if not posing.any():
            logits = stream.logits(stream.feed(*token_chunk)[:, -1])
            continue
        # <pose_start> and the n queries in one forward (plus the prompt on the very first step)
        query_chunk = (embedding(mirrored(query_ids)), mirrored(posing)[:, None].expand(-1, n),
                       torch.full_like(mirrored(query_ids), stream.new_span()),
                       mirrored(next_position)[:, None] + torch.arange(n, device=device))
        chunks = [token_chunk, query_chunk] if logits is not None else [prompt, token_chunk, query_chunk]
        hidden = stream.feed(*(torch.cat(parts, dim=1) for parts in zip(*chunks)))  # (rows, T, H)
        stream.crop(n)
        code_logits = stream.code_logits(hidden[:b, -n:])  # (B, n, K): the answer rows choose the codes
        scores = code_logits if pose_prior is None else guided_scores(code_logits, pose_prior, weight)
        codes = choose(scores, temperature, sampling.top_p, generator)
        keep_probs = sampling.expected_pose and temperature <= 0
        probs = torch.softmax(scores.float(), dim=-1).cpu() if keep_probs else None  # (B, n, K)
        unguided = None
        if pose_prior is not None and amplifies(weight):  # the orientation comes from the unguided choice
            unguided = (choose(code_logits, temperature, sampling.top_p, generator).cpu(),
                        torch.softmax(code_logits.float(), dim=-1).cpu() if keep_probs else None)
        for row in torch.nonzero(posing).flatten().tolist():
            answers[row].pieces.append(codes[row].cpu())
            answers[row].code_probs.append(probs[row] if keep_probs else None)
            answers[row].unguided.append(None if unguided is None else
                                         (unguided[0][row], None if unguided[1] is None else unguided[1][row]))
        if stop_after_pose:
            active &= ~posing
            if not active.any():
                break
            posing = torch.zeros_like(posing)
        text_logits = stream.logits(hidden[:, -n - 1])  # after the token, for rows that did not start a pose
        # the chosen codes as a bidirectional span, then <pose_end>
        code_ids = mirrored(vocab.code_ids(codes))
        pose_chunk = (model.embed(torch.cat([code_ids, torch.full_like(code_ids[:, :1], vocab.pose_end)], dim=1), []),
                      mirrored(posing)[:, None].expand(-1, n + 1),
                      torch.cat([torch.full_like(code_ids, stream.new_span()),
                                 torch.full_like(code_ids[:, :1], -1)], 1),
                      mirrored(next_position)[:, None] + torch.arange(n + 1, device=device))
        after = stream.logits(stream.feed(*pose_chunk)[:, -1])
        logits = torch.where(mirrored(posing)[:, None], after, text_logits)
        next_position = next_position + posing.long() * (n + 1)
    return answers


def _text_logit_bias(model, size: int, device) -> torch.Tensor:
    """(V,) 0 where text mode may emit a token, -inf elsewhere (codes, queries, pose_end, image slot)."""
    bias = torch.zeros(size, device=device)
    vocab = model.vocab
    bias[vocab.first_id:] = float("-inf")
    bias[vocab.pose_start] = 0.0
    return bias
