"""The rows the added tokens get in the LM: pose codes, pose-start/-end, the 80 pose queries (the learnable
queries of one-shot decoding) and the image slot. How they start, and how they are saved and loaded.

Saved as checkpoint.NEW_TOKENS_NAME: "embeddings" (every added row but the queries, in id order), "pose_queries"
(num_pose_tokens, H), and "lm_head" (all added rows of an untied output head).
"""
import torch
from torch import nn

from backend.model.backbone import base_model
from backend.model.vocab import PoseVocab


def is_tied(llm) -> bool:
    """Whether the LM's output head shares its weight with the input embeddings."""
    base = base_model(llm)
    head = base.get_output_embeddings()
    return head is None or _stored_weight(head).data_ptr() == _stored_weight(base.get_input_embeddings()).data_ptr()


def _stored_weight(module: nn.Module) -> torch.Tensor:
    """The weight a layer stores. peft's trainable-token wrappers compute `.weight` afresh on each access, so
    comparing their `.weight` addresses depends on the allocator reusing memory; unwrap them instead."""
    return getattr(module, "original_module", module).weight


def resize_embeddings(llm, vocab: PoseVocab) -> None:
    """Grow the LM's embedding (and untied head) matrices to the vocabulary with the added tokens."""
    if llm.get_input_embeddings().weight.shape[0] < vocab.size:
        llm.resize_token_embeddings(vocab.size, mean_resizing=False)


@torch.no_grad()
def init_new_rows(llm, vocab: PoseVocab, codebook: torch.Tensor, seed: int) -> None:
    """New rows, with the statistics of the old ones (per-dimension mean and std), deterministic per seed.

    Pose codes: the tokenizer's code vectors (size, code_dim) through a fixed random projection, so that
    codes start distinct and codes that are close in the tokenizer start close in the LM. The other new
    tokens (start/end, queries, image slot): independent random rows. (Rows that all start near the mean
    embedding, the usual choice, make the 2,048 codes nearly indistinguishable as inputs at first; on the
    CPU-length runs so far neither choice taught the model to use its input, see docs/model-card.md.)
    """
    generator = torch.Generator().manual_seed(seed)
    matrices = [llm.get_input_embeddings().weight]
    if not is_tied(llm):
        matrices.append(llm.get_output_embeddings().weight)
    codes = codebook.detach().float().cpu()
    codes = codes - codes.mean(0)
    for weight in matrices:
        old = weight[:vocab.first_id].float()
        mean, std = old.mean(0), old.std(0)  # (H,)
        projected = codes @ torch.randn(codes.shape[1], weight.shape[1], generator=generator)  # (size, H)
        projected = projected / projected.std(0).clamp_min(1e-6)
        others = torch.randn(vocab.size - vocab.pose_start, weight.shape[1], generator=generator)
        rows = torch.cat([projected, others]) * std + mean  # (n_new, H)
        weight[vocab.first_id:vocab.size] = rows.to(weight.device, weight.dtype)


def new_rows(llm, vocab: PoseVocab) -> dict[str, torch.Tensor]:
    """The effective rows of the added tokens (adapter deltas applied)."""
    ids = torch.tensor(vocab.new_token_ids, device=next(llm.parameters()).device)
    with torch.no_grad():
        rows = llm.get_input_embeddings()(ids).detach().cpu()  # (n_new, H)
        queries = (vocab.query_ids() - vocab.first_id)
        keep = torch.ones(len(ids), dtype=torch.bool)
        keep[queries] = False
        tensors = {"embeddings": rows[keep].contiguous(), "pose_queries": rows[queries].contiguous()}
        if not is_tied(llm):
            head = base_model(llm).get_output_embeddings()
            weight = head.get_merged_weights(head.active_adapters) if hasattr(head, "get_merged_weights") \
                else head.weight
            tensors["lm_head"] = weight[ids].detach().cpu().contiguous()
    return tensors


@torch.no_grad()
def load_new_rows(llm, vocab: PoseVocab, tensors: dict[str, torch.Tensor]) -> None:
    """Write rows saved by `new_rows` into a resized LM."""
    ids = torch.tensor(vocab.new_token_ids)
    queries = vocab.query_ids() - vocab.first_id
    keep = torch.ones(len(ids), dtype=torch.bool)
    keep[queries] = False
    weight = llm.get_input_embeddings().weight
    weight[ids[keep]] = tensors["embeddings"].to(weight)
    weight[ids[queries]] = tensors["pose_queries"].to(weight)
    if "lm_head" in tensors and not is_tied(llm):
        head = llm.get_output_embeddings().weight
        head[ids] = tensors["lm_head"].to(head)


class CodeProjection(nn.Module):
    """Pose-code rows computed from the tokenizer's code vectors by one shared affine map (a training-time
    parameterization, UniPoseConfig.code_embeddings = "projected"): every pose answer and input trains the one
    map, instead of each of the 2,048 free rows learning from its own few occurrences. The LM's stored rows are
    refreshed from it (`write_rows`) before any inference or save, so decoding and served checkpoints need no
    projection at all.
    """

    def __init__(self, codebook: torch.Tensor, hidden_size: int):
        super().__init__()
        codes = codebook.detach().float().cpu()
        self.register_buffer("codes", codes - codes.mean(0), persistent=False)  # (size, code_dim)
        self.map = nn.Linear(codes.shape[1], hidden_size)

    def forward(self) -> torch.Tensor:
        """(codebook_size, H) the pose-code rows."""
        return self.map(self.codes)

    @torch.no_grad()
    def fit(self, llm, vocab: PoseVocab) -> None:
        """Start as the LM's current code rows (init_new_rows makes them affine in the codes: an exact fit)."""
        rows = _stored_weight(base_model(llm).get_input_embeddings())[vocab.first_id:vocab.pose_start].float().cpu()
        design = torch.cat([self.codes, torch.ones(len(self.codes), 1)], dim=1)  # (size, code_dim + 1)
        solution = torch.linalg.lstsq(design, rows).solution  # (code_dim + 1, H)
        self.map.weight.copy_(solution[:-1].T)
        self.map.bias.copy_(solution[-1])

    @torch.no_grad()
    def write_rows(self, llm, vocab: PoseVocab) -> None:
        """Store the projected rows as the LM's pose-code rows (input, and output when untied)."""
        rows = self()
        base = base_model(llm)
        layers = [base.get_input_embeddings()] + ([] if is_tied(llm) else [base.get_output_embeddings()])
        for layer in layers:
            weight = _stored_weight(layer)
            weight[vocab.first_id:vocab.pose_start] = rows.to(weight.device, weight.dtype)

    def state(self) -> dict[str, torch.Tensor]:
        """Tensors saved beside the rows (NEW_TOKENS_NAME), so training can continue with the map."""
        return {"code_projection.weight": self.map.weight.detach().cpu().contiguous(),
                "code_projection.bias": self.map.bias.detach().cpu().contiguous()}

    @torch.no_grad()
    def load_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.map.weight.copy_(tensors["code_projection.weight"])
        self.map.bias.copy_(tensors["code_projection.bias"])
