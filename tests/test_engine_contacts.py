"""The engine refines generated poses so that the contacts a prompt names really touch."""
import numpy as np

from backend.contact import apply_contacts
from backend.engine import Sampling, UniPoseEngine
from backend.posefile import Pose, pose_to_dict
from tests._server_fakes import FakeModel


def _hand_gap(pose: np.ndarray) -> float:
    """Surface gap between the right palm and the left knee, measured before any refinement."""
    (contact,) = apply_contacts(pose, "right hand on the left knee")[1]["contacts"]
    return contact["gap_before"]


def test_text_to_pose_makes_named_contact_touch():
    engine = UniPoseEngine(FakeModel())
    raw = engine.model.run("text_to_pose", text="x", seed=3).poses[0]
    refined = engine.text_to_pose("right hand on the left knee", Sampling(seed=3))[0]
    assert _hand_gap(raw) > 0.2
    assert _hand_gap(refined) < 0.035


def test_edit_pose_refines_with_the_instruction_and_plain_text_is_untouched():
    engine = UniPoseEngine(FakeModel())
    start = pose_to_dict(Pose(np.zeros((22, 3))))
    refined = engine.edit_pose(start, "put your right hand on your left knee", Sampling(seed=1))[0]
    assert _hand_gap(refined) < 0.035
    plain = engine.text_to_pose("a person waving", Sampling(seed=5))[0]
    raw = FakeModel().run("text_to_pose", text="a person waving", seed=5).poses[0]
    np.testing.assert_allclose(plain, raw.astype(np.float32), atol=1e-6)


def test_refinement_can_be_switched_off():
    engine = UniPoseEngine(FakeModel(), refine_contacts=False)
    raw = FakeModel().run("text_to_pose", text="x", seed=3).poses[0]
    out = engine.text_to_pose("right hand on the left knee", Sampling(seed=3))[0]
    np.testing.assert_allclose(out, raw.astype(np.float32), atol=1e-6)
