"""Try the model as a new user would: twenty plain-language prompts -> poses, a picture, and the checks we can make.

    .venv/bin/python bench/twenty_prompts.py [--checkpoint DIR] [--out docs/twenty_prompts.png] [--seed 0]

Each prompt runs through the engine (the same path as `unipose text2pose` and the Blender panel, contact
refinement included). Where a prompt states something geometric, the pose is checked with forward kinematics
(e.g. "both wrists above the head"); the others are judged by looking at the picture. Prints a table.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.body.kinematics import pose_joints  # noqa: E402
from backend.body.skeleton import JOINT_INDEX  # noqa: E402


def _y(joints, name):
    return joints[JOINT_INDEX[name], 1]


def _upright(j):
    """Head well above the pelvis: an upside-down body passes no 'above the head' or standing check."""
    return _y(j, "head") > _y(j, "pelvis") + 0.3


def _above_head(side):
    return lambda j: _upright(j) and _y(j, f"{side}_wrist") > _y(j, "head")


def _both(*checks):
    return lambda j: all(check(j) for check in checks)


def _knee_bent(side, degrees=45.0):
    def check(j):
        hip, knee, ankle = (j[JOINT_INDEX[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        a, b = hip - knee, ankle - knee
        angle = np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))
        return 180.0 - angle > degrees
    return check


def _torso_horizontal(j):
    spine = j[JOINT_INDEX["neck"]] - j[JOINT_INDEX["pelvis"]]
    return abs(spine[1]) < 0.5 * np.linalg.norm(spine)


def _hands_low(j):
    return _upright(j) and _y(j, "left_wrist") < _y(j, "pelvis") + 0.1 and _y(j, "right_wrist") < _y(j, "pelvis") + 0.1


def _arms_out(j):
    return all(abs(j[JOINT_INDEX[f"{s}_wrist"], 0]) > 0.55 for s in ("left", "right"))


# prompt -> (check or None, what the check means)
PROMPTS = {
    "raise both arms above the head": (_both(_above_head("left"), _above_head("right")),
                                       "upright, both wrists above head"),
    "a person standing with arms at their sides": (_hands_low, "upright, wrists below the waist"),
    "a person sitting cross-legged on the floor": (_both(_knee_bent("left", 90), _knee_bent("right", 90)),
                                                   "both knees bent > 90"),
    "waving with the left hand": (_above_head("left"), "upright, left wrist above head"),
    "waving with the right hand": (_above_head("right"), "upright, right wrist above head"),
    "a person doing a squat": (_both(_knee_bent("left", 60), _knee_bent("right", 60)), "both knees bent > 60"),
    "arms stretched out to the sides like a T": (_arms_out, "wrists far out to the sides"),
    "a person kneeling on both knees": (_both(_knee_bent("left", 60), _knee_bent("right", 60)), "both knees bent > 60"),
    "lying on the back": (_torso_horizontal, "torso horizontal"),
    "a person doing a push-up": (_torso_horizontal, "torso horizontal"),
    "hands on the hips": (None, "contact refinement"),
    "touch your toes": (None, "contact refinement"),
    "a person running": (None, "look"),
    "a lunge with the right leg forward": (None, "look"),
    "a person dribbling a basketball": (None, "look"),
    "a salsa dance step": (None, "look"),
    "standing on the left leg": (_both(_upright, _knee_bent("right", 30)), "upright, right knee bent > 30"),
    "a boxer throwing a punch": (None, "look"),
    "bend forward at the waist": (None, "look"),
    "a person jumping with both arms up": (_both(_above_head("left"), _above_head("right")),
                                           "upright, both wrists above head"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="UniPose checkpoint folder (default: the shipped model)")
    parser.add_argument("--out", default="docs/twenty_prompts.png", help="picture of all poses")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from backend.engine import Sampling, UniPoseEngine
    from backend.paths import default_checkpoint
    from backend.render import render_poses

    engine = UniPoseEngine.load(args.checkpoint or default_checkpoint(), device="cpu")
    poses, rows = [], []
    for prompt, (check, meaning) in PROMPTS.items():
        start = time.perf_counter()
        pose = engine.text_to_pose(prompt, Sampling(seed=args.seed))[0]
        seconds = time.perf_counter() - start
        joints = pose_joints(pose.astype(np.float64))
        verdict = "look" if check is None else ("pass" if check(joints) else "FAIL")
        poses.append(pose)
        rows.append((prompt, meaning, verdict, seconds))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    render_poses(poses, [r[0] for r in rows], columns=4, size=240).save(out)

    width = max(len(r[0]) for r in rows)
    print(f"{'prompt':<{width}}  {'check':<32} {'result':<6} {'s':>5}")
    for prompt, meaning, verdict, seconds in rows:
        print(f"{prompt:<{width}}  {meaning:<32} {verdict:<6} {seconds:5.2f}")
    checked = [r for r in rows if r[2] != "look"]
    passed = sum(r[2] == "pass" for r in checked)
    print(f"wrote {out}; geometric checks passed: {passed}/{len(checked)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
