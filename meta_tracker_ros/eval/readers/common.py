# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the dataset readers: annotation text files and numbered frame folders."""

from __future__ import annotations

from pathlib import Path
import re

import numpy as np

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')
_SEPARATORS = re.compile(r'[,\s]+')


class DatasetError(ValueError):
    """A dataset folder that does not have the layout or content its format requires."""


def read_rows(path: Path, *, width: int | tuple[int, ...] = 4) -> np.ndarray:
    """
    Read a numeric annotation file: one row per line, comma, tab or space separated.

    Empty lines are skipped; 'nan' / 'NaN' are read as NaN (UAV123 marks absent targets so).
    width: the allowed number of values per row (e.g. (4, 8) for VOT boxes or polygons).
    Returns (N, width) float64; raises DatasetError naming the file and line on bad content.
    """
    widths = (width,) if isinstance(width, int) else tuple(width)
    rows: list[list[float]] = []
    try:
        text = path.read_text()
    except OSError as exc:
        raise DatasetError(f'cannot read annotation file {path}: {exc}') from exc
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        fields = [f for f in _SEPARATORS.split(line) if f]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            raise DatasetError(f'{path}:{lineno}: not a row of numbers: {line!r}') from None
        if len(values) not in widths:
            raise DatasetError(f'{path}:{lineno}: expected {" or ".join(map(str, widths))} '
                               f'values, got {len(values)}: {line!r}')
        if rows and len(values) != len(rows[0]):
            raise DatasetError(f'{path}:{lineno}: {len(values)} values where earlier rows '
                               f'have {len(rows[0])}')
        rows.append(values)
    if not rows:
        return np.zeros((0, widths[0]), dtype=np.float64)
    return np.asarray(rows, dtype=np.float64)


def read_flags(path: Path, n: int) -> np.ndarray:
    """
    Read per-frame 0/1 (or integer) labels, one or more per line, as an (n,) int array.

    A file shorter than n frames is padded with zeros (VOT tag files end at the last tagged
    frame); a longer one is an error.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise DatasetError(f'cannot read label file {path}: {exc}') from exc
    fields = [f for f in _SEPARATORS.split(text.strip()) if f]
    try:
        values = np.asarray([int(float(f)) for f in fields], dtype=np.int64)
    except ValueError:
        raise DatasetError(f'{path}: labels must be integers') from None
    if len(values) > n:
        raise DatasetError(f'{path}: {len(values)} labels for a sequence of {n} frames')
    out = np.zeros(n, dtype=np.int64)
    out[:len(values)] = values
    return out


def numbered_frames(folder: Path, exts: tuple[str, ...] = IMAGE_EXTS) -> dict[int, Path]:
    """Map frame number -> image path for files named by a number (0001.jpg, 00000001.jpg)."""
    if not folder.is_dir():
        raise DatasetError(f'image folder not found: {folder}')
    frames: dict[int, Path] = {}
    for p in folder.iterdir():
        if p.suffix.lower() in exts and p.stem.isdigit():
            num = int(p.stem)
            if num in frames:
                raise DatasetError(f'{folder}: two images numbered {num}: '
                                   f'{frames[num].name} and {p.name}')
            frames[num] = p
    if not frames:
        raise DatasetError(f'no numbered images ({", ".join(exts)}) in {folder}')
    return frames


def frame_range(frames: dict[int, Path], start: int, end: int, folder: Path) -> list[Path]:
    """Frames start..end inclusive, raising DatasetError naming the first one missing."""
    out = []
    for num in range(start, end + 1):
        if num not in frames:
            raise DatasetError(f'{folder}: frame {num} of range {start}-{end} is missing')
        out.append(frames[num])
    return out


def sorted_frames(folder: Path, exts: tuple[str, ...] = IMAGE_EXTS) -> list[Path]:
    """All numbered images of a folder in frame order."""
    frames = numbered_frames(folder, exts)
    return [frames[k] for k in sorted(frames)]
