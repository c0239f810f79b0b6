"""Where the shipped files live: the repository root and the default checkpoint."""
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = REPO_ROOT / "checkpoints" / "default"
CHECKPOINT_ENV = "UNIPOSE_CHECKPOINT"


def default_checkpoint() -> Path:
    """The checkpoint used when none is given: $UNIPOSE_CHECKPOINT, else checkpoints/default."""
    override = os.environ.get(CHECKPOINT_ENV)
    return Path(override).expanduser() if override else DEFAULT_CHECKPOINT
