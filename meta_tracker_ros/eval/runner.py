# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Run registered trackers over datasets: one-pass (OPE) and the VOT reset-based protocol.

OPE (the OTB/GOT-10k toolkits' protocol): the tracker is initialised on
Sequence.init_index() with the ground-truth box and updated on every later frame.
Results use the toolkits' layout, <results>/<tracker>/:
  <seq>.txt        one x,y,w,h line per frame, comma separated, in the dataset's own
                   convention (1 added back to x, y for one_based datasets); the
                   initialisation frame holds the initial box, frames before it 'nan'.
  <seq>_time.txt   seconds per frame spent in initialize/update ('nan' where untracked).
  <seq>.json       per-frame tracker state ('init', 'tracking', 'lost', null before the
                   initialisation) and score, to measure later how often 'lost' was right.
  tracker.json     what produced the folder: tracker, resolved config, weights file with
                   its metadata and sha256, package version, git commit, device, seed;
                   reopened_at lists later commits that resumed or re-scored the folder
                   (git_commit stays the one that made it).
VOT (pysot's tools/test.py): <results>/<tracker>/baseline/<seq>/<seq>_001.txt holds per
frame '1' (initialised), '2' (failure: zero overlap with the ground truth), '0' (skipped)
or the box; the tracker is re-initialised VOT_SKIP frames after a failure.

A sequence whose result file already has one line per frame is skipped, so runs resume.
Files are written to a temporary name and renamed, so a killed run leaves no partial file.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import asdict, dataclass, field
import json
import multiprocessing
import os
from pathlib import Path
import random
import subprocess
import sys
import time
from typing import Any, Sequence as Seq

import cv2
import meta_tracker_ros
from meta_tracker_ros.core.registry import build_tracker, get_entry
from meta_tracker_ros.core.tracker import Tracker
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.core.weights import read_metadata, sha256_file
from meta_tracker_ros.eval.masks import mask_polygon
from meta_tracker_ros.eval.metrics import Record, vot_polygons, VOT_SKIP
from meta_tracker_ros.eval.sequence import Sequence
from meta_tracker_ros.eval.vot_region import vot_overlap
import numpy as np
from tqdm import tqdm

PROTOCOLS = ('ope', 'vot')


@dataclass(frozen=True)
class TrackerSpec:
    """What to build: a registered tracker name, its config mapping, weights and device."""

    name: str
    config: dict[str, Any] = field(default_factory=dict)
    weights: str | None = None
    device: str = 'cpu'
    seed: int = 0

    def build(self) -> Tracker:
        return build_tracker(self.name, self.config, self.weights, self.device)


@dataclass
class TrackRun:
    """The output of one tracker on one sequence (boxes 0-based; VOT records or OPE boxes)."""

    boxes: np.ndarray | None
    records: list[Record] | None
    times: np.ndarray
    states: list[str | None]
    scores: list[float | None]
    masks: list[np.ndarray | None] | None = None   # OPE, trackers that make masks


def git_commit() -> str | None:
    """Return the source tree's commit ('-dirty' when it has changes), or None outside git."""
    src = Path(meta_tracker_ros.__file__).resolve().parent
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=src, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=src, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ('-dirty' if dirty else '')


def tracker_info(spec: TrackerSpec) -> dict[str, Any]:
    """Everything a report must say about a tracker run (resolved config, weights, version)."""
    entry = get_entry(spec.name)
    info: dict[str, Any] = {
        'tracker': spec.name, 'description': entry.description,
        'config': entry.config_cls.from_dict(spec.config).to_dict(),
        'weights': None, 'weights_sha256': None, 'weights_metadata': None,
        'device': spec.device, 'seed': spec.seed,
        'version': meta_tracker_ros.__version__, 'git_commit': git_commit(),
    }
    if spec.weights:
        path = Path(spec.weights).resolve()
        info['weights'] = str(path)
        info['weights_sha256'] = sha256_file(path)
        info['weights_metadata'] = asdict(read_metadata(path))
    return info


_IDENTITY = ('tracker', 'config', 'weights_sha256', 'seed')


def prepare_tracker_dir(results: Path, spec: TrackerSpec) -> Path:
    """Create <results>/<tracker>/ with tracker.json; refuse a folder made by another setup."""
    out = Path(results) / spec.name
    out.mkdir(parents=True, exist_ok=True)
    info = tracker_info(spec)
    info_file = out / 'tracker.json'
    if info_file.is_file():
        old = json.loads(info_file.read_text())
        changed = [k for k in _IDENTITY if old.get(k) != info.get(k)]
        if changed:
            raise RuntimeError(
                f'{out} holds results of {spec.name} with a different {", ".join(changed)} '
                f'({", ".join(f"{k}={old.get(k)!r}" for k in changed)}); use another output '
                f'folder or delete it')
        # The results already there were made by the code of the first commit: keep it, and
        # list the later commits that reopened the folder (complete sequences are not re-run).
        reopened = list(old.get('reopened_at') or [])
        if info['git_commit'] and info['git_commit'] != old.get('git_commit') \
                and info['git_commit'] not in reopened:
            reopened.append(info['git_commit'])
        info['git_commit'], info['version'] = old.get('git_commit'), old.get('version')
        if reopened:
            info['reopened_at'] = reopened
    _write_text(info_file, json.dumps(info, indent=2, sort_keys=True) + '\n')
    return out


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(text)
    os.replace(tmp, path)


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if 'torch' in sys.modules:
        sys.modules['torch'].manual_seed(seed)


def _init_box(seq: Sequence, i: int) -> Box:
    return Box(*map(float, seq.gt[i]))


def _can_init(seq: Sequence, i: int) -> bool:
    g = seq.gt[i]
    return bool(not seq.absent[i] and np.isfinite(g).all() and g[2] > 0 and g[3] > 0)


def track_ope(tracker: Tracker, seq: Sequence) -> TrackRun:
    """One-pass evaluation of one sequence (frames before init_index are left untracked)."""
    n = len(seq)
    start = seq.init_index()
    boxes = np.full((n, 4), np.nan)
    times = np.full(n, np.nan)
    states: list[str | None] = [None] * n
    scores: list[float | None] = [None] * n
    masks: list[np.ndarray | None] = [None] * n
    for i in range(start, n):
        image = seq.load_image(i)
        t0 = time.perf_counter()
        if i == start:
            box = _init_box(seq, i)
            tracker.initialize(image, box)
            times[i] = time.perf_counter() - t0
            boxes[i], states[i] = box.as_xywh(), 'init'
            continue
        result = tracker.update(image)
        times[i] = time.perf_counter() - t0
        boxes[i] = result.box.as_xywh()
        states[i], scores[i] = result.state.value, float(result.score)
        if result.mask is not None:
            # A lost frame's mask is empty: the tracker says the target is not there.
            masks[i] = (result.mask if result.state.value != 'lost'
                        else np.zeros_like(result.mask))
    return TrackRun(boxes, None, times, states, scores,
                    masks if any(m is not None for m in masks) else None)


def track_vot(tracker: Tracker, seq: Sequence) -> TrackRun:
    """
    VOT reset-based run of one sequence, as pysot's tools/test.py.

    A failure is an overlap <= 0 (or undefined) between the box and the ground-truth
    polygon, bounded by the image; the tracker is re-initialised VOT_SKIP frames later on
    the ground truth. Extension for sequences with absent targets (pysot has none): a
    (re)initialisation waits for the next frame with a usable box, and frames without
    ground truth cannot fail.
    """
    n = len(seq)
    polygons = vot_polygons(seq)
    records: list[Record] = []
    times = np.full(n, np.nan)
    states: list[str | None] = [None] * n
    scores: list[float | None] = [None] * n
    next_init = seq.init_index()
    bound = None
    for i in range(n):
        if i < next_init or (i == next_init and not _can_init(seq, i)):
            next_init = max(next_init, i + 1)
            records.append(0)
            continue
        image = seq.load_image(i)
        bound = bound or (image.shape[1], image.shape[0])
        t0 = time.perf_counter()
        if i == next_init:
            tracker.initialize(image, _init_box(seq, i))
            times[i] = time.perf_counter() - t0
            records.append(1)
            states[i] = 'init'
            continue
        result = tracker.update(image)
        times[i] = time.perf_counter() - t0
        states[i], scores[i] = result.state.value, float(result.score)
        box = tuple(float(v) for v in result.box.as_xywh())
        if result.mask is not None and result.state.value != 'lost':
            # A mask tracker reports the rotated rectangle of its mask, as SiamMask does.
            box = mask_polygon(result.mask) or box
        if not np.isfinite(polygons[i]).all():
            records.append(box)
            continue
        overlap = vot_overlap(box, polygons[i], bound)
        if overlap > 0:
            records.append(box)
        else:
            records.append(2)
            next_init = i + VOT_SKIP
    return TrackRun(None, records, times, states, scores)


# ---------------------------------------------------------------------------------------
# Result files


def mask_dir(tracker_dir: Path, seq_name: str) -> Path:
    """Return the folder of a sequence's OPE masks: <frame index, 5 digits>.png, 0/255."""
    return tracker_dir / f'{seq_name}_masks'


def read_masks(tracker_dir: Path, seq: Sequence) -> list[np.ndarray | None] | None:
    """Read a sequence's recorded masks per frame (None where absent); None without any."""
    folder = mask_dir(Path(tracker_dir), seq.name)
    if not folder.is_dir():
        return None
    out: list[np.ndarray | None] = [None] * len(seq)
    for p in folder.glob('*.png'):
        i = int(p.stem)
        if 0 <= i < len(seq):
            m = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            if m is None:
                raise OSError(f'cannot read mask {p}')
            out[i] = m > 127
    return out


def result_paths(tracker_dir: Path, seq_name: str, protocol: str) -> tuple[Path, Path, Path]:
    """(boxes or records file, times file, per-frame states file) of one sequence."""
    if protocol == 'vot':
        d = tracker_dir / 'baseline' / seq_name
        return d / f'{seq_name}_001.txt', d / f'{seq_name}_time.txt', d / f'{seq_name}.json'
    return (tracker_dir / f'{seq_name}.txt', tracker_dir / f'{seq_name}_time.txt',
            tracker_dir / f'{seq_name}.json')


def _fmt_times(times: np.ndarray) -> str:
    return ''.join('nan\n' if not np.isfinite(t) else f'{t:.8f}\n' for t in times)


def _region_offset(n: int, one_based: bool) -> np.ndarray:
    """Return what 1-based files add to a region: x, y of a box (4 values), else every value."""
    if not one_based:
        return np.zeros(n)
    return np.array([1.0, 1.0, 0.0, 0.0]) if n == 4 else np.ones(n)


def write_result(tracker_dir: Path, seq: Sequence, run: TrackRun, protocol: str) -> None:
    """Write one sequence's files; the boxes file is renamed into place last."""
    main, times_file, states_file = result_paths(tracker_dir, seq.name, protocol)
    main.parent.mkdir(parents=True, exist_ok=True)
    offset = np.array([1.0, 1.0, 0.0, 0.0]) if seq.one_based else np.zeros(4)
    _write_text(states_file, json.dumps({
        'sequence': seq.name, 'protocol': protocol, 'init_index': seq.init_index(),
        'one_based': seq.one_based, 'states': run.states, 'scores': run.scores}) + '\n')
    _write_text(times_file, _fmt_times(run.times))
    if protocol == 'ope' and run.masks is not None:
        folder = mask_dir(tracker_dir, seq.name)
        folder.mkdir(parents=True, exist_ok=True)
        for i, m in enumerate(run.masks):
            if m is not None:
                cv2.imwrite(str(folder / f'{i:05d}.png'),
                            np.where(m > 0, 255, 0).astype(np.uint8))
    lines = []
    if protocol == 'vot':
        for r in run.records:
            lines.append(f'{r:d}' if isinstance(r, int)
                         else ','.join(f'{v:.4f}' for v in np.asarray(r)
                                       + _region_offset(len(r), seq.one_based)))
    else:
        for b in run.boxes:
            lines.append(','.join('nan' if not np.isfinite(v) else f'{v:.4f}'
                                  for v in b + offset))
    _write_text(main, '\n'.join(lines) + '\n')


def is_complete(tracker_dir: Path, seq: Sequence, protocol: str) -> bool:
    """Tell whether all three files exist and the boxes file has one line per frame."""
    paths = result_paths(tracker_dir, seq.name, protocol)
    if not all(p.is_file() for p in paths):
        return False
    return len(paths[0].read_text().splitlines()) == len(seq)


def read_result(tracker_dir: Path, seq: Sequence, protocol: str = 'ope') -> TrackRun:
    """Load one sequence's results (boxes back to 0-based)."""
    main, times_file, states_file = result_paths(Path(tracker_dir), seq.name, protocol)
    if not main.is_file():
        raise FileNotFoundError(f'no {protocol} results for {seq.name}: {main} is missing')
    lines = main.read_text().splitlines()
    if len(lines) != len(seq):
        raise ValueError(f'{main}: {len(lines)} lines for {len(seq)} frames (incomplete run?)')
    offset = np.array([1.0, 1.0, 0.0, 0.0]) if seq.one_based else np.zeros(4)
    times = (np.array([float(t) for t in times_file.read_text().split()])
             if times_file.is_file() else np.full(len(seq), np.nan))
    states = json.loads(states_file.read_text()) if states_file.is_file() else {}
    boxes, records = None, None
    if protocol == 'vot':
        records = []
        for line in lines:
            values = [float(v) for v in line.split(',')]
            records.append(int(values[0]) if len(values) == 1
                           else tuple(float(v) for v in np.asarray(values)
                                      - _region_offset(len(values), seq.one_based)))
    else:
        boxes = np.array([[float(v) for v in line.split(',')] for line in lines]) - offset
    return TrackRun(boxes, records, times, states.get('states', [None] * len(seq)),
                    states.get('scores', [None] * len(seq)))


# ---------------------------------------------------------------------------------------
# Running


def _worker_init() -> None:
    """Each worker process uses one thread (the parent decides the parallelism)."""
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def run_sequence(spec: TrackerSpec, seq: Sequence, tracker_dir: Path, protocol: str) -> int:
    """Track one sequence with a fresh tracker and write its files; returns its frame count."""
    tracker = spec.build()
    _seed(spec.seed)
    try:
        run = track_vot(tracker, seq) if protocol == 'vot' else track_ope(tracker, seq)
    except Exception as exc:
        raise RuntimeError(f'{spec.name} failed on sequence {seq.name}: {exc}') from exc
    write_result(tracker_dir, seq, run, protocol)
    return len(seq)


def run_tracker(spec: TrackerSpec, sequences: Seq[Sequence], results: str | Path, *,
                protocol: str = 'ope', jobs: int = 1, progress: bool = True) -> Path:
    """
    Run one tracker over sequences (resuming), optionally in `jobs` processes.

    Returns the tracker's result folder <results>/<tracker>.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'unknown protocol {protocol!r}; use {", ".join(PROTOCOLS)}')
    names = [s.name for s in sequences]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'sequence names must be unique; repeated: {", ".join(dup)}')
    tracker_dir = prepare_tracker_dir(Path(results), spec)
    todo = [s for s in sequences if not is_complete(tracker_dir, s, protocol)]
    bar = tqdm(total=sum(len(s) for s in todo), unit='frame', disable=not progress,
               desc=f'{spec.name} {protocol} ({len(sequences) - len(todo)} of '
                    f'{len(sequences)} done)')
    with bar:
        if jobs <= 1:
            # One thread here too: torch's default (all cores) oversubscribes the CPU when
            # runs go side by side, and makes fps depend on what else the machine does.
            _worker_init()
            for seq in todo:
                bar.set_postfix_str(seq.name)
                bar.update(run_sequence(spec, seq, tracker_dir, protocol))
        else:
            ctx = multiprocessing.get_context('spawn')
            with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                        initializer=_worker_init) as pool:
                futures = [pool.submit(run_sequence, spec, s, tracker_dir, protocol)
                           for s in todo]
                for fut in cf.as_completed(futures):
                    bar.update(fut.result())
    return tracker_dir
