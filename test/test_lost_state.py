# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The shared lost state (core.ops.lost) and its calibration (training.calibrate_lost)."""

import math

from meta_tracker_ros.core.ops.lost import (lost_search_size, LostCriterion, LostState,
                                            peak_to_sidelobe, Redetection, WARMUP)
import numpy as np
import pytest
from training.calibrate_lost import choose, main as calibrate_main, rates, replay


def test_relative_test_follows_the_tracks_own_peaks():
    state = LostState(LostCriterion(floor=0.2, ratio=0.8, psr=5.0, history=10))
    state.reset()
    # A dim target (peaks near 0.5, far below a synthetic absolute threshold of 0.78) is
    # tracked: its own median sets the bar.
    for _ in range(10):
        assert not state.judge(0.5, 3.0)
    assert state.reference == pytest.approx(0.5)
    # A drop to 0.35 (< 0.8 x 0.5) with a flat response is lost; with a clear single peak
    # (PSR above 5) it is not.
    assert not state.judge(0.35, 9.0)
    assert state.judge(0.35, 3.0) and state.lost and state.lost_frames == 1
    # While lost the history is frozen; the same peak keeps it lost, a good one finds it.
    assert state.judge(0.36, 3.0) and state.lost_frames == 2
    assert state.reference == pytest.approx(0.5)
    assert not state.judge(0.45, 3.0) and not state.lost and state.lost_frames == 0
    # Below the floor is always lost, whatever the PSR; NaN too.
    assert state.judge(0.1, 50.0)
    assert state.judge(float('nan'), 50.0)


def test_relative_test_waits_for_a_history_and_can_be_turned_off():
    state = LostState(LostCriterion(floor=0.1, ratio=0.9, psr=1000.0, history=5))
    state.reset()
    assert not state.judge(0.9, 0.0)
    for _ in range(WARMUP):
        state.judge(0.9, 0.0)
    assert state.judge(0.5, 0.0)
    off = LostState(LostCriterion(floor=0.1, ratio=0.0, psr=1000.0))
    off.reset(0.9)
    for _ in range(10):
        assert not off.judge(0.15, 0.0)
    with pytest.raises(ValueError):
        LostCriterion(floor=0.1, ratio=1.5, psr=1.0)


def test_peak_to_sidelobe():
    flat = np.zeros((17, 17))
    assert peak_to_sidelobe(flat) == math.inf
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, (17, 17))
    peaked = noise.copy()
    peaked[8, 8] = 20.0
    assert peak_to_sidelobe(peaked) > 10 > peak_to_sidelobe(noise)
    # The (2e + 1)^2 cells around the peak are left out of the sidelobe.
    wide = noise.copy()
    wide[7:10, 7:10] = 15.0
    assert peak_to_sidelobe(wide, exclude=2) > 2 * peak_to_sidelobe(wide, exclude=0)


def test_lost_search_size_waits_then_widens_in_whole_strides():
    sizes = [lost_search_size(255, k, patience=2, step=60, largest=511, stride=8)
             for k in range(1, 9)]
    assert sizes[:2] == [255, 255]
    assert all((s - 255) % 8 == 0 for s in sizes)
    assert sizes == sorted(sizes) and sizes[-1] <= 511 and sizes[2] > 255


def test_redetection_keeps_the_tracking_search_for_the_patience_then_widens():
    search = Redetection(patience=2, step=32, largest=351, window=0.4, lost_window=0.1)
    plans = [search.search(k, 263, 8) for k in range(5)]
    assert plans[:3] == [(263, 0.4)] * 3
    assert plans[3] == (295, 0.1) and plans[4] == (327, 0.1)
    assert search.search(50, 263, 8) == (351, 0.1)  # the largest: 263 + 11 strides


def _stream(scores, psr, hidden, tracked):
    return {'score': np.array(scores, float), 'psr': np.array(psr, float),
            'hidden': np.array(hidden, bool), 'tracked': np.array(tracked, bool)}


def test_calibration_replays_the_real_lost_state_and_respects_the_budget():
    # 20 tracked frames at 0.6, then 10 hidden ones at 0.3, then 20 tracked at 0.45 (a target
    # that came back dimmer).
    st = _stream([0.6] * 20 + [0.3] * 10 + [0.45] * 20, [4.0] * 50,
                 [False] * 20 + [True] * 10 + [False] * 20,
                 [True] * 20 + [False] * 10 + [True] * 20)
    absolute = replay(st, LostCriterion(0.5, 0.0, 1000.0))
    assert absolute[20:30].all() and absolute[30:].all()
    relative = replay(st, LostCriterion(0.2, 0.7, 1000.0))
    assert relative[20:30].all() and not relative[30:].any()
    r = rates([st], LostCriterion(0.2, 0.7, 1000.0))
    assert r['hidden_caught'] == 1.0 and r['false_lost'] == 0.0
    table = [{'lost_threshold': c.floor, 'lost_ratio': c.ratio, 'lost_psr': c.psr,
              'suites': {'a': rates([st], c)}}
             for c in (LostCriterion(0.5, 0.0, 1000.0), LostCriterion(0.2, 0.7, 1000.0),
                       LostCriterion(0.0, 0.0, 1000.0))]
    best = choose(table, 0.02)
    assert (best['lost_threshold'], best['lost_ratio']) == (0.2, 0.7)
    with pytest.raises(ValueError, match='no criterion'):
        choose(table[:1], 0.02)


def test_calibration_reads_only_tuning_suites():
    for suite in ('synth-test', 'synth-long', 'synth-photo-test'):
        with pytest.raises(SystemExit):
            calibrate_main(['--suites', suite])
