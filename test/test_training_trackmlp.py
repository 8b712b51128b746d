# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline training of TrackMLP (training/trackmlp.py through training.train)."""

from meta_tracker_ros.core.models.trackmlp import TrackMLPNet
from meta_tracker_ros.core.registry import build_tracker
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.core.weights import load_weights
import numpy as np
import pytest
import torch
from training.config import TrainConfig, TrainConfigError
from training.datasets import synthetic_videos
from training.samplers import Augment
from training.trackmlp import TrackMLPEpisodeSampler
from training.train import main
import yaml

SMALL = {'channels': 8, 'generator_hidden': 16}
SYNTH = [{'synth': 'synth-train', 'videos': 2, 'frames': 30, 'first': 7}]


def _config(tmp_path, **extra):
    values = {'stage': 1, 'family': 'trackmlp', 'run_dir': str(tmp_path / 'run'),
              'output': str(tmp_path / 'tm.st'), 'data': SYNTH, 'model': SMALL,
              'iterations': 3, 'batch_size': 2, 'lr': 1e-3, 'seed': 4, 'log_every': 1,
              'pretrained': 'none', 'inner_steps': 1, 'inner_lr': 1e-2, 'lr_mode': 'fixed',
              'support': 2, 'queries': 2, 'augment': {'translate': 8.0}}
    values.update(extra)
    path = tmp_path / 'tm.yaml'
    path.write_text(yaml.safe_dump(values))
    return str(path)


def test_episodes_carry_true_masks_where_the_boxes_are():
    from meta_tracker_ros.core.models.trackmlp import TrackMLPArgs
    videos = synthetic_videos('synth-train', 1, 30, first=7)
    sampler = TrackMLPEpisodeSampler(videos, TrackMLPArgs(**SMALL), Augment(translate=8.0),
                                     support=3, queries=2)
    ep = sampler.sample(np.random.default_rng(0))
    assert ep['template'].shape == (1, 3, 127, 127) and ep['support'].shape == (3, 3, 255, 255)
    assert ep['query_masks'].shape == (2, 255, 255) and ep['query_masks'].dtype == bool
    for box, mask in zip(ep['query_boxes'], ep['query_masks']):
        ys, xs = np.nonzero(mask)
        assert len(xs), 'the query mask is empty'
        # The mask's extent lies in its box (the box is the amodal extent; 2 px of resampling).
        assert xs.min() >= box[0] - 2 and xs.max() <= box[2] + 2
        assert ys.min() >= box[1] - 2 and ys.max() <= box[3] + 2


def test_training_writes_weights_the_tracker_runs(tmp_path):
    assert main(['--config', _config(tmp_path)]) == 0
    tensors, meta = load_weights(tmp_path / 'tm.st', accept='trackmlp')
    assert meta.info['iterations'] == 3 and meta.training_config['stage1']['family'] == 'trackmlp'
    net = TrackMLPNet.from_args(meta.model_args)
    net.load_state_dict(tensors)
    torch.manual_seed(4)
    start = TrackMLPNet.from_args(meta.model_args)
    assert all(torch.equal(p, tensors[f'model.shared.{n}'])
               for n, p in start.model.shared.named_parameters())
    moved = [k for k in ('model.cls_head.head.3.weight', 'model.generator.net.0.weight',
                         'model.body.5.conv.0.0.weight')
             if not torch.equal(dict(start.state_dict())[k], tensors[k])]
    assert len(moved) == 3, moved          # heads, generator (eq. 10) and body all trained
    tracker = build_tracker('trackmlp', {'lost_threshold': 0.0, 'support_size': 2,
                                         'adapt_steps': 1}, tmp_path / 'tm.st')
    image = np.zeros((120, 160, 3), np.uint8)
    image[40:70, 50:90] = 200
    tracker.initialize(image, Box(50, 40, 40, 30))
    r = tracker.update(image)
    assert r.box.is_finite() and r.mask is not None


def test_bad_trackmlp_configs_are_refused(tmp_path):
    base = yaml.safe_load(open(_config(tmp_path)))
    for bad in ({'lr_mode': 'kernel'}, {'method': 'baseline'}, {'queries': 0}):
        with pytest.raises(TrainConfigError):
            TrainConfig.from_dict({**base, **bad})
