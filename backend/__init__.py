"""UniPose backend: body model, pose tokenizer, UniPose model, server and command line."""
