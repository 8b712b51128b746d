# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The one in-memory description of a tracking sequence that every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np


@dataclass
class Sequence:
    """
    A sequence of frames with ground truth.

    gt: (N, 4) float64 boxes x, y, w, h in 0-based pixels, the boxes a tracker is
        initialised with and scored against: the annotation rows as read for OTB, UAV123,
        LaSOT and GOT-10k (as got10k, pysot and pytracking pass them, with no 1-pixel
        shift for the MATLAB-made files), and 0-based by construction where a reader derives
        them (VOT polygons, synthetic masks); rows are NaN where the target is absent or
        unlabelled.
    absent: (N,) bool, True where the benchmark counts the target as not visible
        (absent, full occlusion or out of view).
    attributes: per-sequence (bool) or per-frame ((N,) bool array) challenge flags.
    masks: optional per-frame mask image paths (mono, nonzero = target; with meta['mask_id'],
        label PNGs whose value mask_id is the target: DAVIS, YouTube-VOS); None for a frame
        without a mask (unlabelled).
    one_based: set by a reader that shifted 1-based boxes to 0-based, so results are written
        back in the file's convention (1 added to x, y); no reader shifts today.
    """

    name: str
    frames: list[Path]
    gt: np.ndarray
    absent: np.ndarray | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    masks: list[Path | None] | None = None
    one_based: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.gt = np.asarray(self.gt, dtype=np.float64).reshape(-1, 4)
        if len(self.gt) != len(self.frames):
            raise ValueError(f'{self.name}: {len(self.frames)} frames but {len(self.gt)} '
                             f'ground-truth rows')
        if self.absent is None:
            self.absent = ~np.isfinite(self.gt).all(axis=1)
        self.absent = np.asarray(self.absent, dtype=bool)

    def __len__(self) -> int:
        return len(self.frames)

    def load_image(self, i: int) -> np.ndarray:
        """Frame i as (H, W, 3) uint8 RGB."""
        img = cv2.imread(str(self.frames[i]), cv2.IMREAD_COLOR)
        if img is None:
            raise OSError(f'cannot read image {self.frames[i]}')
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def load_mask(self, i: int) -> np.ndarray | None:
        """Mask of frame i as (H, W) bool, or None when the sequence or frame has none."""
        if self.masks is None or self.masks[i] is None:
            return None
        if 'mask_id' in self.meta:
            from meta_tracker_ros.eval.readers.davis import read_label_png
            return read_label_png(self.masks[i]) == self.meta['mask_id']
        m = cv2.imread(str(self.masks[i]), cv2.IMREAD_GRAYSCALE)
        if m is None:
            raise OSError(f'cannot read mask {self.masks[i]}')
        return m > 0

    def init_index(self) -> int:
        """First frame with a visible, labelled target (where OPE initialises)."""
        ok = np.flatnonzero(~self.absent & np.isfinite(self.gt).all(axis=1)
                            & (self.gt[:, 2] > 0) & (self.gt[:, 3] > 0))
        if len(ok) == 0:
            raise ValueError(f'{self.name}: no frame with a visible target')
        return int(ok[0])
