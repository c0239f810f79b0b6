"""Rendered-body benchmark for the image path: photos with known ground truth -> BlazePose -> pose.

Held-out corpus poses (or the built-in example poses when no corpus is found) are rendered as clothed
capsule bodies by headless Blender from several views (front, three-quarter, side), then
  - BlazePose runs on every photo (detection rate);
  - the landmark definitions are checked against BlazePose: per-landmark offset between BlazePose's world
    landmarks and ours (`--offsets`);
  - geometric baseline: BlazePose world landmarks -> SMPL pose by direct IK (global orientation taken to
    the world with the known camera), and the same IK on exact synthetic landmarks (IK's own ceiling);
  - with a checkpoint: the full image -> pose path of UniPose (`UniPose.run("image_to_pose")`), and the
    image -> text and image-difference tasks on the same photos (plus `--pairs` held-out pairs, both poses
    rendered by one camera), scored with BLEU-4 / ROUGE-L / METEOR against the corpus references, each
    beside the same model given the true poses instead of pixels.
MPJPE / PA-MPJPE in mm over the 22 pose joints, pelvis-centred.

    .venv/bin/python bench/image_pose.py --poses 36 --views 3 [--checkpoint checkpoints/default] [--offsets]
    .venv/bin/python bench/image_pose.py --checkpoint DIR --split val --seed 2 --model-weights 0,0.25,0.5,0.75,1

--model-weights chooses UniPoseConfig.image_pose_model_weight (set with `python -m training.image_pose_weight`):
read it off held-out photos the test-split rows are not (--split val --seed 2), then report on the test split.
36 poses (108 photos) a set: with 12, the weight chosen on validation photos and the test figures disagreed.

Renders are cached in --cache (default /tmp/unipose-image-bench), keyed by pose set, views and seed.
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.body.kinematics import pose_joints  # noqa: E402
from backend.body.rotations import axis_angle_to_rotmat, rotmat_to_axis_angle  # noqa: E402
from backend.vision.landmarks.camera import Camera, fov_focal, look_at  # noqa: E402
from backend.vision.landmarks.definitions import pose_landmarks_smpl  # noqa: E402
from backend.vision.landmarks.ik import CAMERA_TO_VIEW, landmarks_to_pose  # noqa: E402
from backend.vision.landmarks.schema import LANDMARK_NAMES  # noqa: E402
from backend.vision.landmarks.synthetic import landmarks_in_view  # noqa: E402

VIEW_YAWS = ((-20.0, 20.0), (35.0, 60.0), (75.0, 100.0), (140.0, 180.0))  # front, 3/4, side, back
VIEW_NAMES = ("front", "three-quarter", "side", "back")
IMAGE_SIZE = (320, 400)


def read_corpus(corpus: Path):
    """The corpus, or None (with a note) when there is none."""
    try:
        from training.task_records import load_corpus
        return load_corpus(corpus)
    except (FileNotFoundError, KeyError) as error:
        print(f"note: no corpus ({error}); using the example poses", file=sys.stderr)
        return None


def held_out_poses(data, label: str, split: str, count: int, seed: int):
    """(ids, poses (N, 22, 3), label of the source, caption references per pose); the example poses (without
    references) when there is no corpus or the split is empty."""
    ids = sorted(data.split_ids(split, include_augmented=False)) if data is not None else []
    if ids:
        chosen = np.random.default_rng(seed).choice(len(ids), size=min(count, len(ids)), replace=False)
        picked = [ids[i] for i in sorted(chosen)]
        references = [data.captions.get(i, []) for i in picked]
        return picked, np.stack([data.pose(i) for i in picked]), f"{label} [{split}]", references
    from backend.body.example_poses import EXAMPLE_POSES
    names = sorted(EXAMPLE_POSES)[:count]
    return names, np.stack([EXAMPLE_POSES[n] for n in names]), "example poses (no corpus found)", [[]] * len(names)


def held_out_pairs(data, split: str, count: int, seed: int) -> list[dict]:
    """Image-difference records {"id", "pose_a", "pose_b", "references"} of held-out pairs ([] without a corpus)."""
    if data is None or count <= 0:
        return []
    from training.task_records import task_records
    return task_records(data, "image_diff", split, evaluation=True, max_items=count, seed=seed)


def cameras_for(pose: np.ndarray, lift: float, views: int, rng: np.random.Generator) -> list[Camera]:
    """Cameras in the rendered scene's frame (SMPL frame, body lifted by `lift`), the body filling ~75%."""
    return cameras_framing(pose_landmarks_smpl(pose) + [0.0, lift, 0.0], views, rng)


def cameras_framing(points: np.ndarray, views: int, rng: np.random.Generator) -> list[Camera]:
    """Cameras that frame the (N, 3) scene points from the first `views` view ranges."""
    low, high = points.min(0), points.max(0)
    cameras = []
    for v in range(views):
        fov = np.deg2rad(rng.uniform(35, 50))
        extent = max(high[1] - low[1] + 0.25, 0.8 * np.linalg.norm(high - low))
        distance = extent / (0.8 * 2 * np.tan(fov / 2)) + 0.3
        yaw = np.deg2rad(rng.uniform(*VIEW_YAWS[v % len(VIEW_YAWS)]) * rng.choice([-1.0, 1.0]))
        rotation, position = look_at((low + high) / 2, yaw, np.deg2rad(rng.uniform(0, 20)), distance)
        cameras.append(Camera(rotation, position, fov_focal(fov, IMAGE_SIZE[1]), IMAGE_SIZE))
    return cameras


def render_set(names, poses, references, views: int, seed: int, cache: Path, samples: int) -> list[dict]:
    """Render (or reuse) the photos; returns one record per photo: name, pose, references, camera, path, view."""
    from training.data.rendered_bodies import body_lift

    rng = np.random.default_rng(seed)
    records, jobs = [], []
    for name, pose, texts in zip(names, poses, references):
        lift = body_lift(pose)
        cameras = cameras_for(pose, lift, views, rng)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))
        jobs.append({"pose": pose, "cameras": [c.to_dict() for c in cameras], "name": safe})
        for k, camera in enumerate(cameras):
            records.append({"name": safe, "pose": pose, "references": texts, "camera": camera, "lift": lift,
                            "view": VIEW_NAMES[k % len(VIEW_NAMES)], "path": cache / f"{safe}_{k}.png",
                            "found": False})
    render_missing(jobs, cache, samples)
    return records


def render_missing(jobs: list[dict], cache: Path, samples: int) -> None:
    """Render the jobs (see render_bodies) whose photos are not all in the cache yet."""
    from training.data.rendered_bodies import render_bodies

    todo = [job for job in jobs if not all((cache / f"{job['name']}_{k}.png").is_file()
                                           for k in range(len(job["cameras"])))]
    if todo:
        start = time.perf_counter()
        render_bodies(todo, cache, samples=samples)
        print(f"rendered {sum(len(j['cameras']) for j in todo)} photos in {time.perf_counter() - start:.0f} s",
              file=sys.stderr)


def render_pairs(pairs: list[dict], seed: int, cache: Path, samples: int) -> list[tuple[Path, Path]]:
    """Both poses of each pair photographed by one shared camera (front range): a before / after pair."""
    from training.data.rendered_bodies import body_lift

    rng = np.random.default_rng(seed + 1)
    jobs, paths = [], []
    for k, pair in enumerate(pairs):
        poses = (pair["pose_a"], pair["pose_b"])
        points = np.concatenate([pose_landmarks_smpl(p) + [0.0, body_lift(p), 0.0] for p in poses])
        camera = cameras_framing(points, 1, rng)[0].to_dict()
        names = (f"pair{k}_a", f"pair{k}_b")
        jobs += [{"pose": pose, "cameras": [camera], "name": name} for pose, name in zip(poses, names)]
        paths.append(tuple(cache / f"{name}_0.png" for name in names))
    render_missing(jobs, cache, samples)
    return paths


def describe_renders(model, records: list[dict], pairs: list[dict], pair_paths: list[tuple[Path, Path]]) -> dict:
    """Text tasks on the rendered photos, each beside the same model given the true poses (no pixels):
    image -> text per view against the pose's captions, image difference against the pair's instructions."""
    from training.metrics.tasks import score_texts  # BLEU-4 / ROUGE-L / METEOR (no retrieval judge given)

    described = [r for r in records if r["references"] and r["found"]]
    captions = [model.run("image_to_text", images=[r["path"]]).text or "" for r in described]
    rows = {}
    for view in VIEW_NAMES + ("all",):
        chosen = [(r, c) for r, c in zip(described, captions) if view in ("all", r["view"])]
        if chosen:
            rows[f"image -> text / {view}"] = score_texts([c for _, c in chosen], [r["references"] for r, _ in chosen])
    poses = list({r["name"]: r for r in described}.values())
    rows["pose -> text (true pose, no image)"] = score_texts(
        [model.run("pose_to_text", poses=[r["pose"]]).text or "" for r in poses], [r["references"] for r in poses])
    if pairs:
        references = [p["references"] for p in pairs]
        rows["image difference (one camera for both)"] = score_texts(
            [model.run("image_diff", images=list(paths)).text or "" for paths in pair_paths], references)
        rows["pose difference (true poses, no image)"] = score_texts(
            [model.run("pose_diff", poses=[p["pose_a"], p["pose_b"]]).text or "" for p in pairs], references)
    return rows


def view_pose(pose: np.ndarray, camera: Camera) -> np.ndarray:
    """The pose with its global orientation seen from the camera (the frame IK answers in)."""
    out = np.array(pose, dtype=np.float64)
    out[0] = rotmat_to_axis_angle(CAMERA_TO_VIEW @ camera.rotation @ axis_angle_to_rotmat(pose[0]))
    return out


def world_pose(estimate: np.ndarray, camera: Camera) -> np.ndarray:
    """Inverse of view_pose: an IK answer back in the world frame with the known camera."""
    out = np.array(estimate, dtype=np.float64)
    out[0] = rotmat_to_axis_angle((CAMERA_TO_VIEW @ camera.rotation).T @ axis_angle_to_rotmat(estimate[0]))
    return out


def errors(pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    from training.metrics.pose import mpjpe_mm, pa_mpjpe_mm
    p, t = pose_joints(np.asarray(pred))[:, :22], pose_joints(np.asarray(target))[:, :22]
    return mpjpe_mm(p, t), pa_mpjpe_mm(p, t)


def leaning_answers(model, photo: Path, weights: list[float]) -> dict[float, np.ndarray]:
    """weight -> the model's own image -> pose answer (weight 1 in its config) leaned on its IK hint by weight."""
    if not weights:
        return {}
    from backend.vision.landmarks.hint import lean_on_hint, pose_hint

    image, landmarks = model.vision.detect(photo)
    saved, model.config.image_pose_model_weight = model.config.image_pose_model_weight, 1.0
    try:
        own = model.run("image_to_pose", images=[image]).poses
    finally:
        model.config.image_pose_model_weight = saved
    return {weight: lean_on_hint(own[0], pose_hint(landmarks), weight) for weight in weights} if own else {}


def offsets_table(pairs) -> list[str]:
    """pairs: [(BlazePose PoseLandmarks, exact PoseLandmarks, pixels per metre at the hips)] -> table lines.

    Image-plane offsets (BlazePose minus ours) are converted to mm at the hips' depth; they test the
    definitions. 3D offsets compare world landmarks after a per-photo similarity (Procrustes) alignment of
    all 33 points, which removes BlazePose's own global scale and depth errors.
    """
    from training.metrics.pose import procrustes_align
    found = np.stack([a.world for a, _, _ in pairs]).astype(np.float64)  # (M, 33, 3)
    ours = np.stack([b.world for _, b, _ in pairs]).astype(np.float64)
    world = np.linalg.norm(procrustes_align(found, ours) - ours, axis=-1) * 1000.0  # (M, 33)
    plane = np.stack([(a.image - b.image) * np.array(a.image_size) / ppm * 1000.0
                      for a, b, ppm in pairs])  # (M, 33, 2) mm, x right, y down
    lines = ["| landmark | image-plane offset mm (mean / median) | mean signed (right, down) mm | "
             "3D offset after alignment mm |", "| --- | ---: | --- | ---: |"]
    for k, name in enumerate(LANDMARK_NAMES):
        d = np.linalg.norm(plane[:, k], axis=-1)
        mean = plane[:, k].mean(0)
        lines.append(f"| {name} | {d.mean():.0f} / {np.median(d):.0f} | ({mean[0]:+.0f}, {mean[1]:+.0f}) | "
                     f"{world[:, k].mean():.0f} |")
    d = np.linalg.norm(plane, axis=-1)
    lines.append(f"| all | {d.mean():.0f} / {np.median(d):.0f} | | {world.mean():.0f} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus/v1"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--poses", type=int, default=36, help="held-out poses (12 until 2026-12-02: too few)")
    parser.add_argument("--views", type=int, default=3, help="1-4: front, three-quarter, side, back")
    parser.add_argument("--pairs", type=int, default=12, help="held-out pose pairs for image difference")
    parser.add_argument("--checkpoint", type=Path, default=None, help="a UniPose checkpoint folder")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/unipose-image-bench"))
    parser.add_argument("--samples", type=int, default=12, help="Cycles samples per photo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--offsets", action="store_true", help="print the per-landmark offset table")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--model-weights", default=None, metavar="W,W,...",
                        help="with a hinted checkpoint, also one row per weight: the model's own answer slerped "
                             "from the IK hint towards it by W (UniPoseConfig.image_pose_model_weight)")
    args = parser.parse_args(argv)

    data = read_corpus(args.corpus)
    names, poses, source, references = held_out_poses(data, str(args.corpus), args.split, args.poses, args.seed)
    key = json.dumps([source, list(map(str, names)), args.views, args.seed, IMAGE_SIZE]).encode()
    cache = args.cache / hashlib.sha1(key + np.round(poses, 5).tobytes()).hexdigest()[:10]
    records = render_set(names, poses, references, args.views, args.seed, cache, args.samples)
    pairs = held_out_pairs(data, args.split, args.pairs, args.seed) if args.checkpoint else []
    pair_key = json.dumps(["pairs", [p["id"] for p in pairs], args.seed, IMAGE_SIZE]).encode()
    pair_paths = render_pairs(pairs, args.seed, args.cache / hashlib.sha1(pair_key).hexdigest()[:10], args.samples)

    from backend.vision.landmarks.blazepose import BlazePoseDetector, NoPersonFound
    detector = BlazePoseDetector()
    model = None
    if args.checkpoint is not None:
        from backend.model import UniPose
        model = UniPose.from_pretrained(args.checkpoint)
    model_weights = [float(w) for w in args.model_weights.split(",")] if args.model_weights and model else []
    if model_weights and not model.config.image_pose_hint:
        raise SystemExit(f"{args.checkpoint} takes no pose hint: --model-weights has nothing to lean on")
    rows = {}  # method -> view -> list of (pred, target)
    offsets, misses = [], {}
    for record in records:
        pose, camera, view = record["pose"], record["camera"], record["view"]
        points = pose_landmarks_smpl(pose) + [0.0, record["lift"], 0.0]
        exact = landmarks_in_view(points, camera)
        rows.setdefault("IK on exact synthetic landmarks (ceiling)", {}).setdefault(view, []).append(
            (world_pose(landmarks_to_pose(exact), camera), pose))
        try:
            found = detector(record["path"])
        except NoPersonFound:
            misses[view] = misses.get(view, 0) + 1
            continue
        record["found"] = True
        hips = camera.to_camera(points[23:25]).mean(0)
        offsets.append((found, exact, camera.focal / hips[2]))
        rows.setdefault("BlazePose + IK (camera known)", {}).setdefault(view, []).append(
            (world_pose(landmarks_to_pose(found), camera), pose))
        if model is not None:
            answer = model.run("image_to_pose", images=[record["path"]])
            if answer.poses:
                rows.setdefault(f"UniPose {args.checkpoint}", {}).setdefault(view, []).append(
                    (answer.poses[0], pose))
            for weight, answer in leaning_answers(model, record["path"], model_weights).items():
                rows.setdefault(f"UniPose, model weight {weight:g} over the hint", {}).setdefault(view, []).append(
                    (answer, pose))

    total = len(records)
    print(f"\nRendered-body image -> pose benchmark: {len(poses)} poses from {source}, {args.views} views, "
          f"{total} photos {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]}; BlazePose found a person in "
          f"{total - sum(misses.values())}/{total}" + (f" (missed: {misses})" if misses else ""))
    if model is None:
        print("(no --checkpoint given: the model row is absent)")
    print("\n| method | view | photos | MPJPE mm | PA-MPJPE mm |\n| --- | --- | ---: | ---: | ---: |")
    results = {}
    for method, by_view in rows.items():
        everything = [item for items in by_view.values() for item in items]
        for view, items in list(by_view.items()) + [("all", everything)]:
            mpjpe, pa = errors(np.stack([p for p, _ in items]), np.stack([t for _, t in items]))
            results[f"{method} / {view}"] = {"photos": len(items), "mpjpe_mm": mpjpe, "pa_mpjpe_mm": pa}
            print(f"| {method} | {view} | {len(items)} | {mpjpe:.1f} | {pa:.1f} |")
    text_results = describe_renders(model, records, pairs, pair_paths) if model is not None else {}
    if text_results:
        print(f"\nText from the same photos ({len(pairs)} held-out pairs for differences); the evaluation suite's "
              "text metrics against the corpus references:\n")
        print("| task / view | samples | BLEU-4 | ROUGE-L | METEOR |\n| --- | ---: | ---: | ---: | ---: |")
        for name, row in text_results.items():
            print(f"| {name} | {row['n']} | {row['bleu4']:.1f} | {row['rouge_l']:.1f} | {row['meteor']:.1f} |")
    if args.offsets and offsets:
        print(f"\nBlazePose vs. the synthetic landmark definitions ({len(offsets)} photos):\n")
        print("\n".join(offsets_table(offsets)))
    if args.json:
        args.json.write_text(json.dumps({"source": source, "photos": total, "misses": misses,
                                         "results": results, "pairs": len(pairs), "text_results": text_results},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
