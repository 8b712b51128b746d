# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Write synthetic sequences to disk in our format (read by eval/readers/synthetic.py).

    <root>/list.txt                 sequence names, one per line
    <root>/<seq>/img/000001.jpg     frames, JPEG quality 95, numbered from 1
    <root>/<seq>/groundtruth.txt    one `x,y,w,h` per frame (0-based pixels), `nan,nan,nan,nan`
                                    where the target is absent
    <root>/<seq>/absence.label      0/1 per frame (1 = absent)
    <root>/<seq>/visibility.txt     visible fraction of the full target mask per frame
    <root>/<seq>/masks/000001.png   visible mask, mono8 0/255
    <root>/<seq>/meta.json          seed, spec, generator version, drawn strengths, sources,
                                    sequence attributes and per-frame attribute flags (strings
                                    of '0'/'1', one character per frame); written last, so a
                                    folder without it is an interrupted write
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
from typing import Any, Callable

import cv2
from meta_tracker_ros.data.generator import FRAME_FLAGS, SyntheticSequence
import numpy as np


FORMAT = 'meta_tracker_ros.synthetic/1'
JPEG_QUALITY = 95


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(text)
    os.replace(tmp, path)


def sequence_meta(seq: SyntheticSequence, name: str, flags: dict[str, list[bool]],
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """meta.json content for a sequence given its per-frame flags."""
    meta = {'format': FORMAT, 'name': name, **seq.info()}
    meta['attributes'] = {k: bool(any(v)) for k, v in flags.items()}
    meta['attribute_frames'] = {k: int(sum(v)) for k, v in flags.items()}
    meta['frame_attributes'] = {k: ''.join('1' if b else '0' for b in v)
                                for k, v in flags.items()}
    if extra:
        meta.update(extra)
    return meta


def write_sequence(seq: SyntheticSequence, root: Path | str, name: str,
                   extra_meta: dict[str, Any] | None = None, overwrite: bool = False,
                   progress: Callable[[int], None] | None = None) -> Path:
    """
    Render every frame of seq into <root>/<name>/ and return that folder.

    An existing folder is an error unless overwrite is True (then it is replaced). The
    caller maintains list.txt (see write_list). progress(k) is called after each frame.
    """
    if not name or '/' in name or name.startswith('.') or name.strip() != name:
        raise ValueError(f'invalid sequence name {name!r}')
    out = Path(root) / name
    if out.exists():
        if not overwrite:
            raise FileExistsError(f'{out} exists (use overwrite to replace it)')
        shutil.rmtree(out)
    (out / 'img').mkdir(parents=True)
    (out / 'masks').mkdir()
    boxes, absent, vis = [], [], []
    flags: dict[str, list[bool]] = {k: [] for k in FRAME_FLAGS}
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
    png = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    for f in seq:
        stem = f'{f.index + 1:06d}'
        if not cv2.imwrite(str(out / 'img' / f'{stem}.jpg'),
                           cv2.cvtColor(f.image, cv2.COLOR_RGB2BGR), jpeg):
            raise OSError(f'cannot write {out / "img" / (stem + ".jpg")}')
        if not cv2.imwrite(str(out / 'masks' / f'{stem}.png'),
                           f.mask.astype(np.uint8) * 255, png):
            raise OSError(f'cannot write {out / "masks" / (stem + ".png")}')
        boxes.append('nan,nan,nan,nan' if f.absent
                     else ','.join(str(int(v)) for v in f.box))
        absent.append('1' if f.absent else '0')
        vis.append(f'{f.visibility:.6f}')
        for k in FRAME_FLAGS:
            flags[k].append(f.flags[k])
        if progress is not None:
            progress(1)
    (out / 'groundtruth.txt').write_text('\n'.join(boxes) + '\n')
    (out / 'absence.label').write_text('\n'.join(absent) + '\n')
    (out / 'visibility.txt').write_text('\n'.join(vis) + '\n')
    meta = sequence_meta(seq, name, flags, extra_meta)
    _atomic_write(out / 'meta.json', json.dumps(meta, indent=1) + '\n')
    return out


def write_list(root: Path | str, names: list[str]) -> Path:
    """Write <root>/list.txt (atomically)."""
    path = Path(root) / 'list.txt'
    _atomic_write(path, ''.join(f'{n}\n' for n in names))
    return path


def read_meta(folder: Path) -> dict[str, Any] | None:
    """meta.json of a sequence folder, or None when missing or unreadable."""
    try:
        return json.loads((folder / 'meta.json').read_text())
    except (OSError, ValueError):
        return None
