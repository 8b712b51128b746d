# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Cosine windows, response upsampling and peak localisation for correlation trackers."""

from __future__ import annotations

import cv2
import numpy as np


def cosine_window(size: int) -> np.ndarray:
    """(size, size) float32 Hann window normalised to sum 1 (the h of paper section 3.1.2)."""
    if size < 1:
        raise ValueError(f'window size must be positive, got {size}')
    h = np.hanning(size).astype(np.float64)
    win = np.outer(h, h)
    total = win.sum()
    if total <= 0:  # size 1 or 2: np.hanning is all zeros
        win = np.ones((size, size))
        total = win.sum()
    return (win / total).astype(np.float32)


def upsample(response: np.ndarray, factor: int) -> np.ndarray:
    """Bicubic upsampling of an (h, w) response by an integer factor (SiamFC's refinement)."""
    if factor == 1:
        return response.astype(np.float32, copy=False)
    h, w = response.shape
    return cv2.resize(response.astype(np.float32, copy=False), (w * factor, h * factor),
                      interpolation=cv2.INTER_CUBIC)


def apply_window(response: np.ndarray, window: np.ndarray, influence: float) -> np.ndarray:
    """
    Blend a response with a cosine window: (1 - influence) * r_norm + influence * window.

    r_norm is the response shifted to be non-negative and normalised to sum 1, so the window
    (also summing to 1) has a weight that does not depend on the response's scale.
    """
    r = response - response.min()
    total = r.sum()
    if total > 0:
        r = r / total
    return (1.0 - influence) * r + influence * window


def peak_offset(scores: np.ndarray) -> tuple[float, float]:
    """Displacement (dx, dy) in score-map pixels of the maximum from the map's centre."""
    h, w = scores.shape
    iy, ix = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return float(ix - (w - 1) / 2.0), float(iy - (h - 1) / 2.0)


def shape_penalised(scores: np.ndarray, widths: np.ndarray, heights: np.ndarray,
                    target_wh: tuple[float, float], penalty_k: float, window: np.ndarray,
                    influence: float) -> tuple[int, np.ndarray]:
    """
    Apply SiamRPN's post-processing to candidate boxes: shape penalty, then a cosine window.

    scores, widths, heights (image pixels) and window: one value per candidate (flat). The
    penalty exp(-(r * s - 1) * penalty_k) punishes a change of size s and of aspect r from
    the target's (w, h). Returns the flat index of the best windowed candidate and the
    penalised scores (the size interpolation rate of SiamRPN uses the chosen one's).
    """
    tw, th = target_wh

    def change(r):
        return np.maximum(r, 1.0 / r)

    def size(a, b):
        p = (a + b) * 0.5
        return np.sqrt((a + p) * (b + p))

    w = np.maximum(widths, 1e-3)
    h = np.maximum(heights, 1e-3)
    s_c = change(size(w, h) / size(tw, th))
    r_c = change((tw / th) / (w / h))
    penalised = np.exp(-(r_c * s_c - 1.0) * penalty_k) * scores
    windowed = penalised * (1.0 - influence) + window * influence
    return int(np.argmax(windowed)), penalised
