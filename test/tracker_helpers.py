# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Shared by the tracker tests: a moving target's frames, small weights files."""

from pathlib import Path

from meta_tracker_ros.core.types import Box
from meta_tracker_ros.core.weights import save_weights
import numpy as np
import torch


def moving_target_frames(n: int, size: tuple[int, int] = (240, 320)
                         ) -> tuple[list[np.ndarray], list[Box]]:
    """Return n RGB frames and the target's true boxes (3 px right, 2 px down per frame)."""
    rng = np.random.default_rng(5)
    bg = rng.integers(0, 120, (*size, 3), dtype=np.uint8)
    target = rng.integers(120, 255, (40, 50, 3), dtype=np.uint8)
    frames, boxes = [], []
    for i in range(n):
        img = bg.copy()
        x, y = 100 + 3 * i, 80 + 2 * i
        img[y:y + 40, x:x + 50] = target
        frames.append(img)
        boxes.append(Box(x, y, 50, 40))
    return frames, boxes


def small_trackmlp_weights(path: Path, mask_bias: float | None = None,
                           inner_lr: float = 1e-3) -> Path:
    """Write a small random TrackMLP weights file; mask_bias: every mask logit starts there."""
    from meta_tracker_ros.core.models.trackmlp import (TrackMLPArgs, TrackMLPInnerArgs,
                                                       TrackMLPNet)
    torch.manual_seed(0)
    net = TrackMLPNet(TrackMLPArgs(channels=8, generator_hidden=16),
                      TrackMLPInnerArgs(lr=inner_lr))
    if mask_bias is not None:
        with torch.no_grad():
            net.model.mask_head.head[3].bias.fill_(mask_bias)
    return save_weights(path, net.state_dict(), tracker='trackmlp',
                        model_args=net.model_args())
