# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Reader of our synthetic sequences (written by meta_tracker_ros.data, see data/writer.py).

    <root>/list.txt                 sequence names, one per line
    <root>/<seq>/img/000001.jpg     frames numbered from 1
    <root>/<seq>/groundtruth.txt    x,y,w,h per frame, 0-based pixels; nan,nan,nan,nan = absent
    <root>/<seq>/absence.label      0/1 per frame (1 = absent)
    <root>/<seq>/visibility.txt     visible fraction of the full target mask per frame
    <root>/<seq>/masks/000001.png   visible mask, mono8 0/255
    <root>/<seq>/meta.json          seed, spec, generator version, attributes; per-frame
                                    flags in frame_attributes as strings of '0'/'1'

Each sequence becomes an eval.sequence.Sequence with gt (NaN rows where absent), absent,
attributes (per-frame (N,) bool arrays), masks and meta (meta.json plus 'visibility', an
(N,) float array, 'benchmark': 'synthetic' and 'resolution': (width, height)).
"""

from __future__ import annotations

import json
from pathlib import Path

from meta_tracker_ros.eval.readers.common import DatasetError, read_rows
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np


_META_KEYS = ('num_frames', 'seed', 'generator_version', 'frame_attributes')


def _lines(path: Path, n: int) -> list[str]:
    try:
        lines = [s.strip() for s in path.read_text().splitlines() if s.strip()]
    except OSError as exc:
        raise DatasetError(f'cannot read {path}: {exc}') from exc
    if len(lines) != n:
        raise DatasetError(f'{path}: {len(lines)} lines for a sequence of {n} frames')
    return lines


def _numbered(folder: Path, ext: str, n: int) -> list[Path]:
    """Paths 000001<ext> .. n, checking that exactly these files exist."""
    if not folder.is_dir():
        raise DatasetError(f'folder not found: {folder}')
    paths = [folder / f'{k:06d}{ext}' for k in range(1, n + 1)]
    present = {p.name for p in folder.iterdir() if p.suffix == ext}
    missing = [p.name for p in paths if p.name not in present]
    if missing:
        raise DatasetError(f'{folder}: {len(missing)} of {n} files missing, first {missing[0]}')
    extra = sorted(present - {p.name for p in paths})
    if extra:
        raise DatasetError(f'{folder}: {len(extra)} unexpected files, first {extra[0]} '
                           f'(meta.json says {n} frames)')
    return paths


def read_synthetic_sequence(folder: Path | str) -> Sequence:
    """Read one sequence folder (see the module docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f'sequence folder not found: {folder}')
    meta_path = folder / 'meta.json'
    if not meta_path.is_file():
        raise DatasetError(f'{folder}: no meta.json (not a synthetic sequence, or its write '
                           f'was interrupted: regenerate it)')
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f'{meta_path}: unreadable JSON: {exc}') from exc
    if not isinstance(meta, dict):
        raise DatasetError(f'{meta_path}: expected a JSON object')
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise DatasetError(f'{meta_path}: missing key(s) {missing}')
    n = meta['num_frames']
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DatasetError(f'{meta_path}: num_frames must be a positive integer, got {n!r}')

    frames = _numbered(folder / 'img', '.jpg', n)
    masks = _numbered(folder / 'masks', '.png', n)
    gt = read_rows(folder / 'groundtruth.txt', width=4)
    if len(gt) != n:
        raise DatasetError(f'{folder / "groundtruth.txt"}: {len(gt)} boxes for a sequence of '
                           f'{n} frames')
    absence = _lines(folder / 'absence.label', n)
    bad = [i for i, s in enumerate(absence) if s not in ('0', '1')]
    if bad:
        raise DatasetError(f'{folder / "absence.label"}:{bad[0] + 1}: expected 0 or 1, got '
                           f'{absence[bad[0]]!r}')
    absent = np.array([s == '1' for s in absence])
    nan_rows = ~np.isfinite(gt).all(axis=1)
    if (nan_rows != absent).any():
        i = int(np.flatnonzero(nan_rows != absent)[0])
        raise DatasetError(f'{folder}: frame {i + 1} is {"absent" if absent[i] else "present"} '
                           f'in absence.label but its groundtruth.txt row is {gt[i].tolist()}')
    with np.errstate(invalid='ignore'):
        bad_box = ~nan_rows & ((gt[:, 2] <= 0) | (gt[:, 3] <= 0))
    if bad_box.any():
        i = int(np.flatnonzero(bad_box)[0])
        raise DatasetError(f'{folder / "groundtruth.txt"}:{i + 1}: box of non-positive size '
                           f'{gt[i].tolist()}')
    try:
        visibility = np.array([float(s) for s in _lines(folder / 'visibility.txt', n)])
    except ValueError as exc:
        raise DatasetError(f'{folder / "visibility.txt"}: {exc}') from None
    if not ((visibility >= 0) & (visibility <= 1)).all():
        raise DatasetError(f'{folder / "visibility.txt"}: values must lie in [0, 1]')

    attributes: dict[str, np.ndarray] = {}
    frame_attributes = meta['frame_attributes']
    if not isinstance(frame_attributes, dict):
        raise DatasetError(f'{meta_path}: frame_attributes must be an object')
    for key, flags in frame_attributes.items():
        if not isinstance(flags, str) or len(flags) != n or set(flags) - {'0', '1'}:
            raise DatasetError(f'{meta_path}: frame_attributes[{key!r}] must be a string of '
                               f'{n} characters 0/1')
        attributes[key] = np.frombuffer(flags.encode(), dtype=np.uint8) == ord('1')
    meta = dict(meta)
    meta['visibility'] = visibility
    meta.setdefault('benchmark', 'synthetic')
    if 'width' in meta and 'height' in meta:
        meta['resolution'] = (meta['width'], meta['height'])
    return Sequence(name=folder.name, frames=frames, gt=gt, absent=absent,
                    attributes=attributes, masks=masks, one_based=False, meta=meta)


def read_synthetic(root: Path | str) -> list[Sequence]:
    """All sequences named in <root>/list.txt, in that order."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f'synthetic dataset folder not found: {root}')
    list_path = root / 'list.txt'
    if not list_path.is_file():
        raise DatasetError(f'{root}: no list.txt (write the suite with meta-tracker-gen)')
    names = [s.strip() for s in list_path.read_text().splitlines() if s.strip()]
    if not names:
        raise DatasetError(f'{list_path}: no sequence names')
    dup = sorted({s for s in names if names.count(s) > 1})
    if dup:
        raise DatasetError(f'{list_path}: duplicate sequence name(s) {dup}')
    for name in names:
        if '/' in name or name in ('.', '..'):
            raise DatasetError(f'{list_path}: invalid sequence name {name!r}')
    return [read_synthetic_sequence(root / name) for name in names]
