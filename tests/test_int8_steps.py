"""Int8 text steps: a served model writes its one-token text steps with an int8 copy of the decoder, close to the
full-precision steps, and chooses pose codes in full precision only."""
import numpy as np
import pytest
import torch

from backend.engine import UniPoseEngine
from backend.model import UniPose
from backend.model.decoding import generate
from backend.model.int8_steps import Int8Linear, int8_available, use_int8_steps
from backend.sampling import Sampling
from support.tiny_model import make_tiny_checkpoint

torch.set_num_threads(2)
needs_int8 = pytest.mark.skipif(not int8_available("cpu"), reason="this CPU runs no int8 dynamic quantization")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny"), seed=0)


def _pose(seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((22, 3)) * 0.3).astype(np.float32)


def test_text_steps_choice_is_checked():
    from backend.cli.serve import TEXT_STEPS as CLI_CHOICES
    from backend.model.int8_steps import TEXT_STEPS

    assert CLI_CHOICES == TEXT_STEPS  # the command line keeps its own copy so that --help stays fast
    with pytest.raises(ValueError, match="text_steps must be one of"):
        use_int8_steps("fast", "cpu")
    with pytest.raises(ValueError, match="do not run on meta"):
        use_int8_steps("int8", "meta")
    assert not use_int8_steps("auto", "meta") and not use_int8_steps("full", "cpu")


@needs_int8
def test_int8_linear_is_close_to_its_linear_in_its_input_dtype():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 96, bias=False).to(torch.bfloat16)
    x = torch.randn(3, 64, dtype=torch.bfloat16)
    out = Int8Linear(linear)(x)
    expected = linear(x).float()
    assert out.dtype == torch.bfloat16 and out.shape == (3, 96)
    assert (out.float() - expected).norm() / expected.norm() < 0.03


@needs_int8
def test_int8_steps_only_write_text_and_stay_close(checkpoint):
    full = UniPose.from_pretrained(checkpoint, dtype="float32", text_steps="full")
    int8 = UniPose.from_pretrained(checkpoint, dtype="float32", text_steps="int8")
    assert int8._step_decoder is None  # built on the first text step, not at load
    assert full.step_decoder() is None and int8.step_decoder() is not None
    assert UniPose.from_pretrained(checkpoint, trainable=True, text_steps="int8").step_decoder() is None
    assert int8.step_decoder().embed_tokens is int8.llm.get_decoder().embed_tokens  # shared, not copied
    assert [UniPoseEngine(m, device="cpu").status()["text_steps"] for m in (full, int8)] == ["full", "int8"]

    steps = []  # the lengths of the chunks fed to the int8 copy
    int8.step_decoder().register_forward_pre_hook(
        lambda module, args, kwargs: steps.append(kwargs["inputs_embeds"].shape[1]), with_kwargs=True)
    for task, poses in (("text_to_pose", []), ("edit_pose", [_pose(1)])):
        answers = [model.run(task, text="raise the left arm", poses=poses).poses[0] for model in (full, int8)]
        assert np.allclose(answers[0], answers[1])
    assert steps == []  # pose answers never go through the int8 copy

    prompt = int8.builder.prompt(int8._messages("pose_to_text", poses=[_pose(2)], template=0))
    generate(int8, prompt.input_ids, prompt.span_ids, prompt.position_ids, [], Sampling(max_new_tokens=12))
    assert steps and set(steps) == {1}  # one-token text steps only


@needs_int8
def test_an_int8_step_reads_and_extends_the_full_precision_cache(checkpoint):
    from transformers import DynamicCache

    model = UniPose.from_pretrained(checkpoint, dtype="float32", text_steps="int8")
    decoder = model.llm.get_decoder()
    torch.manual_seed(0)
    prefix, step = torch.randn(1, 9, decoder.config.hidden_size), torch.randn(1, 1, decoder.config.hidden_size)
    hidden, lengths = [], []
    for stepper in (decoder, model.step_decoder()):
        cache = DynamicCache()
        with torch.no_grad():
            decoder(inputs_embeds=prefix, past_key_values=cache, use_cache=True)  # (1, 9, H) in full precision
            hidden.append(stepper(inputs_embeds=step, past_key_values=cache, use_cache=True,
                                  position_ids=torch.tensor([[9]])).last_hidden_state)  # (1, 1, H)
        lengths.append(cache.get_seq_length())
    assert lengths == [10, 10]
    assert (hidden[1] - hidden[0]).norm() / hidden[0].norm() < 0.05
