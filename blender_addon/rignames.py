"""Which bones of a humanoid armature are the 22 SMPL joints: by name for common rig conventions, else
by structure. Pure numpy (no bpy).

A mapping gives every SMPL pose joint a *chain* of bones, root-most first: usually one bone, several
where a rig has more spine or neck bones than SMPL (Rigify's neck is `spine.004`-`spine.005`, UE5 has
five spine bones), and none for a spine or neck joint a rig lacks. Only the pelvis, head, collars and
limbs are found by name; the spine and neck chains are the hierarchy between them:
  pelvis = the lowest common ancestor of both thighs and the head,
  spine1..spine3 = the bones from the pelvis up to the collars' parent, shared out in order,
  neck = the bones from there up to the head.
Fingers, twist and helper bones are never mapped, so they keep whatever pose they have.
"""
import json
import re
from dataclasses import dataclass

import numpy as np

from .body import skeleton

J = skeleton.JOINT_INDEX
NUM_POSE_JOINTS = skeleton.NUM_POSE_JOINTS
OPTIONAL_JOINTS = frozenset((J["spine1"], J["spine2"], J["neck"]))  # may have no bone of their own
PRESET_FORMAT = "unipose-rig-mapping"

# Limb and head roles by normalised name (lowercase, side marker, prefixes and separators removed).
ROLE_KEYS: dict[str, tuple[str, ...]] = {
    "collar": ("shoulder", "clavicle", "collar", "collarbone"),
    "shoulder": ("arm", "upperarm", "upperarm01", "shldrbend", "shldr", "humerus"),
    "elbow": ("forearm", "lowerarm", "lowerarm01", "forearmbend", "elbow"),
    "wrist": ("hand", "wrist"),
    "hip": ("upleg", "thigh", "upperleg", "upperleg01", "thighbend"),
    "knee": ("leg", "shin", "calf", "lowerleg", "lowerleg01", "knee"),
    "ankle": ("foot", "ankle"),
    "foot": ("toebase", "toe", "toes", "ball", "toe11", "toes01"),
}
HEAD_KEYS = ("head", "spine006")
_NAMESPACE = re.compile(r"^.*[:|]")
_PREFIXES = re.compile(r"^(?:def|c|j_bip|cc_base|bip0*1|valvebiped_bip01|b)[-_. ]", re.I)
_SKIP = re.compile(r"^(?:org|mch|vis|tgt|mech)[-_.]|ik|tweak|twist|pole|target|roll|parent|helper|ref|socket|"
                   r"stretch|_pin", re.I)
_MECHANISM = re.compile(r"^(?:org|mch|vis|tgt|mech)[-_.]|tweak|(?:^|[-_.])ik(?:$|[-_.])", re.I)
_SEPARATORS = re.compile(r"[-_. ]")
# Which convention a rig follows, by the first pattern that matches one of its bone names.
CONVENTIONS = (
    ("Mixamo", re.compile(r"^mixamorig\d*:")),
    ("Rigify (FK controls)", re.compile(r"^thigh_fk\.[LR]$")),
    ("Rigify (deform)", re.compile(r"^DEF-thigh\.[LR]$")),
    ("Rigify metarig", re.compile(r"^spine\.006$")),
    ("Auto-Rig Pro", re.compile(r"^(c_)?thigh(_fk)?\.l$|\.x$")),
    ("VRoid", re.compile(r"^J_Bip_")),
    ("VRM", re.compile(r"^leftUpperLeg$")),
    ("Unreal UE5", re.compile(r"^spine_05$")),
    ("Unreal UE4", re.compile(r"^calf_l$")),
    ("DAZ Genesis", re.compile(r"^lThighBend$")),
    ("Character Creator", re.compile(r"^CC_Base_")),
    ("MakeHuman", re.compile(r"^upperleg01\.L$")),
    ("CMU / BVH", re.compile(r"^(LHipJoint|LowerBack)$")),
    ("Mixamo / BVH", re.compile(r"^LeftUpLeg$")),
)


class PresetError(ValueError):
    """A mapping preset that cannot be read; the message says why."""


class MappingError(ValueError):
    """The armature cannot be mapped: `missing` joint names, and why when it is not just names."""

    def __init__(self, missing: list[str], reason: str = ""):
        self.missing, self.reason = list(missing), reason
        super().__init__("missing joints: " + ", ".join(self.missing) + (f" ({reason})" if reason else ""))


@dataclass
class RigMapping:
    """chains: (22,) tuples of bone names per SMPL pose joint, root-most first; convention: how found."""
    chains: list[tuple[str, ...]]
    convention: str

    def missing(self) -> list[str]:
        return [skeleton.JOINT_NAMES[j] for j, chain in enumerate(self.chains)
                if not chain and j not in OPTIONAL_JOINTS]

    def to_json(self) -> str:
        joints = {skeleton.JOINT_NAMES[j]: list(chain) for j, chain in enumerate(self.chains)}
        return json.dumps({"format": PRESET_FORMAT, "convention": self.convention, "joints": joints})

    @classmethod
    def from_json(cls, text: str) -> "RigMapping":
        """Parse a preset; raises PresetError naming what is wrong."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise PresetError(f"not a mapping preset (invalid JSON: {error})") from error
        if not isinstance(data, dict) or data.get("format") != PRESET_FORMAT \
                or not isinstance(data.get("joints"), dict):
            raise PresetError(f"not a mapping preset: expected a JSON object with format {PRESET_FORMAT!r}")
        joints = data["joints"]
        chains = []
        for name in skeleton.POSE_JOINT_NAMES:
            chain = joints.get(name, [])
            chain = [chain] if isinstance(chain, str) else chain
            if not isinstance(chain, list) or not all(isinstance(b, str) for b in chain):
                raise PresetError(f"joint {name}: expected a bone name or a list of bone names")
            chains.append(tuple(b for b in chain if b))
        return cls(chains, str(data.get("convention") or "preset"))


def split_side(name: str) -> tuple[str | None, str]:
    """'mixamorig:LeftUpLeg' -> ('left', 'upleg'); 'thigh_fk.L' -> ('left', 'thighfk'); 'head' -> (None, 'head')."""
    name = _NAMESPACE.sub("", name.strip())
    while _PREFIXES.match(name):
        name = _PREFIXES.sub("", name)
    side = None
    match = re.match(r"^(left|right)", name, re.I)
    if match:
        side, name = match.group(1).lower(), name[match.end():]
    else:
        match = re.search(r"[-_. ](l|r|left|right)$", name, re.I)
        if match:
            side, name = ("left" if match.group(1)[0] in "lL" else "right"), name[:match.start()]
        else:
            match = re.match(r"^([lLrR])[-_. ]", name) or re.match(r"^([lr])(?=[A-Z])", name)
            if match:
                side, name = ("left" if match.group(1) in "lL" else "right"), name[match.end():]
    name = re.sub(r"\.x$", "", name)  # Auto-Rig Pro's midline marker
    return side, _SEPARATORS.sub("", name).lower()


def role_of(name: str) -> tuple[str | None, bool]:
    """A bone name -> ('left_hip' / 'head' / ..., is_fk_control), or (None, False) for other bones."""
    if _SKIP.search(_NAMESPACE.sub("", name)):
        return None, False
    side, key = split_side(name)
    fk = key.endswith("fk")
    key = key[:-2] if fk else key
    if side is None:
        return ("head" if key in HEAD_KEYS else None), fk
    for joint, keys in ROLE_KEYS.items():
        if key in keys:
            return f"{side}_{joint}", fk
    return None, False


def is_mechanism(name: str) -> bool:
    """Rig machinery (Rigify's ORG-/MCH- bones, tweak and IK bones): never posed directly."""
    return bool(_MECHANISM.search(name))


def convention_of(bone_names: list[str]) -> str:
    for label, pattern in CONVENTIONS:
        if any(pattern.search(name) for name in bone_names):
            return label
    return "names"


def ancestors(bone: int, parents: np.ndarray) -> list[int]:
    """bone, its parent, ... up to the root."""
    path = []
    while bone >= 0:
        path.append(bone)
        bone = int(parents[bone])
    return path


def _between(top: int, bottom: int, parents: np.ndarray) -> list[int] | None:
    """Bones strictly between ancestor `bottom` and its descendant `top`, root-most first (None if unrelated)."""
    path = ancestors(top, parents)
    if bottom not in path:
        return None
    return path[1:path.index(bottom)][::-1]


def _common_ancestor(bones: list[int], parents: np.ndarray) -> int:
    shared = set(ancestors(bones[0], parents))
    for bone in bones[1:]:
        shared &= set(ancestors(bone, parents))
    return next((b for b in ancestors(bones[0], parents) if b in shared), -1)


def share_spine(bones: list[int]) -> list[list[int]]:
    """The spine bones between pelvis and collars over spine1, spine2, spine3: spine3 always gets the top
    bone; with more than three, the extra bones join the joints nearest them."""
    n = len(bones)
    if n == 0:
        return [[], [], []]
    ends = [min(n, max(1, round((k + 1) * n / 3))) for k in range(3)]  # 1-based index of each joint's last bone
    if n < 3:
        ends = [1, 1, n] if n == 2 else [0, 0, 1]
    chains, start = [], 0
    for end in ends:
        chains.append(bones[start:end])
        start = max(start, end)
    return chains


def assemble(roles: dict[str, int], parents: np.ndarray,
             names: list[str] | None = None) -> tuple[list[list[int]], list[str]]:
    """Chains of bone indices for the 22 joints from the limb and head bones; also what is missing."""
    chains: list[list[int]] = [[] for _ in range(NUM_POSE_JOINTS)]
    for role, bone in roles.items():
        if role in J and role not in ("pelvis", "spine1", "spine2", "spine3", "neck"):
            chains[J[role]] = [bone]
    missing = []
    ends = [roles[k] for k in ("left_hip", "right_hip", "head") if k in roles]
    if len(ends) == 3:
        pelvis = _common_ancestor(ends, parents)
        collars = [roles[k] for k in ("left_collar", "right_collar") if k in roles]
        chest = _common_ancestor(collars + [roles["head"]], parents) if collars else int(parents[roles["head"]])
        spine = _between(chest, pelvis, parents) if chest >= 0 else None
        neck = _between(roles["head"], chest, parents) if chest >= 0 else None
        if names is not None and spine is not None and neck is not None:  # mechanism bones are not posed
            spine, neck = ([b for b in chain if not _MECHANISM.search(names[b])] for chain in (spine, neck))
        if pelvis >= 0 and pelvis not in ends and spine is not None and neck is not None:
            chains[J["pelvis"]] = [pelvis]
            for joint, bones in zip(("spine1", "spine2", "spine3"), share_spine(spine + [chest])):
                chains[J[joint]] = bones
            chains[J["neck"]] = neck
        else:
            missing.append("pelvis")
    else:
        missing.append("pelvis")
    missing += [skeleton.JOINT_NAMES[j] for j in range(NUM_POSE_JOINTS)
                if not chains[j] and j not in OPTIONAL_JOINTS and skeleton.JOINT_NAMES[j] not in missing]
    return chains, missing


def map_by_names(bone_names: list[str], parents: np.ndarray) -> tuple[list[list[int]], list[str]]:
    """Chains from names; where several bones claim a role, FK controls win, then the shallowest bone."""
    best: dict[str, tuple] = {}
    for b, name in enumerate(bone_names):
        role, fk = role_of(name)
        if role is not None:
            rank = (not fk, name.upper().startswith("DEF-"), len(ancestors(b, parents)), b)
            if role not in best or rank < best[role][0]:
                best[role] = (rank, b)
    return assemble({role: b for role, (_, b) in best.items()}, parents, bone_names)


# ----- by structure ------------------------------------------------------------------------------------

def _depths(parents: np.ndarray) -> np.ndarray:
    """Longest chain of bones below each bone (a leaf is 1)."""
    depth = np.ones(len(parents), int)
    for b in sorted(range(len(parents)), key=lambda b: -len(ancestors(b, parents))):
        if parents[b] >= 0:
            depth[parents[b]] = max(depth[parents[b]], depth[b] + 1)
    return depth


def _main_path(start: int, children: list[list[int]], depth: np.ndarray) -> list[int]:
    path = [start]
    while children[path[-1]]:
        path.append(max(children[path[-1]], key=lambda c: depth[c]))
    return path


def _limb(path: list[int], heads: np.ndarray) -> list[int] | None:
    """Three bones of a limb path: the two longest consecutive bones (thigh and shin, upper arm and
    forearm) and the one after them (foot, hand). Head-to-head lengths; the last bone counts as 0."""
    if len(path) < 3:
        return None
    points = np.vstack([heads[path], heads[path[-1:]]])
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    pairs = lengths[:-1] + lengths[1:]
    first = int(np.argmax(pairs[:max(1, len(path) - 2)]))
    return path[first:first + 3] if len(path) >= first + 3 else None


_END_BONE = re.compile(r"end|top|nub|tip|site", re.I)


def map_by_structure(bone_names: list[str], heads: np.ndarray,
                     parents: np.ndarray) -> tuple[list[list[int]], list[str]]:
    """A humanoid by its shape: a pelvis with two leg chains and a spine to a chest with two arms and a
    head, the spine pointing away from the legs. heads: (B, 3) rest heads; returns chains and missing."""
    count = len(parents)
    children: list[list[int]] = [[] for _ in range(count)]
    for b in range(count):
        if parents[b] >= 0:
            children[parents[b]].append(b)
    depth = _depths(parents)
    everything = list(skeleton.POSE_JOINT_NAMES)
    size = np.ptp(heads, axis=0).max() if count else 0.0
    for pelvis in sorted(range(count), key=lambda b: len(ancestors(b, parents))):
        branches = sorted((c for c in children[pelvis] if depth[c] >= 3), key=lambda c: -depth[c])
        if len(branches) < 3:
            continue
        for spine_root in branches:
            chest = next((b for b in _main_path(spine_root, children, depth)
                          if len([c for c in children[b] if depth[c] >= 3]) >= 2), None)
            legs = [c for c in branches if c != spine_root][:2]
            if chest is None or len(legs) < 2:
                continue
            arms = sorted((c for c in children[chest] if depth[c] >= 3), key=lambda c: -depth[c])[:2]
            others = [c for c in children[chest] if c not in arms]
            head_path = _main_path(max(others, key=lambda c: depth[c]), children, depth) if others else []
            leg_limbs = [_limb(_main_path(c, children, depth), heads) for c in legs]
            arm_paths = [_main_path(c, children, depth) for c in arms]
            arm_limbs = [_limb(p, heads) for p in arm_paths]
            leg_bones = [lb for lb in leg_limbs if lb is not None]
            arm_bones = [ab for ab in arm_limbs if ab is not None]
            if len(leg_bones) < len(leg_limbs) or len(arm_bones) < len(arm_limbs) or not head_path:
                continue  # a limb path too short for three bones
            up = heads[chest] - heads[pelvis]
            down = np.mean([heads[lb[2]] - heads[lb[0]] for lb in leg_bones], axis=0)
            if np.dot(up, down) > -0.5 * np.linalg.norm(up) * np.linalg.norm(down):
                continue  # legs not opposite the spine: a quadruped or something else
            # left: the body's left from up x forward (toes point forward), else +X
            forward = np.mean([heads[p[-1]] - heads[lb[2]] for p, lb in
                               zip([_main_path(c, children, depth) for c in legs], leg_bones)], axis=0)
            unit_up = up / np.linalg.norm(up)
            forward = forward - unit_up * np.dot(forward, unit_up)
            left = np.cross(unit_up, forward) if np.linalg.norm(forward) > 0.01 * size else np.array([1.0, 0, 0])
            legs_lr = leg_bones if np.dot(heads[leg_bones[0][0]] - heads[leg_bones[1][0]], left) >= 0 \
                else leg_bones[::-1]
            arms_lr = list(zip(arm_bones, arm_paths))
            if np.dot(heads[arm_bones[0][0]] - heads[arm_bones[1][0]], left) < 0:
                arms_lr = arms_lr[::-1]
            while len(head_path) > 1 and _END_BONE.search(bone_names[head_path[-1]]):
                head_path = head_path[:-1]  # an end marker (`HeadTop_End`, BVH end sites), not the head
            roles = {"head": head_path[-1]}
            for side, leg, (arm, arm_path) in zip(("left", "right"), legs_lr, arms_lr):
                leg_path = _main_path(leg[0], children, depth)
                roles.update({f"{side}_hip": leg[0], f"{side}_knee": leg[1], f"{side}_ankle": leg[2]})
                if len(leg_path) > 3:
                    roles[f"{side}_foot"] = leg_path[3]
                before = arm_path.index(arm[0])
                roles.update({f"{side}_shoulder": arm[0], f"{side}_elbow": arm[1], f"{side}_wrist": arm[2]})
                if before > 0:
                    roles[f"{side}_collar"] = arm_path[before - 1]
            chains, missing = assemble(roles, parents)
            if not missing:
                return chains, []
            everything = missing
    return [[] for _ in range(NUM_POSE_JOINTS)], everything


def detect_mapping(bone_names: list[str], parents: np.ndarray, heads: np.ndarray,
                   smpl_mapping: dict[int, str] | None = None) -> RigMapping:
    """The best mapping of an armature. bone_names: (B,); parents: (B,) index or -1; heads: (B, 3) rest
    heads in armature space. Raises MappingError naming the joints no method could find."""
    if smpl_mapping is not None and all(j in smpl_mapping for j in range(NUM_POSE_JOINTS)):
        return RigMapping([(smpl_mapping[j],) for j in range(NUM_POSE_JOINTS)], "SMPL")
    parents = np.asarray(parents, int)
    chains, missing = map_by_names(bone_names, parents)
    convention = convention_of(bone_names)
    if missing:
        chains, structural_missing = map_by_structure(bone_names, np.asarray(heads, float), parents)
        convention = "structure"
        if structural_missing:
            raise MappingError(missing if len(missing) <= len(structural_missing) else structural_missing)
    elif not _upright(chains, heads):
        raise MappingError(["pelvis", "spine1", "spine2", "spine3"],
                           "no upright spine above two legs: the legs do not point away from the spine")
    return RigMapping([tuple(bone_names[b] for b in chain) for chain in chains], convention)


def _upright(chains: list[list[int]], heads: np.ndarray) -> bool:
    heads = np.asarray(heads, float)
    up = heads[chains[J["head"]][0]] - heads[chains[J["pelvis"]][0]]
    down = np.mean([heads[chains[J[f"{s}_ankle"]][0]] - heads[chains[J[f"{s}_hip"]][0]] for s in ("left", "right")],
                   axis=0)
    return bool(float(np.dot(up, down)) < -0.5 * np.linalg.norm(up) * np.linalg.norm(down))


def validate(mapping: RigMapping, bone_names: list[str]) -> list[str]:
    """Problems with a (stored or edited) mapping: missing joints and bones the armature lacks."""
    known = set(bone_names)
    problems = [f"no bone '{b}'" for chain in mapping.chains for b in chain if b not in known]
    return problems + [f"missing {name}" for name in mapping.missing()]
