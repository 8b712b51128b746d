# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The tracker families training.train trains through the shared meta-learning engine.

A family is four functions: build the network (ImageNet start or init_from), set its train
mode and return the trained parameters, make the episode sampler, and wrap the batch's outer
loss in one module (so DistributedDataParallel synchronises every gradient). The loop,
checkpoints, validation, logs and the weights file are training.train's, for every family.
MLT's two stages predate this table and keep their own path in training.train.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from torch import nn
from training.config import TrainConfig
from training.samplers import Augment

Sample = Callable[[np.random.Generator], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Family:
    """How training.train builds, samples and scores one family."""

    build: Callable[[TrainConfig], tuple[nn.Module, dict[str, Any]]]
    train_mode: Callable[[nn.Module], list[nn.Parameter]]
    sampler: Callable[[list, nn.Module, Augment, TrainConfig], Sample]
    objective: Callable[[nn.Module, TrainConfig], nn.Module]


def _detector() -> Family:
    from training.detector import (build_detector, DetectionEpisodeSampler,
                                   detector_train_mode, DetectorObjective)

    def sampler(videos, net, aug, cfg):
        return DetectionEpisodeSampler(videos, net.detector.args.input_size, aug, cfg.zoom,
                                       max_gap=cfg.max_gap).sample
    return Family(build_detector, detector_train_mode, sampler,
                  lambda net, cfg: DetectorObjective(net, cfg.method))


def _trackmlp() -> Family:
    from training.trackmlp import (build_trackmlp, trackmlp_train_mode, TrackMLPEpisodeSampler,
                                   TrackMLPObjective)

    def sampler(videos, net, aug, cfg):
        return TrackMLPEpisodeSampler(videos, net.model.args, aug, cfg.support, cfg.queries,
                                      max_gap=cfg.max_gap).sample
    return Family(build_trackmlp, trackmlp_train_mode, sampler,
                  lambda net, cfg: TrackMLPObjective(net))


def _metacrest() -> Family:
    from training.metacrest import (build_metacrest, FutureFrameSampler, metacrest_train_mode,
                                    MetaCRESTObjective)

    def sampler(videos, net, aug, cfg):
        return FutureFrameSampler(videos, net.model.args, aug, cfg.max_gap).sample
    return Family(build_metacrest, metacrest_train_mode, sampler,
                  lambda net, cfg: MetaCRESTObjective(net))


def _metasdnet() -> Family:
    from training.metasdnet import (build_metasdnet, metasdnet_train_mode, MetaSDNetObjective,
                                    PatchEpisodeSampler)

    def sampler(videos, net, aug, cfg):
        return PatchEpisodeSampler(videos, net.model.args, aug, cfg.support, cfg.max_gap).sample
    return Family(build_metasdnet, metasdnet_train_mode, sampler,
                  lambda net, cfg: MetaSDNetObjective(net, cfg.method))


_MAKERS = {'retina_maml': _detector, 'fcos_maml': _detector, 'trackmlp': _trackmlp,
           'metacrest': _metacrest, 'metasdnet': _metasdnet}


def get_family(name: str) -> Family | None:
    """Return the family's functions, or None for MLT (training.train's own two stages)."""
    maker = _MAKERS.get(name)
    return maker() if maker else None
