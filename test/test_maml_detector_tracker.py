# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Retina-MAML and FCOS-MAML trackers (Algorithm 1) on small weights files the tests make."""

from pathlib import Path

from meta_tracker_ros.core.models.maml_detector import (DetectorArgs, InnerArgs,
                                                        MAMLDetectorNet)
from meta_tracker_ros.core.trackers.maml_detector import (FCOSMAMLTracker, MAMLDetectorConfig,
                                                          RetinaMAMLTracker)
from meta_tracker_ros.core.types import Box, BoxError, TrackState
from meta_tracker_ros.core.weights import save_weights, WeightsError
import numpy as np
import pytest
import torch
from tracker_helpers import moving_target_frames

TRACKERS = {'fcos_maml': FCOSMAMLTracker, 'retina_maml': RetinaMAMLTracker}


def _weights(tmp_path: Path, family: str) -> Path:
    torch.manual_seed(0)
    head = family.split('_')[0]
    net = MAMLDetectorNet(DetectorArgs(head=head, channels=8, input_size=135),
                          InnerArgs(lr_mode='kernel', lr=1e-2))
    return save_weights(tmp_path / f'{family}.safetensors', net.state_dict(), tracker=family,
                        model_args=net.model_args())


def _frames(n=8):
    return moving_target_frames(n)


def _tracker(tmp_path, family, **config):
    cfg = MAMLDetectorConfig.from_dict({'lost_threshold': 0.0, 'min_score': 0.0, **config})
    return TRACKERS[family](config=cfg, weights=_weights(tmp_path, family))


@pytest.mark.parametrize('family', sorted(TRACKERS))
def test_algorithm_1_adapts_tracks_and_updates(tmp_path, family):
    frames, boxes = _frames()
    tr = _tracker(tmp_path, family, update_interval=3, support_threshold=0.0,
                  distractor_ratio=0.0)
    start = {n: t.clone() for n, t in tr._fast.items()} if tr._fast else None
    assert start is None
    tr.initialize(frames[0], boxes[0])
    assert len(tr._support) == 3 and tr.updates == 1  # zoom 1, 1/1.08, 1.08; 5-step adaptation
    own = dict(tr.det.named_parameters())
    assert any(not torch.equal(t, own[n]) for n, t in tr._fast.items())
    for f in frames[1:]:
        r = tr.update(f)
        assert r.state == TrackState.TRACKING and r.box.is_finite() and np.isfinite(r.score)
    # Frames 3 and 6 updated (every 3 frames); every result joined the support set.
    assert tr.updates == 3 and len(tr._support) == 3 + 7
    # The module itself is never changed.
    assert all(torch.equal(p, own[n]) for n, p in tr.det.named_parameters())


def test_noupdate_and_cls_only_variants(tmp_path):
    frames, boxes = _frames()
    tr = _tracker(tmp_path, 'fcos_maml', online_update=False, update_interval=2)
    tr.initialize(frames[0], boxes[0])
    for f in frames[1:]:
        tr.update(f)
    assert tr.updates == 1 and len(tr._support) == 3
    tr = _tracker(tmp_path, 'fcos_maml', adapt='cls', update_interval=2, support_threshold=0.0,
                  distractor_ratio=0.0)
    tr.initialize(frames[0], boxes[0])
    after_init = {n: t.clone() for n, t in tr._fast.items()}
    for f in frames[1:3]:
        tr.update(f)
    assert tr.updates == 2
    changed = {n for n, t in tr._fast.items() if not torch.equal(t, after_init[n])}
    assert changed and all(n.startswith('cls_head.') for n in changed)


def test_a_distracting_peak_triggers_an_update(tmp_path):
    tr = _tracker(tmp_path, 'fcos_maml', distractor_ratio=0.7)
    scores = np.zeros((17, 17))
    scores[8, 8] = 0.9
    scores[8, 10] = 0.8  # next to the peak: the same object
    assert not tr._distracted(scores, 8 * 17 + 8)
    scores[2, 14] = 0.65  # away from it, 0.72 of the peak
    assert tr._distracted(scores, 8 * 17 + 8)


def test_lost_state_widens_the_search(tmp_path):
    frames, boxes = _frames()
    tr = _tracker(tmp_path, 'retina_maml', lost_threshold=1.0, lost_patience=1,
                  lost_search_step=32)
    tr.initialize(frames[0], boxes[0])
    sizes = []
    real = tr._features

    def spy(crops):
        sizes.append(crops[0].shape[0])
        return real(crops)

    tr._features = spy
    states = [tr.update(f).state for f in frames[1:5]]
    assert states == [TrackState.LOST] * 4
    assert sizes == [135, 135, 167, 199]
    assert len(tr._support) == 3 and tr.updates == 1


def test_bad_input_is_refused_and_keeps_the_track(tmp_path):
    frames, boxes = _frames()
    tr = _tracker(tmp_path, 'fcos_maml')
    with pytest.raises(RuntimeError):
        tr.update(frames[0])
    tr.initialize(frames[0], boxes[0])
    before = tr.update(frames[1]).box
    for bad in (Box(1000, 1000, 10, 10), Box(float('nan'), 0, 10, 10), Box(5, 5, 0, 10)):
        with pytest.raises(BoxError):
            tr.initialize(frames[1], bad)
    with pytest.raises(ValueError):
        tr.update(frames[1].astype(np.float32))
    assert tr._center is not None and Box.from_center(*tr._center, *tr._wh).iou(before) > 0.99
    # Another family's weights, a corrupt file and a missing one.
    other = _weights(tmp_path, 'retina_maml')
    with pytest.raises(WeightsError, match='retina_maml'):
        FCOSMAMLTracker(config=MAMLDetectorConfig(), weights=other)
    corrupt = tmp_path / 'corrupt.safetensors'
    corrupt.write_bytes(b'\x00' * 64)
    with pytest.raises(WeightsError):
        FCOSMAMLTracker(config=MAMLDetectorConfig(), weights=corrupt)
    with pytest.raises(WeightsError):
        FCOSMAMLTracker(config=MAMLDetectorConfig(), weights=tmp_path / 'missing.safetensors')
