# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The lost state every tracker shares.

When to drop a target, when it is found again, and how far to search for it meanwhile.

An absolute threshold on the peak confidence, learned on synthetic data, does not carry to
real video: on 37 real sequences MLT's 0.78 fired on 26% of the frames where the target was
in view, because a real target's peaks sit lower than a synthetic one's. LostCriterion
judges a peak against the track's own history instead: the target is lost when the peak
falls below `ratio` times the median of the recent tracked peaks AND the response has lost
its single clear maximum (peak-to-sidelobe ratio below `psr`), or when it falls below an
absolute `floor` that only a response with no match at all reaches. A target that is merely
dimmer than on synthetic data keeps its own median, so the relative test stays quiet.
While lost, the median is frozen at its value before the loss, and the target is found
again when a peak passes the same test.

The numbers are calibrated by training/calibrate_lost.py on synth-dev and photo-dev
together (never on a test suite).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
import statistics

from meta_tracker_ros.core.config import param, TrackerConfig
import numpy as np

# Tracked peaks needed before the relative test applies (only the floor before that).
WARMUP = 3


@dataclass(frozen=True)
class LostCriterion:
    """
    Parameters of the lost test (see the module doc).

    floor: a peak below it is always lost; ratio: relative test against the median of the
    last `history` tracked peaks (0 turns the relative test off); psr: the relative test
    needs the peak-to-sidelobe ratio below it as well (inf: the peak alone decides).
    """

    floor: float
    ratio: float
    psr: float
    history: int = 30

    def __post_init__(self) -> None:
        if not (0.0 <= self.ratio <= 1.0 and self.history >= 1 and self.psr >= 0.0
                and math.isfinite(self.floor)):
            raise ValueError(f'bad lost criterion {self}')


class LostState:
    """
    The running history of one track's confident peaks and the lost / found decisions.

    Usage per frame: ``lost = state.judge(score, psr)``; while tracking, a frame that is not
    lost is added to the history. ``reset(first_score)`` starts a new track.
    """

    def __init__(self, criterion: LostCriterion) -> None:
        self.criterion = criterion
        self._peaks: deque[float] = deque(maxlen=criterion.history)
        self.lost = False
        self.lost_frames = 0

    def reset(self, first_score: float | None = None) -> None:
        """Forget the history; seed it with the peak on the initial frame when known."""
        self._peaks.clear()
        if first_score is not None and math.isfinite(first_score):
            self._peaks.append(float(first_score))
        self.lost = False
        self.lost_frames = 0

    @property
    def reference(self) -> float | None:
        """Median of the recent tracked peaks (None before the first one)."""
        return statistics.median(self._peaks) if self._peaks else None

    def below(self, score: float, psr: float) -> bool:
        """Whether a peak with this score and peak-to-sidelobe ratio fails the test."""
        c = self.criterion
        if not math.isfinite(score) or score < c.floor:
            return True
        ref = self.reference
        if ref is None or len(self._peaks) < WARMUP or c.ratio <= 0.0:
            return False
        return score < c.ratio * ref and psr < c.psr

    def judge(self, score: float, psr: float) -> bool:
        """
        Decide this frame: returns True when the target is (still) lost.

        A tracked frame that passes joins the history; the history is frozen while lost.
        """
        fails = self.below(score, psr)
        if fails:
            self.lost = True
            self.lost_frames += 1
            return True
        self.lost = False
        self.lost_frames = 0
        self._peaks.append(float(score))
        return False


def peak_to_sidelobe(response: np.ndarray, exclude: int = 2) -> float:
    """
    Peak-to-sidelobe ratio of a response map: (peak - mean) / std of the sidelobe.

    response: (H, W) scores; the sidelobe is the map without the (2 exclude + 1)^2 cells
    around the maximum (Bolme et al., MOSSE, CVPR 2010). A single clear peak gives a large
    value, a flat or many-peaked map a small one. inf when the sidelobe is constant.
    """
    r = np.asarray(response, dtype=np.float64)
    iy, ix = np.unravel_index(int(np.argmax(r)), r.shape)
    mask = np.ones(r.shape, dtype=bool)
    mask[max(0, iy - exclude):iy + exclude + 1, max(0, ix - exclude):ix + exclude + 1] = False
    side = r[mask]
    if side.size < 2:
        return math.inf
    std = float(side.std())
    if std <= 1e-12:
        return math.inf
    return float((r[iy, ix] - side.mean()) / std)


def lost_search_size(base: int, lost_frames: int, patience: int, step: int, largest: int,
                     stride: int) -> int:
    """
    Side of the search image on the lost_frames-th lost frame (re-detection search).

    For the first `patience` lost frames it stays `base` (a short dip from blur or partial
    occlusion is searched where the target was); then it grows by `step` pixels per frame up
    to `largest` (never below base), in whole strides of the fully convolutional network so
    its response map grows by whole cells.
    """
    grow = 0 if lost_frames <= patience else step * (lost_frames - patience)
    size = min(base + grow, max(largest, base))
    return size - (size - base) % stride


@dataclass(frozen=True)
class Redetection:
    """
    The re-detection search every tracker runs while lost (its config's lost_* values).

    For the first `patience` lost frames the region and the cosine window stay the tracking
    ones (a short dip is searched where the target was); then the region widens by `step`
    pixels per frame up to `largest` and the window weight drops to `lost_window`, so a target
    that moved while hidden can be found farther away.
    """

    patience: int
    step: int
    largest: int
    window: float
    lost_window: float

    def search(self, lost_frames: int, base: int, stride: int) -> tuple[int, float]:
        """Return (search image side, cosine window weight) after lost_frames lost frames."""
        size = lost_search_size(base, lost_frames, self.patience, self.step, self.largest,
                                stride)
        return size, self.window if lost_frames <= self.patience else self.lost_window


@dataclass(frozen=True)
class LostConfig(TrackerConfig):
    """The lost_* options a tracker config shares: the lost test and the re-detection search."""

    lost_threshold: float = param(0.2, 'absolute floor of the lost test (core.ops.lost; '
                                  'calibrated by training/calibrate_lost.py)', min=0.0, max=1.0)
    lost_ratio: float = param(0.0, 'relative lost test: peak below lost_ratio times the median '
                              'of the recent tracked peaks (and PSR below lost_psr); 0 = off',
                              min=0.0, max=1.0)
    lost_psr: float = param(1000.0, 'the relative lost test also needs the peak-to-sidelobe '
                            'ratio below this', min=0.0, max=1000.0)
    lost_history: int = param(30, 'tracked peaks in the running median', min=1, max=10000)
    lost_patience: int = param(5, 'lost frames searched like tracked ones before the search '
                               'widens', min=0, max=1000)
    lost_search_step: int = param(64, 'search image growth per lost frame after '
                                  'lost_patience (pixels)', min=0, max=512)
    lost_search_max: int = param(519, 'largest search image while lost (pixels)',
                                 min=255, max=2048)
    lost_window_influence: float = param(0.1, 'cosine window weight while lost',
                                         min=0.0, max=1.0)

    def lost_state(self) -> LostState:
        """Return a fresh lost state with this config's criterion."""
        return LostState(LostCriterion(self.lost_threshold, self.lost_ratio, self.lost_psr,
                                       self.lost_history))

    def redetection(self, window_influence: float) -> Redetection:
        """Return the re-detection plan, from the tracking window weight window_influence."""
        return Redetection(self.lost_patience, self.lost_search_step, self.lost_search_max,
                           window_influence, self.lost_window_influence)
