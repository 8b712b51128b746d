# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline meta-training of MetaCREST (Park and Berg, ECCV 2018, Algorithm 1, section 4.1).

An episode is one object: the crop of a frame j centred on the target (the tracker's first
frame) and the crop of a future frame j + delta, delta drawn uniformly from 1..max_delta (the
paper: 1..10), cut around the target's position with the augmentation's shift and scale
jitter (a search that starts off the target) at the size frame j's target gives. The inner
loop (core/meta/maml.py, Meta-SGD: alpha per element) takes inner_steps steps (the paper:
T = 1) of CREST's loss (eq. 6) on frame j from theta_0 = (the 1x1 reduction, the canonical
filter); the outer loss is the same loss of the adapted model on the future frame (eq. 3),
and its gradient trains theta_0 and alpha (second order through the step unless the run's
first-order phase says otherwise). The feature extractor stays frozen: the pretrained
features are only added to, the first rule of the issue-13 recipe.

The whole batch is one module's forward (MetaCRESTObjective), so DistributedDataParallel
synchronises every gradient.
"""

from __future__ import annotations

from typing import Any

from meta_tracker_ros.core.meta.maml import functional
from meta_tracker_ros.core.models.metacrest import (MetaCRESTArgs, MetaCRESTInnerArgs,
                                                    MetaCRESTNet)
from meta_tracker_ros.core.ops.crops import context_size, crop_square, mean_color
import numpy as np
import torch
from torch import nn
from training.config import TrainConfig
from training.detector import load_init_from
from training.samplers import _photometric, _visible_frames, Augment


class FutureFrameSampler:
    """A first frame j and a future frame j + delta of one object, as crops with labels."""

    def __init__(self, videos, args: MetaCRESTArgs, aug: Augment, max_delta: int = 10
                 ) -> None:
        self.videos = [v for v in videos if len(_visible_frames(v)) >= 2]
        if not self.videos:
            raise ValueError('no video has two frames with a visible target')
        if max_delta < 1:
            raise ValueError(f'max_delta must be >= 1, got {max_delta}')
        self.args, self.aug, self.max_delta = args, aug, max_delta

    def sample(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Crops (2, 3, S, S) (frame j, frame j + delta); centres and sizes (2, 2) in pixels."""
        a, aug = self.args, self.aug
        for _ in range(100):
            video = self.videos[int(rng.integers(len(self.videos)))]
            frames = _visible_frames(video)
            j = int(rng.choice(frames))
            delta = int(rng.integers(1, self.max_delta + 1))
            if j + delta in set(frames.tolist()):
                break
        else:
            raise RuntimeError('no frame pair delta apart with a visible target')
        x, y, w, h = (float(v) for v in video.boxes[j])
        side = context_size(w, h, a.context) * a.search_factor
        s = a.input_size / side
        c = (a.input_size - 1) / 2.0
        first = video.frame(j)
        crops = [_photometric(crop_square(first, x + w / 2, y + h / 2, side, a.input_size,
                                          mean_color(first)), aug, rng)]
        centres, sizes = [[c, c]], [[w * s, h * s]]
        fx, fy, fw, fh = (float(v) for v in video.boxes[j + delta])
        zoom = float(np.exp(rng.uniform(-aug.scale, aug.scale)))
        dx, dy = rng.uniform(-1, 1, 2) * min(aug.translate, a.input_size / 4) / s
        qs = side * zoom
        future = video.frame(j + delta)
        cx, cy = fx + fw / 2 + dx, fy + fh / 2 + dy
        crops.append(_photometric(crop_square(future, cx, cy, qs, a.input_size,
                                              mean_color(future)), aug, rng))
        q = a.input_size / qs
        centres.append([c - dx * q, c - dy * q])
        sizes.append([fw * q, fh * q])
        return {'crops': np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2)),
                'centres': np.array(centres, np.float32), 'sizes': np.array(sizes, np.float32)}


class MetaCRESTObjective(nn.Module):
    """The batch's outer loss: the future frame's loss after the inner steps on frame j."""

    def __init__(self, net: MetaCRESTNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, batch: dict[str, torch.Tensor], progress: float,
                first_order: bool) -> tuple[torch.Tensor, dict[str, float]]:
        model, inner = self.net.model, self.net.inner
        inner.first_order = first_order
        crops = batch['crops'].float()                          # (B, 2, 3, S, S)
        b = crops.shape[0]
        feats = model.features(crops.flatten(0, 1)).unflatten(0, (b, 2))
        total, before, after, fit = 0.0, 0.0, 0.0, 0.0
        for e in range(b):
            centres, sizes = batch['centres'][e], batch['sizes'][e]
            fsize = model.filter_size(float(sizes[0, 0]), float(sizes[0, 1]))
            labels = model.label(centres, sizes, feats.shape[-2:])

            def loss_on(i: int, fast: dict[str, torch.Tensor], e=e, fsize=fsize,
                        labels=labels) -> torch.Tensor:
                out = functional(model, fast, feats[e, i:i + 1], fsize)
                return model.loss(out, labels[i:i + 1], fast['filter'])

            trajectory = inner(lambda fast: loss_on(0, fast), inner.initial(model),
                               meta_training=True)
            loss = loss_on(1, trajectory[-1])
            total = total + loss
            after += float(loss.detach())
            with torch.no_grad():
                before += float(loss_on(1, trajectory[0]))
                fit += float(loss_on(0, trajectory[-1]))
        loss = total / b
        return loss, {'loss': float(loss.detach()), 'query_theta0': before / b,
                      'query_thetak': after / b, 'support_thetak': fit / b}


def build_metacrest(cfg: TrainConfig) -> tuple[MetaCRESTNet, dict[str, Any]]:
    """Build the model (ImageNet feature extractor, or init_from) and its parent's metadata."""
    net = MetaCRESTNet(MetaCRESTArgs.from_dict(cfg.model),
                       MetaCRESTInnerArgs(steps=cfg.inner_steps, lr=cfg.inner_lr))
    if cfg.init_from:
        return net, load_init_from(net, cfg)
    if cfg.pretrained == 'imagenet':
        net.model.load_imagenet()
    return net, {}


def metacrest_train_mode(net: MetaCRESTNet) -> list[nn.Parameter]:
    """Freeze the feature extractor; return theta_0 (reduction, filter) and alpha."""
    net.train()
    return [p for p in net.parameters() if p.requires_grad]
