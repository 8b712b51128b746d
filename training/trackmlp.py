# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline training of TrackMLP (paper 003, section III and Algorithm 1): two-stage MAML.

An episode is one object: the template and `support` augmented search regions of a frame k
(the tracker's support set, smaller), and `queries` search regions of other frames of the
same video with their true masks. The inner loop (core/meta/maml.py, fixed step size, the
paper's 0.001) takes `inner_steps` steps (the paper: one) on the three heads against the
support's boxes and the mask labels g_zeta generates from them (eq. 7-8). The outer loss is
the query's cls + loc + true-mask loss with the adapted heads (eq. 2); it trains the heads'
initial weights and, through the second-order path of the step, the generator (eq. 10) and
the heads' correlation branches, and the backbone's body through the query and template
features. The inner loop adapts each head's output layer (core.models.trackmlp.ADAPTED), as
the tracker does online. The support's features are
computed without a graph: the backbone is trained first-order (the paper's two stages).

The whole batch is one module's forward (TrackMLPObjective), so DistributedDataParallel
synchronises every gradient.
"""

from __future__ import annotations

from typing import Any

import cv2
from meta_tracker_ros.core.meta.maml import functional
from meta_tracker_ros.core.models.trackmlp import TrackMLPArgs, TrackMLPInnerArgs, TrackMLPNet
from meta_tracker_ros.core.ops.crops import context_size, crop_square, mean_color
import numpy as np
import torch
from torch import nn
from training.config import TrainConfig
from training.detector import load_init_from
from training.samplers import _photometric, _visible_frames, Augment


def _crop_mask(mask: np.ndarray, cx: float, cy: float, side: float, size: int) -> np.ndarray:
    m = np.repeat(mask.astype(np.uint8)[..., None] * 255, 3, axis=2)
    return crop_square(m, cx, cy, side, size, (0.0, 0.0, 0.0))[..., 0] > 127


class TrackMLPEpisodeSampler:
    """A template and `support` search regions of frame k, `queries` of other frames."""

    def __init__(self, videos, args: TrackMLPArgs, aug: Augment, support: int, queries: int,
                 context: float = 0.5, max_gap: int = 100) -> None:
        self.videos = [v for v in videos if v.mask is not None
                       and len(_visible_frames(v)) >= 2]
        if not self.videos:
            raise ValueError('no video with masks has two frames with a visible target')
        self.args, self.aug = args, aug
        self.support, self.queries = support, queries
        self.context, self.max_gap = context, max_gap

    def _region(self, image: np.ndarray, box: np.ndarray, rng: np.random.Generator,
                jitter: bool) -> tuple[np.ndarray, list[float], tuple[float, float, float]]:
        """Cut a search crop around box (shifted, rescaled when jitter); its box in the crop."""
        a, aug = self.args, self.aug
        x, y, w, h = (float(v) for v in box)
        s_x = context_size(w, h, self.context) * a.search_size / a.exemplar_size
        dx = dy = 0.0
        zoom = 1.0
        if jitter:
            dx, dy = rng.uniform(-1, 1, 2) * min(aug.translate, a.search_size / 4) \
                * s_x / a.search_size
            zoom = float(np.exp(rng.uniform(-aug.scale, aug.scale)))
        side = s_x * zoom
        cx, cy = x + w / 2 + dx, y + h / 2 + dy
        crop = crop_square(image, cx, cy, side, a.search_size, mean_color(image))
        s = a.search_size / side
        c = (a.search_size - 1) / 2.0
        bx, by = c - dx * s, c - dy * s
        return crop, [bx - w * s / 2, by - h * s / 2, bx + w * s / 2, by + h * s / 2], \
            (cx, cy, side)

    def sample(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        a = self.args
        video = self.videos[int(rng.integers(len(self.videos)))]
        frames = _visible_frames(video)
        k = int(rng.choice(frames))
        near = frames[(np.abs(frames - k) <= self.max_gap) & (frames != k)]
        if len(near) == 0:
            near = frames[frames != k]
        image, box = video.frame(k), video.boxes[k]
        x, y, w, h = (float(v) for v in box)
        template = crop_square(image, x + w / 2, y + h / 2, context_size(w, h, self.context),
                               a.exemplar_size, mean_color(image))
        support, support_boxes = [], []
        for j in range(self.support):
            crop, b, _ = self._region(image, box, rng, jitter=j > 0)
            if j > 0 and rng.random() < 0.2:
                crop = cv2.GaussianBlur(crop, (5, 5), 1.5)
            support.append(crop)
            support_boxes.append(b)
        query, query_boxes, query_masks = [], [], []
        for q in rng.choice(near, size=self.queries, replace=len(near) < self.queries):
            img, qbox = video.frame(int(q)), video.boxes[int(q)]
            crop, b, (cx, cy, side) = self._region(img, qbox, rng, jitter=True)
            query.append(_photometric(crop, self.aug, rng))
            query_boxes.append(b)
            query_masks.append(_crop_mask(video.mask(int(q)), cx, cy, side, a.search_size))

        def chw(crops):
            return np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2))
        return {'template': chw([template]), 'support': chw(support),
                'support_boxes': np.array(support_boxes, np.float32), 'query': chw(query),
                'query_boxes': np.array(query_boxes, np.float32),
                'query_masks': np.stack(query_masks)}


class TrackMLPObjective(nn.Module):
    """The batch's outer loss: query losses after the inner steps on each support set."""

    def __init__(self, net: TrackMLPNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, batch: dict[str, torch.Tensor], progress: float,
                first_order: bool) -> tuple[torch.Tensor, dict[str, float]]:
        model, inner = self.net.model, self.net.inner
        # Always second order through the heads' step (Fig. 2: "the computational graph is
        # retained"): the generator learns only through it (eq. 10). first_order is the
        # training loop's schedule for the MAML detectors, unused here.
        inner.first_order = False
        total, before, after = 0.0, 0.0, 0.0
        b = batch['template'].shape[0]
        for e in range(b):
            z = model.template_features(batch['template'][e].float())
            with torch.no_grad():                          # the backbone: first-order
                xs = model.features(batch['support'][e].float())
            xq = model.features(batch['query'][e].float())
            sb, qb = batch['support_boxes'][e], batch['query_boxes'][e]
            sp, qp = model.positive_positions(sb), model.positive_positions(qb)
            labels = model.generator(model.box_labels(sb, sp))
            true = model.mask_labels(batch['query_masks'][e], qp)
            zs, zq = z.expand(len(xs), -1, -1, -1), z.expand(len(xq), -1, -1, -1)

            corr = model.correlations(zs, xs)        # once: the steps adapt what follows

            def support_loss(fast, corr=corr, sp=sp, sb=sb, labels=labels):
                out = functional(model, fast, positions=sp, corr=corr)
                return model.loss(out, sb, labels)[0]

            def query_loss(fast, zq=zq, xq=xq, qp=qp, qb=qb, true=true):
                return model.loss(functional(model, fast, zq, xq, qp), qb, true)[0]

            trajectory = inner(support_loss, inner.initial(model), meta_training=True)
            loss = query_loss(trajectory[-1])
            total = total + loss
            after += float(loss.detach())
            with torch.no_grad():
                before += float(query_loss(trajectory[0]))
        loss = total / b
        return loss, {'loss': float(loss.detach()), 'query_theta0': before / b,
                      'query_thetak': after / b}


def build_trackmlp(cfg: TrainConfig) -> tuple[TrackMLPNet, dict[str, Any]]:
    """Build the model (ImageNet backbone, or init_from) and its parent's metadata."""
    net = TrackMLPNet(TrackMLPArgs.from_dict(cfg.model),
                      TrackMLPInnerArgs(lr=cfg.inner_lr, steps=cfg.inner_steps))
    if cfg.init_from:
        return net, load_init_from(net, cfg)
    if cfg.pretrained == 'imagenet':
        net.model.load_imagenet()
    return net, {}


def trackmlp_train_mode(net: TrackMLPNet) -> list[nn.Parameter]:
    """Shared layers frozen; the body, the heads and the generator trained."""
    net.train()
    net.model.freeze_shared()
    return [p for p in net.parameters() if p.requires_grad]
