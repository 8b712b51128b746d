# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline training of Retina-MAML and FCOS-MAML (Wang et al., CVPR 2020, sections 3 and 4.2).

An episode is a pair of frames of one object, at most max_gap apart: the support set is the
first frame's search region zoomed in and out by 1.08 (3 images, as the tracker builds it on
its first frame), the query the second frame's region with the target shifted, rescaled and
stretched by the augmentation. method 'maml': the shared inner loop (core/meta/maml.py) takes
inner_steps steps on the support set from theta_0 with the kernel-wise learnable rates; the
outer loss is eq. 4's multi-step loss of theta_0..theta_k on the query, its weights gamma_k
annealed from equal to (0.05, 0.10, 0.2, 0.30, 0.35), first-order for the first
first_order_fraction of the run (the paper: 15 of 20 epochs). method 'baseline' (Table 1's
baseline detector): the same network trained as a plain detector on every image of the
episode; its weights carry a fixed inner learning rate for the tracker's adaptation.

The whole episode batch is one module's forward (DetectorObjective), so DistributedDataParallel
synchronises every gradient, those through the inner loop included.
"""

from __future__ import annotations

from typing import Any, Callable

from meta_tracker_ros.core.meta.maml import functional, multi_step_loss, step_loss_weights
from meta_tracker_ros.core.models.maml_detector import (DetectorArgs, InnerArgs,
                                                        MAMLDetectorNet)
from meta_tracker_ros.core.ops.crops import context_size, crop_square, mean_color
from meta_tracker_ros.core.weights import load_state_strict, load_weights
import numpy as np
import torch
from torch import nn
from training.config import TrainConfig
from training.samplers import (_photometric, _visible_frames, Augment, CropMaker,
                               sample_pair)

EXEMPLAR = 127  # the context square's side in the tracker's geometry (search_factor)


class DetectionEpisodeSampler:
    """A support set (3 zoomed copies of frame i) and a query (frame j) of one object."""

    def __init__(self, videos, input_size: int, aug: Augment, zoom: float = 1.08,
                 context: float = 0.5, max_gap: int = 100) -> None:
        self.videos = [v for v in videos if len(_visible_frames(v)) >= 2]
        if not self.videos:
            raise ValueError('no video has two frames with a visible target')
        self.size, self.aug, self.zoom = input_size, aug, zoom
        self.context, self.max_gap = context, max_gap
        self.crops = CropMaker(EXEMPLAR, input_size, context)

    def sample(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Support (3, 3, S, S) + boxes (3, 4), query (1, 3, S, S) + boxes (1, 4), x1y1x2y2."""
        video, i, j = sample_pair(self.videos, rng, self.max_gap)
        flip = bool(rng.random() < self.aug.flip)
        image, (x, y, w, h) = video.frame(i), (float(v) for v in video.boxes[i])
        side = context_size(w, h, self.context) * self.size / EXEMPLAR
        c = (self.size - 1) / 2.0
        pad = mean_color(image)
        support, boxes = [], []
        for zoom in (1.0, 1.0 / self.zoom, self.zoom):
            crop = crop_square(image, x + w / 2, y + h / 2, side * zoom, self.size, pad)
            crop = _photometric(crop, self.aug, rng)
            if flip:
                crop = crop[:, ::-1]
            support.append(np.ascontiguousarray(crop.transpose(2, 0, 1)))
            s = self.size / (side * zoom)
            boxes.append([c - w * s / 2, c - h * s / 2, c + w * s / 2, c + h * s / 2])
        q, off, wh = self.crops.search_box(video.frame(j), video.boxes[j], self.aug, rng,
                                           photometric=True, flip=flip)
        qc = c + off
        query_box = [qc[0] - wh[0] / 2, qc[1] - wh[1] / 2, qc[0] + wh[0] / 2, qc[1] + wh[1] / 2]
        return {'support': np.stack(support), 'support_boxes': np.array(boxes, np.float32),
                'query': q[None], 'query_boxes': np.array([query_box], np.float32)}


class DetectorObjective(nn.Module):
    """The batch's loss as one forward: MAML's multi-step query loss or the plain detector's."""

    def __init__(self, net: MAMLDetectorNet, method: str) -> None:
        super().__init__()
        self.net, self.method = net, method

    def forward(self, batch: dict[str, torch.Tensor], progress: float,
                first_order: bool) -> tuple[torch.Tensor, dict[str, float]]:
        det = self.net.detector
        sup, qry = batch['support'], batch['query']          # (B, 3, 3, S, S), (B, 1, 3, S, S)
        b, n = sup.shape[:2]
        images = torch.cat([sup.flatten(0, 1), qry.flatten(0, 1)])
        with torch.no_grad():
            feats = det.features(images)
        branches = det.branches(feats)
        if self.method == 'baseline':
            boxes = torch.cat([batch['support_boxes'].flatten(0, 1),
                               batch['query_boxes'].flatten(0, 1)])
            loss, parts = det.loss(*det(branches, 'branches'), boxes)
            return loss, {'loss': float(loss.detach()), **{k: float(v) for k, v in parts.items()}}
        sup_br = branches[:b * n].unflatten(0, (b, n))
        qry_br = branches[b * n:].unflatten(0, (b, -1))
        inner = self.net.inner
        inner.first_order = first_order
        gammas = step_loss_weights(inner.steps, progress)
        total, before, after = 0.0, 0.0, 0.0
        for e in range(b):
            sup_loss = _loss_on(det, sup_br[e], batch['support_boxes'][e])
            qry_loss = _loss_on(det, qry_br[e], batch['query_boxes'][e])
            trajectory = inner(sup_loss, inner.initial(det), meta_training=True)
            total = total + multi_step_loss(trajectory, qry_loss, gammas)
            with torch.no_grad():
                before += float(qry_loss(trajectory[0]))
                after += float(qry_loss(trajectory[-1]))
        loss = total / b
        return loss, {'loss': float(loss.detach()), 'query_theta0': before / b,
                      'query_thetak': after / b}


def _loss_on(det, branches: torch.Tensor, boxes: torch.Tensor
             ) -> Callable[[dict[str, torch.Tensor]], torch.Tensor]:
    def loss(fast: dict[str, torch.Tensor]) -> torch.Tensor:
        return det.loss(*functional(det, fast, branches, 'branches'), boxes)[0]
    return loss


def build_detector(cfg: TrainConfig) -> tuple[MAMLDetectorNet, dict[str, Any]]:
    """Build the stage's detector (ImageNet backbone, or init_from) and its parent's metadata."""
    inner = InnerArgs(lr_mode=cfg.lr_mode if cfg.method == 'maml' else 'fixed',
                      lr=cfg.inner_lr, steps=cfg.inner_steps)
    head = cfg.family.split('_')[0]
    net = MAMLDetectorNet(DetectorArgs.from_dict({'head': head, **cfg.model}), inner)
    if cfg.init_from:
        return net, load_init_from(net, cfg)
    if cfg.pretrained == 'imagenet':
        net.detector.load_imagenet()
    return net, {}


def load_init_from(net: nn.Module, cfg: TrainConfig) -> dict[str, Any]:
    """Load cfg.init_from (of cfg.family, the same model arguments); its parent metadata."""
    tensors, meta = load_weights(cfg.init_from, accept=cfg.family)
    if meta.model_args != net.model_args():
        raise ValueError(f'{cfg.init_from} has model args {meta.model_args}, the config '
                         f'asks for {net.model_args()}')
    load_state_strict(net, tensors, cfg.init_from)
    return {'training_config': meta.training_config, 'info': meta.info}


def detector_train_mode(net: MAMLDetectorNet) -> list[nn.Parameter]:
    """Shared layers frozen (section 4.1); both block copies, heads and rates trained."""
    net.train()
    net.detector.freeze_shared()
    return [p for p in net.parameters() if p.requires_grad]
