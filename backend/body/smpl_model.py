"""Real SMPL / SMPL-H / SMPL-X bodies from the user's own licensed model files, posed through `smplx`.

Nothing here ships or downloads model files: the user points to a folder holding e.g. `SMPL_NEUTRAL.pkl`
(also `smpl/SMPL_NEUTRAL.pkl` as `smplx.create` lays it out, the official
`basicModel_neutral_lbs_10_207_0_v1.0.0.pkl`, `SMPLH_NEUTRAL.pkl|npz`, `SMPLX_NEUTRAL.npz|pkl`).

Official SMPL pickles reference `chumpy`, which does not import on current numpy. `load_model_arrays`
reads them with a restricted unpickler: `chumpy.*` classes become a stub whose stored value is kept,
scipy sparse matrices are rebuilt from their stored arrays, numpy arrays load through numpy's own
reconstructors, and every other class is refused. This is the only pickle reading in the project.

Posing uses `smplx.lbs.lbs` on the loaded arrays. A pose is the project's (..., 22, 3) axis-angle; the
extra joints of SMPL-H/SMPL-X (hands, jaw, eyes) stay at zero (flat hands). Outputs follow
`backend.body.kinematics.pose_joints`: joints (..., 24, 3) in SMPL joint order, where `left_hand` /
`right_hand` of SMPL-H/SMPL-X are their middle-finger base joints. Coordinates are the model's own
(the SMPL frame; the template's pelvis is not at the origin, unlike the project skeleton).
"""
import codecs
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.body.skeleton import NUM_JOINTS, NUM_POSE_JOINTS

MODEL_TYPES = ("smpl", "smplh", "smplx")
# joints per model and where our 24 joints sit among them (first 22 are shared by all three)
_NUM_MODEL_JOINTS = {"smpl": 24, "smplh": 52, "smplx": 55}
_HAND_JOINTS = {"smpl": (22, 23), "smplh": (25, 40), "smplx": (28, 43)}  # left/right middle1 for H and X
_NEEDED = ("v_template", "f", "J_regressor", "kintree_table", "weights", "shapedirs", "posedirs")


class SmplModelError(ValueError):
    """A missing, unreadable or malformed body model file."""


# ---------------------------------------------------------------- restricted, chumpy-free unpickling


class _ChumpyStub:
    """Stands in for any chumpy class; keeps the pickled state (chumpy stores its value under 'x')."""

    def __init__(self, *args, **kwargs):
        self.state = None

    def __setstate__(self, state):
        self.state = state

    def value(self):
        if isinstance(self.state, dict) and "x" in self.state:
            return np.asarray(_plain(self.state["x"]))
        return None


class _SparseStub:
    """Stands in for a pickled scipy.sparse matrix; rebuilt from its stored arrays by `_plain`."""

    sparse_format = "csc"

    def __init__(self, *args, **kwargs):
        self.state = None

    def __setstate__(self, state):
        self.state = state


_SPARSE_STUBS = {fmt: type(f"_Sparse_{fmt}", (_SparseStub,), {"sparse_format": fmt}) for fmt in ("csc", "csr", "coo")}


def _reconstructor(cls, base, state):
    """copyreg._reconstructor, limited to the stub classes (protocol 0/1 pickles of new-style objects)."""
    if not (isinstance(cls, type) and issubclass(cls, (_ChumpyStub, _SparseStub))):
        raise pickle.UnpicklingError(f"refusing to reconstruct {cls!r}")
    return cls()


def _numpy_globals() -> dict[tuple[str, str], object]:
    from numpy.core import multiarray

    allowed = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy.core.multiarray", "scalar"): multiarray.scalar,
        ("copy_reg", "_reconstructor"): _reconstructor,
        ("copyreg", "_reconstructor"): _reconstructor,
        ("_codecs", "encode"): codecs.encode,  # how Python 3 writes array bytes in protocol-2 pickles
    }
    for builtin in (object, set, frozenset):
        allowed[("__builtin__", builtin.__name__)] = allowed[("builtins", builtin.__name__)] = builtin
    # numpy 2 writes `numpy._core`; accept its pickles too
    for (module, name), value in list(allowed.items()):
        if module.startswith("numpy.core"):
            allowed[(module.replace("numpy.core", "numpy._core"), name)] = value
    return allowed


class _RestrictedUnpickler(pickle.Unpickler):
    _allowed = None

    def find_class(self, module: str, name: str):
        if module == "chumpy" or module.startswith("chumpy."):
            return _ChumpyStub
        if module.startswith("scipy.sparse"):
            fmt = name.split("_")[0]
            if fmt in _SPARSE_STUBS and name.endswith("_matrix"):
                return _SPARSE_STUBS[fmt]
        if _RestrictedUnpickler._allowed is None:
            _RestrictedUnpickler._allowed = _numpy_globals()
        try:
            return _RestrictedUnpickler._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a body model file") from None


def _plain(value):
    """Stubs -> numpy arrays (sparse matrices densified); anything else unchanged."""
    if isinstance(value, _ChumpyStub):
        return value.value()
    if isinstance(value, _SparseStub):
        state = value.state or {}
        shape = tuple(state.get("_shape") or state.get("shape") or ())
        dense = np.zeros(shape)
        if value.sparse_format == "coo":
            np.add.at(dense, (np.asarray(state["row"]), np.asarray(state["col"])), np.asarray(state["data"]))
            return dense
        data, indices, indptr = (np.asarray(state[k]) for k in ("data", "indices", "indptr"))
        for outer in range(len(indptr) - 1):
            span = slice(indptr[outer], indptr[outer + 1])
            if value.sparse_format == "csc":
                dense[indices[span], outer] = data[span]
            else:
                dense[outer, indices[span]] = data[span]
        return dense
    return value


def read_model_pickle(path: str | Path) -> dict:
    """Load an official SMPL-family `.pkl` without chumpy or scipy code. -> {key: numpy array or value}."""
    with open(path, "rb") as handle:
        try:
            data = _RestrictedUnpickler(handle, encoding="latin1").load()
        except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as error:
            raise SmplModelError(f"{path}: not a readable body model pickle ({error})") from None
    if not isinstance(data, dict):
        raise SmplModelError(f"{path}: expected a dict of model arrays, got {type(data).__name__}")
    return {key: _plain(value) for key, value in data.items()}


def load_model_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays `lbs` needs from a `.pkl` or `.npz` model file (numpy only, no object arrays)."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in _NEEDED if k not in npz.files]
            if missing:
                raise SmplModelError(f"{path}: missing {', '.join(missing)}")
            return {k: np.asarray(npz[k]) for k in _NEEDED}
    data = read_model_pickle(path)
    missing = [k for k in _NEEDED if data.get(k) is None]
    if missing:
        raise SmplModelError(f"{path}: missing {', '.join(missing)}")
    return {k: np.asarray(data[k]) for k in _NEEDED}


# ---------------------------------------------------------------- finding the user's files

_CANDIDATES = {
    "smpl": ("SMPL_{G}.pkl", "basicModel_{g1}_lbs_10_207_0_v1.0.0.pkl", "basicmodel_{g1}_lbs_10_207_0_v1.0.0.pkl"),
    "smplh": ("SMPLH_{G}.pkl", "SMPLH_{G}.npz", "{g}/model.npz"),
    "smplx": ("SMPLX_{G}.npz", "SMPLX_{G}.pkl"),
}


def find_model_file(folder: str | Path, model_type: str | None = None, gender: str = "neutral") -> tuple[Path, str]:
    """Locate a model file in `folder` (or in `folder/<model_type>/`). -> (path, model type).

    Without `model_type`, SMPL is preferred, then SMPL-H, then SMPL-X.
    """
    folder = Path(folder)
    if folder.is_file():
        name = folder.name.lower()
        guess = "smplx" if "smplx" in name else "smplh" if "smplh" in name else "smpl"
        return folder, model_type or guess
    g1 = {"neutral": "neutral", "male": "m", "female": "f"}.get(gender, gender)
    types = (model_type,) if model_type else MODEL_TYPES
    for kind in types:
        if kind not in _CANDIDATES:
            raise SmplModelError(f"unknown model type {kind!r}; expected one of {', '.join(MODEL_TYPES)}")
        for pattern in _CANDIDATES[kind]:
            name = pattern.format(G=gender.upper(), g=gender.lower(), g1=g1)
            for base in (folder, folder / kind):
                if (base / name).is_file():
                    return base / name, kind
    wanted = ", ".join(p.format(G=gender.upper(), g=gender.lower(), g1=g1) for k in types for p in _CANDIDATES[k])
    raise SmplModelError(f"no body model file in {folder} (looked for {wanted})")


# ---------------------------------------------------------------- the posable body


@dataclass
class BodyOutput:
    vertices: object  # (..., V, 3), numpy or torch like the input pose
    joints: object  # (..., 24, 3)


class SmplBodyModel:
    """A SMPL-family body for (..., 22, 3) poses. Build with `from_path` or `from_arrays`."""

    def __init__(self, arrays: dict[str, np.ndarray], model_type: str = "smpl", num_betas: int = 10):
        import torch

        if model_type not in MODEL_TYPES:
            raise SmplModelError(f"unknown model type {model_type!r}; expected one of {', '.join(MODEL_TYPES)}")
        self.model_type = model_type
        num_joints = _NUM_MODEL_JOINTS[model_type]
        kintree = np.asarray(arrays["kintree_table"])
        if kintree.shape != (2, num_joints):
            raise SmplModelError(f"{model_type}: kintree_table has shape {kintree.shape}, expected (2, {num_joints})")
        shapedirs = np.asarray(arrays["shapedirs"], dtype=np.float64)
        # SMPL-X stores 300 shape then 100 expression directions; betas are the shape ones
        shape_space = 300 if model_type == "smplx" else shapedirs.shape[-1]
        self.num_betas = int(min(num_betas, shape_space, shapedirs.shape[-1]))
        posedirs = np.asarray(arrays["posedirs"], dtype=np.float64)
        parents = kintree[0].astype(np.int64)
        parents[0] = -1
        self.faces = np.asarray(arrays["f"], dtype=np.int64)  # (F, 3)
        self.parents = parents  # (J,)
        self._v_template = torch.as_tensor(np.asarray(arrays["v_template"], dtype=np.float64))  # (V, 3)
        self._shapedirs = torch.as_tensor(shapedirs[:, :, : self.num_betas].copy())  # (V, 3, B)
        self._posedirs = torch.as_tensor(posedirs.reshape(-1, posedirs.shape[-1]).T.copy())  # (P, V*3)
        self._j_regressor = torch.as_tensor(np.asarray(arrays["J_regressor"], dtype=np.float64))  # (J, V)
        self._weights = torch.as_tensor(np.asarray(arrays["weights"], dtype=np.float64))  # (V, J)
        self._parents = torch.as_tensor(parents)
        self._select = list(range(NUM_POSE_JOINTS)) + list(_HAND_JOINTS[model_type])

    @classmethod
    def from_path(cls, path: str | Path, model_type: str | None = None, gender: str = "neutral",
                  num_betas: int = 10) -> "SmplBodyModel":
        """Load from a model file or from a folder holding one (see `find_model_file`)."""
        file, kind = find_model_file(path, model_type, gender)
        return cls(load_model_arrays(file), kind, num_betas)

    @property
    def num_vertices(self) -> int:
        return int(self._v_template.shape[0])

    def forward(self, axis_angle, betas=None, transl=None) -> BodyOutput:
        """Pose the body. axis_angle (..., 22, 3); betas (..., B) or (B,); transl (..., 3).

        Returns vertices (..., V, 3) and joints (..., 24, 3), as torch tensors when the pose is one
        (differentiable), else as float64 numpy arrays.
        """
        import torch
        from smplx.lbs import lbs

        as_numpy = not isinstance(axis_angle, torch.Tensor)
        pose = torch.from_numpy(np.array(axis_angle, dtype=np.float64)) if as_numpy else axis_angle
        dtype, device = pose.dtype, pose.device
        lead = pose.shape[:-2]
        pose = pose.reshape(-1, NUM_POSE_JOINTS, 3)  # (N, 22, 3)
        n = pose.shape[0]
        extra = _NUM_MODEL_JOINTS[self.model_type] - NUM_POSE_JOINTS
        full_pose = torch.cat([pose, pose.new_zeros(n, extra, 3)], 1).reshape(n, -1)  # (N, J*3)
        if betas is None:
            b = pose.new_zeros(n, self.num_betas)
        else:
            b = torch.as_tensor(betas, dtype=dtype, device=device)[..., : self.num_betas]
            b = torch.nn.functional.pad(b, (0, self.num_betas - b.shape[-1])).expand(*lead, -1).reshape(n, -1)
        vertices, joints = lbs(
            b, full_pose, self._v_template.to(device, dtype), self._shapedirs.to(device, dtype),
            self._posedirs.to(device, dtype), self._j_regressor.to(device, dtype), self._parents.to(device),
            self._weights.to(device, dtype),
        )  # (N, V, 3), (N, J, 3)
        joints = joints[:, self._select]  # (N, 24, 3)
        if transl is not None:
            t = torch.as_tensor(transl, dtype=dtype, device=device).expand(*lead, 3).reshape(n, 1, 3)
            vertices, joints = vertices + t, joints + t
        vertices = vertices.reshape(*lead, -1, 3)
        joints = joints.reshape(*lead, NUM_JOINTS, 3)
        if as_numpy:
            return BodyOutput(vertices.numpy(), joints.numpy())
        return BodyOutput(vertices, joints)

    __call__ = forward

    def pose_joints(self, axis_angle, transl=None, betas=None):
        """Like `backend.body.kinematics.pose_joints`: (..., 22, 3) -> (..., 24, 3)."""
        return self.forward(axis_angle, betas=betas, transl=transl).joints

    def joint_sides(self) -> np.ndarray:
        """(J,) "left" / "right" / "center" for every model joint (hand joints follow their hand)."""
        from backend.body.skeleton import POSE_JOINT_NAMES

        sides = ["left" if n.startswith("left_") else "right" if n.startswith("right_") else "center"
                 for n in POSE_JOINT_NAMES]
        extra = _NUM_MODEL_JOINTS[self.model_type] - NUM_POSE_JOINTS
        if self.model_type == "smpl":
            sides += ["left", "right"]
        else:  # SMPL-X first adds jaw and both eyes; then 15 left-hand and 15 right-hand joints
            face = 3 if self.model_type == "smplx" else 0
            sides += ["center"] * face + ["left"] * ((extra - face) // 2) + ["right"] * ((extra - face) // 2)
        return np.array(sides)

    def vertex_sides(self) -> np.ndarray:
        """(V,) the side of each vertex's most influential joint."""
        return self.joint_sides()[np.argmax(self._weights.numpy(), axis=1)]

    def rest_joints(self, betas=None) -> np.ndarray:
        """(24, 3) joint positions of the zero pose, usable as `rest_joints` in the skeleton FK."""
        return np.asarray(self.forward(np.zeros((NUM_POSE_JOINTS, 3)), betas=betas).joints)
