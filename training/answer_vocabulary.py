"""Store a checkpoint's answer vocabulary (backend/model/answer_vocabulary.py): the text tokens of every
text answer in the corpus's training split.

    python -m training.answer_vocabulary CHECKPOINT [--corpus data/corpus/v2]

Writes CHECKPOINT/unipose/answer_tokens.safetensors; text answers then use only those tokens (faster
decoding, the same greedy answers wherever the model wrote taught tokens anyway).
"""
import argparse
from pathlib import Path

from backend.tasks import TEXT_TASKS


def answer_texts(corpus) -> list[str]:
    """Every training target of the text-output tasks."""
    from training.task_records import task_records
    return [record["text"] for task in TEXT_TASKS for record in task_records(corpus, task, "train")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--corpus", default="data/corpus/v2")
    args = parser.parse_args(argv)

    from transformers import AutoTokenizer
    from backend.model.answer_vocabulary import answer_token_ids, save_answer_tokens
    from backend.model.checkpoint import MODEL_DIR, TEXT_TOKENIZER_DIR
    from training.task_records import load_corpus

    folder = args.checkpoint / MODEL_DIR
    texts = answer_texts(load_corpus(args.corpus))
    ids = answer_token_ids(AutoTokenizer.from_pretrained(folder / TEXT_TOKENIZER_DIR), texts)
    print(f"{len(ids)} answer tokens from {len(set(texts))} distinct answers; wrote {save_answer_tokens(ids, folder)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
