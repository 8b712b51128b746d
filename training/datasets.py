# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training videos: object trajectories from the evaluation readers or the synthetic generator.

A Video is one object trajectory: per-frame boxes (NaN rows where the target is absent) and a
way to read frame i. Real datasets (GOT-10k, LaSOT, ILSVRC-VID with its XML annotations) come
through eval.datasets.load_dataset as eval.sequence.Sequence objects; synthetic ones come from
the generator's in-memory API (meta_tracker_ros.data), restricted to training seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence as Seq

from meta_tracker_ros.eval.sequence import Sequence
import numpy as np

# The only synthetic suites training may read (data.suites keeps their seeds disjoint from
# the tuning and test suites; synth-photo-train draws only train-split photos).
TRAINING_SUITES = ('synth-train', 'synth-photo-train')


@dataclass
class Video:
    """
    One object trajectory.

    boxes: (N, 4) float64 x, y, w, h in 0-based pixels, NaN where the target is not visible.
    visible: (N,) bool; load: frame index -> (H, W, 3) uint8 RGB; mask: frame index -> the
    target's (H, W) bool mask, for sources that have masks (the generator, DAVIS, YouTube-VOS).
    """

    name: str
    boxes: np.ndarray
    visible: np.ndarray
    load: Callable[[int], np.ndarray]
    mask: Callable[[int], np.ndarray] | None = None   # frame index -> (H, W) bool, if known

    def __len__(self) -> int:
        return len(self.boxes)

    def frame(self, i: int) -> np.ndarray:
        return self.load(i)

    def usable(self, min_size: float = 4.0) -> np.ndarray:
        """(N,) bool: frames whose target is visible, labelled and at least min_size pixels."""
        b = self.boxes
        ok = np.isfinite(b).all(axis=1)
        ok[ok] &= (b[ok, 2] >= min_size) & (b[ok, 3] >= min_size)
        return ok & self.visible

    @classmethod
    def from_sequence(cls, seq: Sequence) -> Video:
        """Wrap an eval.sequence.Sequence (frames read from disk on demand)."""
        def mask(i: int) -> np.ndarray:
            m = seq.load_mask(i)
            if m is None:
                raise ValueError(f'{seq.name}: frame {i} has no mask')
            return m
        return cls(seq.name, seq.gt.copy(), ~seq.absent, seq.load_image,
                   mask if seq.masks is not None else None)

    @classmethod
    def from_frames(cls, name: str, frames: Seq[np.ndarray], boxes: np.ndarray,
                    visible: np.ndarray | None = None) -> Video:
        """Frames held in memory as (H, W, 3) uint8 RGB arrays."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if len(frames) != len(boxes):
            raise ValueError(f'{name}: {len(frames)} frames but {len(boxes)} boxes')
        if visible is None:
            visible = np.isfinite(boxes).all(axis=1)
        stored = [np.ascontiguousarray(f) for f in frames]
        return cls(name, boxes, np.asarray(visible, dtype=bool), stored.__getitem__)


def videos_from_dataset(spec: str, limit: int | None = None) -> list[Video]:
    """Trajectories of a dataset through the evaluation readers (e.g. 'got10k:/data/train')."""
    from meta_tracker_ros.eval.datasets import load_dataset

    kind, _, rest = spec.partition(':')
    if kind.strip().lower() == 'synth' and rest not in TRAINING_SUITES:
        raise ValueError(f'{spec}: training never reads an evaluation suite; use a '
                         f'{{synth: SUITE}} source with SUITE in {", ".join(TRAINING_SUITES)}')
    seqs = list(load_dataset(spec))
    if limit is not None:
        seqs = seqs[:limit]
    return [Video.from_sequence(s) for s in seqs]


def synthetic_videos(suite: str, count: int, max_frames: int = 0, first: int = 0
                     ) -> list[Video]:
    """
    Plan entries first..first+count-1 of a training suite; frames render lazily.

    Each entry has its own seed, length and difficulty (data.suites); max_frames > 0 caps the
    length. Labels of all frames are computed up front (cheap); a frame is rendered when a
    sampler asks for it (about 4 ms at 480x360), so a pool of videos costs little memory.
    Only training suites are accepted, and every seed is checked against the suite ranges.
    A photo suite needs the whole photo pool (`make setup-training`), so that its videos are
    the same on every machine.
    """
    from meta_tracker_ros.data.generator import generate_sequence
    from meta_tracker_ros.data.suites import get_suite, suite_of_seed

    if suite not in TRAINING_SUITES:
        raise ValueError(f'{suite!r} is not a training suite; training uses '
                         f'{", ".join(TRAINING_SUITES)} (never a tuning or test suite)')
    definition = get_suite(suite)
    definition.require_photos()
    ks = range(first, first + count)
    out = []
    for k in ks:
        entry = definition.entry(k)
        if suite_of_seed(entry.seed) != suite:
            raise ValueError(f'seed {entry.seed} of {entry.name} is outside {suite}')
        n = min(entry.num_frames, max_frames) if max_frames > 0 else entry.num_frames
        seq = generate_sequence(entry.seed, n, entry.spec)
        labels = [seq.label(i) for i in range(n)]
        boxes = np.stack([lab.box for lab in labels]).astype(np.float64)
        visible = np.array([not lab.absent for lab in labels])

        def load(i: int, seq: Any = seq) -> np.ndarray:
            return seq.frame(i).image

        def mask(i: int, seq: Any = seq) -> np.ndarray:
            return seq.label(i).mask
        out.append(Video(entry.name, boxes, visible, load, mask))
    return out


def build_videos(sources: Seq[Any], *, rank: int = 0, world: int = 1,
                 verbose: bool = False) -> list[Video]:
    """
    All training videos of a config's data list (see training.config.TrainConfig).

    Under DistributedDataParallel each rank generates a disjoint share of the synthetic
    seeds; dataset readers are listed by every rank (sampling differs by rank seed).
    """
    from tqdm import tqdm

    videos: list[Video] = []
    for src in sources:
        if isinstance(src, str):
            videos += videos_from_dataset(src)
        elif isinstance(src, dict) and 'synth' in src:
            unknown = sorted(set(src) - {'synth', 'videos', 'frames', 'first'})
            if unknown:
                raise ValueError(f'unknown key(s) {unknown} in synthetic source {src}')
            count = int(src.get('videos', 100))
            first = int(src.get('first', 0))
            # Each rank takes every world-th entry.
            share = [first + k for k in range(count)][rank::world]
            for k in tqdm(share, desc=f'planning {src["synth"]}', disable=not verbose,
                          mininterval=5.0):
                videos += synthetic_videos(src['synth'], 1, int(src.get('frames', 0)), k)
        else:
            raise ValueError(f'bad data source {src!r}: expected a dataset spec string such as '
                             f"'got10k:/path' or a dict {{synth: synth-train, videos: N, "
                             f'frames: N}}')
    if not videos:
        raise ValueError('the data sources gave no videos')
    return videos
