"""BlazePose landmarks as UniPose's default pose-specific visual encoder.

schema (names, PoseLandmarks), blazepose (detector; imports mediapipe lazily), definitions (landmarks on
the SMPL skeleton), camera, synthetic (training landmarks without images), features + encoder (visual
tokens, kind "landmarks"), ik (landmarks -> SMPL pose by bone alignment).
"""
from backend.vision.landmarks.schema import LANDMARK_NAMES, NUM_LANDMARKS, PoseLandmarks
from backend.vision.landmarks.synthetic import SyntheticSettings, landmark_source, synthesize_landmarks

__all__ = ["LANDMARK_NAMES", "NUM_LANDMARKS", "PoseLandmarks", "SyntheticSettings", "landmark_source",
           "synthesize_landmarks"]
