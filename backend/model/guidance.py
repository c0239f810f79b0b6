"""Prompt guidance for one-shot pose decoding: code scores = prior + w * (log p(code | input) - prior).

A task's prior is the model's own mean code log-probabilities over many inputs of that task, measured once per
checkpoint (`python -m training.pose_prior`) and stored next to the model. It stands in for the unconditional
model of classifier-free guidance: the model was never trained without its input, but averaging over inputs
gives what it predicts regardless of the input. w = 1 is plain decoding, w = 0 always answers the prior's pose,
w > 1 amplifies what is specific to this input. Useful when a model has learned the pose-token marginal well
and its input only weakly, as the CPU-trained default has (README, "The shipped model").

Strong guidance amplifies noise along with the input: at w = 4-6 plain extrapolation picked codes the model itself
found unlikely (joints past their limits) and tipped standing bodies over (docs/experiments/guidance.md). Above
w = 1, therefore, guidance only re-ranks the codes inside the conditional's top-p nucleus (GUIDED_NUCLEUS), and
the answer keeps the body orientation of the unguided answer (decoding.py, unipose.py): strength changes what
the body does, not whether it stands.

Edits can be guided against a sharper reference than their task prior (UniPoseConfig.edit_reference): the model's
own code log-probabilities for the same start pose under a neutral instruction ("Keep the same pose."), one
extra forward per edit. The task prior mixes the start pose with the instruction, so amplifying against it
amplifies both; against the neutral answer only what the instruction changes is amplified
(docs/experiments/guidance.md).

Descriptions can be guided the same way, token by token (UniPoseConfig.description_guidance, decoding.py
TextReference): each next text token is scored against the model's next-token log-probabilities for the same
conversation about a plain standing pose (DESCRIPTION_REFERENCE_POSE), so that what sets this pose apart from
standing is said rather than what holds for any pose. One mirror row per answer row.
Differences (pose pair and image pair -> text) likewise, against the same conversation about pose or image A
and A itself (UniPoseConfig.difference_guidance): what is said because B differs from A is amplified, what the
model says about any pair is not.
"""
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

PRIOR_NAME = "pose_prior.safetensors"
DESCRIPTION_REFERENCE_POSE = "standing_arms_down"  # backend/body/example_poses.py
GUIDED_NUCLEUS = 0.9  # above w = 1, guided codes come from the conditional's smallest set holding this much mass


def amplifies(weight: float) -> bool:
    """Whether guidance at this weight goes beyond plain decoding (and so is held to the nucleus and the
    unguided orientation)."""
    return weight > 1.0


def guided_scores(code_logits: torch.Tensor, prior: torch.Tensor, weight: float) -> torch.Tensor:
    """code_logits (..., n, K), prior (n, K) log-probabilities -> guided scores (..., n, K) (log-space; a
    softmax of them is the guided distribution up to normalisation). Above w = 1, codes outside the
    conditional's GUIDED_NUCLEUS score -inf."""
    conditional = torch.log_softmax(code_logits.float(), dim=-1)
    prior = prior.to(conditional.device, conditional.dtype)
    scores = prior + weight * (conditional - prior)
    if amplifies(weight):
        scores = scores.masked_fill(~in_nucleus(conditional.exp(), GUIDED_NUCLEUS), float("-inf"))
    return scores


def in_nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """probs (..., K) -> bool (..., K): the smallest set of likeliest entries holding top_p of the mass (always
    at least the likeliest one)."""
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    before = sorted_probs.cumsum(-1) - sorted_probs  # mass strictly above each entry
    return torch.zeros_like(probs, dtype=torch.bool).scatter(-1, order, before < top_p)


@torch.no_grad()
def mean_code_logprobs(model, samples: list, batch_size: int = 8) -> torch.Tensor:
    """The average over training samples of one pose-output task of log p(code) at each pose query: (n, K).

    samples: UniPose Samples (model.build_sample) whose target is a pose; only their inputs matter.
    """
    vocab = model.vocab
    total, count = None, 0
    for start in range(0, len(samples), batch_size):
        chunk = samples[start:start + batch_size]
        batch = model.collate(chunk)
        states = model.hidden_states(batch)  # (b, L, H)
        hidden = states[batch.branch.to(states.device)].reshape(len(chunk), vocab.num_pose_tokens, -1)  # (b, n, H)
        logits = model.llm.get_output_embeddings()(hidden)[..., vocab.first_id:vocab.pose_start].float()  # (b, n, K)
        summed = torch.log_softmax(logits, dim=-1).sum(0)
        total = summed if total is None else total + summed
        count += len(chunk)
    if not count:
        raise ValueError("no samples to measure the prior on")
    return (total / count).cpu()


def save_priors(priors: dict[str, torch.Tensor], folder: Path) -> Path:
    path = Path(folder) / PRIOR_NAME
    save_file({task: p.float().contiguous() for task, p in priors.items()}, str(path))
    return path


def load_priors(folder: Path) -> dict[str, torch.Tensor]:
    """Task -> (n, K) prior; {} when the checkpoint has none."""
    path = Path(folder) / PRIOR_NAME
    return load_file(str(path)) if path.is_file() else {}
