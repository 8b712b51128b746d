# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Video object segmentation layouts, one single-object tracking sequence per annotated object.

- DAVIS-2016 / DAVIS-2017 (`davis:/root[:train|val]`): root/JPEGImages/480p/<video>/*.jpg,
  root/Annotations/480p/<video>/*.png and root/ImageSets/2017/<split>.txt (or
  ImageSets/2016/<split>.txt; without a list, every video folder). DAVIS-2017's annotations
  are palette PNGs whose indices are object ids (0 background, 255 void); DAVIS-2016's are
  binary (0 / 255), one object.
- YouTube-VOS (`ytvos:/root[:train|valid]`): root/<split>/JPEGImages/<video>/*.jpg and
  root/<split>/Annotations/<video>/*.png, palette PNGs of object ids, for a subset of the
  frames (every fifth in train; the first appearance of each object in valid).

Each object becomes a Sequence named <video> (one object) or <video>_<id>: its box per frame
is the tight box of its mask (x, y, w, h, 0-based), NaN and absent where the mask is empty;
frames without an annotation file are unlabelled (NaN, scored by the benchmark's policy).
Sequence.load_mask gives the object's mask (meta['mask_id']). The sequence starts at the
object's first annotated appearance (YouTube-VOS objects can enter late).
"""

from __future__ import annotations

from pathlib import Path

from meta_tracker_ros.eval.readers.common import DatasetError, sorted_frames
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np
from PIL import Image

VOID = 255


def read_label_png(path: Path) -> np.ndarray:
    """Read an annotation PNG as (H, W) uint8 ids: palette indices, or binary 0/255 -> 0/1."""
    try:
        with Image.open(path) as im:
            mode = im.mode
            arr = np.array(im)
    except OSError as exc:
        raise DatasetError(f'cannot read annotation {path}: {exc}') from exc
    if mode == 'P':
        return arr.astype(np.uint8)
    if arr.ndim == 3:
        arr = arr[..., :3].max(axis=2)
    return (arr > 127).astype(np.uint8)


def mask_box(mask: np.ndarray) -> np.ndarray:
    """Tight (x, y, w, h) of a boolean mask; NaN when empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return np.full(4, np.nan)
    return np.array([xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1],
                    dtype=np.float64)


def _video_sequences(name: str, frame_dir: Path, anno_dir: Path, benchmark: str
                     ) -> list[Sequence]:
    frames = sorted_frames(frame_dir)
    if not frames:
        raise DatasetError(f'{frame_dir}: no frames')
    annos = {p.stem: p for p in anno_dir.glob('*.png')} if anno_dir.is_dir() else {}
    if not annos:
        raise DatasetError(f'{anno_dir}: no annotation PNGs')
    labels: dict[int, np.ndarray] = {}
    for i, f in enumerate(frames):
        if f.stem in annos:
            labels[i] = read_label_png(annos[f.stem])
    ids = sorted({int(v) for lab in labels.values() for v in np.unique(lab)} - {0, VOID})
    out = []
    for obj in ids:
        gt = np.full((len(frames), 4), np.nan)
        labelled = np.zeros(len(frames), dtype=bool)
        for i, lab in labels.items():
            labelled[i] = True
            gt[i] = mask_box(lab == obj)
        visible = np.flatnonzero(np.isfinite(gt).all(axis=1))
        if len(visible) == 0:
            continue
        first = int(visible[0])
        masks = [annos.get(f.stem) for f in frames]
        seq_name = name if len(ids) == 1 else f'{name}_{obj}'
        absent = labelled & ~np.isfinite(gt).all(axis=1)
        out.append(Sequence(seq_name, frames[first:], gt[first:], absent=absent[first:],
                            masks=masks[first:],
                            meta={'benchmark': benchmark, 'video': name, 'mask_id': obj,
                                  'labelled': labelled[first:]}))
    return out


def _listed(root: Path, split: str | None, fallback: Path) -> list[str]:
    for year in ('2017', '2016'):
        listing = root / 'ImageSets' / year / f'{split}.txt'
        if split and listing.is_file():
            return [line.split()[0] for line in listing.read_text().splitlines()
                    if line.strip()]
    return sorted(p.name for p in fallback.iterdir() if p.is_dir())


def read_davis(root: Path, split: str | None = 'val') -> list[Sequence]:
    """DAVIS-2016 / 2017 (480p), the videos of ImageSets/<year>/<split>.txt."""
    images, annos = root / 'JPEGImages' / '480p', root / 'Annotations' / '480p'
    if not images.is_dir() or not annos.is_dir():
        raise DatasetError(f'{root}: not a DAVIS folder (JPEGImages/480p and '
                           'Annotations/480p expected)')
    out = []
    for video in _listed(root, split, images):
        out += _video_sequences(video, images / video, annos / video, 'davis')
    return out


def read_youtube_vos(root: Path, split: str | None = 'valid') -> list[Sequence]:
    """YouTube-VOS <split>/JPEGImages and <split>/Annotations."""
    base = root / (split or 'valid')
    images, annos = base / 'JPEGImages', base / 'Annotations'
    if not images.is_dir() or not annos.is_dir():
        raise DatasetError(f'{base}: not a YouTube-VOS split (JPEGImages and Annotations '
                           'expected)')
    out = []
    for video in sorted(p.name for p in images.iterdir() if p.is_dir()):
        out += _video_sequences(video, images / video, annos / video, 'youtube_vos')
    return out
