# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
GOT-10k reader: <root>/<train|val|test>/list.txt and one folder per sequence.

Each sequence folder holds %08d.jpg frames, groundtruth.txt (x, y, w, h, comma separated;
only the first row in the test split), meta_info.ini (object class, motion class and the
resolution used to clip boxes when scoring) and, in train and val, the per-frame labels
absence.label (1 = target absent), cover.label (visible fraction in 0..8, 0 = fully
covered) and cut_by_image.label (1 = target cut by the image border). Boxes are used as
read, for initialisation and scoring alike, as the got10k toolkit does: datasets/got10k.py
reads groundtruth.txt with np.loadtxt and experiments/got10k.py passes anno[0] to
tracker.track and scores rect_iou(boxes[1:], anno[1:], bound=resolution), with no shift
(pysot's toolkit/datasets/got10k.py neither). A frame is absent when absence.label says so
or cover.label is 0; the AO/SR scores follow got10k exactly and use cover > 0 (see
metrics.evaluate_ope).
"""

from __future__ import annotations

import ast
from pathlib import Path

from meta_tracker_ros.eval.readers.common import (DatasetError, read_flags, read_rows,
                                                  sorted_frames)
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np

GOT10K_LABELS = ('absence', 'cover', 'cut_by_image')


def read_meta_info(path: Path) -> dict[str, str]:
    """meta_info.ini as a dict ('[METAINFO]' header, then 'key: value' lines)."""
    meta = {}
    for line in path.read_text().splitlines()[1:]:
        if ': ' in line:
            key, value = line.split(': ', 1)
            meta[key.strip()] = value.strip()
    return meta


def read_got10k_sequence(seq_dir: Path, subset: str) -> Sequence:
    """One GOT-10k sequence folder."""
    frames = sorted_frames(seq_dir)
    gt = read_rows(seq_dir / 'groundtruth.txt')
    if subset == 'test':
        # The test split withholds all but the first box: the rest is unknown (NaN rows,
        # hence absent), and the results can only be scored by the GOT-10k server.
        gt = np.vstack([gt[:1], np.full((len(frames) - 1, 4), np.nan)])
    elif len(gt) != len(frames):
        raise DatasetError(f'{seq_dir}: {len(frames)} images but {len(gt)} ground-truth rows')
    meta: dict = {'benchmark': 'got10k', 'subset': subset}
    if (seq_dir / 'meta_info.ini').is_file():
        info = read_meta_info(seq_dir / 'meta_info.ini')
        meta['info'] = info
        if 'resolution' in info:
            meta['resolution'] = tuple(ast.literal_eval(info['resolution']))
    attributes = {}
    absent = ~np.isfinite(gt).all(axis=1)
    for label in GOT10K_LABELS:
        path = seq_dir / f'{label}.label'
        if path.is_file():
            attributes[label] = read_flags(path, len(frames))
    if 'absence' in attributes:
        absent |= attributes['absence'] == 1
    if 'cover' in attributes:
        absent |= attributes['cover'] == 0
    return Sequence(name=seq_dir.name, frames=frames, gt=gt, absent=absent,
                    attributes=attributes, meta=meta)


def read_got10k(root: str | Path, subset: str = 'val') -> list[Sequence]:
    """Read the sequences of one GOT-10k split, in list.txt order."""
    root = Path(root)
    if subset not in ('train', 'val', 'test'):
        raise DatasetError(f'unknown GOT-10k subset {subset!r}; use train, val or test')
    list_file = root / subset / 'list.txt'
    if not list_file.is_file():
        raise DatasetError(f'GOT-10k {subset} list not found: {list_file}')
    names = list_file.read_text().split()
    if not names:
        raise DatasetError(f'{list_file} lists no sequences')
    missing = [n for n in names if not (root / subset / n).is_dir()]
    if missing:
        raise DatasetError(f'{len(missing)} sequences of {list_file} missing, e.g. '
                           f'{", ".join(missing[:3])}')
    return [read_got10k_sequence(root / subset / n, subset) for n in names]
