# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""MetaSDNet and pyMDNet-k: sampling, patch scoring, trackers and (meta-)training."""

from meta_tracker_ros.core.models.metasdnet import (MetaSDNetArgs, MetaSDNetInnerArgs,
                                                    MetaSDNetNet)
from meta_tracker_ros.core.ops.samples import draw_samples, iou_xywh, labelled_samples
from meta_tracker_ros.core.registry import build_tracker
from meta_tracker_ros.core.types import Box, BoxError, TrackState
from meta_tracker_ros.core.weights import load_weights, save_weights, WeightsError
import numpy as np
import pytest
import torch
from tracker_helpers import moving_target_frames
from training.config import TrainConfig, TrainConfigError
from training.datasets import synthetic_videos
from training.metasdnet import MetaSDNetObjective, PatchEpisodeSampler
from training.samplers import Augment
from training.train import collate, main
import yaml

SMALL = {'hidden': 16, 'roi': 3, 'input_size': 127}
SYNTH = [{'synth': 'synth-train', 'videos': 2, 'frames': 30, 'first': 7}]


def test_mdnet_samples_follow_their_iou_rules_and_stay_in_the_image():
    rng = np.random.default_rng(0)
    box = np.array([100.0, 80.0, 50.0, 40.0])
    pos, neg = labelled_samples(box, 50, 200, rng, (320, 240))
    assert pos.shape == (50, 4) and neg.shape == (200, 4)
    assert iou_xywh(pos, box).min() >= 0.7 and iou_xywh(neg, box).max() < 0.5
    for s in (pos, neg, draw_samples(box, 300, rng, 'gaussian', 2.0, 1.0, 1.05, (320, 240))):
        assert (s[:, 0] >= -1e-9).all() and (s[:, 1] >= -1e-9).all()
        assert (s[:, 0] + s[:, 2] <= 320 + 1e-9).all() and (s[:, 1] + s[:, 3] <= 240 + 1e-9).all()
    g = draw_samples(box, 2000, rng, 'gaussian', 0.1, 1.0, 1.05)
    centres = g[:, :2] + g[:, 2:] / 2
    assert np.allclose(centres.mean(0), [125, 100], atol=1.0)
    with pytest.raises(ValueError):
        draw_samples(box, 3, rng, 'other')


def _weights(tmp_path, name='sd', lr_mode='parameter', lr=1e-2, imagenet=False,
             **model) -> str:
    torch.manual_seed(0)
    net = MetaSDNetNet(MetaSDNetArgs(**{**SMALL, **model}),
                       MetaSDNetInnerArgs(lr=lr, lr_mode=lr_mode))
    if imagenet:
        net.model.load_imagenet()
    return str(save_weights(tmp_path / f'{name}.safetensors', net.state_dict(),
                            tracker='metasdnet', model_args=net.model_args()))


def test_patches_are_read_where_the_boxes_are():
    torch.manual_seed(0)
    net = MetaSDNetNet(MetaSDNetArgs(**{**SMALL, 'roi': 1}), MetaSDNetInnerArgs())
    feats = torch.zeros(1, 32, 16, 16)
    feats[0, :, 5, 9] = 1.0                     # cell (row 5, col 9): crop pixel (72, 40)

    def tiny(x, y):                             # a 0.8 px box centred on pixel (x, y)
        cx, cy = x + 0.5, y + 0.5
        return [0, cx - 0.4, cy - 0.4, cx + 0.4, cy + 0.4]
    p = net.model.patches(feats, torch.tensor([tiny(72, 40), tiny(80, 40), tiny(72, 36)]))
    assert p.shape == (3, 32)
    assert float(p[0].min()) > 0.95             # on the cell
    assert float(p[1].max()) < 0.05             # one cell right
    assert 0.4 < float(p[2].mean()) < 0.6       # half a cell up: bilinear


def test_metasdnet_takes_the_meta_step_on_the_first_frame_and_tracks(tmp_path):
    torch.set_num_threads(1)
    frames, boxes = moving_target_frames(12)
    # alpha = 0: the first frame's model is theta_0 itself.
    t = build_tracker('metasdnet', {'lost_threshold': 0.0}, _weights(tmp_path, lr=0.0))
    t.initialize(frames[0], boxes[0])
    assert all(torch.equal(t._fast[n], t.first_weights[n]) for n in t.first_weights)
    # alpha > 0: one step, and the first frame's loss falls (fresh patches of the frame).
    t = build_tracker('metasdnet', {'lost_threshold': 0.0, 'update_interval': 5},
                      _weights(tmp_path, lr=0.01))
    t.initialize(frames[0], boxes[0])
    before = t.patch_metrics(frames[0], boxes[0], t.first_weights)
    after = t.patch_metrics(frames[0], boxes[0])
    assert after['loss'] < before['loss'], (before, after)
    for f in frames[1:]:
        r = t.update(f)
        assert r.state == TrackState.TRACKING and r.box.is_finite() and 0 <= r.score <= 1
    assert t.updates >= 2


def test_pymdnet_trains_a_fresh_fc6_and_follows_the_target(tmp_path):
    torch.set_num_threads(1)
    path = _weights(tmp_path, 'pym', lr_mode='fixed', imagenet=True, hidden=64)
    frames, boxes = moving_target_frames(15)
    options = {'lost_threshold': 0.0, 'init_lr': 0.05, 'update_lr': 0.05}
    t = build_tracker('pymdnet_15', options, path)
    t.initialize(frames[0], boxes[0])
    own = dict(t.model.named_parameters())
    assert not torch.equal(t.first_weights['fc6.weight'], own['fc6.weight'])   # drawn afresh
    assert torch.equal(t.first_weights['fc4.weight'], own['fc4.weight'])       # offline fc4
    ious = [t.update(f).box.iou(b) for f, b in zip(frames[1:], boxes[1:])]
    assert np.mean(ious) > 0.5, np.round(ious, 2)
    # The same seed gives the same track (the sampling is seeded per initialisation).
    again = []
    for _ in range(2):
        t.initialize(frames[0], boxes[0])
        again.append(t.update(frames[1]).box.as_xywh())
    np.testing.assert_array_equal(again[0], again[1])


def test_weights_of_the_wrong_kind_are_refused(tmp_path):
    with pytest.raises(WeightsError, match='not meta-trained'):
        build_tracker('metasdnet', None, _weights(tmp_path, 'pym', lr_mode='fixed'))
    from tracker_helpers import small_trackmlp_weights
    with pytest.raises(WeightsError):
        build_tracker('pymdnet_01', None, small_trackmlp_weights(tmp_path / 'tm.safetensors'))


def test_degenerate_and_border_boxes(tmp_path):
    frames, _ = moving_target_frames(3)
    t = build_tracker('pymdnet_01', {'lost_threshold': 0.0},
                      _weights(tmp_path, 'pym', lr_mode='fixed'))
    t.initialize(frames[0], Box(0, 0, 30, 20))
    assert t.update(frames[1]).box.is_finite()
    with pytest.raises(BoxError):
        t.initialize(frames[0], Box(5, 5, 1, 0))
    assert t.update(frames[2]).box.is_finite()


def _config(tmp_path, **extra):
    values = {'stage': 1, 'family': 'metasdnet', 'run_dir': str(tmp_path / 'run'),
              'output': str(tmp_path / 'sd.st'), 'data': SYNTH, 'model': SMALL,
              'iterations': 3, 'batch_size': 2, 'lr': 1e-2, 'seed': 4, 'log_every': 1,
              'pretrained': 'none', 'inner_steps': 1, 'inner_lr': 1e-2, 'support': 4,
              'lr_mode': 'parameter', 'max_gap': 10, 'augment': {'translate': 8.0}}
    values.update(extra)
    path = tmp_path / 'sd.yaml'
    path.write_text(yaml.safe_dump(values))
    return str(path)


def test_episodes_have_mdnet_labels_in_crop_pixels():
    videos = synthetic_videos('synth-train', 1, 30, first=7)
    args = MetaSDNetArgs(**SMALL)
    s = PatchEpisodeSampler(videos, args, Augment(), support=4).sample(np.random.default_rng(1))
    assert s['crops'].shape == (2, 3, 127, 127) and s['rois'].shape == (2, 16, 4)
    assert s['labels'].tolist() == [[1.0] * 4 + [0.0] * 12] * 2
    # The first frame's crop is centred on the target: its positives sit near the centre.
    pos = s['rois'][0, :4]
    centre = (pos[:, :2] + pos[:, 2:]) / 2
    assert np.all(np.abs(centre - 63.5) < 127 * 0.1)


def test_meta_gradient_reaches_theta0_and_alpha_and_baseline_has_no_alpha():
    torch.manual_seed(0)
    net = MetaSDNetNet(MetaSDNetArgs(**SMALL), MetaSDNetInnerArgs(lr=1e-2))
    videos = synthetic_videos('synth-train', 1, 30, first=7)
    sampler = PatchEpisodeSampler(videos, net.model.args, Augment(), support=4)
    batch = collate([sampler.sample(np.random.default_rng(i)) for i in range(2)])
    net.train()
    loss, stats = MetaSDNetObjective(net, 'maml')(batch, 0.0, False)
    loss.backward()
    assert float(net.model.fc4.weight.grad.abs().sum()) > 0
    assert all(float(p.grad.abs().sum()) > 0 for p in net.inner.lr.values())
    assert all(p.grad is None for p in net.model.backbone.parameters())
    assert 0.0 <= stats['query_acc_thetak'] <= 1.0
    base = MetaSDNetNet(MetaSDNetArgs(**SMALL), MetaSDNetInnerArgs(lr_mode='fixed'))
    assert len(list(base.inner.parameters())) == 0
    loss, stats = MetaSDNetObjective(base, 'baseline')(batch, 0.0, False)
    assert 'accuracy' in stats and loss.requires_grad


@pytest.mark.parametrize('method', ['maml', 'baseline'])
def test_training_writes_weights_the_trackers_run(tmp_path, method):
    extra = {} if method == 'maml' else {'method': 'baseline', 'lr_mode': 'fixed'}
    assert main(['--config', _config(tmp_path, **extra)]) == 0
    tensors, meta = load_weights(tmp_path / 'sd.st', accept='metasdnet')
    assert meta.info['iterations'] == 3
    assert meta.model_args['inner']['lr_mode'] == ('parameter' if method == 'maml' else 'fixed')
    frames, boxes = moving_target_frames(3)
    name = 'metasdnet' if method == 'maml' else 'pymdnet_01'
    t = build_tracker(name, {'lost_threshold': 0.0}, tmp_path / 'sd.st')
    t.initialize(frames[0], boxes[0])
    assert t.update(frames[1]).box.is_finite()


def test_bad_metasdnet_configs_are_refused(tmp_path):
    with pytest.raises(TrainConfigError, match='Meta-SGD'):
        TrainConfig.load(_config(tmp_path, lr_mode='kernel'))
