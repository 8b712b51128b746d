# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Box and TrackResult: the values that cross the core/ROS boundary."""

from __future__ import annotations

from dataclasses import dataclass
import enum
import math

import numpy as np


class BoxError(ValueError):
    """A box that cannot be tracked (NaN, non-positive size, outside the image)."""


@dataclass(frozen=True)
class Box:
    """
    Axis-aligned box in 0-based pixel coordinates: top-left (x, y), size (w, h).

    The pixel (x, y) is the top-left corner of the box, so a box covering pixel columns
    10..19 has x=10, w=10, and its centre is x + w / 2 (continuous coordinates).
    """

    x: float
    y: float
    w: float
    h: float

    def __post_init__(self) -> None:
        for name in ('x', 'y', 'w', 'h'):
            object.__setattr__(self, name, float(getattr(self, name)))

    @classmethod
    def from_center(cls, cx: float, cy: float, w: float, h: float) -> Box:
        return cls(float(cx - w / 2.0), float(cy - h / 2.0), float(w), float(h))

    @classmethod
    def from_xyxy(cls, x1: float, y1: float, x2: float, y2: float) -> Box:
        return cls(float(x1), float(y1), float(x2 - x1), float(y2 - y1))

    @property
    def cx(self) -> float:
        return self.x + self.w / 2.0

    @property
    def cy(self) -> float:
        return self.y + self.h / 2.0

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    def as_xywh(self) -> np.ndarray:
        return np.array([self.x, self.y, self.w, self.h], dtype=np.float64)

    def as_xyxy(self) -> np.ndarray:
        return np.array([self.x, self.y, self.x + self.w, self.y + self.h], dtype=np.float64)

    def is_finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.x, self.y, self.w, self.h))

    def clip(self, width: int, height: int) -> Box:
        """Intersection with the image rectangle (may have zero size)."""
        x1 = min(max(self.x, 0.0), float(width))
        y1 = min(max(self.y, 0.0), float(height))
        x2 = min(max(self.x + self.w, 0.0), float(width))
        y2 = min(max(self.y + self.h, 0.0), float(height))
        return Box(x1, y1, x2 - x1, y2 - y1)

    def iou(self, other: Box) -> float:
        ix = max(0.0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0.0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def validate_init(self, width: int, height: int, min_size: float = 2.0) -> Box:
        """
        Check that this box can initialise a tracker on a width x height image.

        Returns the box clipped to the image; raises BoxError with a reason otherwise.
        """
        if not self.is_finite():
            raise BoxError(f'box has non-finite values: {self}')
        if self.w <= 0 or self.h <= 0:
            raise BoxError(f'box has non-positive size {self.w}x{self.h}')
        clipped = self.clip(width, height)
        if clipped.w < min_size or clipped.h < min_size:
            raise BoxError(
                f'box {self} lies outside the {width}x{height} image '
                f'(visible part {clipped.w:.1f}x{clipped.h:.1f} px, need {min_size} px)')
        return clipped


class TrackState(str, enum.Enum):
    """What the tracker believes about the target."""

    IDLE = 'idle'
    TRACKING = 'tracking'
    LOST = 'lost'


@dataclass(frozen=True)
class TrackResult:
    """
    One frame's output.

    box: the estimate (also while LOST: the last position searched around).
    score: tracker confidence, higher is more certain; comparable within one tracker only.
    mask: (H, W) uint8 {0, 255} full-frame mask, or None for trackers without masks.
    state: TRACKING or LOST.
    angle: rotation in radians of the rotated box fitted to the mask (counter-clockwise in
        image coordinates, about the box centre), or None (an upright box).
    """

    box: Box
    score: float
    mask: np.ndarray | None = None
    state: TrackState = TrackState.TRACKING
    angle: float | None = None
