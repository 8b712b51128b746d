# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
ILSVRC2015-VID reader: one Sequence per object track of each snippet.

Layout: ILSVRC2015/Data/VID/<split>/[<chunk>/]<snippet>/%06d.JPEG with one PASCAL-VOC
style XML per frame at ILSVRC2015/Annotations/VID/<split>/[<chunk>/]<snippet>/%06d.xml
(the train split has one more folder level, ILSVRC2015_VID_train_000N). Each <object>
has a trackid, a WordNet class id (<name>), a box xmin..xmax, ymin..ymax in 0-based
inclusive pixels and an <occluded> flag. As got10k's ImageNetVID does, a box is
x = xmin, y = ymin, w = xmax - xmin + 1, h = ymax - ymin + 1, the sequence is named
<snippet>.<trackid>, and tracks annotated in fewer than two frames are dropped. Unlike
got10k, which keeps only the annotated frames, a sequence here runs over every frame
from the track's first to its last annotation; frames in between where the object is
not annotated are absent (NaN ground truth), so trackers see the true frame rate.
"""

from __future__ import annotations

from pathlib import Path
import xml.etree.ElementTree as ET

from meta_tracker_ros.eval.readers.common import DatasetError, sorted_frames
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np


def _vid_root(root: Path) -> Path:
    for cand in (root, root / 'ILSVRC2015'):
        if (cand / 'Data' / 'VID').is_dir():
            return cand
    raise DatasetError(f'no ILSVRC2015 VID data (Data/VID) under {root}')


def _parse_xml(path: Path) -> tuple[tuple[int, int] | None, dict[int, tuple]]:
    """(width, height) and {trackid: (box, class, occluded)} of one frame's XML file."""
    try:
        tree = ET.parse(path)
    except ET.ParseError as exc:
        raise DatasetError(f'{path}: not valid XML: {exc}') from exc
    size = tree.find('size')
    resolution = None
    if size is not None and size.findtext('width') and size.findtext('height'):
        resolution = (int(size.findtext('width')), int(size.findtext('height')))
    objects = {}
    for obj in tree.findall('object'):
        try:
            tid = int(obj.findtext('trackid'))
            x1, y1, x2, y2 = (float(obj.findtext(f'bndbox/{k}'))
                              for k in ('xmin', 'ymin', 'xmax', 'ymax'))
        except (TypeError, ValueError):
            raise DatasetError(f'{path}: object without a valid trackid and bndbox') from None
        occluded = obj.findtext('occluded', '0').strip() == '1'
        objects[tid] = ((x1, y1, x2 - x1 + 1, y2 - y1 + 1), obj.findtext('name', ''), occluded)
    return resolution, objects


def read_vid_snippet(img_dir: Path, anno_dir: Path) -> list[Sequence]:
    """One Sequence per track of a snippet folder."""
    frames = sorted_frames(img_dir, ('.jpeg', '.jpg'))
    per_frame = []
    resolution = None
    for f in frames:
        xml = anno_dir / f'{f.stem}.xml'
        res, objects = _parse_xml(xml) if xml.is_file() else (None, {})
        resolution = resolution or res
        per_frame.append(objects)
    track_ids = sorted({t for objs in per_frame for t in objs})
    out = []
    for tid in track_ids:
        annotated = [i for i, objs in enumerate(per_frame) if tid in objs]
        if len(annotated) < 2:
            continue
        first, last = annotated[0], annotated[-1]
        n = last - first + 1
        gt = np.full((n, 4), np.nan)
        occluded = np.zeros(n, dtype=bool)
        classes = set()
        for i in annotated:
            box, cls, occ = per_frame[i][tid]
            gt[i - first] = box
            occluded[i - first] = occ
            classes.add(cls)
        meta = {'benchmark': 'vid', 'snippet': img_dir.name, 'trackid': tid,
                'class': ','.join(sorted(classes)), 'start_frame': first}
        if resolution:
            meta['resolution'] = resolution
        out.append(Sequence(name=f'{img_dir.name}.{tid}', frames=frames[first:last + 1], gt=gt,
                            attributes={'occluded': occluded}, meta=meta))
    return out


def read_vid(root: str | Path, subset: str = 'val') -> list[Sequence]:
    """Every object track of the ILSVRC2015-VID train or val split under root."""
    if subset not in ('train', 'val'):
        raise DatasetError(f'unknown VID subset {subset!r}; use train or val')
    base = _vid_root(Path(root))
    data_dir = base / 'Data' / 'VID' / subset
    if not data_dir.is_dir():
        raise DatasetError(f'VID {subset} images not found: {data_dir}')
    snippets = sorted({p.parent for p in data_dir.glob('*/*.JPEG')}
                      | {p.parent for p in data_dir.glob('*/*/*.JPEG')})
    if not snippets:
        raise DatasetError(f'no VID snippets (*.JPEG folders) under {data_dir}')
    out = []
    for img_dir in snippets:
        anno_dir = base / 'Annotations' / 'VID' / subset / img_dir.relative_to(data_dir)
        if not anno_dir.is_dir():
            raise DatasetError(f'annotations for {img_dir} not found: {anno_dir}')
        out.extend(read_vid_snippet(img_dir, anno_dir))
    return out
