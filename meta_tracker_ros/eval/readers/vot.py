# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
VOT short-term reader (VOT2013-VOT2019 layout): list.txt, <seq>/groundtruth.txt, frames.

Frames are <seq>/color/%08d.jpg (VOT2019) or <seq>/%08d.jpg (up to VOT2018). Each
ground-truth row is a polygon x1,y1,...,x4,y4 or a box x,y,w,h, in 0-based pixels. As
pysot's test script does, a box row is turned into the polygon with corners at x and
x + w - 1 (inclusive pixel coordinates), every polygon is kept for the overlap of the
reset-based protocol (meta['polygons']), and the axis-aligned box a tracker is
initialised with is pysot's get_axis_aligned_bbox: the polygon's centre, and the size of
its bounding box scaled so the areas agree, s = sqrt(polygon area / bbox area),
w = s * (x2 - x1) + 1, box = (cx - (w - 1) / 2, cy - (h - 1) / 2, w, h).
Per-frame tags (camera_motion, illum_change, motion_change, size_change, occlusion, in
<seq>/<tag>.tag or .label, shorter files padded with 0) become per-frame attributes.
"""

from __future__ import annotations

from pathlib import Path

from meta_tracker_ros.eval.readers.common import (DatasetError, read_flags, read_rows,
                                                  sorted_frames)
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np


def box_to_polygon(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) x, y, w, h -> (N, 8) corners at x .. x + w - 1 (pysot tools/test.py)."""
    x, y, w, h = boxes.T
    return np.stack([x, y, x, y + h - 1, x + w - 1, y + h - 1, x + w - 1, y], axis=1)


def axis_aligned_box(polygons: np.ndarray) -> np.ndarray:
    """(N, 8) polygons -> (N, 4) x, y, w, h as pysot's get_axis_aligned_bbox + (w - 1) / 2."""
    xs, ys = polygons[:, 0::2], polygons[:, 1::2]
    cx, cy = xs.mean(axis=1), ys.mean(axis=1)
    x1, x2 = xs.min(axis=1), xs.max(axis=1)
    y1, y2 = ys.min(axis=1), ys.max(axis=1)
    a1 = (np.linalg.norm(polygons[:, 0:2] - polygons[:, 2:4], axis=1)
          * np.linalg.norm(polygons[:, 2:4] - polygons[:, 4:6], axis=1))
    a2 = (x2 - x1) * (y2 - y1)
    with np.errstate(divide='ignore', invalid='ignore'):
        s = np.sqrt(a1 / a2)
    w = s * (x2 - x1) + 1
    h = s * (y2 - y1) + 1
    return np.stack([cx - (w - 1) / 2, cy - (h - 1) / 2, w, h], axis=1)


def read_vot_sequence(seq_dir: Path) -> Sequence:
    """One VOT sequence folder."""
    img_dir = seq_dir / 'color' if (seq_dir / 'color').is_dir() else seq_dir
    frames = sorted_frames(img_dir)
    regions = read_rows(seq_dir / 'groundtruth.txt', width=(4, 8))
    if len(regions) != len(frames):
        raise DatasetError(f'{seq_dir}: {len(frames)} images but {len(regions)} '
                           f'ground-truth rows')
    polygons = box_to_polygon(regions) if regions.shape[1] == 4 else regions
    attributes = {}
    for tag_file in sorted([*seq_dir.glob('*.tag'), *seq_dir.glob('*.label')]):
        attributes[tag_file.stem] = read_flags(tag_file, len(frames)).astype(bool)
    return Sequence(name=seq_dir.name, frames=frames, gt=axis_aligned_box(polygons),
                    attributes=attributes,
                    meta={'benchmark': 'vot', 'polygons': polygons})


def read_vot(root: str | Path) -> list[Sequence]:
    """Read the sequences of list.txt under a VOT short-term root, in list order."""
    root = Path(root)
    list_file = root / 'list.txt'
    if not list_file.is_file():
        raise DatasetError(f'VOT list not found: {list_file}')
    names = list_file.read_text().split()
    if not names:
        raise DatasetError(f'{list_file} lists no sequences')
    missing = [n for n in names if not (root / n).is_dir()]
    if missing:
        raise DatasetError(f'{len(missing)} sequences of {list_file} missing, e.g. '
                           f'{", ".join(missing[:3])}')
    return [read_vot_sequence(root / n) for n in names]
