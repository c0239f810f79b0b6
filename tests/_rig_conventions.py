"""Humanoid armatures in the naming conventions of common rigs, as plain arrays (no bpy), for the rig
mapping tests in numpy and in Blender.

Every rig has an A-pose rest (arms 40 degrees down, elbows bent 12 degrees, feet turned out), random
bone rolls, extra bones (twist, fingers, helpers) and the convention's own spine and neck bone counts.
"""
import numpy as np

from backend.body import rotations, skeleton

J = skeleton.JOINT_INDEX
# Convention: names of pelvis, spine bones, neck bones, head, per side (with {s}: L/l/Left/left as the
# convention writes it) collar, upper arm, forearm, hand, thigh, shin, foot, toe; extras: (name, parent slot).
CONVENTIONS = {
    "mixamo": dict(pelvis="mixamorig:Hips", spine=["mixamorig:Spine", "mixamorig:Spine1", "mixamorig:Spine2"],
                   neck=["mixamorig:Neck"], head="mixamorig:Head", side=("Left", "Right"),
                   limb=["mixamorig:{s}Shoulder", "mixamorig:{s}Arm", "mixamorig:{s}ForeArm", "mixamorig:{s}Hand",
                         "mixamorig:{s}UpLeg", "mixamorig:{s}Leg", "mixamorig:{s}Foot", "mixamorig:{s}ToeBase"],
                   extras=[("mixamorig:{s}HandIndex1", "hand"), ("mixamorig:HeadTop_End", "head")], yup=True),
    "rigify_deform": dict(pelvis="DEF-spine", spine=["DEF-spine.001", "DEF-spine.002", "DEF-spine.003"],
                          neck=["DEF-spine.004", "DEF-spine.005"], head="DEF-spine.006", side=("L", "R"),
                          limb=["DEF-shoulder.{s}", "DEF-upper_arm.{s}", "DEF-forearm.{s}", "DEF-hand.{s}",
                                "DEF-thigh.{s}", "DEF-shin.{s}", "DEF-foot.{s}", "DEF-toe.{s}"],
                          extras=[("DEF-upper_arm.{s}.001", "upperarm"), ("DEF-thigh.{s}.001", "thigh"),
                                  ("DEF-f_index.01.{s}", "hand")]),
    "auto_rig_pro": dict(pelvis="root.x", spine=["spine_01.x", "spine_02.x", "spine_03.x"], neck=["neck.x"],
                         head="head.x", side=("l", "r"),
                         limb=["shoulder.{s}", "arm.{s}", "forearm.{s}", "hand.{s}", "thigh.{s}", "leg.{s}",
                               "foot.{s}", "toes_01.{s}"],
                         extras=[("thigh_twist.{s}", "thigh"), ("arm_twist.{s}", "upperarm")]),
    "vroid": dict(pelvis="J_Bip_C_Hips", spine=["J_Bip_C_Spine", "J_Bip_C_Chest", "J_Bip_C_UpperChest"],
                  neck=["J_Bip_C_Neck"], head="J_Bip_C_Head", side=("L", "R"),
                  limb=["J_Bip_{s}_Shoulder", "J_Bip_{s}_UpperArm", "J_Bip_{s}_LowerArm", "J_Bip_{s}_Hand",
                        "J_Bip_{s}_UpperLeg", "J_Bip_{s}_LowerLeg", "J_Bip_{s}_Foot", "J_Bip_{s}_ToeBase"],
                  extras=[("J_Sec_{s}_Bust1", "spine3"), ("J_Bip_{s}_Index1", "hand")], yup=True),
    "vrm": dict(pelvis="hips", spine=["spine", "chest", "upperChest"], neck=["neck"], head="head",
                side=("left", "right"),
                limb=["{s}Shoulder", "{s}UpperArm", "{s}LowerArm", "{s}Hand", "{s}UpperLeg", "{s}LowerLeg",
                      "{s}Foot", "{s}Toes"], extras=[]),
    "ue4": dict(pelvis="pelvis", spine=["spine_01", "spine_02", "spine_03"], neck=["neck_01"], head="head",
                side=("l", "r"),
                limb=["clavicle_{s}", "upperarm_{s}", "lowerarm_{s}", "hand_{s}", "thigh_{s}", "calf_{s}",
                      "foot_{s}", "ball_{s}"],
                extras=[("thigh_twist_01_{s}", "thigh"), ("lowerarm_twist_01_{s}", "forearm"),
                        ("index_01_{s}", "hand"), ("ik_foot_root", None)]),
    "ue5": dict(pelvis="pelvis", spine=["spine_01", "spine_02", "spine_03", "spine_04", "spine_05"],
                neck=["neck_01", "neck_02"], head="head", side=("l", "r"),
                limb=["clavicle_{s}", "upperarm_{s}", "lowerarm_{s}", "hand_{s}", "thigh_{s}", "calf_{s}",
                      "foot_{s}", "ball_{s}"], extras=[("upperarm_twist_01_{s}", "upperarm")], root="root"),
    "daz": dict(pelvis="hip", spine=["abdomenLower", "abdomenUpper", "chestLower", "chestUpper"],
                neck=["neckLower", "neckUpper"], head="head", side=("l", "r"),
                limb=["{s}Collar", "{s}ShldrBend", "{s}ForearmBend", "{s}Hand", "{s}ThighBend", "{s}Shin",
                      "{s}Foot", "{s}Toe"],
                extras=[("{s}ShldrTwist", "upperarm"), ("{s}ThighTwist", "thigh"), ("pelvis", "pelvis")]),
    "makehuman": dict(pelvis="root", spine=["spine05", "spine04", "spine03", "spine02", "spine01"],
                      neck=["neck01", "neck02", "neck03"], head="head", side=("L", "R"),
                      limb=["clavicle.{s}", "upperarm01.{s}", "lowerarm01.{s}", "wrist.{s}", "upperleg01.{s}",
                            "lowerleg01.{s}", "foot.{s}", "toe1-1.{s}"],
                      extras=[("upperarm02.{s}", "upperarm"), ("upperleg02.{s}", "thigh"), ("pelvis.{s}", "pelvis")]),
    "character_creator": dict(pelvis="CC_Base_Hip", spine=["CC_Base_Waist", "CC_Base_Spine01", "CC_Base_Spine02"],
                              neck=["CC_Base_NeckTwist01", "CC_Base_NeckTwist02"], head="CC_Base_Head",
                              side=("L", "R"),
                              limb=["CC_Base_{s}_Clavicle", "CC_Base_{s}_Upperarm", "CC_Base_{s}_Forearm",
                                    "CC_Base_{s}_Hand", "CC_Base_{s}_Thigh", "CC_Base_{s}_Calf", "CC_Base_{s}_Foot",
                                    "CC_Base_{s}_ToeBase"],
                              extras=[("CC_Base_{s}_UpperarmTwist01", "upperarm")], root="CC_Base_BoneRoot"),
    "cmu_bvh": dict(pelvis="Hips", spine=["LowerBack", "Spine", "Spine1"], neck=["Neck", "Neck1"], head="Head",
                    side=("Left", "Right"),
                    limb=["{s}Shoulder", "{s}Arm", "{s}ForeArm", "{s}Hand", "{s}UpLeg", "{s}Leg", "{s}Foot",
                          "{s}ToeBase"], extras=[("{s}HandThumb", "hand")], hipjoint="{c}HipJoint"),
}
LIMB_SLOTS = ("collar", "upperarm", "forearm", "hand", "thigh", "shin", "foot", "toe")
LIMB_JOINTS = ("collar", "shoulder", "elbow", "wrist", "hip", "knee", "ankle", "foot")


def _turn(points, centre, axis, degrees):
    r = rotations.axis_angle_to_rotmat(np.asarray(axis, float) * np.deg2rad(degrees))
    return (points - centre) @ r.T + centre


def a_pose_joints(arm_down=40.0, elbow_bend=12.0, foot_out=10.0) -> np.ndarray:
    """(24, 3) SMPL-frame joints of an A-pose: arms lowered, elbows bent forward, toes turned out."""
    rest = np.array(skeleton.NEUTRAL_REST_JOINTS, dtype=np.float64) * 1.05
    for side, sign in (("left", 1.0), ("right", -1.0)):
        arm = [J[f"{side}_{n}"] for n in ("shoulder", "elbow", "wrist", "hand")]
        rest[arm] = _turn(rest[arm], rest[arm[0]], (0, 0, 1), -sign * arm_down)
        rest[arm[1:]] = _turn(rest[arm[1:]], rest[arm[1]], (0, 1, 0), -sign * elbow_bend)
        toe = [J[f"{side}_foot"]]
        rest[toe] = _turn(rest[toe], rest[J[f"{side}_ankle"]], (0, 1, 0), sign * foot_out)
    return rest


def build(convention: str, rng=None):
    """A rig: names (B,), parents (B,), heads (B, 3), tails (B, 3) in armature space, rolls (B,), whether its
    armature space is Y-up, and the expected chains {joint name: [bone names]}."""
    spec = CONVENTIONS[convention]
    rng = rng or np.random.default_rng(0)
    smpl = a_pose_joints()
    names, parents, heads, tails = [], [], [], []
    expected: dict[str, list[str]] = {}

    def add(name, parent, head, tail):
        names.append(name)
        parents.append(-1 if parent is None else names.index(parent))
        heads.append(np.asarray(head, float))
        tails.append(np.asarray(tail, float))
        return name

    up = np.array([0.0, 0.1, 0.0])
    root = spec.get("root")
    if root:
        add(root, None, smpl[0] * [1, 0, 1] + [0, -0.95, 0], smpl[0] * [1, 0, 1] + [0, -0.75, 0])
    pelvis = add(spec["pelvis"], root, smpl[0], smpl[0] + up)
    expected["pelvis"] = [pelvis]
    spine_points = np.linspace(smpl[J["spine1"]], smpl[J["neck"]], len(spec["spine"]) + 1)
    previous = pelvis
    for k, name in enumerate(spec["spine"]):
        previous = add(name, previous, spine_points[k], spine_points[k + 1])
    neck_points = np.linspace(smpl[J["neck"]], smpl[J["head"]], len(spec["neck"]) + 1)
    chest = previous
    for k, name in enumerate(spec["neck"]):
        previous = add(name, previous, neck_points[k], neck_points[k + 1])
    head = add(spec["head"], previous, smpl[J["head"]], smpl[J["head"]] + 2 * up)
    expected["head"] = [head]
    expected["neck"] = list(spec["neck"])
    n = len(spec["spine"])
    ends = [min(n, max(1, round((k + 1) * n / 3))) for k in range(3)]
    start = 0
    for joint, end in zip(("spine1", "spine2", "spine3"), ends):
        expected[joint] = list(spec["spine"][start:end])
        start = end
    for side, letter in zip(("left", "right"), spec["side"]):
        limb = [pattern.format(s=letter) for pattern in spec["limb"]]
        joints = [J[f"{side}_{n}"] for n in LIMB_JOINTS]
        for slot, joint in zip(LIMB_SLOTS, LIMB_JOINTS):
            expected[f"{side}_{joint}"] = [limb[LIMB_SLOTS.index(slot)]]
        hand_end = smpl[J[f"{side}_hand"]]
        toe_end = smpl[J[f"{side}_foot"]] + [0, -0.01, 0.06]
        arm_parent, leg_parent = chest, pelvis
        if spec.get("hipjoint"):
            leg_parent = add(spec["hipjoint"].format(c=letter[0]), pelvis, smpl[0], smpl[joints[4]])
        chain = [(limb[0], arm_parent, joints[0], joints[1]), (limb[1], limb[0], joints[1], joints[2]),
                 (limb[2], limb[1], joints[2], joints[3]), (limb[3], limb[2], joints[3], None),
                 (limb[4], leg_parent, joints[4], joints[5]), (limb[5], limb[4], joints[5], joints[6]),
                 (limb[6], limb[5], joints[6], joints[7]), (limb[7], limb[6], joints[7], None)]
        for name, parent, joint, child in chain:
            tail = smpl[child] if child is not None else hand_end if joint == joints[3] else toe_end
            add(name, parent, smpl[joint], tail)
        slot_bone = dict(zip(LIMB_SLOTS, limb), pelvis=pelvis, head=head, spine3=chest)
        for pattern, slot in spec["extras"]:
            name = pattern.format(s=letter)
            if name in names:
                continue
            parent = slot_bone.get(slot) if slot else None
            base = heads[names.index(parent)] if parent else np.zeros(3)
            add(name, parent, base + [0.01, 0.0, 0.02], base + [0.01, 0.05, 0.04])
    heads, tails = np.array(heads), np.array(tails)
    yup = spec.get("yup", False)
    if not yup:  # Blender's Z-up armature space
        to_z_up = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
        heads, tails = heads @ to_z_up.T, tails @ to_z_up.T
    rolls = rng.uniform(-np.pi, np.pi, len(names))
    return names, np.array(parents), heads, tails, rolls, yup, expected


def rest_matrices(heads, tails, rolls) -> np.ndarray:
    """(B, 4, 4) bone rest matrices as Blender builds them from head, tail and roll (armature space)."""
    out = np.tile(np.eye(4), (len(heads), 1, 1))
    for b, (head, tail, roll) in enumerate(zip(heads, tails, rolls)):
        y = (tail - head) / np.linalg.norm(tail - head)
        helper = np.array([0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        x = np.cross(y, helper)
        x /= np.linalg.norm(x)
        z = np.cross(x, y)
        base = np.stack([x, y, z], axis=-1)
        out[b, :3, :3] = base @ rotations.axis_angle_to_rotmat(np.array([0.0, roll, 0.0]))
        out[b, :3, 3] = head
    return out
