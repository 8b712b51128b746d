# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Named synthetic suites: fixed seeds, lengths and specs, written to disk on demand.

Every suite owns a disjoint range of one million seeds; sequence k of a suite has seed
seed_range[0] + k, and its difficulty level and length are drawn from that seed, so a suite
is fully determined by its definition and the generator version. Training code may also
generate sequences on the fly from any seed in TRAIN_SEEDS (never from the other ranges).

Photo suites (synth-photo-train, photo-dev, synth-photo-test) take every natural image from
one split of the photo pool (data/photos.py: train, dev, test), so synth-photo-test measures
tracking on appearances never trained on. Their fingerprint lists the split's photo ids and
pixel sha256, so a suite written with another pool is rewritten; writing one needs the whole
pool (`make setup-training`) and fails naming the install commands otherwise.
"""

from __future__ import annotations

from concurrent.futures import as_completed, ProcessPoolExecutor
from dataclasses import dataclass, field
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import cv2
from meta_tracker_ros.data import photos
from meta_tracker_ros.data.generator import GENERATOR_VERSION, output_digest, SyntheticSequence
from meta_tracker_ros.data.spec import SequenceSpec
from meta_tracker_ros.data.writer import read_meta, write_list, write_sequence
import numpy as np
from tqdm import tqdm


MARKER = '.complete.json'


@dataclass(frozen=True)
class SuiteEntry:
    """One sequence of a suite."""

    name: str
    seed: int
    num_frames: int
    spec: SequenceSpec
    difficulty: float

    def sequence(self) -> SyntheticSequence:
        """Build the lazily rendered sequence."""
        return SyntheticSequence(self.seed, self.num_frames, self.spec)


@dataclass(frozen=True)
class SuiteDef:
    """
    A named suite of sequences.

    Sequence k has seed seed_range[0] + k, a length drawn in `frames`, a difficulty level
    drawn in `difficulty`, and the spec overrides (odd entries also get `alternate`).
    photo_split, when set, is the photo-pool split every sequence draws its images from.
    """

    name: str
    description: str
    count: int
    seed_range: tuple[int, int]
    frames: tuple[int, int]
    width: int
    height: int
    difficulty: tuple[float, float]
    overrides: dict[str, Any] = field(default_factory=dict)
    alternate: dict[str, Any] = field(default_factory=dict)
    photo_split: str = ''

    def entry(self, k: int) -> SuiteEntry:
        """
        Return sequence k of the suite.

        Any k in [0, size of seed_range) is valid, so training code can draw more
        sequences from the same distribution than the count written to disk.
        """
        size = self.seed_range[1] - self.seed_range[0]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < size:
            raise IndexError(f'{self.name}: entry {k!r} outside [0, {size})')
        seed = self.seed_range[0] + int(k)
        rng = np.random.default_rng([seed, 0x5017E])
        level = float(rng.uniform(*self.difficulty))
        n = int(rng.integers(self.frames[0], self.frames[1] + 1))
        over = dict(self.overrides)
        if k % 2 == 1:
            over.update(self.alternate)
        if self.photo_split:
            over['photo_split'] = self.photo_split
        spec = SequenceSpec.from_difficulty(level, width=self.width, height=self.height, **over)
        return SuiteEntry(f'{self.name}-{int(k):04d}', seed, n, spec, level)

    def entries(self) -> list[SuiteEntry]:
        """List the count sequences written to disk, in order."""
        return [self.entry(k) for k in range(self.count)]

    def fingerprint(self) -> dict[str, Any]:
        """
        Describe what a written suite must match to be reused.

        A photo suite adds its split and [id, pixel sha256] of every photo of the split on
        this machine (reading them all once per process).
        """
        out = {'suite': self.name, 'generator_version': GENERATOR_VERSION,
               'output_digest': output_digest(),
               'sequences': [[e.name, e.seed, e.num_frames] for e in self.entries()]}
        if self.photo_split:
            out['photo_split'] = self.photo_split
            out['photos'] = [[p.photo_id, photos.photo_sha256(p.photo_id)]
                             for p in photos.list_photos(self.photo_split)]
        return out

    def require_photos(self) -> None:
        """For a photo suite, raise PhotoPoolError unless the whole photo pool is here."""
        if self.photo_split:
            photos.require_all(f'the photo suite {self.name}')


SUITES: dict[str, SuiteDef] = {s.name: s for s in (
    SuiteDef('synth-train', 'training data (generate more on the fly from TRAIN_SEEDS)',
             200, (1_000_000, 2_000_000), (100, 300), 480, 360, (0.0, 1.0)),
    SuiteDef('synth-dev', 'tuning benchmark', 50, (2_000_000, 3_000_000), (300, 500),
             640, 480, (0.1, 1.0)),
    SuiteDef('synth-test', 'held-out benchmark (same distribution as synth-dev)', 50,
             (3_000_000, 4_000_000), (300, 500), 640, 480, (0.1, 1.0)),
    SuiteDef('synth-long', 'UAV20L-style long sequences: out-of-view periods, camera pan, '
             'small targets on even entries', 10, (4_000_000, 5_000_000), (2000, 2600),
             640, 480, (0.3, 0.8),
             overrides={'target_size': (0.03, 0.07), 'out_of_view': (1.0, 2.5),
                        'out_of_view_frames': (30.0, 120.0), 'camera_pan': (0.5, 1.0),
                        'speed': (0.001, 0.006), 'occlusion': (0.3, 1.0)},
             alternate={'target_size': (0.07, 0.18)}),
    SuiteDef('synth-mini', 'tiny suite for tests and the demo', 3, (5_000_000, 6_000_000),
             (60, 60), 320, 240, (0.3, 0.5),
             overrides={'occlusion': (1.5, 2.5), 'full_occlusion': (0.0, 0.2),
                        'distractors': (1.0, 2.0)}),
    SuiteDef('synth-photo-train', 'training data from train-split photos, GrabCut cut-outs '
             'among the targets (like synth-train)', 200, (6_000_000, 7_000_000), (100, 300),
             480, 360, (0.0, 1.0), photo_split='train'),
    SuiteDef('photo-dev', 'tuning benchmark on dev-split photos', 50, (7_000_000, 8_000_000),
             (300, 500), 640, 480, (0.1, 1.0), photo_split='dev'),
    SuiteDef('synth-photo-test', 'held-out benchmark: targets and backgrounds only from '
             'test-split photos, never trained on', 150, (8_000_000, 9_000_000), (300, 500),
             640, 480, (0.1, 1.0), photo_split='test'),
)}
TRAIN_SEEDS = SUITES['synth-train'].seed_range


def suite_of_seed(seed: int) -> str | None:
    """Name of the suite whose seed range holds seed, or None."""
    for s in SUITES.values():
        if s.seed_range[0] <= seed < s.seed_range[1]:
            return s.name
    return None


def data_root() -> Path:
    """
    Return the parent folder of the default suite folders.

    $META_TRACKER_DATA/synth when that variable is set, else ~/.cache/meta_tracker_ros/synth.
    """
    env = os.environ.get('META_TRACKER_DATA')
    base = Path(env).expanduser() if env else Path.home() / '.cache' / 'meta_tracker_ros'
    return base / 'synth'


def get_suite(name: str) -> SuiteDef:
    """Return the suite definition by name (KeyError naming the known suites)."""
    try:
        return SUITES[name]
    except KeyError:
        raise KeyError(f'unknown suite {name!r}; known: {", ".join(SUITES)}') from None


def suite_path(name: str, root: Path | str | None = None) -> Path:
    """Folder of a suite: root when given, else data_root() / name."""
    get_suite(name)
    return Path(root) if root is not None else data_root() / name


def _entry_done(folder: Path, entry: SuiteEntry) -> bool:
    meta = read_meta(folder / entry.name)
    return (meta is not None and meta.get('seed') == entry.seed
            and meta.get('num_frames') == entry.num_frames
            and meta.get('generator_version') == GENERATOR_VERSION
            and meta.get('output_digest') == output_digest()
            and meta.get('spec') == entry.spec.to_dict()
            and (not entry.spec.photo_split
                 or meta.get('photo_pool') == photos.pool_digest(entry.spec.photo_split)))


def _write_entry(folder: str, entry: SuiteEntry, suite: str) -> int:
    cv2.setNumThreads(1)
    write_sequence(entry.sequence(), folder, entry.name, overwrite=True,
                   extra_meta={'suite': suite, 'difficulty': entry.difficulty})
    return entry.num_frames


def is_complete(name: str, root: Path | str | None = None) -> bool:
    """Tell whether the suite's folder holds a finished write of its current definition."""
    folder = suite_path(name, root)
    try:
        return json.loads((folder / MARKER).read_text()) == get_suite(name).fingerprint()
    except (OSError, ValueError):
        return False


def _write_entries(folder: Path, entries: list[SuiteEntry], suite: str, jobs: int,
                   progress: bool, desc: str) -> None:
    """Write the entries not yet on disk for the current generator over `jobs` processes."""
    if jobs < 1:
        raise ValueError(f'jobs must be at least 1, got {jobs}')
    folder.mkdir(parents=True, exist_ok=True)
    todo = [e for e in entries if not _entry_done(folder, e)]
    total = sum(e.num_frames for e in todo)
    with tqdm(total=total, unit='frame', desc=f'{desc} ({len(todo)}/{len(entries)} seqs)',
              disable=not progress) as bar:
        if jobs == 1:
            for e in todo:
                write_sequence(e.sequence(), folder, e.name, overwrite=True,
                               extra_meta={'suite': suite, 'difficulty': e.difficulty},
                               progress=bar.update)
        else:
            ctx = multiprocessing.get_context('spawn')
            with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
                futures = [pool.submit(_write_entry, str(folder), e, suite) for e in todo]
                for fut in as_completed(futures):
                    bar.update(fut.result())


def ensure_suite(name: str, root: Path | str | None = None, jobs: int = 1,
                 progress: bool = True) -> Path:
    """
    Write the suite if it is missing or incomplete and return its folder.

    Sequences already written for the current definition are kept, the others are
    (re)written over `jobs` processes; the marker file is written last, so an
    interrupted write is resumed by the next call.
    """
    suite = get_suite(name)
    if jobs < 1:
        raise ValueError(f'jobs must be at least 1, got {jobs}')
    suite.require_photos()
    folder = suite_path(name, root)
    if is_complete(name, root):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).unlink(missing_ok=True)
    entries = suite.entries()
    _write_entries(folder, entries, name, jobs, progress, name)
    write_list(folder, [e.name for e in entries])
    (folder / MARKER).write_text(json.dumps(suite.fingerprint()) + '\n')
    return folder


def write_entries(name: str, first: int, stop: int, out: Path | str, jobs: int = 1,
                  progress: bool = True) -> Path:
    """
    Write entries first..stop-1 of a suite into `out` and return the folder.

    These are more sequences from the suite's distribution and seed range, so they are
    held out from training as the suite is. Entries below the suite's count are the suite's
    own sequences; `out` must not be the suite's folder (its marker describes exactly the
    first count entries). Entries already written are kept, so an interrupted write resumes;
    out/list.txt lists the range.
    """
    suite = get_suite(name)
    size = suite.seed_range[1] - suite.seed_range[0]
    if not 0 <= first < stop <= size:
        raise ValueError(f'entries {first}..{stop - 1} are outside the range 0..{size - 1} '
                         f'of {name} (give FIRST < STOP)')
    out = Path(out)
    if out.resolve() == suite_path(name).resolve():
        raise ValueError(f'{out} is the folder of the suite {name}; write extra entries '
                         'elsewhere')
    suite.require_photos()
    entries = [suite.entry(k) for k in range(first, stop)]
    _write_entries(out, entries, name, jobs, progress, f'{name} {first}..{stop - 1}')
    write_list(out, [e.name for e in entries])
    return out
