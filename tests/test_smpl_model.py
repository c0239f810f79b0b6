"""SMPL-family loading without chumpy, on synthetic model files written here in the official layout.

Never uses real (licensed) model files. The synthetic model has a random template around the project
skeleton, a sparse joint regressor, random skinning weights and blend shapes.
"""
import pickle
import sys
import types

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from backend.body import kinematics
from backend.body.skeleton import NEUTRAL_REST_JOINTS, PARENTS
from backend.body.smpl_model import SmplBodyModel, SmplModelError, find_model_file, load_model_arrays, read_model_pickle


class FakeCh:
    """Pickles like chumpy's Ch: class chumpy.ch.Ch, its value stored in the state dict under 'x'."""

    def __init__(self, x):
        self.x = x
        self._dirty_vars = set()


@pytest.fixture
def fake_chumpy(monkeypatch):
    package, module = types.ModuleType("chumpy"), types.ModuleType("chumpy.ch")
    FakeCh.__module__, FakeCh.__qualname__ = "chumpy.ch", "Ch"
    module.Ch = FakeCh
    monkeypatch.setitem(sys.modules, "chumpy", package)
    monkeypatch.setitem(sys.modules, "chumpy.ch", module)
    return FakeCh


def synthetic_smpl(num_vertices=300, seed=0, num_joints=24, parents=PARENTS) -> dict:
    rng = np.random.default_rng(seed)
    v = num_vertices
    owner = rng.integers(0, 24, size=v)
    template = NEUTRAL_REST_JOINTS[owner] + rng.normal(scale=0.03, size=(v, 3))
    regressor = np.zeros((num_joints, v))
    for j in range(num_joints):
        picked = rng.choice(np.flatnonzero(owner == j % 24), size=3, replace=True)
        regressor[j, picked] += 1.0 / 3
    weights = rng.dirichlet(np.ones(num_joints) * 0.3, size=v)
    weights[np.arange(v), owner] += 2.0
    weights /= weights.sum(1, keepdims=True)
    kintree = np.stack([np.asarray(parents), np.arange(num_joints)]).astype(np.uint32)  # root parent 2**32-1
    return {
        "v_template": template,
        "f": rng.integers(0, v, size=(2 * v, 3)).astype(np.uint32),
        "J_regressor": sp.csc_matrix(regressor),
        "kintree_table": kintree,
        "weights": weights,
        "shapedirs": rng.normal(scale=0.01, size=(v, 3, 10)),
        "posedirs": rng.normal(scale=0.01, size=(v, 3, 9 * (num_joints - 1))),
        "bs_type": "lrotmin",
        "bs_style": "lbs",
    }


def tube_smpl(radius=0.05, sides=8) -> dict:
    """A model whose mesh is one tube per bone around the project skeleton, rigid to the parent joint."""
    rest = NEUTRAL_REST_JOINTS
    vertices, faces, owner = list(rest), [], list(range(24))  # first 24 vertices sit on the joints
    angles = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    for j in range(1, 24):
        p = int(PARENTS[j])
        axis = (rest[j] - rest[p]) / np.linalg.norm(rest[j] - rest[p])
        u = np.cross(axis, [0.0, 0.0, 1.0] if abs(axis[2]) < 0.9 else [1.0, 0.0, 0.0])
        u /= np.linalg.norm(u)
        w = np.cross(axis, u)
        base = len(vertices)
        for end in (rest[p], rest[j]):
            vertices += [end + radius * (np.cos(a) * u + np.sin(a) * w) for a in angles]
            owner += [p] * sides
        for k in range(sides):
            a, b, c, d = base + k, base + (k + 1) % sides, base + sides + k, base + sides + (k + 1) % sides
            faces += [(a, b, c), (b, d, c)]
    v = len(vertices)
    weights = np.zeros((v, 24))
    weights[np.arange(v), owner] = 1.0
    regressor = np.zeros((24, v))
    regressor[np.arange(24), np.arange(24)] = 1.0
    return {
        "v_template": np.array(vertices), "f": np.array(faces, dtype=np.uint32),
        "J_regressor": sp.csc_matrix(regressor),
        "kintree_table": np.stack([PARENTS, np.arange(24)]).astype(np.uint32), "weights": weights,
        "shapedirs": np.zeros((v, 3, 10)), "posedirs": np.zeros((v, 3, 207)),
    }


def test_tube_model_rest_joints_are_the_skeletons(tmp_path):
    write_official_pickle(tmp_path / "SMPL_NEUTRAL.pkl", tube_smpl())
    model = SmplBodyModel.from_path(tmp_path)
    assert np.allclose(model.rest_joints(), NEUTRAL_REST_JOINTS)
    pose = np.random.default_rng(7).normal(scale=0.4, size=(22, 3))
    assert np.allclose(model.pose_joints(pose), kinematics.pose_joints(pose))
    assert set(model.vertex_sides()) == {"left", "right", "center"}


def write_official_pickle(path, data, chumpy_class=None):
    """Like the released SMPL files: protocol 2, chumpy objects for the blend shapes."""
    data = dict(data)
    if chumpy_class is not None:
        data["shapedirs"] = chumpy_class(data["shapedirs"])
        data["posedirs"] = chumpy_class(data["posedirs"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(data, handle, protocol=2)


def test_reads_chumpy_pickles_without_chumpy(tmp_path, fake_chumpy):
    data = synthetic_smpl()
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    write_official_pickle(path, data, fake_chumpy)
    assert b"chumpy.ch" in path.read_bytes()
    loaded = read_model_pickle(path)
    assert isinstance(loaded["shapedirs"], np.ndarray) and np.array_equal(loaded["shapedirs"], data["shapedirs"])
    assert np.allclose(loaded["J_regressor"], data["J_regressor"].toarray())
    assert loaded["bs_style"] == "lbs"


def test_refuses_other_classes(tmp_path):
    class Evil:
        def __reduce__(self):
            import os
            return (os.system, ("echo pwned",))

    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps({"v_template": Evil()}, protocol=2))
    with pytest.raises(SmplModelError, match="refusing to load"):
        read_model_pickle(path)


def test_find_model_file_layouts(tmp_path):
    with pytest.raises(SmplModelError, match="no body model file"):
        find_model_file(tmp_path)
    (tmp_path / "smpl").mkdir()
    (tmp_path / "smpl" / "SMPL_NEUTRAL.pkl").write_bytes(b"")
    assert find_model_file(tmp_path) == (tmp_path / "smpl" / "SMPL_NEUTRAL.pkl", "smpl")
    (tmp_path / "SMPLX_NEUTRAL.npz").write_bytes(b"")
    assert find_model_file(tmp_path, "smplx") == (tmp_path / "SMPLX_NEUTRAL.npz", "smplx")
    (tmp_path / "basicModel_f_lbs_10_207_0_v1.0.0.pkl").write_bytes(b"")
    assert find_model_file(tmp_path, gender="female")[0].name == "basicModel_f_lbs_10_207_0_v1.0.0.pkl"


def test_posing_matches_the_skeleton_fk_with_the_models_rest_joints(tmp_path, fake_chumpy):
    write_official_pickle(tmp_path / "SMPL_NEUTRAL.pkl", synthetic_smpl(), fake_chumpy)
    model = SmplBodyModel.from_path(tmp_path)
    assert model.model_type == "smpl" and model.faces.shape == (600, 3) and model.num_vertices == 300
    rest = model.rest_joints()  # (24, 3)
    pose = np.random.default_rng(1).normal(scale=0.5, size=(2, 3, 22, 3))
    out = model(pose)
    assert out.vertices.shape == (2, 3, 300, 3) and out.joints.shape == (2, 3, 24, 3)
    expected = kinematics.pose_joints(pose, rest_joints=rest)
    assert np.allclose(out.joints, expected, atol=1e-9)
    assert np.allclose(model.pose_joints(pose[0, 0], transl=np.array([0, 1.0, 0])), expected[0, 0] + [0, 1, 0])
    # the mesh moves with the pose: a bent left knee moves vertices
    assert not np.allclose(out.vertices[0, 0], model(np.zeros((22, 3))).vertices)


def test_betas_and_torch_inputs(tmp_path):
    write_official_pickle(tmp_path / "model.pkl", synthetic_smpl(seed=2))
    model = SmplBodyModel.from_path(tmp_path / "model.pkl", num_betas=10)
    pose = torch.zeros(4, 22, 3, dtype=torch.float64, requires_grad=True)
    out = model(pose, betas=torch.ones(10, dtype=torch.float64))
    assert isinstance(out.vertices, torch.Tensor) and out.vertices.shape == (4, 300, 3)
    out.joints[:, 20].sum().backward()
    assert torch.isfinite(pose.grad).all()
    assert not np.allclose(model.rest_joints(betas=np.ones(10)), model.rest_joints())


def test_smplh_npz_uses_the_first_22_joints_and_finger_bases_for_hands(tmp_path):
    smplh_parents = list(PARENTS[:22]) + [20] * 15 + [21] * 15  # fingers hang off the wrists (simplified)
    data = synthetic_smpl(num_vertices=400, num_joints=52, parents=smplh_parents)
    data["J_regressor"] = data["J_regressor"].toarray()
    np.savez(tmp_path / "SMPLH_NEUTRAL.npz", **{k: v for k, v in data.items() if isinstance(v, np.ndarray)})
    model = SmplBodyModel.from_path(tmp_path)
    assert model.model_type == "smplh"
    all_joints = data["J_regressor"] @ data["v_template"]
    rest = model.rest_joints()
    assert np.allclose(rest[:22], all_joints[:22]) and np.allclose(rest[22:], all_joints[[25, 40]])


def test_missing_arrays_are_named(tmp_path):
    data = synthetic_smpl()
    del data["weights"]
    write_official_pickle(tmp_path / "SMPL_NEUTRAL.pkl", data)
    with pytest.raises(SmplModelError, match="missing weights"):
        load_model_arrays(tmp_path / "SMPL_NEUTRAL.pkl")


def test_matches_smplx_own_smpl_class(tmp_path):
    """Same vertices and joints as smplx.create on a full-size (6890-vertex) synthetic file."""
    import smplx

    data = synthetic_smpl(num_vertices=6890, seed=4)
    data["posedirs"] = data["posedirs"].astype(np.float32)
    write_official_pickle(tmp_path / "smpl" / "SMPL_NEUTRAL.pkl", data)  # plain arrays: smplx can read it
    reference = smplx.create(str(tmp_path), model_type="smpl", gender="neutral", dtype=torch.float64)
    ours = SmplBodyModel.from_path(tmp_path)
    pose = np.random.default_rng(5).normal(scale=0.4, size=(2, 22, 3))
    betas = np.random.default_rng(6).normal(size=(2, 10))
    full = np.concatenate([pose, np.zeros((2, 2, 3))], 1)
    expected = reference(
        global_orient=torch.from_numpy(full[:, 0]), body_pose=torch.from_numpy(full[:, 1:].reshape(2, -1)),
        betas=torch.from_numpy(betas),
    )
    got = ours(pose, betas=betas)
    assert np.allclose(got.vertices, expected.vertices.detach().numpy(), atol=1e-5)
    assert np.allclose(got.joints, expected.joints[:, :24].detach().numpy(), atol=1e-5)


def test_render_draws_the_mesh_with_sides_coloured(tmp_path):
    from backend.body.example_poses import EXAMPLE_POSES
    from backend.render import COLOURS, render_pose

    write_official_pickle(tmp_path / "SMPL_NEUTRAL.pkl", tube_smpl())
    model = SmplBodyModel.from_path(tmp_path)
    image = np.asarray(render_pose(EXAMPLE_POSES["t_pose"], size=160, body_model=model)).astype(float)
    front = image[:, :160]

    def columns_of(colour):
        c = np.asarray(colour, float)
        direction = np.linalg.norm(front / (np.linalg.norm(front, axis=-1, keepdims=True) + 1e-9)
                                   - c / np.linalg.norm(c), axis=-1)
        return np.nonzero(direction[: int(0.8 * 160)] < 0.1)[1]

    left, right = columns_of(COLOURS["left"]), columns_of(COLOURS["right"])
    assert len(left) > 100 and len(right) > 100 and left.mean() > 80 > right.mean()


def test_render_command_uses_a_model_folder(tmp_path, capsys):
    from backend.cli import main
    from backend.posefile import Pose, save_pose

    write_official_pickle(tmp_path / "models" / "smpl" / "SMPL_NEUTRAL.pkl", tube_smpl())
    save_pose(Pose(np.zeros((22, 3))), tmp_path / "pose.json")
    out = tmp_path / "pose.png"
    assert main(["render", str(tmp_path / "pose.json"), "-o", str(out), "--smpl", str(tmp_path / "models")]) == 0
    assert out.exists()
    assert main(["render", str(tmp_path / "pose.json"), "-o", str(out), "--smpl", str(tmp_path)]) == 2
    assert "no body model file" in capsys.readouterr().err
