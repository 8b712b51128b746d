# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
One contract, every registered tracker, with its committed weights.

On an easy generated sequence each tracker must: follow the target (mean IoU above a floor),
return well-formed results, refuse a bad box while keeping its track, and start again
after reset.
"""

from meta_tracker_ros.core import available_trackers, Box, build_tracker, Tracker
from meta_tracker_ros.core.paths import find_weights
from meta_tracker_ros.core.registry import get_entry
from meta_tracker_ros.core.types import BoxError, TrackResult, TrackState
from meta_tracker_ros.core.weights import WeightsError
from meta_tracker_ros.data.generator import generate_sequence
from meta_tracker_ros.data.spec import SequenceSpec
import numpy as np
import pytest
import torch

FRAMES = 40


def _committed(name: str) -> bool:
    try:
        find_weights(name)
    except WeightsError:
        return False
    return True


@pytest.fixture(scope='module')
def easy_sequence():
    spec = SequenceSpec.from_difficulty(0.0, width=320, height=240)
    seq = generate_sequence(5_900_202, FRAMES, spec)
    frames = [seq.frame(i) for i in range(FRAMES)]
    return [f.image for f in frames], [Box(*f.box) for f in frames]


@pytest.mark.parametrize('name', available_trackers())
def test_tracker_contract(name, easy_sequence):
    torch.set_num_threads(1)
    images, boxes = easy_sequence
    entry = get_entry(name)
    if entry.default_weights and not _committed(entry.default_weights):
        pytest.skip(f'{name}: weights/{entry.default_weights} is not committed yet (the '
                    f'tracker is tested on weights its own tests make)')
    tracker = build_tracker(name)
    assert isinstance(tracker, Tracker) and tracker.name == name
    tracker.initialize(images[0], boxes[0])
    ious = []
    for i in range(1, FRAMES):
        r = tracker.update(images[i])
        assert isinstance(r, TrackResult) and r.state in (TrackState.TRACKING, TrackState.LOST)
        assert r.box.is_finite() and np.isfinite(r.score)
        if r.mask is not None:
            assert r.mask.shape == images[i].shape[:2]
        ious.append(r.box.iou(boxes[i]))
    assert np.mean(ious) > 0.5, (name, np.round(ious, 2))

    before = tracker.update(images[-1]).box
    with pytest.raises(BoxError):
        tracker.initialize(images[-1], Box(1000, 1000, 10, 10))
    with pytest.raises(BoxError):
        tracker.initialize(images[-1], Box(float('nan'), 0, 10, 10))
    after = tracker.update(images[-1]).box
    assert after.iou(before) > 0.8, 'a refused init must keep the track'

    tracker.reset()
    tracker.initialize(images[10], boxes[10])
    assert tracker.update(images[11]).box.iou(boxes[11]) > 0.5
