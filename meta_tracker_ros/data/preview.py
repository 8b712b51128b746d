# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Previews of synthetic sequences: annotated frames, contact sheets and videos."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence as Seq

import cv2
from meta_tracker_ros.data.generator import SyntheticFrame, SyntheticSequence
import numpy as np


_SHORT = {'occlusion': 'occ', 'full_occlusion': 'FOC', 'out_of_view': 'ov',
          'fast_motion': 'fm', 'scale_change': 'sv', 'aspect_change': 'arc', 'rotation': 'rot',
          'distractor': 'dis', 'blur': 'blur', 'illumination': 'iv', 'camera_motion': 'cm',
          'low_resolution': 'lr'}


def annotate(f: SyntheticFrame) -> np.ndarray:
    """Draw the visible-mask outline, the box and a caption on a copy of the frame (RGB)."""
    img = f.image.copy()
    contours, _ = cv2.findContours(f.mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(img, contours, -1, (255, 255, 0), 1)
    if not f.absent:
        x, y, w, h = (int(v) for v in f.box)
        cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), (0, 255, 0), 2)
    flags = ' '.join(_SHORT[k] for k, v in f.flags.items() if v)
    text = f'#{f.index} vis {f.visibility:.2f}{" ABSENT" if f.absent else ""} {flags}'
    cv2.rectangle(img, (0, 0), (img.shape[1], 16), (0, 0, 0), -1)
    cv2.putText(img, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img


def contact_sheet(seq: SyntheticSequence, indices: Seq[int] | None = None, cols: int = 4,
                  count: int = 12) -> np.ndarray:
    """Grid of annotated frames (RGB uint8); evenly spaced frames when indices is None."""
    if indices is None:
        indices = np.linspace(0, len(seq) - 1, min(count, len(seq))).round().astype(int)
    tiles = [annotate(seq.frame(int(i))) for i in indices]
    rows = -(-len(tiles) // cols)
    h, w = tiles[0].shape[:2]
    sheet = np.zeros((rows * (h + 2), cols * (w + 2), 3), np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = t
    return sheet


def write_preview(seq: SyntheticSequence, path: Path | str, fps: float = 30.0) -> Path:
    """Write an annotated preview: a video for .mp4/.avi, else a contact-sheet image."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in ('.mp4', '.avi'):
        fourcc = cv2.VideoWriter_fourcc(*('mp4v' if path.suffix.lower() == '.mp4' else 'MJPG'))
        vw = cv2.VideoWriter(str(path), fourcc, fps, (seq.width, seq.height))
        if not vw.isOpened():
            raise OSError(f'cannot open a video writer for {path}')
        try:
            for f in seq:
                vw.write(cv2.cvtColor(annotate(f), cv2.COLOR_RGB2BGR))
        finally:
            vw.release()
    else:
        sheet = contact_sheet(seq)
        if not cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
            raise OSError(f'cannot write image {path}')
    return path
