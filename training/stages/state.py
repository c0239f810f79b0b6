"""Exact-resume training state as safetensors + JSON (no pickle).

A checkpoint folder holds:
  trainables.safetensors  every parameter with requires_grad, by name
  buffers.safetensors     every persistent buffer, by name: state that trains without gradients (an EMA codebook)
  optimizer.safetensors   optimizer tensors, keyed "<param index>.<name>"
  rng.safetensors         torch CPU (and CUDA) generator states, numpy's key array
  state.json              step, epoch, data position, scheduler state, optimizer hyper-parameters,
                          the non-tensor parts of the numpy and Python RNG states
"""
import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

STATE_JSON = "state.json"


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Parameters that train in this stage, detached to CPU."""
    return {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def load_trainables(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in tensors]
    if missing:
        raise KeyError(f"checkpoint lacks trainable parameters: {missing[:5]}")
    with torch.no_grad():
        for name, value in tensors.items():
            params[name].copy_(value.to(params[name].device, params[name].dtype))


def _persistent_buffers(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The buffers a state_dict holds (the model rebuilds its non-persistent ones), by name."""
    persistent = model.state_dict(keep_vars=True).keys()
    return {n: b for n, b in model.named_buffers() if n in persistent}


def buffer_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """Persistent buffers, detached to CPU."""
    return {n: b.detach().cpu().contiguous() for n, b in _persistent_buffers(model).items()}


def load_buffers(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    buffers = _persistent_buffers(model)
    missing = [n for n in buffers if n not in tensors]
    if missing:
        raise KeyError(f"checkpoint lacks buffers: {missing[:5]}")
    with torch.no_grad():
        for name, value in tensors.items():
            buffers[name].copy_(value.to(buffers[name].device, buffers[name].dtype))


def _split_optimizer(state_dict: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for index, slots in state_dict["state"].items():
        for key, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for flat, value in list(tensors.items()) + list(meta["scalars"].items()):
        index, key = flat.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    np_state = np.random.get_state()
    tensors = {"torch_cpu": torch.get_rng_state(), "numpy_keys": torch.from_numpy(np_state[1].astype(np.int64))}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{i}"] = s
    py_version, py_state, py_gauss = random.getstate()
    meta = {"numpy": [np_state[0], int(np_state[2]), int(np_state[3]), float(np_state[4])],
            "python": [py_version, list(py_state), py_gauss]}
    return tensors, meta


def _set_rng_state(tensors: dict[str, torch.Tensor], meta: dict) -> None:
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("torch_cuda_"))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    name, pos, has_gauss, gauss = meta["numpy"]
    np.random.set_state((name, tensors["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, state, gauss_next = meta["python"]
    random.setstate((version, tuple(state), gauss_next))


def save_training_state(folder: Path, model, optimizer, scheduler, progress: dict) -> None:
    """Write a checkpoint atomically (to a temporary folder, then rename)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(trainable_state(model), str(tmp / "trainables.safetensors"))
    save_file(buffer_state(model), str(tmp / "buffers.safetensors"))
    opt_tensors, opt_meta = _split_optimizer(optimizer.state_dict())
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    rng_tensors, rng_meta = _rng_state()
    save_file(rng_tensors, str(tmp / "rng.safetensors"))
    sched = {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"}
    (tmp / STATE_JSON).write_text(json.dumps(
        {"progress": progress, "scheduler": sched, "optimizer": opt_meta, "rng": rng_meta}, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def load_training_state(folder: Path, model, optimizer, scheduler) -> dict:
    """Restore everything saved by `save_training_state`; returns the progress dict."""
    folder = Path(folder)
    meta = json.loads((folder / STATE_JSON).read_text())
    load_trainables(model, load_file(str(folder / "trainables.safetensors")))
    if (folder / "buffers.safetensors").is_file():  # checkpoints written before buffers were saved lack it
        load_buffers(model, load_file(str(folder / "buffers.safetensors")))
    optimizer.load_state_dict(_join_optimizer(load_file(str(folder / "optimizer.safetensors")), meta["optimizer"]))
    scheduler.load_state_dict({**meta["scheduler"], "lr_lambdas": [None] * len(optimizer.param_groups)})
    _set_rng_state(load_file(str(folder / "rng.safetensors")), meta["rng"])
    return meta["progress"]


def latest_checkpoint(checkpoints_dir: Path) -> Path | None:
    """The complete checkpoint with the highest step, or None."""
    folders = [p for p in Path(checkpoints_dir).glob("step-*") if (p / STATE_JSON).is_file()]
    return max(folders, key=lambda p: int(p.name.split("-")[1]), default=None)


def prune_checkpoints(checkpoints_dir: Path, keep: int) -> None:
    folders = sorted((p for p in Path(checkpoints_dir).glob("step-*") if p.is_dir() and not p.name.endswith(".tmp")),
                     key=lambda p: int(p.name.split("-")[1]))
    for old in folders[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
