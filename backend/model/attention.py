"""Mixed attention: causal over text, bidirectional inside each pose span, through transformers' mask API.

A sequence is described per position by
- `valid`     (B, K) bool: False for padding and for unused slots ("holes") in a decoding cache,
- `span_ids`  (B, K) long: -1 for text, otherwise the index of the pose span the position belongs to
              (input pose tokens or pose queries); positions of one span see each other in both directions,
- `branch`    (B, K) bool: True for pose-query positions. Queries are a side branch: the pose tokens they
              predict follow them in a training sequence (at the same position ids) and the rest of the
              sequence must see those tokens, never the queries. At inference the queries are dropped from
              the cache after the one-shot step, which is the same thing.

K counts every key position (cached ones first). The 4D result is passed as `attention_mask` together with
explicit `position_ids`; transformers then uses it unchanged for sdpa and eager attention.
"""
import torch
from transformers.masking_utils import create_causal_mask


def _branch_overlay(span_ids: torch.Tensor, branch: torch.Tensor):
    """Mask function hiding query-branch keys from every query outside their own span."""

    def inner(batch_idx, head_idx, q_idx, kv_idx):
        kv_span = span_ids[batch_idx, kv_idx]
        return ~branch[batch_idx, kv_idx] | (span_ids[batch_idx, q_idx] == kv_span)

    return inner


def mixed_attention_mask(config, inputs_embeds: torch.Tensor, valid: torch.Tensor, span_ids: torch.Tensor,
                         branch: torch.Tensor | None = None, past_key_values=None):
    """The 4D mixed attention mask for `inputs_embeds` (B, T, H) after `past_key_values`.

    valid, span_ids, branch: (B, K) over all K = cached + T key positions (see the module docstring).
    Returns what `create_causal_mask` returns for the model's attention implementation
    ((B, 1, T, K) bool for sdpa, additive float for eager).
    """
    has_branch = branch is not None and bool(branch.any())
    return create_causal_mask(
        config=config,
        inputs_embeds=inputs_embeds,
        attention_mask=valid,
        past_key_values=past_key_values,
        and_mask_function=_branch_overlay(span_ids, branch) if has_branch else None,
        block_sequence_ids=span_ids,
        allow_is_causal_skip=False,
    )
