"""UniPose-specific glue for the stage loop: building the model, choosing what trains in each stage,
turning task records into training samples and the loss.

Trainable groups: "lora" (peft LoRA matrices), "pose_embeddings" (the added vocabulary rows, trained
through peft's trainable_token_indices: pose codes, start/end, pose queries, image slot; with projected code
embeddings the code rows' shared map instead of the code rows), "projector"
(the visual processor's mlp2x_gelu), "joint_features" (the joint-position map of pose spans,
backend/model/joint_features.py). Everything else stays frozen.
"""
import functools
import os
from pathlib import Path

import numpy as np
import torch

from backend.tokenizer.losses import pose_joints_from_rotmats
from training.stages.config import StageConfig


# `model` keys passed to UniPose.from_backbone
BUILD_OPTIONS = ("backbone_layers", "system_prompt", "end_at_pose", "code_embeddings", "image_pose_hint",
                 "joint_features")
_GROUP_MARKERS = {"lora": ("lora_",), "pose_embeddings": ("trainable_tokens_",)}


def image_source(encoder_kinds, size: int = 224, seed: int | None = None):
    """The `pose (22, 3) -> image` callable the image tasks use in place of photos.

    With a "landmarks" encoder: synthetic BlazePose landmarks (backend.vision.landmarks.synthetic); their
    randomness is drawn from numpy's global RNG (saved in checkpoints, so resume stays exact) unless `seed`
    gives a private stream (evaluation). Otherwise: the capsule-body rendering, front view, size x size.
    """
    if "landmarks" in encoder_kinds:
        from backend.vision.landmarks.synthetic import synthesize_landmarks
        private = np.random.default_rng(seed) if seed is not None else None

        def make(pose: np.ndarray):
            rng = private if private is not None else np.random.default_rng(np.random.randint(2**31 - 1))
            return synthesize_landmarks(pose, rng)

        return make
    from backend.render import render_pose

    def render(pose: np.ndarray):
        return render_pose(pose, size=size, views=("front",))

    return render


def config_image_source(model_cfg: dict, seed: int | None = None):
    kinds = [e.get("kind") for e in (model_cfg.get("visual") or {}).get("encoders", [])]
    return image_source(kinds, int(model_cfg.get("image_size", 224)), seed)


def record_inputs(record: dict, make_image) -> dict:
    """A task record (training.task_records) -> keyword arguments of UniPose.build_sample / run, plus target.

    The pose hint of image -> pose (model.image_pose_hint) is not an input here: build_sample and run derive it
    from the image itself (UniPose._messages), from the very landmarks the encoder reads, in training,
    evaluation and serving alike.
    """
    task = record["task"]
    if task in ("text_to_pose",):
        return {"text": record["text"], "target": record["pose"]}
    if task == "pose_to_text":
        return {"poses": [record["pose"]], "target": record["text"]}
    if task == "image_to_text":
        return {"images": [make_image(record["pose"])], "target": record["text"]}
    if task == "image_to_pose":
        return {"images": [make_image(record["pose"])], "target": record["pose"]}
    if task == "pose_diff":
        return {"poses": [record["pose_a"], record["pose_b"]], "target": record["text"]}
    if task == "image_diff":
        return {"images": [make_image(record["pose_a"]), make_image(record["pose_b"])], "target": record["text"]}
    if task == "edit_pose":
        return {"text": record["text"], "poses": [record["pose_a"]], "target": record["pose_b"]}
    raise ValueError(f"unknown task {task!r}")


def build_unipose(model_cfg: dict, tokenizer_dir: Path, work_dir: Path, texts: list[str], seed: int = 0):
    """A fresh UniPose for the config's `model` section, on top of the stage-0 tokenizer."""
    from backend.model.unipose import LoraSettings, UniPose
    from backend.tokenizer import PoseTokenizer

    backbone = model_cfg["backbone"]
    if backbone == "tiny":
        from training.stages.tiny_backbone import build_tiny_backbone
        folder = build_tiny_backbone(Path(work_dir) / "backbone", texts, model_cfg.get("backbone_config", {}), seed)
        # A relative path makes save_pretrained copy the random LM into the checkpoint (self-contained).
        backbone = os.path.relpath(folder)
    pose_tokenizer = PoseTokenizer.from_pretrained(tokenizer_dir)
    vision = None
    if model_cfg.get("visual"):
        from backend.model.backbone import resolve_backbone
        from backend.vision import VisualProcessor
        from transformers import AutoConfig
        hidden = AutoConfig.from_pretrained(resolve_backbone(backbone)).hidden_size
        vision = VisualProcessor.from_config({**model_cfg["visual"], "hidden_size": hidden})
    model = UniPose.from_backbone(backbone, pose_tokenizer, vision=vision,
                                  attn_implementation=model_cfg.get("attn_implementation", "sdpa"), seed=seed,
                                  **{key: model_cfg[key] for key in BUILD_OPTIONS if key in model_cfg})
    lora = model_cfg.get("lora") or {}
    model.add_lora(LoraSettings(**lora))
    return model


def set_trainable(model, groups) -> int:
    """Freeze everything, then unfreeze the named groups; returns the number of trainable parameters."""
    model.requires_grad_(False)
    for name, param in model.llm.named_parameters():
        if any(marker in name for g in groups for marker in _GROUP_MARKERS.get(g, ())):
            param.requires_grad_(True)
    if "pose_embeddings" in groups and model.code_projection is not None:
        model.code_projection.requires_grad_(True)
    if "joint_features" in groups:
        if model.joint_features is None:
            raise ValueError("the joint_features group needs a model built with joint_features: true")
        model.joint_features.requires_grad_(True)
    if "projector" in groups:
        if model.vision is None:
            raise ValueError("the projector group needs a model with a visual processor")
        model.vision.projector.requires_grad_(True)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_collate(model, make_image, max_length: int | None = None):
    """records -> Batch. Template choice uses Python's global `random` (part of the resumable RNG state)."""

    def collate(records):
        # The loop's model.train() reaches the frozen pose tokenizer and image encoders; keep them in eval mode.
        model.pose_tokenizer.eval()
        if model.vision is not None:
            model.vision.encoders.eval()
        samples = [model.build_sample(r["task"], **record_inputs(r, make_image)) for r in records]
        if max_length:
            samples = [s for s in samples if len(s) <= max_length] or samples[:1]
        return model.collate(samples)

    return collate


def stage_loss(stage: StageConfig):
    """The loop's loss_fn for a stage of the LLM."""
    return functools.partial(unipose_loss, joint_weight=stage.joint_loss)


def unipose_loss(model, batch, step: int, joint_weight: float = 0.0):
    """Total loss, with the text (next-token) and pose-query parts logged; a part absent from the batch is nan.
    joint_weight > 0 adds that many times the expected-pose joint error in metres (`expected_joint_error`,
    logged as joint_error). `step` (the loop's optimizer step) does not change it."""
    out = model(batch)
    loss = out.loss
    parts = {"text_loss": out.text_loss.detach().item(), "pose_loss": out.pose_loss.detach().item()}
    if joint_weight > 0 and len(out.code_targets):
        error = expected_joint_error(model, out.code_logits, out.code_targets)
        loss = loss + joint_weight * error
        parts["joint_error"] = error.detach().item()
    return loss, {k: v for k, v in parts.items() if np.isfinite(v)}


def expected_joint_error(model, code_logits: torch.Tensor, code_targets: torch.Tensor) -> torch.Tensor:
    """Mean joint distance (metres) between the pose decoded from the expected code vectors under the model's
    distribution (what greedy answers show, PoseTokenizer.decode_expected) and the pose the target codes decode
    to. A dense signal beside the codes' cross-entropy: a distribution that moves mass toward codes of the right
    body part shape is rewarded before it ranks the exact code first. Gradients reach the model through the
    frozen tokenizer decoder.

    code_logits (N, K) and code_targets (N,): N = poses x num_pose_tokens, row-major (LossOutput)."""
    tokenizer, n = model.pose_tokenizer, model.vocab.num_pose_tokens
    codebook = tokenizer.codebook.codes  # (K, D)
    probs = code_logits.float().softmax(-1).reshape(-1, n, code_logits.shape[-1])  # (P, n, K)
    predicted = pose_joints_from_rotmats(tokenizer.decode_vectors(probs.to(codebook.dtype) @ codebook))  # (P, 24, 3)
    with torch.no_grad():
        target = pose_joints_from_rotmats(tokenizer.decode(code_targets.reshape(-1, n)))
    return (predicted.float() - target.float()).norm(dim=-1).mean()
