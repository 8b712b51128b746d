# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The trackmlp trackers (Table II's three rows) on small weights files the tests make."""

from pathlib import Path

from meta_tracker_ros.core import build_tracker
from meta_tracker_ros.core.types import Box, BoxError, TrackState
from meta_tracker_ros.core.weights import save_weights, WeightsError
import numpy as np
import pytest
import torch
from tracker_helpers import moving_target_frames, small_trackmlp_weights


def _weights(tmp_path: Path) -> Path:
    return small_trackmlp_weights(tmp_path / 'trackmlp.safetensors', inner_lr=1e-2)


def _frames(n=6):
    return moving_target_frames(n)


@pytest.mark.parametrize('name', ['trackmlp', 'trackmlp_rect', 'trackmlp_noadapt'])
def test_adapts_tracks_and_makes_masks(tmp_path, name):
    frames, boxes = _frames()
    cfg = {'lost_threshold': 0.0, 'support_size': 6, 'adapt_steps': 3}
    if name == 'trackmlp_noadapt':
        cfg.pop('adapt_steps')
    tr = build_tracker(name, cfg, _weights(tmp_path))
    tr.initialize(frames[0], boxes[0])
    own = dict(tr.model.named_parameters())
    adapted = any(not torch.equal(t, own[n]) for n, t in tr._fast.items())
    assert adapted == (name != 'trackmlp_noadapt')
    for f in frames[1:]:
        r = tr.update(f)
        assert r.state == TrackState.TRACKING and r.box.is_finite() and np.isfinite(r.score)
        assert r.mask is not None and r.mask.shape == f.shape[:2] and r.mask.dtype == np.uint8
        assert set(np.unique(r.mask)) <= {0, 255}
        assert r.angle is None or np.isfinite(r.angle)
    assert tr.config.mask_label == {'trackmlp': 'generated', 'trackmlp_rect': 'rect',
                                    'trackmlp_noadapt': 'generated'}[name]


def test_mask_lies_where_the_chosen_window_is(tmp_path):
    # With every mask logit high, the pasted mask is the chosen position's 127x127 window
    # (in frame pixels): it must contain the box's centre and have the window's area.
    frames, boxes = _frames(2)
    tr = build_tracker('trackmlp_noadapt', {'lost_threshold': 0.0}, _weights(tmp_path))
    with torch.no_grad():
        tr.model.mask_head.head[3].bias.fill_(10.0)
    tr._reset_state()
    tr.initialize(frames[0], boxes[0])
    r = tr.update(frames[1])
    ys, xs = np.nonzero(r.mask)
    assert xs.min() <= r.box.cx <= xs.max() and ys.min() <= r.box.cy <= ys.max()
    from meta_tracker_ros.core.ops.crops import context_size
    side = context_size(50, 40, 0.5)             # the exemplar's side in frame pixels
    assert abs(np.count_nonzero(r.mask) - side * side) < 0.1 * side * side


def test_bad_input_keeps_the_track(tmp_path):
    frames, boxes = _frames(3)
    tr = build_tracker('trackmlp', {'lost_threshold': 0.0, 'support_size': 2,
                                    'adapt_steps': 1}, _weights(tmp_path))
    with pytest.raises(RuntimeError):
        tr.update(frames[0])
    tr.initialize(frames[0], boxes[0])
    before = tr.update(frames[1]).box
    with pytest.raises(BoxError):
        tr.initialize(frames[1], Box(5000, 5000, 10, 10))
    with pytest.raises(ValueError):
        tr.update(np.zeros((10, 10), np.uint8))
    assert tr.update(frames[1]).box.iou(before) > 0.8
    other = save_weights(tmp_path / 'x.safetensors', torch.nn.Linear(2, 2).state_dict(),
                         tracker='retina_maml', model_args={})
    with pytest.raises(WeightsError, match='retina_maml'):
        build_tracker('trackmlp', {}, other)
