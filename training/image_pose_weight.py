"""Set how far a hinted checkpoint's image -> pose answers lean on the IK hint (UniPoseConfig.image_pose_model_weight).

    python -m training.image_pose_weight CHECKPOINT --model-weight 0.2

Every joint rotation of the answer is slerped from the hint's (0) towards the model's own (1; the default of a
trained checkpoint). Choose the weight on held-out photos that the reported test-split rows do not use:
    .venv/bin/python bench/image_pose.py --checkpoint CHECKPOINT --corpus data/corpus/v2 --split val --seed 1 \\
        --pairs 0 --model-weights 0,0.1,0.2,0.3,0.5,1
"""
import argparse
import json
from pathlib import Path

from backend.model.checkpoint import CONFIG_NAME, MODEL_DIR


def set_model_weight(checkpoint: Path, weight: float) -> float:
    """Write the weight into CHECKPOINT's config; returns the one it replaces."""
    if not 0.0 <= weight <= 1.0:
        raise SystemExit(f"--model-weight must be from 0 (the hint) to 1 (the model's answer), not {weight}")
    path = checkpoint / MODEL_DIR / CONFIG_NAME
    if not path.is_file():
        raise SystemExit(f"{checkpoint} is not a UniPose checkpoint (no {MODEL_DIR}/{CONFIG_NAME})")
    config = json.loads(path.read_text())
    if not config.get("image_pose_hint"):
        raise SystemExit(f"{checkpoint} takes no pose hint (image_pose_hint is off): there is nothing to lean on")
    previous = float(config.get("image_pose_model_weight", 1.0))
    config["image_pose_model_weight"] = weight
    path.write_text(json.dumps(config, indent=2) + "\n")
    return previous


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--model-weight", type=float, required=True,
                        help="0: answer with the IK hint; 1: the model's own answer; between: slerp per joint")
    args = parser.parse_args(argv)
    previous = set_model_weight(args.checkpoint, args.model_weight)
    print(f"{args.checkpoint}: image -> pose model weight {previous:g} -> {args.model_weight:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
