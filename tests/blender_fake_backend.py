"""A stand-in for `unipose serve` that speaks the same protocol with predictable answers (no torch).

Run: python tests/blender_fake_backend.py [--load-seconds S] [--fail-load]
- text_to_pose: `num_samples` poses; pose k bends the left elbow by 0.3 * (k + 1) rad about -Y and turns
  the pelvis by 0.1 rad about Y. A text containing CRASH kills the process mid-request; SLOW waits 1 s.
- pose_to_text: names the joint with the largest rotation and its angle in degrees.
- edit_pose: adds 0.5 rad about +X to the head, and with `whole_body` (a bool) also to the right knee;
  pose_diff: names the joint that differs most.
- image_*: read the file's size (errors for missing files).
"""
import argparse
import json
import math
import os
import sys
import time

JOINTS = ["pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
          "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
          "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"]


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def pose(rotations):
    return {"format": "smpl-axis-angle", "joints": JOINTS, "rotations": rotations}


def zero():
    return [[0.0, 0.0, 0.0] for _ in JOINTS]


def largest(rotations):
    norms = [math.sqrt(sum(v * v for v in r)) for r in rotations]
    k = max(range(len(norms)), key=norms.__getitem__)
    return JOINTS[k], math.degrees(norms[k])


class InvalidParams(Exception):
    pass


def image_size(params, key):
    path = params.get(key)
    if not isinstance(path, str) or not os.path.isfile(path):
        raise InvalidParams(f"{key}: expected a path to an image file")
    return os.path.getsize(path)


def handle(method, params):
    if method == "text_to_pose":
        text = params["text"]
        if "CRASH" in text:
            sys.stderr.write("fake backend: crashing as asked\n")
            sys.stderr.flush()
            os._exit(3)
        if "SLOW" in text:
            time.sleep(1)
        poses = []
        for k in range(int(params.get("num_samples", 1))):
            rotations = zero()
            rotations[0] = [0.0, 0.1, 0.0]
            rotations[JOINTS.index("left_elbow")] = [0.0, -0.3 * (k + 1), 0.0]
            poses.append(pose(rotations))
        return {"poses": poses}
    if method == "pose_to_text":
        name, degrees = largest(params["pose"]["rotations"])
        return {"text": f"largest rotation: {name} {degrees:.0f} degrees"}
    if method == "edit_pose":
        rotations = [list(r) for r in params["pose"]["rotations"]]
        whole_body = params.get("whole_body", False)
        if not isinstance(whole_body, bool):
            raise InvalidParams("whole_body: expected true or false")
        for joint in ("head", "right_knee") if whole_body else ("head",):
            k = JOINTS.index(joint)
            rotations[k] = [rotations[k][0] + 0.5] + rotations[k][1:]
        return {"poses": [pose(rotations)]}
    if method == "pose_diff":
        a, b = params["pose_a"]["rotations"], params["pose_b"]["rotations"]
        name, degrees = largest([[x - y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)])
        return {"text": f"most different: {name} {degrees:.0f} degrees"}
    if method == "image_to_pose":
        rotations = zero()
        rotations[JOINTS.index("right_knee")] = [0.2 + image_size(params, "image") % 7 * 0.1, 0.0, 0.0]
        return {"poses": [pose(rotations)]}
    if method == "image_to_text":
        return {"text": f"an image of {image_size(params, 'image')} bytes"}
    if method == "image_diff":
        return {"text": f"images differ by {image_size(params, 'image_a') - image_size(params, 'image_b')} bytes"}
    if method == "status":
        return {"loaded": True, "pid": os.getpid()}
    raise KeyError(method)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--load-seconds", type=float, default=0.0)
    parser.add_argument("--fail-load", action="store_true")
    args, _ = parser.parse_known_args()
    for step in range(3):
        send({"jsonrpc": "2.0", "method": "progress", "params": {"stage": "loading", "fraction": step / 2, "id": None}})
        time.sleep(args.load_seconds / 3)
    send({"jsonrpc": "2.0", "method": "ready",
          "params": {"loaded": not args.fail_load, "error": "no checkpoint" if args.fail_load else None}})
    for line in sys.stdin:
        request = json.loads(line)
        method, params, rid = request.get("method"), request.get("params") or {}, request.get("id")
        if method == "shutdown":
            send({"jsonrpc": "2.0", "id": rid, "result": {}})
            return
        started = time.perf_counter()
        try:
            result = handle(method, params)
            result["timing_ms"] = (time.perf_counter() - started) * 1000
            send({"jsonrpc": "2.0", "id": rid, "result": result})
        except KeyError as error:
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"method not found: {error}"}})
        except InvalidParams as error:
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": str(error)}})


if __name__ == "__main__":
    main()
