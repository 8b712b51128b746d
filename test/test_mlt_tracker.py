# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The mlt trackers: Algorithm 1's update mechanics, weights refusals, the Tracker contract."""

from pathlib import Path

import cv2
from meta_tracker_ros.core.config import ConfigError
from meta_tracker_ros.core.models.mlt import MLTModelArgs, MLTNet
from meta_tracker_ros.core.ops.crops import crop_square
from meta_tracker_ros.core.registry import available_trackers, build_tracker
from meta_tracker_ros.core.types import Box, BoxError, TrackState
from meta_tracker_ros.core.weights import save_weights, WeightsError
from meta_tracker_ros.data.images import natural_image
import numpy as np
import pytest
import torch
from tracker_helpers import moving_target_frames

TINY = {'backbone': 'alexnet_mlt', 'backbone_args': {'width_mult': 0.0625},
        'exemplar_size': 87, 'search_size': 151, 'last_channels': 12, 'extra_kernels': 4,
        'hidden': 16}
# lost_ratio 0: the absolute lost test alone, as each test below sets it (the relative test
# of the defaults is core.ops.lost's, tested in test_lost_state.py).
FAST = {'optimize': False, 'quantize': False, 'response_upsample': 4, 'lost_ratio': 0.0}


def _weights(tmp_path: Path, stages=(1, 2), tracker='mlt', **args) -> Path:
    torch.manual_seed(0)
    net = MLTNet(MLTModelArgs(**{**TINY, **args}))
    with torch.no_grad():
        net.meta_learner.layers[-1].weight.normal_(0, 0.05)
    path = tmp_path / f'{tracker}_{len(stages)}_{len(args)}.safetensors'
    return save_weights(path, net.state_dict(), tracker=tracker,
                        model_args=net.args.to_dict(), info={'trained_stages': list(stages)})


def _frames(n=12):
    return moving_target_frames(n)


def test_registered_with_default_weights():
    assert {'mlt', 'mlt_mt', 'mlt_mt_ft'} <= set(available_trackers())
    with pytest.raises(ConfigError, match='update_interval'):
        build_tracker('mlt', {'update_interval': 0}, None)


def test_siamfc_imagenet_is_the_untrained_reference_of_training():
    # The reference tracker takes no weights file and its matching is the ImageNet features'
    # cosine correlation: the same responses as the training recipe's start (w5 192 x 32 with
    # orthonormal columns), which is what makes it the floor of every trained network.
    with pytest.raises(ConfigError, match='takes no weights'):
        build_tracker('siamfc_imagenet', None, 'weights/mlt_mobilenet_v2.safetensors')
    tr = build_tracker('siamfc_imagenet', {'quantize': False})
    net = MLTNet(MLTModelArgs(pos_radius=8.0))
    net.matching.init_reference('imagenet')
    net.eval()
    torch.manual_seed(0)
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 2, 3, 255, 255) * 255
    with torch.no_grad():
        ref = tr.net.matching(z, x)
        start = net.matching(z, x)
        trained = MLTNet(MLTModelArgs(pos_radius=8.0))
        trained.matching.backbone.load_imagenet()
        trained.eval()
        other = trained.matching(z, x)
    assert torch.allclose(ref, start, atol=1e-4)
    assert not torch.allclose(ref, other, atol=1e-2), 'a random w5 is not the reference'
    w5 = net.matching.last_weight()
    assert torch.allclose(w5.T @ w5, torch.eye(w5.shape[1]), atol=1e-5)
    frames, boxes = _frames()
    tr.initialize(frames[0], boxes[0])
    ious = [tr.update(f).box.iou(b) for f, b in zip(frames[1:], boxes[1:])]
    assert min(ious) > 0.6, np.round(ious, 2)


def test_mlt_updates_with_meta_learner_kernels_and_keeps_w5(tmp_path):
    tr = build_tracker('mlt', {**FAST, 'update_interval': 3, 'confidence_threshold': 0.0,
                               'lost_threshold': 0.0, 'support_size': 2},
                       _weights(tmp_path))
    w5 = tr.net.matching.last.weight.detach().clone()
    frames, boxes = _frames()
    tr.initialize(frames[0], boxes[0])
    assert tr._weight.shape == (1, 12, 16) and tr._attention is None
    for f in frames[1:3]:
        r = tr.update(f)
    assert r.state == TrackState.TRACKING and len(tr._memory) == 2
    assert tr._weight.shape == (1, 16, 16) and tr._attention.shape == (1, 16)
    assert torch.equal(tr._weight[0, :12], w5[:, :, 0, 0])
    assert torch.equal(tr.net.matching.last.weight, w5)
    before = tr._template.clone()
    for f in frames[3:6]:
        tr.update(f)
    assert not torch.equal(tr._template, before)


def test_scale_is_chosen_on_w5_after_an_update(tmp_path):
    w = _weights(tmp_path)
    frames, boxes = _frames(5)
    mlt = build_tracker('mlt', {**FAST, 'update_interval': 2, 'confidence_threshold': 0.0,
                                'lost_threshold': 0.0}, w)
    base = build_tracker('mlt_mt', FAST, w)
    for tr in (mlt, base):
        tr.initialize(frames[0], boxes[0])
    crops = [crop_square(frames[1], 125.0, 100.0, 200.0, 151)] * 3
    adapted, w5_only = mlt._responses(crops, base=True)
    assert w5_only is None
    mlt.update(frames[1])
    adapted, w5_only = mlt._responses(crops, base=True)
    reference, _ = base._responses(crops)
    np.testing.assert_allclose(w5_only, reference, rtol=1e-5, atol=1e-5)
    assert np.abs(adapted - reference).max() > 1e-3


@pytest.mark.parametrize('from_base', [True, False])
def test_confidence_after_an_update_comes_from_w5_with_score_from_base(tmp_path, from_base):
    frames, boxes = _frames(6)
    tr = build_tracker('mlt', {**FAST, 'update_interval': 2, 'confidence_threshold': 0.0,
                               'lost_threshold': 0.5, 'score_from_base': from_base,
                               'update_check': 0}, _weights(tmp_path))
    tr.initialize(frames[0], boxes[0])
    tr.update(frames[1])
    assert tr._updated
    real = tr._responses

    def flat_adapted(crops, base=False):
        # The updated network answers with a flat, low response; w5 still sees the target.
        adapted, w5 = real(crops, True)
        return np.full_like(adapted, -8.0), (w5 if base else None)
    tr._responses = flat_adapted
    w5_peak = 1.0 / (1.0 + np.exp(-real([crop_square(frames[2], boxes[2].cx, boxes[2].cy,
                                                     tr._search_side(), 151)], True)[1].max()))
    r = tr.update(frames[2])
    if from_base:
        assert r.state == TrackState.TRACKING and 0.5 < r.score <= w5_peak + 1e-6
    else:
        assert r.state == TrackState.LOST and r.score < 0.01


def test_mlt_mt_stays_fixed_and_mlt_mt_ft_finetunes(tmp_path):
    frames, boxes = _frames()
    w = _weights(tmp_path)
    fixed = build_tracker('mlt_mt', {**FAST, 'lost_threshold': 0.0}, w)
    fixed.initialize(frames[0], boxes[0])
    w0 = fixed._weight.clone()
    for f in frames[1:]:
        fixed.update(f)
    assert torch.equal(fixed._weight, w0) and fixed._attention is None
    ft = build_tracker('mlt_mt_ft', {**FAST, 'update_interval': 4, 'finetune_steps': 3,
                                     'confidence_threshold': 0.0, 'lost_threshold': 0.0}, w)
    w5 = ft.net.matching.last.weight.detach().clone()
    ft.initialize(frames[0], boxes[0])
    for f in frames[1:4]:
        ft.update(f)
    assert ft._weight.shape == (1, 12, 16) and not torch.equal(ft._weight[0], w5[:, :, 0, 0])
    assert torch.equal(ft.net.matching.last.weight, w5)


def test_update_check_keeps_only_kernels_that_fit_the_newest_contexts(tmp_path):
    frames, boxes = _frames()
    tr = build_tracker('mlt', {**FAST, 'update_interval': 1000, 'confidence_threshold': 0.0,
                               'lost_threshold': 0.0, 'support_size': 2, 'update_check': 3},
                       _weights(tmp_path))
    tr.initialize(frames[0], boxes[0])
    for f in frames[1:8]:
        tr.update(f)
    assert len(tr._memory) == 7
    # The current kernels fit as well as themselves; zero kernels give a flat response
    # (out_bias everywhere), which fits centred labels worse than the tracked target's.
    assert tr._update_fits(tr._weight, tr._attention, [0, 1])
    assert not tr._update_fits(torch.zeros_like(tr._weight), None, [0, 1])
    # In the tracking loop a rejected update leaves the kernels as they were.
    before = tr._weight.clone()
    tr._update_fits = lambda *a: False
    tr.config = type(tr.config)(**{**tr.config.to_dict(), 'update_interval': 1})
    tr.update(frames[8])
    assert tr.rejected_updates == 1 and torch.equal(tr._weight, before)


def test_weights_refusals(tmp_path):
    with pytest.raises(WeightsError, match="made for tracker 'opencv_csrt'"):
        build_tracker('mlt', FAST, _weights(tmp_path, tracker='opencv_csrt'))
    with pytest.raises(WeightsError, match='meta-learner was not trained'):
        build_tracker('mlt', FAST, _weights(tmp_path, stages=(1,)))
    build_tracker('mlt_mt', FAST, _weights(tmp_path, stages=(1,)))
    # A file whose tensors do not fit the model its metadata describes.
    torch.manual_seed(0)
    net = MLTNet(MLTModelArgs(**TINY))
    bad = save_weights(tmp_path / 'bad.safetensors', net.state_dict(), tracker='mlt',
                       model_args={**net.args.to_dict(), 'last_channels': 10},
                       info={'trained_stages': [1, 2]})
    with pytest.raises(WeightsError, match='shape mismatch'):
        build_tracker('mlt', FAST, bad)


def test_contract_errors_keep_the_state(tmp_path):
    tr = build_tracker('mlt', {**FAST, 'lost_threshold': 0.0}, _weights(tmp_path))
    frames, boxes = _frames(4)
    with pytest.raises(RuntimeError, match='before initialize'):
        tr.update(frames[0])
    tr.initialize(frames[0], boxes[0])
    with pytest.raises(BoxError):
        tr.initialize(frames[0], Box(5000, 5000, 10, 10))
    with pytest.raises(ValueError, match='uint8 RGB'):
        tr.update(frames[1].astype(np.float32))
    r = tr.update(frames[1])
    assert r.box.is_finite() and np.isfinite(r.score) and r.mask is None
    assert abs(r.box.cx - boxes[0].cx) < 40
    tr.reset()
    with pytest.raises(RuntimeError):
        tr.update(frames[2])


def test_lost_state_widens_the_search(tmp_path):
    tr = build_tracker('mlt_mt', {**FAST, 'lost_threshold': 1.0, 'lost_search_step': 32},
                       _weights(tmp_path))
    frames, boxes = _frames(5)
    tr.initialize(frames[0], boxes[0])
    results = [tr.update(f) for f in frames[1:]]
    assert all(r.state == TrackState.LOST for r in results)
    # While lost the box stays where the target was last seen and the search grows.
    assert all(r.box == Box(boxes[0].x, boxes[0].y, 50, 40) for r in results)
    assert tr._lost.lost_frames == 4


def test_lost_search_waits_lost_patience_frames_before_widening(tmp_path, monkeypatch):
    tr = build_tracker('mlt_mt', {**FAST, 'lost_threshold': 1.0, 'lost_search_step': 32,
                                  'lost_patience': 2}, _weights(tmp_path))
    frames, boxes = _frames(7)
    sizes = []
    real = tr._responses
    monkeypatch.setattr(tr, '_responses',
                        lambda crops, base=False: (sizes.append(crops[0].shape[0]),
                                                   real(crops, base))[1])
    tr.initialize(frames[0], boxes[0])
    for f in frames[1:]:
        tr.update(f)
    # frame 1 is the normal search that finds the peak too low, then 2 patient frames.
    assert sizes == [151, 151, 151, 183, 215, 247]


@pytest.mark.parametrize('quantize', [False, True])
def test_committed_weights_lose_and_find_the_target_again(quantize):
    bg = cv2.resize(natural_image('grass'), (640, 480))
    target = cv2.resize(natural_image('astronaut')[30:230, 150:350], (60, 60))
    frames, boxes = [], []
    for i in range(30):
        img = bg.copy()
        box = None
        if i < 10 or i >= 18:
            x, y = (200 + 3 * i, 200 + i) if i < 10 else (320 + 2 * (i - 18), 240)
            img[y:y + 60, x:x + 60] = target
            box = Box(x, y, 60, 60)
        frames.append(img)
        boxes.append(box)
    tracker = build_tracker('mlt', {'quantize': quantize})
    tracker.initialize(frames[0], boxes[0])
    results = [tracker.update(f) for f in frames[1:]]
    states = [r.state for r in results]
    assert all(s == TrackState.TRACKING for s in states[:9])
    assert all(s == TrackState.LOST for s in states[9:17])
    # The target came back 100 px from where it vanished: the widened search finds it.
    assert all(s == TrackState.TRACKING for s in states[18:])
    assert min(r.box.iou(b) for r, b in zip(results[18:], boxes[19:])) > 0.6


def test_quantized_backbone_is_built_once_per_weights_and_process():
    a = build_tracker('mlt_mt', {})
    b = build_tracker('mlt', {'update_interval': 10})
    f = build_tracker('mlt_mt', {'quantize': False})
    assert a._features is b._features
    assert 'quantized::' in str(a._features.inlined_graph)
    assert f._features is not a._features
    assert 'quantized::' not in str(f._features.inlined_graph)


def test_exemplar_background_weighs_the_template_positions(tmp_path):
    w = _weights(tmp_path)
    frames, boxes = _frames(3)
    plain = build_tracker('mlt_mt', {**FAST, 'exemplar_background': 1.0}, w)
    focused = build_tracker('mlt_mt', {**FAST, 'exemplar_background': 0.2}, w)
    # A flat box: the tiny network's 3x3 exemplar map has positions outside it.
    flat = Box(boxes[0].x, boxes[0].y + 16.0, 50.0, 8.0)
    for tr in (plain, focused):
        tr.initialize(frames[0], flat)
    assert plain._exemplar_mask is None
    mask = focused._exemplar_mask
    assert mask.shape == plain._template.shape[-2:]
    torch.testing.assert_close(focused._template, plain._template * mask)
    assert float(mask.min()) < float(mask.max())
    crops = [crop_square(frames[1], flat.cx + 3.0, flat.cy + 2.0, plain._search_side(), 151)]
    assert np.abs(focused._responses(crops)[0] - plain._responses(crops)[0]).max() > 1e-3
    # Re-initialising on a box of another shape makes a new mask; reset drops it.
    focused.initialize(frames[0], Box(boxes[0].x + 21.0, boxes[0].y, 8.0, 40.0))
    assert not torch.equal(focused._exemplar_mask, mask)
    focused.reset()
    assert focused._exemplar_mask is None


@pytest.mark.parametrize('name', ['mlt', 'mlt_mt_ft'])
def test_updates_score_the_weighted_template(tmp_path, name, monkeypatch):
    # delta (mlt) and the fine-tuning loss (mlt_mt_ft) use the template the tracker tracks
    # with, exemplar weights included, as training does (training's exemplar_background).
    from meta_tracker_ros.core.trackers import mlt as mlt_module
    w = _weights(tmp_path)
    frames, boxes = _frames(3)
    flat = Box(boxes[0].x, boxes[0].y + 16.0, 50.0, 8.0)
    masks = []
    target = 'compute_delta' if name == 'mlt' else 'finetune_last_layer'
    real = getattr(mlt_module, target)

    def spy(*args):
        masks.append(args[-1])
        return real(*args)

    monkeypatch.setattr(mlt_module, target, spy)
    trackers = []
    for background in (0.2, 1.0):
        tr = build_tracker(name, {**FAST, 'lost_threshold': 0.0, 'confidence_threshold': 0.0,
                                  'update_interval': 2, 'support_size': 1,
                                  'exemplar_background': background}, w)
        tr.initialize(frames[0], flat)
        tr.update(frames[1])
        tr.update(frames[2])
        trackers.append(tr)
    assert len(masks) == 2
    torch.testing.assert_close(masks[0], trackers[0]._exemplar_mask.unsqueeze(0))
    assert float(masks[0].min()) < 1.0
    assert masks[1] is None


def _bench_module():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / 'benchmarks' / 'bench_mlt_speed.py'
    spec = importlib.util.spec_from_file_location('bench_mlt_speed', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('threshold', [0.0, 1.0])
def test_speed_benchmark_counts_the_frames_searched_while_lost(tmp_path, threshold):
    # The timing is the benchmark's business; here only its bookkeeping: which frames ran the
    # one-scale lost search, and the median of the others.
    bench = _bench_module()
    frames, boxes = _frames(6)
    threads = (torch.get_num_threads(), cv2.getNumThreads())
    try:
        r = bench.time_tracker('mlt_mt', _weights(tmp_path), frames, boxes[0], 1,
                               {**FAST, 'lost_threshold': threshold})
    finally:
        torch.set_num_threads(threads[0])
        cv2.setNumThreads(threads[1])
    assert r['frames'] == 5 and r['config']['lost_threshold'] == threshold
    if threshold == 0.0:
        assert r['lost_frames'] == 0 and r['median_ms_tracking'] == r['median_ms']
    else:
        # The first update searches as tracking and reports lost; the four after it are lost.
        assert r['lost_frames'] == 4 and r['median_ms_tracking'] > 0
