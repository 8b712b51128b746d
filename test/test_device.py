# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The device parameter and the CUDA path.

Without a GPU: 'cuda' and 'cuda:N' are refused with the reason and 'auto' picks the CPU. With
one (skipped otherwise): every torch tracker builds on cuda from its committed weights, keeps
its tensors there and tracks the easy sequence as on the CPU.
"""

from meta_tracker_ros.core import Box, build_tracker
from meta_tracker_ros.core.config import ConfigError
from meta_tracker_ros.core.paths import find_weights
from meta_tracker_ros.core.registry import available_trackers, get_entry
from meta_tracker_ros.core.weights import WeightsError
from meta_tracker_ros.data.generator import generate_sequence
from meta_tracker_ros.data.spec import SequenceSpec
from meta_tracker_ros.ros.params import NodeParams
from meta_tracker_ros.ros.tracker_node import device_available, resolve_device
import numpy as np
import pytest
import torch

CUDA = torch.cuda.is_available()
TORCH_TRACKERS = [n for n in available_trackers() if not n.startswith('opencv_')]


def test_device_parameter_values():
    for ok in ('cpu', 'cuda', 'cuda:0', 'cuda:12', 'auto'):
        assert NodeParams(device=ok).device == ok
    for bad in ('gpu', 'cuda:', 'cuda:a', 'CPU', ''):
        with pytest.raises(ConfigError, match='cuda:N'):
            NodeParams(device=bad)


@pytest.mark.skipif(CUDA, reason='needs a machine without CUDA')
def test_cuda_absent_is_refused_with_the_reason():
    assert resolve_device('cpu') == 'cpu' and resolve_device('auto') == 'cpu'
    for device in ('cuda', 'cuda:1'):
        with pytest.raises(ConfigError, match='no CUDA device'):
            resolve_device(device)
        assert not device_available(device)


@pytest.mark.skipif(not CUDA, reason='needs a CUDA GPU')
def test_cuda_index_beyond_the_devices_is_refused():
    with pytest.raises(ConfigError, match='CUDA device'):
        resolve_device(f'cuda:{torch.cuda.device_count()}')
    assert resolve_device('auto') == 'cuda'


@pytest.mark.skipif(not CUDA, reason='needs a CUDA GPU')
@pytest.mark.parametrize('name', TORCH_TRACKERS)
def test_tracker_on_cuda(name):
    entry = get_entry(name)
    if entry.default_weights:
        try:
            find_weights(entry.default_weights)
        except WeightsError:
            pytest.skip(f'{name}: no committed weights')
    spec = SequenceSpec.from_difficulty(0.0, width=320, height=240)
    seq = generate_sequence(5_900_202, 30, spec)
    frames = [seq.frame(i) for i in range(30)]
    tracker = build_tracker(name, device='cuda')
    params = [p for m in vars(tracker).values() if isinstance(m, torch.nn.Module)
              for p in m.parameters()]
    assert params and all(p.device.type == 'cuda' for p in params), name
    tracker.initialize(frames[0].image, Box(*frames[0].box))
    ious = [tracker.update(f.image).box.iou(Box(*f.box)) for f in frames[1:]]
    assert np.mean(ious) > 0.5, (name, np.round(ious, 2))
