# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Dataset specs: one string names a dataset, its location and its split.

otb:/path              OTB-2013 / OTB-2015 sequence folders
uav123:/path           UAV123 (root holding data_seq/ and anno/)
uav20l:/path           UAV20L (same root layout as UAV123)
lasot:/path[:test]     LaSOT; ':test' = the 280 sequences of protocol II
got10k:/path[:split]   GOT-10k split train, val (default) or test
vot:/path              a VOT short-term folder with list.txt
vid:/path[:split]      ILSVRC2015-VID train or val (default), one sequence per track
davis:/path[:split]    DAVIS-2016/2017 480p, train or val (default), one sequence per object
ytvos:/path[:split]    YouTube-VOS train or valid (default), one sequence per object
synth:<suite>          a synthetic suite, generated on first use
synthdir:/path         a folder of already generated synthetic sequences
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

from meta_tracker_ros.eval.readers.common import DatasetError
from meta_tracker_ros.eval.sequence import Sequence

# Module of the synthetic data generator that offers ensure_suite(name, root=None) -> Path.
SYNTH_MODULE = 'meta_tracker_ros.data.suites'

_SPLITS = {'lasot': ('all', 'test'), 'got10k': ('train', 'val', 'test'), 'vid': ('train', 'val'),
           'davis': ('train', 'val'), 'ytvos': ('train', 'valid')}
_DEFAULT_SPLIT = {'lasot': 'all', 'got10k': 'val', 'vid': 'val', 'davis': 'val',
                  'ytvos': 'valid'}


def _read_synthetic(path: Path) -> list[Sequence]:
    from meta_tracker_ros.eval.readers.synthetic import read_synthetic
    return read_synthetic(path)


def _readers() -> dict[str, Callable[[Path, str | None], list[Sequence]]]:
    from meta_tracker_ros.eval.readers.davis import read_davis, read_youtube_vos
    from meta_tracker_ros.eval.readers.got10k import read_got10k
    from meta_tracker_ros.eval.readers.lasot import read_lasot
    from meta_tracker_ros.eval.readers.otb import read_otb
    from meta_tracker_ros.eval.readers.uav import read_uav
    from meta_tracker_ros.eval.readers.vid import read_vid
    from meta_tracker_ros.eval.readers.vot import read_vot
    return {
        'otb': lambda p, s: read_otb(p),
        'uav123': lambda p, s: read_uav(p, 'UAV123'),
        'uav20l': lambda p, s: read_uav(p, 'UAV20L'),
        'lasot': lambda p, s: read_lasot(p, s),
        'got10k': lambda p, s: read_got10k(p, s),
        'vot': lambda p, s: read_vot(p),
        'vid': lambda p, s: read_vid(p, s),
        'davis': lambda p, s: read_davis(p, s),
        'ytvos': lambda p, s: read_youtube_vos(p, s),
        'synthdir': lambda p, s: _read_synthetic(p),
    }


def parse_spec(spec: str) -> tuple[str, str, str | None]:
    """'kind:location[:split]' -> (kind, location, split or None)."""
    kind, sep, rest = spec.partition(':')
    kind = kind.strip().lower()
    known = sorted([*_readers(), 'synth'])
    if not sep or not rest:
        raise DatasetError(f'dataset spec {spec!r} must look like <kind>:<path>, with kind one '
                           f'of {", ".join(known)}')
    if kind not in known:
        raise DatasetError(f'unknown dataset kind {kind!r} in {spec!r}; known: '
                           f'{", ".join(known)}')
    split = None
    if kind in _SPLITS:
        head, _, tail = rest.rpartition(':')
        if head and tail in _SPLITS[kind]:
            rest, split = head, tail
        split = split or _DEFAULT_SPLIT[kind]
    return kind, rest, split


def load_dataset(spec: str) -> list[Sequence]:
    """Read the sequences a spec names (see the module docstring for the specs)."""
    kind, location, split = parse_spec(spec)
    if kind == 'synth':
        module = importlib.import_module(SYNTH_MODULE)
        try:
            folder = module.ensure_suite(location)
        except KeyError as exc:
            raise DatasetError(f'{spec}: {exc.args[0]}') from None
        return _read_synthetic(Path(folder))
    path = Path(location).expanduser()
    if not path.exists():
        raise DatasetError(f'{kind} dataset folder not found: {path}')
    sequences = _readers()[kind](path, split)
    if not sequences:
        raise DatasetError(f'{spec}: no sequences found')
    return sequences
