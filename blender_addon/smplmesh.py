"""The real SMPL body from a user's licensed model file (`SMPL_NEUTRAL.npz`), read with numpy only.

SMPL files cannot ship with the project; users who have them point the preferences at their folder. Only
the `.npz` form with dense arrays is read (no pickle): v_template (V, 3), f (F, 3), weights (V, 24),
J_regressor (24, V).
"""
import os

import numpy as np

FILE_NAMES = ("SMPL_NEUTRAL.npz", os.path.join("smpl", "SMPL_NEUTRAL.npz"))


class SmplFileError(ValueError):
    """The folder has no usable SMPL model; the message says what was expected."""


def find_model(folder: str) -> str:
    for name in FILE_NAMES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise SmplFileError(f"no SMPL_NEUTRAL.npz in {folder}: set the SMPL folder in the preferences or clear it")


def load_model(folder: str) -> dict:
    """{"verts" (V, 3), "faces" (F, 3), "weights" (V, 24), "joints" (24, 3)} in the SMPL frame."""
    path = find_model(folder)
    try:
        with np.load(path, allow_pickle=False) as data:
            verts = np.asarray(data["v_template"], np.float64)
            faces = np.asarray(data["f"], np.int64)
            weights = np.asarray(data["weights"], np.float64)
            regressor = np.asarray(data["J_regressor"], np.float64)
    except (KeyError, ValueError, OSError) as error:
        raise SmplFileError(f"{path} is not a dense SMPL .npz (v_template, f, weights, J_regressor): "
                            f"{error}") from error
    if weights.shape != (len(verts), 24) or regressor.shape != (24, len(verts)):
        raise SmplFileError(f"{path}: expected the 24-joint SMPL model, got weights {weights.shape}")
    return {"verts": verts, "faces": faces, "weights": weights, "joints": regressor @ verts}
