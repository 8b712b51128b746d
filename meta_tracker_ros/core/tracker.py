# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The Tracker protocol every algorithm implements (cf. pysot's init/track)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from meta_tracker_ros.core.types import Box, TrackResult
import numpy as np


@runtime_checkable
class Tracker(Protocol):
    """
    A single-object tracker.

    Images are (H, W, 3) uint8 RGB arrays, C-contiguous. Boxes are 0-based pixel
    (x, y, w, h). initialize may raise BoxError / ValueError on bad input and must then
    leave any previous state untouched; update is only called after initialize.
    """

    name: str

    def initialize(self, image: np.ndarray, box: Box) -> None:
        """Start tracking the object inside box on image."""

    def update(self, image: np.ndarray) -> TrackResult:
        """Locate the target in the next frame."""

    def reset(self) -> None:
        """Forget the target."""
