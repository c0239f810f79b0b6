"""Landmarks -> a small set of visual tokens: one per landmark plus one global token.

Token k < 33 (landmark k): [one-hot slot (34) | world xyz, image xy, visibility (6) | zeros (198)].
Token 33 (global):         [one-hot slot (34) | zeros (6) | all world xyz (99), image xy (66), visibility (33)].
World coordinates stay in metres (BlazePose's hip-centred camera frame); image xy are made translation-
and scale-free: pixels relative to the hip midpoint divided by the torso length in pixels. Points are
weighted by their visibility, so a missing point reads as zero. No learned weights here: the visual
processor's mlp2x_gelu projector is what trains.
"""
import numpy as np

from backend.vision.landmarks.schema import LANDMARK_INDEX, NUM_LANDMARKS, PoseLandmarks

NUM_TOKENS = NUM_LANDMARKS + 1  # 34
LOCAL_DIM = 6
GLOBAL_DIM = NUM_LANDMARKS * LOCAL_DIM  # 198
TOKEN_DIM = NUM_TOKENS + LOCAL_DIM + GLOBAL_DIM  # 238

_HIPS = [LANDMARK_INDEX["left_hip"], LANDMARK_INDEX["right_hip"]]
_SHOULDERS = [LANDMARK_INDEX["left_shoulder"], LANDMARK_INDEX["right_shoulder"]]


def normalized_image_xy(landmarks: PoseLandmarks) -> np.ndarray:
    """(33, 2) image xy in torso lengths from the hip midpoint (aspect ratio undone, y down)."""
    width, height = landmarks.image_size
    pixels = landmarks.image.astype(np.float64) * np.array([width, height])  # (33, 2)
    hips = pixels[_HIPS].mean(0)
    torso = np.linalg.norm(pixels[_SHOULDERS].mean(0) - hips)
    return (pixels - hips) / max(torso, 1e-3)


def landmark_features(landmarks: PoseLandmarks) -> np.ndarray:
    """One detection -> (34, 238) float32 token features (layout in the module docstring)."""
    visibility = np.clip(landmarks.visibility.astype(np.float64), 0.0, 1.0)[:, None]  # (33, 1)
    local = np.concatenate([landmarks.world * visibility, normalized_image_xy(landmarks) * visibility / 4,
                            visibility], axis=-1)  # (33, 6)
    tokens = np.zeros((NUM_TOKENS, TOKEN_DIM), dtype=np.float32)
    tokens[:, :NUM_TOKENS] = np.eye(NUM_TOKENS)
    tokens[:NUM_LANDMARKS, NUM_TOKENS:NUM_TOKENS + LOCAL_DIM] = local
    tokens[NUM_LANDMARKS, NUM_TOKENS + LOCAL_DIM:] = local.T.reshape(-1)  # grouped by quantity
    return tokens
