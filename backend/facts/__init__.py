"""Pose facts: posecodes measured on a body, and texts read back into the posecodes they claim."""
