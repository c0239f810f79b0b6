"""Sequence layout: targets, pose spans, query branch, positions, templates."""
import numpy as np
import pytest
import torch

from backend.model import IGNORE, TEMPLATES, task_messages
from backend.tasks import TASKS
from backend.model.sequence import SequenceBuilder, collate
from support.tiny_model import tiny_text_tokenizer
from backend.model.vocab import add_pose_vocab


@pytest.fixture(scope="module")
def builder():
    tokenizer = tiny_text_tokenizer()
    vocab = add_pose_vocab(tokenizer, 2048, 80)
    return SequenceBuilder(tokenizer, vocab, pose_encoder=None, num_visual_tokens=4)


def test_templates_cover_every_task_with_30_distinct_entries():
    assert set(TEMPLATES) == set(TASKS)
    for task, templates in TEMPLATES.items():
        assert len(set(templates)) >= 30, task
        spec = TASKS[task]
        for t in templates:
            assert t.count("<pose>") == spec.count("pose") and t.count("<image>") == spec.count("image"), t
            assert ("{text}" in t) == spec.needs_text, t


def test_output_pose_layout(builder):
    v = builder.vocab
    codes = np.arange(80) * 3
    sample = builder.training(task_messages("edit_pose", text="bend the knees", poses=[np.arange(80)],
                                            target=codes, template=0))
    ids, targets, pos = sample.input_ids, sample.targets, sample.position_ids
    starts = (ids == v.pose_start).nonzero().flatten().tolist()
    assert len(starts) == 2  # input pose + output pose
    out = starts[1]
    queries = slice(out + 1, out + 81)
    codes_span = slice(out + 81, out + 161)
    assert ids[queries].tolist() == v.query_ids().tolist() and sample.branch[queries].all()
    code_ids = v.code_ids(torch.tensor(codes)).tolist()
    assert targets[queries].tolist() == code_ids and ids[codes_span].tolist() == code_ids
    assert (targets[codes_span] == IGNORE).all()  # codes are inputs, the queries predict them
    assert pos[queries].tolist() == pos[codes_span].tolist() == list(range(int(pos[out]) + 1, int(pos[out]) + 81))
    assert int(ids[out + 161]) == v.pose_end and int(pos[out + 161]) == int(pos[out]) + 81
    assert targets[out - 1] == v.pose_start  # the model learns to open a pose
    assert targets[out + 161] != IGNORE  # and to go on (end of turn) after it
    assert int(sample.span_ids[queries].unique().numel()) == 1
    assert sample.span_ids[queries][0] != sample.span_ids[codes_span][0]
    prompt_targets = targets[:starts[1] - 1]
    assert (prompt_targets[: starts[0] + 82] == IGNORE).all()  # no loss on the prompt or the input pose


def test_text_answer_targets_are_next_tokens_and_images_take_slots(builder):
    sample = builder.training(task_messages("image_to_text", images=["x.png"], target="arms up", template=0))
    labelled = (sample.targets != IGNORE).nonzero().flatten()
    assert len(labelled) > 0
    assert sample.targets[labelled].tolist() == sample.input_ids[labelled + 1].tolist()
    assert int((sample.input_ids == builder.vocab.image).sum()) == 4 and sample.images == ["x.png"]
    batch = collate([sample, builder.training(task_messages("text_to_pose", text="sit", target=np.arange(80),
                                                            template=3))])
    assert batch.input_ids.shape[0] == 2 and not batch.valid[0, len(sample):].any()
    assert (batch.targets[0, len(sample):] == IGNORE).all()


def test_end_at_pose_stops_an_answer_at_its_queries_and_keeps_their_targets(builder):
    short = SequenceBuilder(builder.text_tokenizer, builder.vocab, pose_encoder=None, end_at_pose=True)
    codes = np.arange(80) * 5
    messages = task_messages("edit_pose", text="bend the knees", poses=[np.arange(80)], target=codes, template=0)
    full, cut = builder.training(messages), short.training(messages)
    v = builder.vocab
    assert int(cut.input_ids[-1]) == v.query_ids()[-1] and cut.branch[-80:].all()
    assert len(full) - len(cut) >= 82  # no codes, no <pose_end>, no end of turn
    assert cut.input_ids.tolist() == full.input_ids[:len(cut)].tolist()
    assert cut.targets.tolist() == full.targets[:len(cut)].tolist()  # the same query targets, the same prompt
    assert cut.position_ids.tolist() == full.position_ids[:len(cut)].tolist()
    # a text answer is unchanged
    text = task_messages("pose_to_text", poses=[np.arange(80)], target="arms up", template=0)
    assert short.training(text).input_ids.tolist() == builder.training(text).input_ids.tolist()
