"""Train the evaluation suite's two retrieval models on a corpus's training split and save them.

pose_text/: pose <-> caption (text->pose and pose->text tasks); pair_text/: (pose A, pose B) <-> modification
text (editing and difference tasks). Both use MiniLM sentence embeddings as the text backbone.
"""
import json
from pathlib import Path

import numpy as np
import torch

from training.task_records import Corpus
from training.retrieval.model import RetrievalConfig, RetrievalModel
from training.retrieval.text_backbone import shared_sentence_encoder
from training.retrieval.train import RetrievalData, train_retrieval

POSE_TEXT, PAIR_TEXT = "pose_text", "pair_text"


class TextEmbeddings:
    """MiniLM embeddings of texts, computed once per distinct text."""

    def __init__(self):
        self.cache: dict[str, torch.Tensor] = {}

    def __call__(self, texts: list[str]) -> torch.Tensor:
        """(N,) texts -> (N, 384)."""
        missing = sorted({t for t in texts if t not in self.cache})
        if missing:
            for text, emb in zip(missing, shared_sentence_encoder().encode(missing)):
                self.cache[text] = emb
        return torch.stack([self.cache[t] for t in texts]) if texts else torch.zeros(0, 384)


def pose_text_data(corpus: Corpus, split: str, embed: TextEmbeddings, max_items: int | None = None,
                   seed: int = 0) -> RetrievalData:
    ids = [i for i in corpus.split_ids(split) if corpus.captions.get(i)]
    if max_items is not None and len(ids) > max_items:
        ids = [ids[k] for k in np.sort(np.random.default_rng(seed).choice(len(ids), max_items, replace=False))]
    poses = torch.from_numpy(np.stack([corpus.pose(i) for i in ids])) if ids else torch.zeros(0, 22, 3)
    return RetrievalData(poses=poses, texts=[embed(corpus.captions[i]) for i in ids])


def pair_text_data(corpus: Corpus, split: str, embed: TextEmbeddings, max_items: int | None = None,
                   seed: int = 0) -> RetrievalData:
    members = set(corpus.split_ids(split))
    pairs = [p for p in corpus.pairs if p[0] in members and p[1] in members and p[2]]
    if max_items is not None and len(pairs) > max_items:
        pairs = [pairs[k] for k in np.sort(np.random.default_rng(seed).choice(len(pairs), max_items, replace=False))]
    def stack(key: int) -> torch.Tensor:
        return torch.from_numpy(np.stack([corpus.pose(p[key]) for p in pairs])) if pairs else torch.zeros(0, 22, 3)

    return RetrievalData(poses=stack(0), poses_b=stack(1), texts=[embed(p[2]) for p in pairs])


def fit_retrieval_models(corpus: Corpus, out_dir: Path, epochs: int = 30, batch_size: int = 64,
                         max_items: int | None = None, seed: int = 0, log=print) -> dict[str, RetrievalModel]:
    """Train (or load, when already saved in out_dir) both retrieval models."""
    out_dir = Path(out_dir)
    embed = TextEmbeddings()
    models = {}
    for name, kind, build in ((POSE_TEXT, "pose", pose_text_data), (PAIR_TEXT, "pair", pair_text_data)):
        folder = out_dir / name
        if (folder / "model.safetensors").is_file():
            models[name] = RetrievalModel.from_pretrained(folder)
            continue
        data = build(corpus, "train", embed, max_items, seed)
        if len(data.poses) < 2:
            log(f"retrieval {name}: not enough training data ({len(data.poses)} items), skipped")
            continue
        torch.manual_seed(seed)
        model = RetrievalModel(RetrievalConfig(kind=kind))
        losses = train_retrieval(model, data, epochs=epochs, batch_size=batch_size, seed=seed)
        log(f"retrieval {name}: {len(data.poses)} items, loss {losses[0]:.3f} -> {losses[-1]:.3f}")
        model.save_pretrained(folder)
        (folder / "training.json").write_text(json.dumps(
            {"items": len(data.poses), "epochs": epochs, "first_loss": losses[0], "last_loss": losses[-1]}))
        models[name] = model
    return models
