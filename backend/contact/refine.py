"""Contact-aware pose refinement: bend the few joints that can reach until the asked contacts hold.

Only the joints on the kinematic path between the two touching parts move (for a ground contact: the
part's chain and all four limbs, so whatever hangs lower gets out of the way; the global orientation
stays, so an upright torso stays upright). When a contact moves a leg of a standing body, the feet on the
ground stay there (`supports`) and the global orientation may tilt the body over them. Each
moving joint gets a local correction `delta` (axis-angle, applied after the input rotation) found by Adam
on
    contact:     sum relu(|d| - 0.5 tol)^2, d = gap between the two parts' surfaces (or between the part's
                 underside and the lowest point of the body, for the ground)
  + stay close:  sum stiffness_j |delta_j|^2 (trunk joints are stiffer than arms)
  + limits:      `limits.limit_excess`^2 (elbows and knees bend one way, twists stay bounded)
  + no piercing: moving forearm/hand points stay outside the torso capsules and the head sphere.
Several starts run as one batch; the closest to the input of those that meet every contact within
0.8 tol, inside the limits, wins. Deterministic (CPU, float64, seeded starts).
"""
import time
from dataclasses import dataclass

import numpy as np
import torch

from backend.body.rotations_torch import (
    axis_angle_to_quaternion,
    quaternion_to_axis_angle,
    quaternion_to_rotmat,
)
from backend.body.skeleton import JOINT_INDEX, JOINT_NAMES, NEUTRAL_REST_JOINTS, NUM_JOINTS, NUM_POSE_JOINTS, PARENTS
from backend.contact.body_parts import GROUND, PART_NAMES, PART_RADII, moving_joints, part_centres
from backend.contact.limits import limit_excess
from backend.contact.parse import Contact, parse_contacts


@dataclass(frozen=True)
class RefineConfig:
    max_steps: int = 300
    learning_rate: float = 0.08
    target_fraction: float = 0.5  # the contact loss pulls surfaces to within this fraction of the tolerance
    done_fraction: float = 0.8  # stop once every contact is within this fraction of the tolerance
    contact_weight: float = 100.0
    ramp_steps: float = 30.0  # the contact weight grows by contact_weight every this many steps
    close_weight: float = 0.05
    limit_weight: float = 300.0
    limit_margin: float = 0.03
    pierce_weight: float = 100.0
    stance_weight: float = 30.0  # standing legs keep their direction in the world
    starts: int = 6  # optimisations run side by side from different bends
    start_spread: float = 0.5  # radians, random bend of the extra starts
    patience: int = 25  # steps the other starts get once one has met everything


_STIFFNESS = {  # stay-close weight per joint, relative; unlisted joints: 1
    "pelvis": 10.0,
    "spine1": 6.0, "spine2": 6.0, "spine3": 6.0, "neck": 4.0, "head": 3.0,
    "left_collar": 3.0, "right_collar": 3.0, "left_ankle": 2.0, "right_ankle": 2.0,
    "left_hip": 1.5, "right_hip": 1.5, "left_shoulder": 0.5, "right_shoulder": 0.5,
    "left_elbow": 0.5, "right_elbow": 0.5,
}
# a part only rests on the ground when every limb that hangs lower gets out of the way
_LIMBS = frozenset(JOINT_INDEX[f"{s}_{j}"] for s in ("left", "right")
                   for j in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"))
_TORSO = (("pelvis", "spine1", 0.11), ("spine1", "spine2", 0.105), ("spine2", "spine3", 0.11), ("spine3", "neck", 0.07))
_HEAD_CENTRE = (0.0, 0.065, 0.02)  # in the head joint's frame, radius 0.10 (as drawn by backend.render)
_PART_INDEX = {name: i for i, name in enumerate(PART_NAMES)}


def movable_joints(contacts: list[Contact]) -> list[int]:
    """Pose joints the refinement may rotate for these contacts (never the global orientation)."""
    joints: set[int] = set()
    for c in contacts:
        if c.b == GROUND:
            joints |= moving_joints(c.a) | _LIMBS
        else:
            joints |= moving_joints(c.a) ^ moving_joints(c.b)  # rotations above both parts move neither
    joints.discard(0)
    return sorted(joints)


def _depth(joint: int) -> int:
    return 0 if PARENTS[joint] < 0 else 1 + _depth(int(PARENTS[joint]))


# Joints grouped by depth in the tree (8 levels below the pelvis instead of 23 joints one by one):
# forward kinematics level by level is what keeps an optimisation step at a few milliseconds.
_LEVELS = [np.array([j for j in range(NUM_JOINTS) if _depth(j) == d])
           for d in range(1, 1 + max(map(_depth, range(NUM_JOINTS))))]
_BONES = torch.from_numpy(NEUTRAL_REST_JOINTS - NEUTRAL_REST_JOINTS[np.maximum(PARENTS, 0)])[..., None]  # (24, 3, 1)


def forward_kinematics_levels(rotmats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Same result as `kinematics_torch.forward_kinematics` on the neutral skeleton.

    rotmats (..., 24, 3, 3) local -> joints (..., 24, 3) with the pelvis at the origin, global rotmats (..., 24, 3, 3).
    """
    local = rotmats.movedim(-3, 0)  # (24, ..., 3, 3): the joint axis first, so levels can be written by index
    global_rot = local
    joints = torch.zeros(local.shape[:-1], dtype=rotmats.dtype)  # (24, ..., 3)
    bones = _BONES.to(rotmats.dtype).reshape(NUM_JOINTS, *([1] * (local.dim() - 3)), 3, 1)
    for level in _LEVELS:
        index, parents = (torch.from_numpy(level),), PARENTS[level]
        joints = joints.index_put(index, joints[parents] + (global_rot[parents] @ bones[level])[..., 0])
        global_rot = global_rot.index_put(index, global_rot[parents] @ local[level])
    return joints.movedim(0, -2), global_rot.movedim(0, -3)


def contact_gaps(centres: torch.Tensor, contacts: list[Contact]) -> tuple[torch.Tensor, torch.Tensor]:
    """Signed surface gaps in metres. centres (..., P, 3) part centres -> gaps (..., C), < 0 means overlap,
    and heights (..., C, P) of each ground contact's part above every other part's underside (0 for
    contacts between body parts): the ground gap is their maximum, and the loss pushes all of them down."""
    radii = torch.as_tensor(PART_RADII, dtype=centres.dtype)  # (P,)
    bottoms = centres[..., 1] - radii  # (..., P) undersides
    gaps, above = [], []
    for c in contacts:
        a = _PART_INDEX[c.a]
        if c.b == GROUND:
            above.append(bottoms[..., a, None] - bottoms)  # (..., P)
            gaps.append(above[-1].amax(-1))
        else:
            b = _PART_INDEX[c.b]
            gaps.append((centres[..., a, :] - centres[..., b, :]).norm(dim=-1) - radii[a] - radii[b])
            above.append(torch.zeros_like(bottoms))
    return torch.stack(gaps, -1), torch.stack(above, -2)


def _quat_mul(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Hamilton product of (..., 4) (w, x, y, z) quaternions."""
    pw, pv = p[..., :1], p[..., 1:]
    qw, qv = q[..., :1], q[..., 1:]
    return torch.cat([pw * qw - (pv * qv).sum(-1, keepdim=True), pw * qv + qw * pv + torch.cross(pv, qv, dim=-1)], -1)


def _exp_quaternion(axis_angle: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 4) unit quaternion, with a finite gradient at the zero rotation."""
    theta = ((axis_angle * axis_angle).sum(-1, keepdim=True) + 1e-16).sqrt()
    return torch.cat([torch.cos(theta / 2), axis_angle * (torch.sin(theta / 2) / theta)], -1)


def _segment_distance(points: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
    """points (..., N, 3), segments (..., S, 3) -> (..., N, S) distances."""
    p, a = points[..., :, None, :], starts[..., None, :, :]  # (..., N, 1, 3), (..., 1, S, 3)
    bone = (ends - starts)[..., None, :, :]
    t = (((p - a) * bone).sum(-1) / (bone * bone).sum(-1)).clamp(0.0, 1.0)  # (..., N, S)
    return (p - (a + t[..., None] * bone)).norm(dim=-1)


def _pierce_depth(joints: torch.Tensor, global_rot: torch.Tensor, centres: torch.Tensor,
                  sides: list[str]) -> torch.Tensor:
    """How deep each moving forearm/hand point sits inside the torso or head.

    joints (..., 24, 3), global_rot (..., 24, 3, 3), centres (..., P, 3) -> (..., N, 5) metres, >= 0.
    """
    points, radii = [], []
    for s in sides:
        elbow, wrist = joints[..., JOINT_INDEX[f"{s}_elbow"], :], joints[..., JOINT_INDEX[f"{s}_wrist"], :]
        points += [elbow, 0.5 * (elbow + wrist), wrist, centres[..., _PART_INDEX[f"{s}_palm"], :],
                   centres[..., _PART_INDEX[f"{s}_fingertips"], :]]
        radii += [0.042, 0.036, 0.032, 0.030, 0.016]
    points, radii = torch.stack(points, -2), torch.tensor(radii, dtype=joints.dtype)  # (..., N, 3), (N,)
    starts = joints[..., [JOINT_INDEX[a] for a, _, _ in _TORSO], :]
    ends = joints[..., [JOINT_INDEX[b] for _, b, _ in _TORSO], :]
    torso_r = torch.tensor([r for _, _, r in _TORSO], dtype=joints.dtype)
    head = JOINT_INDEX["head"]
    head_centre = joints[..., head, :] + global_rot[..., head, :, :] @ torch.tensor(_HEAD_CENTRE, dtype=joints.dtype)
    depth_torso = torso_r + radii[:, None] - _segment_distance(points, starts, ends)  # (..., N, 4)
    depth_head = 0.10 + radii - (points - head_centre[..., None, :]).norm(dim=-1)  # (..., N)
    return torch.relu(torch.cat([depth_torso, depth_head[..., None]], -1) - 0.005)


def supports(axis_angle: np.ndarray, contacts: list[Contact]) -> list[Contact]:
    """Feet that stand on the ground and must stay there: when the contacts move a leg but ask nothing of
    the ground, every heel or toe within its tolerance of the lowest point keeps resting on it."""
    legs = {JOINT_INDEX[f"{s}_{j}"] for s in ("left", "right") for j in ("hip", "knee", "ankle", "foot")}
    if any(c.b == GROUND for c in contacts) or not legs & set(movable_joints(contacts)):
        return []
    tolerance = min(c.tolerance for c in contacts)
    feet = [f"{s}_{p}" for s in ("left", "right") for p in ("heel", "toes")]
    heights = dict(zip(PART_NAMES, _bottoms(axis_angle)))
    lowest = min(heights.values())
    return [Contact(f, GROUND, tolerance) for f in feet if heights[f] - lowest <= tolerance]


@dataclass
class RefineResult:
    pose: np.ndarray  # (22, 3) axis-angle
    gaps_before: np.ndarray  # (C,) metres
    gaps_after: np.ndarray  # (C,)
    moved_joints: list[str]
    steps: int
    seconds: float


def refine_pose(axis_angle: np.ndarray, contacts: list[Contact], config: RefineConfig = RefineConfig()) -> RefineResult:
    """Rotate the movable joints of a (22, 3) pose until every contact holds. No contacts: the pose unchanged.

    A few starts run side by side (no change, and seeded random bends of the moving joints); of those that
    reach every contact within the limits, the one closest to the input wins.
    """
    start_time = time.perf_counter()
    pose = np.array(axis_angle, dtype=np.float64).reshape(NUM_POSE_JOINTS, 3)
    if not contacts:
        return RefineResult(pose, np.zeros(0), np.zeros(0), [], 0, 0.0)
    held = supports(pose, contacts)
    movable = movable_joints(contacts) + ([0] if held else [])  # standing feet: the body may tilt over them
    every = contacts + held
    tolerance = torch.tensor([c.tolerance for c in every], dtype=torch.float64)  # (C,)
    stiffness = torch.tensor([_STIFFNESS.get(_name(j), 1.0) for j in movable], dtype=torch.float64)  # (K,)
    sides = [s for s in ("left", "right") if {JOINT_INDEX[f"{s}_elbow"], JOINT_INDEX[f"{s}_wrist"]} & set(movable)]
    stance = [JOINT_INDEX[f"{s}_{j}"] for s in ("left", "right") if any(c.a.startswith(s) for c in held)
              for j in ("hip", "knee", "ankle", "foot")]  # joints of the legs that stand on the ground
    q_input = axis_angle_to_quaternion(torch.from_numpy(pose))  # (22, 4)
    hands = torch.tensor([[1.0, 0.0, 0.0, 0.0]] * (NUM_JOINTS - NUM_POSE_JOINTS), dtype=torch.float64)
    starts = torch.randn(config.starts, len(movable), 3, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(0)) * config.start_spread
    starts[0] = 0.0
    delta = starts.requires_grad_(True)  # (B, K, 3)
    optimiser = torch.optim.Adam([delta], lr=config.learning_rate)

    def evaluate():
        q = q_input.expand(config.starts, -1, -1).clone()  # (B, 22, 4)
        q[:, movable] = _quat_mul(q_input[movable].expand_as(q[:, movable]), _exp_quaternion(delta))
        rotmats = quaternion_to_rotmat(torch.cat([q, hands.expand(config.starts, -1, -1)], 1))  # (B, 24, 3, 3)
        joints, global_rot = forward_kinematics_levels(rotmats)
        centres = part_centres(joints, global_rot)  # (B, P, 3)
        gaps, above = contact_gaps(centres, every)  # (B, C), (B, C, P)
        over_limit = limit_excess(q, rotmats[:, :NUM_POSE_JOINTS], config.limit_margin)  # (B, L, 6)
        pierce = (_pierce_depth(joints, global_rot, centres, sides) if sides
                  else torch.zeros(config.starts, 1, 1, dtype=torch.float64))
        legs = (joints[:, stance[1::4] + stance[2::4] + stance[3::4]]
                - joints[:, stance[0::4] + stance[1::4] + stance[2::4]])
        return q, gaps, above, over_limit, pierce, legs / legs.norm(dim=-1, keepdim=True)

    with torch.no_grad():
        gaps_before, legs_before = evaluate()[1][0].numpy().copy(), evaluate()[5][0].clone()
    best = {}  # start -> (closeness cost, quaternions, gaps) when it first met everything
    steps, first_done = 0, None
    for steps in range(config.max_steps + 1):
        q, gaps, above, over_limit, pierce, legs = evaluate()
        closeness = (stiffness * delta.square().sum(-1)).sum(-1)  # (B,)
        with torch.no_grad():
            met = ((gaps.abs() <= config.done_fraction * tolerance).all(-1)
                   & (over_limit.flatten(1).amax(-1) <= config.limit_margin) & (pierce.flatten(1).amax(-1) <= 0.005))
            for b in np.flatnonzero(met.numpy()):
                best.setdefault(int(b), (float(closeness[b]), q[b].detach().clone(), gaps[b].detach().clone()))
        if best and first_done is None:
            first_done = steps
        if 0 in best and steps == 0:  # the input already meets everything: leave it exactly as it is
            break
        if len(best) == config.starts or steps == config.max_steps or (
                first_done is not None and steps >= first_done + config.patience):
            break
        pull = config.contact_weight * (1.0 + steps / config.ramp_steps)  # a contact held off by the rest wins in time
        loss = (
            pull * torch.relu(gaps.abs() - config.target_fraction * tolerance).square().sum()
            + pull * torch.relu(above - config.target_fraction * tolerance[:, None]).square().sum()
            + config.close_weight * closeness.sum()
            + config.limit_weight * over_limit.square().sum()
            + config.pierce_weight * pierce.square().sum()
            + config.stance_weight * (legs - legs_before).square().sum()
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    if best:
        _, q_best, gaps_best = min(best.values(), key=lambda entry: entry[0])
    else:  # nothing met everything: the start that came nearest
        with torch.no_grad():
            miss = (torch.relu(gaps.abs() - tolerance).sum(-1) + over_limit.flatten(1).sum(-1)
                    + pierce.flatten(1).sum(-1))
        b = int(miss.argmin())
        q_best, gaps_best = q[b].detach(), gaps[b].detach()
    refined = pose.copy()
    if steps:
        refined[movable] = quaternion_to_axis_angle(q_best[movable]).numpy()
    return RefineResult(refined, gaps_before[: len(contacts)], gaps_best[: len(contacts)].numpy().copy(),
                        [_name(j) for j in movable], steps, time.perf_counter() - start_time)


def _bottoms(axis_angle: np.ndarray) -> np.ndarray:
    """Undersides (heights) of every part of a (22, 3) pose, pelvis at the origin -> (P,) metres."""
    q = axis_angle_to_quaternion(torch.tensor(np.array(axis_angle, dtype=np.float64).reshape(NUM_POSE_JOINTS, 3)))
    rotmats = quaternion_to_rotmat(torch.cat([q, torch.tensor([[1.0, 0.0, 0.0, 0.0]] * 2, dtype=torch.float64)]))
    centres = part_centres(*forward_kinematics_levels(rotmats))
    return (centres[:, 1] - torch.from_numpy(PART_RADII)).numpy()


def lowest_point(axis_angle: np.ndarray) -> float:
    """Height of the lowest part underside of a (22, 3) pose, pelvis at the origin (metres)."""
    return float(_bottoms(axis_angle).min())


def _name(joint: int) -> str:
    return JOINT_NAMES[joint]


def apply_contacts(pose_axis_angle: np.ndarray, text: str,
                   config: RefineConfig = RefineConfig()) -> tuple[np.ndarray, dict]:
    """Make a generated pose satisfy the contacts its text asks for.

    pose_axis_angle (22, 3), text: the prompt or edit instruction -> (refined (22, 3) float64, report) with
    report = {"contacts": [{"a", "b", "tolerance", "gap_before", "gap_after", "satisfied"}], "moved_joints",
    "steps", "seconds", "all_satisfied", "root_height_change"}; add root_height_change to the root's
    vertical translation to keep the lowest point of the body where it was (on the ground). Text without
    contacts returns the pose unchanged.
    """
    contacts = parse_contacts(text)
    result = refine_pose(pose_axis_angle, contacts, config)
    rows = [
        {"a": c.a, "b": c.b, "tolerance": c.tolerance, "gap_before": float(before), "gap_after": float(after),
         "satisfied": bool(abs(after) <= c.tolerance)}
        for c, before, after in zip(contacts, result.gaps_before, result.gaps_after)
    ]
    report = {"contacts": rows, "moved_joints": result.moved_joints, "steps": result.steps,
              "seconds": result.seconds, "all_satisfied": all(r["satisfied"] for r in rows),
              "root_height_change": lowest_point(pose_axis_angle) - lowest_point(result.pose) if contacts else 0.0}
    return result.pose, report
