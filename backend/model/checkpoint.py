"""UniPose checkpoint folders: the layout, the config saved with them, loading and saving.

    <path>/tokenizer/                 pose tokenizer (PoseTokenizer.save_pretrained)
    <path>/unipose/config.json        UniPoseConfig
    <path>/unipose/text_tokenizer/    the LM's tokenizer with the added tokens
    <path>/unipose/new_tokens.safetensors  rows of the added tokens (new_token_rows.py)
    <path>/unipose/pose_prior.safetensors  per-task priors for prompt guidance (guidance.py), when measured
    <path>/unipose/answer_tokens.safetensors  the text tokens of its answers (answer_vocabulary.py), when stored
    <path>/unipose/joint_features.safetensors  the joint-position map of pose spans (joint_features.py), when used
    <path>/unipose/adapter/           peft LoRA adapter (adapter_config.json + adapter_model.safetensors)
    <path>/unipose/projector/         visual processor: config.json + projector.safetensors
    <path>/unipose/llm/               full LM weights, only when the backbone is not a reference
                                      (tiny test models, merged deployments)

Serving merges the adapter into the LM once and caches the result in the dtype it runs in (`cache_dir()`),
so later starts load one safetensors file and never import peft.
"""
import copy
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from backend.model.answer_vocabulary import load_answer_tokens, save_answer_tokens
from backend.model.backbone import base_model, cache_dir, load_backbone, resolve_backbone, resolve_dtype
from backend.model.guidance import load_priors, save_priors
from backend.model.int8_steps import use_int8_steps
from backend.model.joint_features import WEIGHTS_NAME as JOINT_FEATURES_NAME, JointFeatures
from backend.model.new_token_rows import CodeProjection, load_new_rows, new_rows, resize_embeddings
from backend.model.tasks import SYSTEM_PROMPT
from backend.model.vocab import PoseVocab

POSE_TOKENIZER_DIR = "tokenizer"
MODEL_DIR = "unipose"
CONFIG_NAME = "config.json"
NEW_TOKENS_NAME = "new_tokens.safetensors"
TEXT_TOKENIZER_DIR = "text_tokenizer"
ADAPTER_DIR = "adapter"
PROJECTOR_DIR = "projector"
LLM_DIR = "llm"


@dataclass
class UniPoseConfig:
    backbone: str  # "smollm2", an absolute HF folder, or LLM_DIR (a folder inside the checkpoint)
    vocab: dict  # PoseVocab fields
    backbone_layers: int | None = None  # the first N transformer layers of the backbone; None = all
    attn_implementation: str = "sdpa"
    lora: dict | None = None  # LoraSettings fields when an adapter is attached
    has_vision: bool = False
    system_prompt: str = SYSTEM_PROMPT
    guidance: float = 1.0  # default prompt guidance of pose answers (guidance.py); 1 = plain decoding
    edit_reference: str = ""  # edits guided against the answer to this instruction (guidance.py); "" = task prior
    description_guidance: float = 1.0  # pose -> text guided against a standing pose's (guidance.py); 1 = off
    difference_guidance: float = 1.0  # pose/image differences guided against A to A (guidance.py); 1 = off
    end_at_pose: bool = False  # training sequences: an answer ending with a pose stops after its queries
    code_embeddings: str = "rows"  # "projected": pose-code rows trained through new_token_rows.CodeProjection
    image_pose_hint: bool = False  # image -> pose prompts carry the landmarks' IK pose (vision/landmarks/hint.py)
    image_pose_model_weight: float = 1.0  # with the hint: answers slerped from the hint towards the model's by this
    joint_features: bool = False  # pose-code spans also read their joint positions (joint_features.py)

    @classmethod
    def from_dict(cls, values: dict) -> "UniPoseConfig":
        return cls(**values)


def load_checkpoint(cls, path, device="cpu", progress=None, merge_lora: bool = True, trainable: bool = False,
                    dtype: str = "auto", text_steps: str = "auto"):
    """A `cls` (UniPose) from a checkpoint folder; see UniPose.from_pretrained for the arguments."""
    from transformers import AutoTokenizer
    from backend.tokenizer import PoseTokenizer

    report = progress or (lambda stage, fraction: None)
    root = Path(path)
    folder = root / MODEL_DIR
    if not (folder / CONFIG_NAME).is_file():
        raise FileNotFoundError(f"{root} is not a UniPose checkpoint (no {MODEL_DIR}/{CONFIG_NAME})")
    config = UniPoseConfig.from_dict(json.loads((folder / CONFIG_NAME).read_text()))
    llm_dtype = "float32" if trainable and dtype == "auto" else resolve_dtype(dtype, device)
    merged_cache = None
    if config.lora is not None and merge_lora and not trainable:
        merged_cache = _merged_llm_cache(folder, config, llm_dtype)
    report("pose tokenizer", 0.05)
    pose_tokenizer = PoseTokenizer.from_pretrained(root / POSE_TOKENIZER_DIR)
    report("language model", 0.15)
    text_tokenizer = AutoTokenizer.from_pretrained(folder / TEXT_TOKENIZER_DIR)
    vocab = PoseVocab(**config.vocab)
    backbone_folder = None if config.backbone == "smollm2" else _resolve(folder, config.backbone)
    cached = merged_cache is not None and (merged_cache / "model.safetensors").is_file()
    new_tokens: dict[str, torch.Tensor] = {}
    if cached:  # this checkpoint's LM with its adapter merged, in the dtype it runs in: no peft, no merge
        llm, _ = load_backbone(str(merged_cache), config.attn_implementation, with_tokenizer=False,
                               dtype=llm_dtype)
    else:
        backbone = config.backbone if backbone_folder is None else str(backbone_folder)
        llm, _ = load_backbone(backbone, config.attn_implementation, progress, with_tokenizer=False,
                               layers=config.backbone_layers)
        resize_embeddings(llm, vocab)
        report("pose vocabulary", 0.7)
        if (folder / NEW_TOKENS_NAME).is_file():
            new_tokens = load_file(str(folder / NEW_TOKENS_NAME))
            load_new_rows(llm, vocab, new_tokens)
    vision = None
    if config.has_vision:
        report("visual processor", 0.75)
        from backend.vision import VisualProcessor
        vision = VisualProcessor.from_pretrained(folder / PROJECTOR_DIR)
    model = cls(llm, text_tokenizer, pose_tokenizer, vocab, config, vision, backbone_folder)
    model.pose_priors = load_priors(folder)
    model.answer_ids = load_answer_tokens(folder)
    if trainable and config.code_embeddings == "projected":  # served models use the rows written at save
        model.code_projection = CodeProjection(pose_tokenizer.codebook.codes, llm.config.hidden_size)
        model.code_projection.load_state(new_tokens)
    if config.joint_features:
        model.joint_features = JointFeatures(llm.config.hidden_size)
        model.joint_features.load_state(load_file(str(folder / JOINT_FEATURES_NAME)))
    if cached:
        model.merged, model.config.lora = True, None
    elif config.lora is not None:
        report("adapter", 0.85)
        from peft import PeftModel
        model.llm = PeftModel.from_pretrained(llm, folder / ADAPTER_DIR, is_trainable=trainable)
        if merge_lora and not trainable:
            model.merge()
    model.to(device)
    model.llm.to(getattr(torch, llm_dtype))
    if merged_cache is not None and not cached:
        _save_to_cache(base_model(model.llm), merged_cache)
    # merged or no adapter: the copy is taken of the served weights
    model.int8_text_steps = not trainable and model.config.lora is None and use_int8_steps(text_steps, device)
    model.train(trainable)
    report("ready", 1.0)
    return model


def save_checkpoint(model, path) -> Path:
    """Write `model`'s checkpoint folder (layout in the module docstring); returns it."""
    root = Path(path)
    folder = root / MODEL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    model.pose_tokenizer.save_pretrained(root / POSE_TOKENIZER_DIR)
    model.text_tokenizer.save_pretrained(folder / TEXT_TOKENIZER_DIR)
    config = copy.deepcopy(model.config)
    if model.merged:
        _save_llm(base_model(model.llm), folder / LLM_DIR)
        config.backbone = LLM_DIR
    elif not _is_reference(config.backbone):  # the LM lives in the source checkpoint: copy it along
        if model.backbone_folder.resolve() != (folder / LLM_DIR).resolve():
            shutil.copytree(model.backbone_folder, folder / LLM_DIR, dirs_exist_ok=True)
        config.backbone = LLM_DIR
    metadata = {"format": "pt", **{k: str(v) for k, v in model.vocab.to_dict().items()}}  # self-describing
    if model.code_projection is not None:
        model.code_projection.write_rows(model.llm, model.vocab)
    tensors = new_rows(model.llm, model.vocab)
    if model.code_projection is not None:
        tensors.update(model.code_projection.state())
    save_file(tensors, str(folder / NEW_TOKENS_NAME), metadata=metadata)
    if model.joint_features is not None:
        save_file(model.joint_features.state(), str(folder / JOINT_FEATURES_NAME))
    if model.vision is not None:
        model.vision.save_pretrained(folder / PROJECTOR_DIR)
    if model.pose_priors:
        save_priors(model.pose_priors, folder)
    if model.answer_ids is not None:
        save_answer_tokens(model.answer_ids, folder)
    if model.has_lora:
        # the added rows are saved by us (new_tokens) and by the adapter's trainable tokens, never whole
        model.llm.save_pretrained(folder / ADAPTER_DIR, save_embedding_layers=False)
    else:
        config.lora = None
        shutil.rmtree(folder / ADAPTER_DIR, ignore_errors=True)
    (folder / CONFIG_NAME).write_text(json.dumps(asdict(config), indent=2) + "\n")
    return root


def _is_reference(backbone: str) -> bool:
    """True when the checkpoint only names its LM ("smollm2" or an absolute folder) instead of holding it."""
    return backbone == "smollm2" or Path(backbone).expanduser().is_absolute()


def _resolve(folder: Path, backbone: str) -> Path:
    path = Path(backbone).expanduser()
    return path if path.is_absolute() else folder / path


def _merged_llm_cache(folder: Path, config: "UniPoseConfig", dtype: str) -> Path:
    """Where the merged LM of a checkpoint folder is cached: keyed by the checkpoint's files (path, size,
    modification time), the base LM, the dtype and the transformers version, so any change makes a new entry."""
    import transformers

    key = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        key.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    base = resolve_backbone(config.backbone) if config.backbone == "smollm2" else _resolve(folder, config.backbone)
    key.update(f"{Path(base).resolve()}|{dtype}|{transformers.__version__}".encode())
    return cache_dir() / f"merged-{key.hexdigest()[:20]}"


def _save_to_cache(llm, target: Path) -> None:
    """Write a merged LM into the cache atomically (a half-written entry is never visible); a failure to
    write only costs the next load its speed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".merged-", dir=target.parent))
    try:
        _save_llm(llm, staging)
        os.replace(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _save_llm(llm, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    llm.save_pretrained(folder, safe_serialization=True)
