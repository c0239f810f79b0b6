"""Body model: SMPL kinematic tree, the project's neutral skeleton, rotations and forward kinematics."""
