# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Classical baselines and fallbacks: OpenCV's CSRT and KCF (opencv-contrib).

They report no calibrated confidence, so the score is 1.0 while OpenCV says the target is
found and 0.0 (state LOST) when it says it is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import cv2
from meta_tracker_ros.core.config import param, TrackerConfig
from meta_tracker_ros.core.registry import register_tracker
from meta_tracker_ros.core.types import Box, TrackResult, TrackState
import numpy as np


@dataclass(frozen=True)
class CSRTConfig(TrackerConfig):
    use_hog: bool = param(True, 'use HOG features')
    use_color_names: bool = param(True, 'use colour-names features')
    use_segmentation: bool = param(True, 'use the spatial reliability map')
    padding: float = param(3.0, 'search area relative to the target size', min=1.0, max=10.0)
    psr_threshold: float = param(0.035, 'peak-to-sidelobe ratio below which the target is '
                                 'reported lost', min=0.0, max=1.0)


@dataclass(frozen=True)
class KCFConfig(TrackerConfig):
    detect_thresh: float = param(0.5, 'response below which the target is reported lost',
                                 min=0.0, max=1.0)
    compressed_size: int = param(2, 'feature compression size', min=1, max=64)


class _OpenCVTracker:
    """Wraps a cv2 tracker factory behind the Tracker protocol."""

    name = ''

    def __init__(self, *, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._tracker: Any = None
        self._box: Box | None = None

    def initialize(self, image: np.ndarray, box: Box) -> None:
        h, w = image.shape[:2]
        box = box.validate_init(w, h)
        tracker = self._factory()
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        tracker.init(bgr, tuple(int(round(v)) for v in box.as_xywh()))
        # Swap only once init succeeded, so a failed init keeps the previous target.
        self._tracker, self._box = tracker, box

    def update(self, image: np.ndarray) -> TrackResult:
        if self._tracker is None:
            raise RuntimeError('update() before initialize()')
        ok, rect = self._tracker.update(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if ok:
            self._box = Box(*map(float, rect))
            return TrackResult(self._box, 1.0, None, TrackState.TRACKING)
        return TrackResult(self._box, 0.0, None, TrackState.LOST)

    def reset(self) -> None:
        self._tracker, self._box = None, None


@register_tracker('opencv_csrt', config=CSRTConfig)
class CSRTTracker(_OpenCVTracker):
    """OpenCV CSRT (discriminative correlation filter with channel and spatial reliability)."""

    def __init__(self, *, config: CSRTConfig, weights: Path | None = None,
                 device: str = 'cpu') -> None:
        def factory() -> Any:
            p = cv2.TrackerCSRT_Params()
            p.use_hog, p.use_color_names = config.use_hog, config.use_color_names
            p.use_segmentation, p.padding = config.use_segmentation, config.padding
            p.psr_threshold = config.psr_threshold
            return cv2.TrackerCSRT_create(p)
        super().__init__(factory=factory)


@register_tracker('opencv_kcf', config=KCFConfig)
class KCFTracker(_OpenCVTracker):
    """OpenCV KCF (kernelised correlation filter)."""

    def __init__(self, *, config: KCFConfig, weights: Path | None = None,
                 device: str = 'cpu') -> None:
        def factory() -> Any:
            p = cv2.TrackerKCF_Params()
            p.detect_thresh = config.detect_thresh
            p.compressed_size = config.compressed_size
            return cv2.TrackerKCF_create(p)
        super().__init__(factory=factory)
