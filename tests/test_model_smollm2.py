"""The default SmolLM2 backbone (slow: converts the GGUF once per test session, ~20 s)."""
import numpy as np
import pytest
import torch

from backend.model import UniPose
from backend.model.backbone import SMOLLM2, cache_dir, smollm2_folder
from support.tiny_model import tiny_pose_tokenizer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(2)
    return UniPose.from_backbone(SMOLLM2, tiny_pose_tokenizer()).eval()


def test_conversion_is_cached_by_hash(model):
    folder = smollm2_folder()
    assert folder.parent == cache_dir() and folder.name.startswith("smollm2-")
    assert (folder / "model.safetensors").is_file()
    assert model.llm.config.num_hidden_layers == 30 and model.llm.config.hidden_size == 576


def test_one_shot_pose_matches_full_forward_on_smollm2(model):
    out = model.run("text_to_pose", text="Sit on the floor with crossed legs.")
    assert len(out.poses) == 1 and out.poses[0].shape == (22, 3) and np.isfinite(out.poses[0]).all()
    from backend.model.decoding import generate
    from backend.sampling import Sampling
    from backend.model.tasks import task_messages
    prompt = model.builder.prompt(task_messages("text_to_pose", text="Sit on the floor with crossed legs.",
                                                template=0))
    codes = generate(model, prompt.input_ids, prompt.span_ids, prompt.position_ids, [], Sampling(),
                     start_with_pose=True, stop_after_pose=True)[0].pieces[0]
    sample = model.build_sample("text_to_pose", text="Sit on the floor with crossed legs.", target=codes.numpy(),
                                template=0)
    with torch.no_grad():
        logits = model(model.collate([sample])).logits[0]
    v = model.vocab
    full_codes = logits[sample.branch][:, v.first_id:v.first_id + v.codebook_size].argmax(-1)
    assert (full_codes == codes).float().mean() > 0.95  # float noise may flip a near-tie


def test_pose_to_text_generates_text(model):
    # Untrained new rows have ordinary-token statistics, so this model may open a pose span of its own
    # (<pose_start> is the one added token text mode allows); the text around it must still come back.
    out = model.run("pose_to_text", poses=[np.zeros((22, 3), np.float32)], max_new_tokens=8)
    words = out.texts[0].replace("<pose>", " ").split()
    assert len(words) >= 2 and len(out.poses) == out.texts[0].count("<pose>")
