# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Offline training of the MAML detectors (training/detector.py through training.train)."""

import os
from pathlib import Path
import subprocess
import sys

from meta_tracker_ros.core.models.maml_detector import MAMLDetectorNet
from meta_tracker_ros.core.registry import build_tracker
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.core.weights import load_weights
import numpy as np
import pytest
import torch
from training.config import TrainConfig, TrainConfigError
from training.datasets import synthetic_videos
from training.detector import (build_detector, DetectionEpisodeSampler, detector_train_mode,
                               DetectorObjective)
from training.samplers import Augment
from training.train import collate, main
import yaml

ROOT = Path(__file__).resolve().parents[1]
SMALL = {'channels': 8, 'input_size': 135}
SYNTH = [{'synth': 'synth-train', 'videos': 2, 'frames': 30, 'first': 7}]


def _config(tmp_path, name, family='fcos_maml', **extra):
    values = {'stage': 1, 'family': family, 'run_dir': str(tmp_path / name),
              'output': str(tmp_path / f'{name}.st'), 'data': SYNTH, 'model': SMALL,
              'iterations': 4, 'batch_size': 2, 'lr': 1e-3, 'seed': 4, 'log_every': 2,
              'pretrained': 'none', 'inner_steps': 2, 'augment': {'translate': 8.0}}
    values.update(extra)
    path = tmp_path / f'{name}.yaml'
    path.write_text(yaml.safe_dump(values))
    return str(path)


def test_episodes_label_the_target_where_it_is():
    videos = synthetic_videos('synth-train', 1, 30, first=7)
    sampler = DetectionEpisodeSampler(videos, 135, Augment(translate=16.0, aspect=0.1))
    s = sampler.sample(np.random.default_rng(2))
    assert s['support'].shape == (3, 3, 135, 135) and s['query'].shape == (1, 3, 135, 135)
    sb, qb = s['support_boxes'], s['query_boxes']
    # Zoom in (a smaller region) makes the target larger, zoom out smaller; all centred.
    widths = sb[:, 2] - sb[:, 0]
    assert widths[1] > widths[0] > widths[2]
    np.testing.assert_allclose((sb[:, 0] + sb[:, 2]) / 2, 67.0, atol=1e-4)
    # The query's target sits within the translation of the centre.
    assert np.all(np.abs((qb[0, :2] + qb[0, 2:]) / 2 - 67.0) <= 16.0 * 1.06 + 1e-3)


@pytest.mark.parametrize('method', ['maml', 'baseline'])
def test_training_writes_weights_the_tracker_runs(tmp_path, method):
    cfg = _config(tmp_path, method, method=method)
    assert main(['--config', cfg]) == 0
    tensors, meta = load_weights(tmp_path / f'{method}.st', accept='fcos_maml')
    assert meta.model_args['inner']['lr_mode'] == ('kernel' if method == 'maml' else 'fixed')
    assert meta.training_config['stage1']['method'] == method and meta.info['iterations'] == 4
    net = MAMLDetectorNet.from_args(meta.model_args)
    net.load_state_dict(tensors)
    torch.manual_seed(4)
    start = MAMLDetectorNet.from_args(meta.model_args)
    # The shared layers stay frozen; the branches and heads (and the rates) moved.
    assert all(torch.equal(p, tensors[f'detector.shared.{n}'])
               for n, p in start.detector.shared.named_parameters())
    assert not torch.equal(start.detector.cls_head[0].weight, net.detector.cls_head[0].weight)
    if method == 'maml':
        assert not torch.equal(start.inner.lr['cls_head__0__weight'],
                               net.inner.lr['cls_head__0__weight'])
    tracker = build_tracker('fcos_maml_noupdate', {'lost_threshold': 0.0},
                            tmp_path / f'{method}.st')
    image = np.zeros((120, 160, 3), np.uint8)
    image[40:70, 50:90] = 200
    tracker.initialize(image, Box(50, 40, 40, 30))
    assert tracker.update(image).box.is_finite()


def test_maml_objective_is_first_order_early_and_trains_the_rates():
    torch.manual_seed(0)
    cfg = TrainConfig.from_dict({'stage': 1, 'family': 'retina_maml', 'run_dir': 'x',
                                 'output': 'y', 'data': SYNTH, 'model': SMALL,
                                 'inner_steps': 2, 'pretrained': 'none'})
    net, _ = build_detector(cfg)
    detector_train_mode(net)
    videos = synthetic_videos('synth-train', 1, 30, first=7)
    sampler = DetectionEpisodeSampler(videos, 135, Augment())
    batch = collate([sampler.sample(np.random.default_rng(i)) for i in range(2)])
    objective = DetectorObjective(net, 'maml')
    grads = []
    for first_order in (True, False):
        loss, stats = objective(batch, 0.5, first_order)
        params = [net.inner.lr['cls_head__0__weight'],
                  net.detector.cls_block[0].conv[0][0].weight]
        grads.append(torch.autograd.grad(loss, params))
        assert np.isfinite(stats['query_theta0']) and np.isfinite(stats['query_thetak'])
    assert all(float(g.abs().sum()) > 0 for g in grads[0] + grads[1])
    # The second-order terms are small at rates of 1e-3, but there.
    assert not torch.allclose(grads[0][1], grads[1][1], rtol=1e-5, atol=0.0)


def test_set_overrides_config_keys(tmp_path):
    path = _config(tmp_path, 'o')
    cfg = TrainConfig.load(path, ['method=baseline', 'lr_mode=fixed', 'inner_lr=0.01'])
    assert (cfg.method, cfg.lr_mode, cfg.inner_lr) == ('baseline', 'fixed', 0.01)
    with pytest.raises(TrainConfigError, match='key=value'):
        TrainConfig.load(path, ['method'])
    with pytest.raises(TrainConfigError, match='unknown'):
        TrainConfig.load(path, ['methd=baseline'])


def test_bad_detector_configs_are_refused(tmp_path):
    base = {'stage': 1, 'family': 'fcos_maml', 'run_dir': 'x', 'output': 'y', 'data': SYNTH}
    for bad, match in (({'family': 'yolo'}, 'family'), ({'method': 'reptile'}, 'method'),
                       ({'lr_mode': 'layer'}, 'lr_mode'), ({'stage': 2, 'init_from': 'a'},
                                                           'one stage'),
                       ({'first_order_fraction': 1.5}, 'first_order')):
        with pytest.raises(TrainConfigError, match=match):
            TrainConfig.from_dict({**base, **bad})


def test_two_process_ddp_run(tmp_path):
    cfg = _config(tmp_path, 'ddp', family='retina_maml', iterations=2, threads=1)
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    torchrun = Path(sys.executable).with_name('torchrun')
    proc = subprocess.run([str(torchrun), '--standalone', '--nproc_per_node', '2', '-m',
                           'training.train', '--config', cfg], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, meta = load_weights(tmp_path / 'ddp.st', accept='retina_maml')
    assert meta.info['world_size'] == 2 and meta.info['iterations'] == 2


def test_resume_accepts_checkpoints_older_than_a_new_option(tmp_path):
    from training.train import _resume_key
    cfg = TrainConfig.from_dict(yaml.safe_load(open(_config(tmp_path, 'r'))))
    old = cfg.to_dict()
    old.pop('queries')                # written before the option existed, at its default
    assert _resume_key(old) == _resume_key(cfg.to_dict())
    assert _resume_key({**old, 'max_minutes': 5}) == _resume_key(cfg.to_dict())
    assert _resume_key({**old, 'lr': 0.5}) != _resume_key(cfg.to_dict())
    assert _resume_key(old) != _resume_key({**cfg.to_dict(), 'queries': 3})
