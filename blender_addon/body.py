"""The project's pure-numpy body modules: the copy vendored into the extension zip, else the repository's.

`unipose build-extension` copies backend/body/{skeleton,rotations,kinematics}.py into `vendor/body/`, so an
installed extension never needs the backend on its path; running from the repository uses backend.body.
"""
try:
    from .vendor.body import kinematics, rotations, skeleton
except ImportError:
    from backend.body import kinematics, rotations, skeleton

__all__ = ["kinematics", "rotations", "skeleton"]
