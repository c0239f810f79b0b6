"""The answer vocabulary: text answers use only the tokens a checkpoint stores, measured from the corpus."""
import shutil

import numpy as np
import pytest
import torch

from backend.model import UniPose
from backend.model.answer_vocabulary import ANSWER_TOKENS_NAME, answer_token_ids
from backend.model.decoding import generate
from backend.sampling import Sampling
from support.tiny_model import make_tiny_checkpoint
from support.toy_corpus import write_toy_corpus

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"), seed=0)


def _answer_tokens(model, pose) -> list[int]:
    """The text token ids of a greedy pose -> text answer (12 tokens at most)."""
    prompt = model.builder.prompt(model._messages("pose_to_text", poses=[pose], template=0))
    answer = generate(model, prompt.input_ids, prompt.span_ids, prompt.position_ids, [], Sampling(max_new_tokens=12))
    return [token for piece in answer[0].pieces if isinstance(piece, list) for token in piece]


def test_text_answers_keep_to_the_answer_vocabulary(checkpoint):
    model = UniPose.from_pretrained(checkpoint, dtype="float32")
    poses = [(np.random.default_rng(seed).standard_normal((22, 3)) * 0.3).astype(np.float32) for seed in range(3)]
    free = [_answer_tokens(model, pose) for pose in poses]
    written = {t for tokens in free for t in tokens}
    assert model.answer_ids is None and written

    model.answer_ids = torch.tensor(sorted(written))
    assert [_answer_tokens(model, pose) for pose in poses] == free  # greedy answers inside the vocabulary stay

    others = sorted(set(range(model.vocab.first_id)) - written - model.eos_ids)
    model.answer_ids = torch.tensor(others[::7])
    kept = [_answer_tokens(model, pose) for pose in poses]
    assert all(tokens and set(tokens) <= set(others[::7]) for tokens in kept)

def test_the_command_stores_every_training_answer_token_and_the_checkpoint_keeps_it(checkpoint, tmp_path):
    from training.answer_vocabulary import answer_texts, main
    from training.task_records import load_corpus

    target = tmp_path / "ckpt"
    shutil.copytree(checkpoint, target)
    corpus = write_toy_corpus(tmp_path / "corpus")
    assert main([str(target), "--corpus", str(corpus)]) == 0
    assert (target / "unipose" / ANSWER_TOKENS_NAME).is_file()
    model = UniPose.from_pretrained(target, dtype="float32")
    texts = answer_texts(load_corpus(corpus))
    assert torch.equal(model.answer_ids, answer_token_ids(model.text_tokenizer, texts))
    caption = model.text_tokenizer(texts[0], add_special_tokens=False)["input_ids"]
    assert set(caption) <= set(model.answer_ids.tolist()) < set(range(len(model.text_tokenizer)))

    model.save_pretrained(tmp_path / "saved")
    assert torch.equal(UniPose.from_pretrained(tmp_path / "saved", dtype="float32").answer_ids, model.answer_ids)
