# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Core types, strict configs, the registry and safe weights I/O."""

from dataclasses import dataclass
import math

from meta_tracker_ros.core import available_trackers, Box, build_tracker, TrackState
from meta_tracker_ros.core.config import ConfigError, param, TrackerConfig
from meta_tracker_ros.core.types import BoxError
from meta_tracker_ros.core.weights import (load_state_strict, load_weights, read_metadata,
                                           save_weights, WeightsError)
import numpy as np
import pytest
import torch


def test_box_geometry():
    b = Box(10, 20, 30, 40)
    assert (b.cx, b.cy) == (25, 40)
    assert Box.from_center(25, 40, 30, 40) == b
    assert Box.from_xyxy(10, 20, 40, 60) == b
    assert b.iou(b) == pytest.approx(1.0)
    assert b.iou(Box(40, 60, 5, 5)) == 0.0
    assert b.iou(Box(10, 20, 15, 40)) == pytest.approx(0.5)
    assert Box(-10, -10, 30, 30).clip(100, 100) == Box(0, 0, 20, 20)


@pytest.mark.parametrize('box, reason', [
    (Box(math.nan, 0, 10, 10), 'non-finite'),
    (Box(0, 0, 0, 10), 'non-positive'),
    (Box(0, 0, -5, 10), 'non-positive'),
    (Box(500, 500, 10, 10), 'outside'),
    (Box(-50, 10, 51, 10), 'outside'),
])
def test_box_validate_init_rejects(box, reason):
    with pytest.raises(BoxError, match=reason):
        box.validate_init(320, 240)


def test_box_validate_init_clips_partly_visible():
    assert Box(-5, 10, 20, 10).validate_init(320, 240) == Box(0, 10, 15, 10)


@dataclass(frozen=True)
class _Cfg(TrackerConfig):
    rate: float = param(0.5, 'a rate', min=0.0, max=1.0)
    steps: int = param(3, 'steps', min=1)
    mode: str = param('a', 'mode', choices=('a', 'b'))
    scales: tuple[float, ...] = param((1.0, 1.035), 'scales', min=0.5, max=2.0)
    flag: bool = param(True, 'a flag')


def test_config_strict_parsing():
    c = _Cfg.from_dict({'rate': 1, 'scales': [0.9, 1.1]})
    assert c.rate == 1.0 and isinstance(c.rate, float) and c.scales == (0.9, 1.1)
    assert _Cfg.from_dict(c.to_dict()) == c
    with pytest.raises(ConfigError, match='unknown key.*raet.*valid keys'):
        _Cfg.from_dict({'raet': 0.1})
    with pytest.raises(ConfigError, match='rate: .* above the maximum'):
        _Cfg.from_dict({'rate': 2.0})
    with pytest.raises(ConfigError, match='steps: expected an integer'):
        _Cfg.from_dict({'steps': 2.5})
    with pytest.raises(ConfigError, match='steps: expected an integer'):
        _Cfg.from_dict({'steps': True})
    with pytest.raises(ConfigError, match='flag: expected true/false'):
        _Cfg.from_dict({'flag': 1})
    with pytest.raises(ConfigError, match="mode: 'c' is not one of"):
        _Cfg.from_dict({'mode': 'c'})
    with pytest.raises(ConfigError, match='finite'):
        _Cfg.from_dict({'rate': float('nan')})
    with pytest.raises(ConfigError, match=r'scales\[1\]'):
        _Cfg.from_dict({'scales': [1.0, 'x']})
    assert {f.name for f in _Cfg.fields()} == {'rate', 'steps', 'mode', 'scales', 'flag'}


def test_registry_builds_baselines_and_rejects_unknown():
    assert {'opencv_csrt', 'opencv_kcf'} <= set(available_trackers())
    with pytest.raises(ConfigError, match='unknown tracker'):
        build_tracker('no_such_tracker')
    with pytest.raises(ConfigError, match='unknown key'):
        build_tracker('opencv_kcf', {'padingg': 2.0})


@pytest.mark.parametrize('name', ['opencv_csrt', 'opencv_kcf'])
def test_baseline_follows_moving_square(name):
    rng = np.random.default_rng(1)
    bg = rng.integers(0, 80, (240, 320, 3), dtype=np.uint8)

    def frame(i):
        img = bg.copy()
        x = 60 + 3 * i
        img[100:140, x:x + 40] = (230, 40, 40)
        img[110:130, x + 10:x + 30] = (40, 40, 230)
        return img

    t = build_tracker(name)
    t.initialize(frame(0), Box(60, 100, 40, 40))
    for i in range(1, 20):
        r = t.update(frame(i))
    assert r.state == TrackState.TRACKING
    assert r.box.iou(Box(60 + 3 * 19, 100, 40, 40)) > 0.6
    with pytest.raises(BoxError):
        t.initialize(frame(0), Box(500, 500, 10, 10))
    assert t.update(frame(20)).box.iou(Box(120, 100, 40, 40)) > 0.6  # state kept


def test_weights_roundtrip_and_refusals(tmp_path):
    net = torch.nn.Linear(4, 3)
    path = save_weights(tmp_path / 'w.safetensors', net.state_dict(), tracker='toy',
                        model_args={'in': 4, 'out': 3}, training_config={'lr': 1e-3, 'seed': 7})
    meta = read_metadata(path)
    assert meta.tracker == 'toy' and meta.model_args == {'in': 4, 'out': 3}
    assert meta.training_config['seed'] == 7 and 'torch' in meta.info['versions']
    tensors, _ = load_weights(path, accept='toy')
    other = torch.nn.Linear(4, 3)
    load_state_strict(other, tensors, path)
    assert torch.equal(other.weight, net.weight)
    with pytest.raises(WeightsError, match="made for tracker 'toy'"):
        load_weights(path, accept=('mlt',))
    with pytest.raises(WeightsError, match='shape mismatch'):
        load_state_strict(torch.nn.Linear(5, 3), tensors, path)
    with pytest.raises(WeightsError, match='not found'):
        read_metadata(tmp_path / 'missing.safetensors')
    corrupt = tmp_path / 'corrupt.safetensors'
    corrupt.write_bytes(path.read_bytes()[:40])
    with pytest.raises(WeightsError, match='corrupt'):
        load_weights(corrupt, accept='toy')
    pickled = tmp_path / 'pickle.pt'
    torch.save(net.state_dict(), pickled)
    with pytest.raises(WeightsError):
        read_metadata(pickled)
    nan = {k: v.clone() for k, v in tensors.items()}
    nan['weight'][0, 0] = float('nan')
    with pytest.raises(WeightsError, match='NaN'):
        load_state_strict(other, nan, path)
