# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
UAV123 and UAV20L reader: data_seq/UAV123/<folder>/%06d.jpg + anno/<version>/<seq>.txt.

Annotations are x, y, w, h, comma separated, with NaN rows where the target is fully
occluded or out of view (the dataset's readme); they become NaN rows of gt and absent
frames. The rows are used as read, for initialisation and scoring alike, with no 1-pixel
shift (the MATLAB toolkit's files are 1-based, but the field's Python toolkits do not
convert them): got10k's datasets/uav123.py reads them with np.loadtxt and
experiments/uav123.py (ExperimentUAV123, whose run is ExperimentOTB's) passes anno[0] to
the tracker and scores the non-NaN rows unchanged; pysot reads UAV123.json with no shift.

Several UAV123 sequences are segments of one image folder (bird1_1 is frames 1-253 of
bird1, bird1_2 frames 775-1477, ...); UAV20L uses the whole folders. The frame ranges are
the UAV123 toolkit's configSeqs.m, as copied into got10k's uav123.json (identical to
pytracking's uavdataset.py table). Per-sequence attributes are read from
anno/<version>/att/<seq>.txt when present (12 flags, in the toolkit's order: SV scale
variation, ARC aspect ratio change, LR low resolution, FM fast motion, FOC full occlusion,
POC partial occlusion, OV out of view, BC background clutter, IV illumination variation,
VC viewpoint change, CM camera motion, SOB similar object).
"""

from __future__ import annotations

from pathlib import Path

from meta_tracker_ros.eval.readers.common import (DatasetError, frame_range, numbered_frames,
                                                  read_rows)
from meta_tracker_ros.eval.sequence import Sequence

UAV_ATTRIBUTES = ('SV', 'ARC', 'LR', 'FM', 'FOC', 'POC', 'OV', 'BC', 'IV', 'VC', 'CM', 'SOB')

# name, first frame, last frame[, image folder when it differs from the name]
_UAV123 = """
bike1 1 3085
bike2 1 553
bike3 1 433
bird1_1 1 253 bird1
bird1_2 775 1477 bird1
bird1_3 1573 2437 bird1
boat1 1 901
boat2 1 799
boat3 1 901
boat4 1 553
boat5 1 505
boat6 1 805
boat7 1 535
boat8 1 685
boat9 1 1399
building1 1 469
building2 1 577
building3 1 829
building4 1 787
building5 1 481
car1_1 1 751 car1
car1_2 751 1627 car1
car1_3 1627 2629 car1
car2 1 1321
car3 1 1717
car4 1 1345
car5 1 745
car6_1 1 487 car6
car6_2 487 1807 car6
car6_3 1807 2953 car6
car6_4 2953 3925 car6
car6_5 3925 4861 car6
car7 1 1033
car8_1 1 1357 car8
car8_2 1357 2575 car8
car9 1 1879
car10 1 1405
car11 1 337
car12 1 499
car13 1 415
car14 1 1327
car15 1 469
car16_1 1 415 car16
car16_2 415 1993 car16
car17 1 1057
car18 1 1207
group1_1 1 1333 group1
group1_2 1333 2515 group1
group1_3 2515 3925 group1
group1_4 3925 4873 group1
group2_1 1 907 group2
group2_2 907 1771 group2
group2_3 1771 2683 group2
group3_1 1 1567 group3
group3_2 1567 2827 group3
group3_3 2827 4369 group3
group3_4 4369 5527 group3
person1 1 799
person2_1 1 1189 person2
person2_2 1189 2623 person2
person3 1 643
person4_1 1 1501 person4
person4_2 1501 2743 person4
person5_1 1 877 person5
person5_2 877 2101 person5
person6 1 901
person7_1 1 1249 person7
person7_2 1249 2065 person7
person8_1 1 1075 person8
person8_2 1075 1525 person8
person9 1 661
person10 1 1021
person11 1 721
person12_1 1 601 person12
person12_2 601 1621 person12
person13 1 883
person14_1 1 847 person14
person14_2 847 1813 person14
person14_3 1813 2923 person14
person15 1 1339
person16 1 1147
person17_1 1 1501 person17
person17_2 1501 2347 person17
person18 1 1393
person19_1 1 1243 person19
person19_2 1243 2791 person19
person19_3 2791 4357 person19
person20 1 1783
person21 1 487
person22 1 199
person23 1 397
truck1 1 463
truck2 1 385
truck3 1 535
truck4_1 1 577 truck4
truck4_2 577 1261 truck4
uav1_1 1 1555 uav1
uav1_2 1555 2377 uav1
uav1_3 2473 3469 uav1
uav2 1 133
uav3 1 265
uav4 1 157
uav5 1 139
uav6 1 109
uav7 1 373
uav8 1 301
wakeboard1 1 421
wakeboard2 1 733
wakeboard3 1 823
wakeboard4 1 697
wakeboard5 1 1675
wakeboard6 1 1165
wakeboard7 1 199
wakeboard8 1 1543
wakeboard9 1 355
wakeboard10 1 469
car1_s 1 1475
car2_s 1 320
car3_s 1 1300
car4_s 1 830
person1_s 1 1600
person2_s 1 250
person3_s 1 505
"""

_UAV20L = """
bike1 1 3085
bird1 1 2437
car1 1 2629
car3 1 1717
car6 1 4861
car8 1 2575
car9 1 1879
car16 1 1993
group1 1 4873
group2 1 2683
group3 1 5527
person2 1 2623
person4 1 2743
person5 1 2101
person7 1 2065
person14 1 2923
person17 1 2347
person19 1 4357
person20 1 1783
uav1 1 3469
"""


def _parse(table: str) -> dict[str, tuple[str, int, int]]:
    out = {}
    for line in table.strip().splitlines():
        name, start, end, *folder = line.split()
        out[name] = (folder[0] if folder else name, int(start), int(end))
    return out


UAV_TABLES = {'UAV123': _parse(_UAV123), 'UAV20L': _parse(_UAV20L)}


def read_uav(root: str | Path, version: str = 'UAV123') -> list[Sequence]:
    """All sequences of UAV123 or UAV20L found under root (one per annotation file)."""
    root = Path(root)
    version = version.upper()
    if version not in UAV_TABLES:
        raise DatasetError(f'unknown UAV version {version!r}; use UAV123 or UAV20L')
    table = UAV_TABLES[version]
    anno_dir = root / 'anno' / version
    if not anno_dir.is_dir():
        raise DatasetError(f'{version} annotations not found: {anno_dir}')
    anno_files = sorted(anno_dir.glob('*.txt'))
    if not anno_files:
        raise DatasetError(f'no annotation files in {anno_dir}')
    folders: dict[str, dict[int, Path]] = {}
    out = []
    for anno_file in anno_files:
        name = anno_file.stem
        if name not in table:
            raise DatasetError(f'{anno_file}: {name!r} is not a {version} sequence')
        folder, start, end = table[name]
        img_dir = root / 'data_seq' / 'UAV123' / folder
        if folder not in folders:
            folders[folder] = numbered_frames(img_dir)
        gt = read_rows(anno_file)
        if len(gt) != end - start + 1:
            raise DatasetError(f'{anno_file}: {len(gt)} rows for frames {start}-{end} '
                               f'({end - start + 1} expected)')
        attributes = {}
        att_file = anno_dir / 'att' / f'{name}.txt'
        if att_file.is_file():
            flags = read_rows(att_file, width=len(UAV_ATTRIBUTES))
            if len(flags) != 1:
                raise DatasetError(f'{att_file}: expected one row of '
                                   f'{len(UAV_ATTRIBUTES)} flags')
            attributes = {a: bool(v) for a, v in zip(UAV_ATTRIBUTES, flags[0])}
        out.append(Sequence(
            name=name, frames=frame_range(folders[folder], start, end, img_dir),
            gt=gt, attributes=attributes,
            meta={'benchmark': version.lower(), 'start_frame': start, 'folder': folder}))
    return out
