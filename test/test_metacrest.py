# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""MetaCREST and CREST-k: model (warp, label, eq. 6, PCA), trackers and meta-training."""

from meta_tracker_ros.core.config import ConfigError
from meta_tracker_ros.core.models.metacrest import (MetaCREST, MetaCRESTArgs,
                                                    MetaCRESTInnerArgs, MetaCRESTNet,
                                                    pca_projection)
from meta_tracker_ros.core.registry import build_tracker
from meta_tracker_ros.core.types import Box, TrackState
from meta_tracker_ros.core.weights import load_weights, save_weights, WeightsError
import numpy as np
import pytest
import torch
from tracker_helpers import moving_target_frames
from training.config import TrainConfig, TrainConfigError
from training.datasets import synthetic_videos
from training.metacrest import FutureFrameSampler, MetaCRESTObjective
from training.samplers import Augment
from training.train import collate, main
import yaml

SMALL = {'channels': 4, 'input_size': 127}
SYNTH = [{'synth': 'synth-train', 'videos': 2, 'frames': 30, 'first': 7}]


def _model(**kw) -> MetaCREST:
    torch.manual_seed(0)
    return MetaCREST(MetaCRESTArgs(**{**SMALL, **kw}))


def test_warped_filter_keeps_the_canonical_one_and_passes_gradients():
    m = _model()
    f = m.filter
    same = m.warped_filter(f, tuple(f.shape[-2:]))
    assert torch.equal(same, f)
    wide = m.warped_filter(f, (5, 15))
    assert wide.shape[-2:] == (5, 15)
    # Scaled by the area ratio: a constant filter keeps its sum (its response to a flat map).
    flat = m.warped_filter(torch.ones_like(f), (5, 15))
    assert float(flat.sum()) == pytest.approx(float(f.numel()), rel=1e-5)
    wide.pow(2).sum().backward()
    assert f.grad is not None and float(f.grad.abs().sum()) > 0
    # Filter sizes are odd and follow the target's size in cells.
    assert m.filter_size(64, 32) == (5, 9) and m.filter_size(1, 1) == (1, 1)
    assert max(m.filter_size(10_000, 10_000)) <= m.args.max_filter


def test_label_peaks_on_the_target_and_eq6_ignores_near_misses():
    m = _model()
    n = m.output_size()
    centre = torch.tensor([[8.0 * 5, 8.0 * 3]])
    label = m.label(centre, torch.tensor([[40.0, 40.0]]), (n, n))
    assert label.shape == (1, n, n)
    assert np.unravel_index(int(label.argmax()), (n, n)) == (3, 5)
    assert float(label.max()) == pytest.approx(1.0)
    zero = torch.zeros(1, 1, 1, 1)
    assert float(m.loss(label, label, zero)) == 0.0
    # Errors under the margin (0.1) are not counted; one larger error is, weighted exp(y)^2.
    near = label + 0.05
    assert float(m.loss(near, label, zero)) == 0.0
    off = label.clone()
    off[0, 3, 5] -= 0.5
    assert float(m.loss(off, label, zero)) == pytest.approx((np.e * 0.5) ** 2 / n / n,
                                                            rel=1e-5)
    # Small errors just over the margin elsewhere add to the loss (divided by |P| they would
    # dilute the target's error and lower it).
    noisy = off + 0.11 * (label < 0.01).float()
    assert float(m.loss(noisy, label, zero)) > float(m.loss(off, label, zero))
    # lambda |f|^2
    assert float(m.loss(label, label, torch.ones(1, 1, 2, 2))) == pytest.approx(
        4 * m.args.weight_decay)


def test_pca_projection_gives_unit_variance_decorrelated_features():
    torch.manual_seed(1)
    mix = torch.randn(6, 3)
    feats = (torch.randn(400, 3) * torch.tensor([5.0, 2.0, 0.5])) @ mix.T + 3.0
    feats = feats.T.reshape(1, 6, 20, 20)
    w, b = pca_projection(feats, 2)
    assert w.shape == (2, 6, 1, 1) and b.shape == (2,)
    out = torch.nn.functional.conv2d(feats, w, b)[0].flatten(1)
    assert out.mean(1).abs().max() < 1e-4                       # centred
    cov = torch.cov(out)
    assert float(cov[0, 1].abs()) < 1e-3 * float(cov[0, 0])     # decorrelated
    assert float(cov.trace()) / 2 == pytest.approx(1.0, rel=1e-3)
    assert float(cov[0, 0]) > float(cov[1, 1])                  # the top direction first


def test_crest_follows_a_moving_target_and_refuses_weights(tmp_path):
    torch.set_num_threads(1)
    frames, boxes = moving_target_frames(20)
    t = build_tracker('crest_05', {'lost_threshold': 0.0})
    t.initialize(frames[0], boxes[0])
    ious = [t.update(f).box.iou(b) for f, b in zip(frames[1:], boxes[1:])]
    assert np.mean(ious) > 0.6, np.round(ious, 2)
    assert t.updates > 0
    with pytest.raises(ConfigError, match='takes no weights'):
        build_tracker('crest_05', None, tmp_path / 'x.safetensors')


def _weights(tmp_path, **inner) -> str:
    torch.manual_seed(0)
    net = MetaCRESTNet(MetaCRESTArgs(**SMALL), MetaCRESTInnerArgs(**inner))
    return str(save_weights(tmp_path / 'mc.safetensors', net.state_dict(),
                            tracker='metacrest', model_args=net.model_args()))


def test_metacrest_tracks_with_its_weights_and_refuses_others(tmp_path):
    torch.set_num_threads(1)
    path = _weights(tmp_path)
    frames, boxes = moving_target_frames(8)
    t = build_tracker('metacrest', {'lost_threshold': 0.0, 'update_interval': 1}, path)
    t.initialize(frames[0], boxes[0])
    for f in frames[1:]:
        r = t.update(f)
        assert r.state == TrackState.TRACKING and r.box.is_finite() and 0 <= r.score <= 1
    assert t.updates == len(frames) - 1
    from tracker_helpers import small_trackmlp_weights
    other = small_trackmlp_weights(tmp_path / 'tm.safetensors')
    with pytest.raises(WeightsError):
        build_tracker('metacrest', None, other)
    with pytest.raises(WeightsError):
        build_tracker('metacrest', None, tmp_path / 'missing.safetensors')


def test_one_meta_step_uses_the_learned_per_element_rates(tmp_path):
    """The first frame's step is theta_0 - alpha * grad, alpha the file's per-element rates."""
    torch.set_num_threads(1)
    path = _weights(tmp_path, lr=0.0)
    frames, boxes = moving_target_frames(2)
    t = build_tracker('metacrest', {'lost_threshold': 0.0}, path)
    t.initialize(frames[0], boxes[0])
    # alpha = 0: the adapted weights are theta_0 itself.
    for name, tensor in t.net.inner.initial(t.model).items():
        assert torch.equal(t._fast[name], tensor.detach())
    path = _weights(tmp_path, lr=0.01)
    t = build_tracker('metacrest', {'lost_threshold': 0.0}, path)
    t.initialize(frames[0], boxes[0])
    assert not torch.equal(t._fast['filter'], t.net.model.filter.detach())


def _config(tmp_path, **extra):
    values = {'stage': 1, 'family': 'metacrest', 'run_dir': str(tmp_path / 'run'),
              'output': str(tmp_path / 'mc.st'), 'data': SYNTH, 'model': SMALL,
              'iterations': 3, 'batch_size': 2, 'lr': 1e-2, 'seed': 4, 'log_every': 1,
              'pretrained': 'none', 'inner_steps': 1, 'inner_lr': 1e-2,
              'lr_mode': 'parameter', 'max_gap': 10, 'augment': {'translate': 8.0}}
    values.update(extra)
    path = tmp_path / 'mc.yaml'
    path.write_text(yaml.safe_dump(values))
    return str(path)


def test_future_frames_are_at_most_max_delta_ahead_with_the_target_labelled():
    videos = synthetic_videos('synth-train', 1, 30, first=7)
    args = MetaCRESTArgs(**SMALL)
    sampler = FutureFrameSampler(videos, args, Augment(translate=8.0), max_delta=3)
    c = (args.input_size - 1) / 2
    for seed in range(5):
        s = sampler.sample(np.random.default_rng(seed))
        assert s['crops'].shape == (2, 3, 127, 127)
        np.testing.assert_allclose(s['centres'][0], [c, c])     # the first frame: centred
        assert np.all(np.abs(s['centres'][1] - c) <= 8.0 * 1.0 + 1e-3)
        assert np.all(s['sizes'] > 0)


def test_meta_gradient_reaches_theta0_and_alpha_not_the_backbone():
    torch.manual_seed(0)
    net = MetaCRESTNet(MetaCRESTArgs(**SMALL), MetaCRESTInnerArgs(lr=1e-2))
    videos = synthetic_videos('synth-train', 1, 30, first=7)
    sampler = FutureFrameSampler(videos, net.model.args, Augment())
    batch = collate([sampler.sample(np.random.default_rng(i)) for i in range(2)])
    net.train()
    loss, stats = MetaCRESTObjective(net)(batch, 0.0, False)
    loss.backward()
    assert net.model.filter.grad is not None and net.model.reduce.weight.grad is not None
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0
               for p in net.inner.lr.values())
    assert all(p.grad is None for p in net.model.backbone.parameters())
    assert stats['query_thetak'] == pytest.approx(float(loss.detach()), rel=1e-5)
    # First order drops the second derivative: theta_0's gradient changes (alpha's does not:
    # d theta_1 / d alpha = -grad either way).
    g2 = net.model.filter.grad.clone()
    net.zero_grad()
    MetaCRESTObjective(net)(batch, 0.0, True)[0].backward()
    assert not torch.allclose(g2, net.model.filter.grad)


def test_training_writes_weights_the_tracker_runs(tmp_path):
    assert main(['--config', _config(tmp_path, pretrained='imagenet')]) == 0
    tensors, meta = load_weights(tmp_path / 'mc.st', accept='metacrest')
    assert meta.model_args['model']['channels'] == 4 and meta.info['iterations'] == 3
    torch.manual_seed(4)                                        # the run's seed: its start
    start = MetaCRESTNet.from_args(meta.model_args)
    start.model.load_imagenet()
    assert not torch.equal(start.model.filter, tensors['model.filter'])
    assert not torch.equal(start.inner.lr['filter'], tensors['inner.lr.filter'])
    # The feature extractor stays ImageNet's, every tensor of it.
    assert all(torch.equal(p, tensors[f'model.backbone.{n}'])
               for n, p in start.model.backbone.state_dict().items())
    frames, boxes = moving_target_frames(3)
    t = build_tracker('metacrest', {'lost_threshold': 0.0}, tmp_path / 'mc.st')
    t.initialize(frames[0], boxes[0])
    assert t.update(frames[1]).box.is_finite()


def test_bad_metacrest_configs_are_refused(tmp_path):
    with pytest.raises(TrainConfigError, match='Meta-SGD'):
        TrainConfig.load(_config(tmp_path, lr_mode='kernel'))
    with pytest.raises(TrainConfigError, match='Meta-SGD'):
        TrainConfig.load(_config(tmp_path, method='baseline'))


def test_box_at_the_border_and_degenerate_boxes(tmp_path):
    frames, _ = moving_target_frames(3)
    t = build_tracker('crest_01', {'lost_threshold': 0.0})
    t.initialize(frames[0], Box(0, 0, 30, 20))                   # at the corner
    assert t.update(frames[1]).box.is_finite()
    from meta_tracker_ros.core.types import BoxError
    with pytest.raises(BoxError):
        t.initialize(frames[0], Box(10, 10, 0, 5))
    assert t.update(frames[2]).box.is_finite()                   # the track kept
