"""UniPose stages 1-3 on accelerate: config, task mixing, the training loop, exact-resume checkpoints."""
