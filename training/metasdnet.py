# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Offline training of MetaSDNet and of the pyMDNet baseline (Park and Berg, ECCV 2018, 4.2).

An episode is one object: frame j (the tracker's first frame) and frame j + delta, delta
drawn uniformly from 1..max_gap (the paper: 1..10). Each frame's search region (cut as the
tracker cuts it, the future one with the augmentation's shift and zoom) gives `support`
positive patches (IoU >= 0.7) and 3 x support negatives (IoU < 0.5), MDNet's sampling.

- method 'maml' (MetaSDNet, Algorithm 1): label shuffling (with probability 1/2 an episode's
  labels are swapped, target <-> background, in both frames, so fc4-6 cannot memorise what a
  target looks like), inner_steps (T = 1) Meta-SGD steps on frame j's patches from theta_0,
  the outer loss the cross-entropy of frame j + delta's patches after them; theta_0 (fc4-6)
  and alpha trained (second order unless the first-order phase says otherwise).
- method 'baseline' (the single-domain pySDNet the paper starts from): fc4-6 trained as one
  target-vs-background classifier on every patch of the episode; its weights carry a fixed
  rate and no alpha, and the pymdnet_k trackers take them.

The CNN stays frozen (the pretrained features only added to). The whole batch is one module's
forward (MetaSDNetObjective), so DistributedDataParallel synchronises every gradient.
"""

from __future__ import annotations

from typing import Any

from meta_tracker_ros.core.meta.maml import functional
from meta_tracker_ros.core.models.metasdnet import MetaSDNetArgs, MetaSDNetInnerArgs, MetaSDNetNet
from meta_tracker_ros.core.ops.crops import context_size, crop_square, mean_color
from meta_tracker_ros.core.ops.samples import labelled_samples
import numpy as np
import torch
from torch import nn
from training.config import TrainConfig
from training.detector import load_init_from
from training.samplers import _photometric, _visible_frames, Augment


class PatchEpisodeSampler:
    """Frame j and frame j + delta of one object: crops, patch boxes and their labels."""

    def __init__(self, videos, args: MetaSDNetArgs, aug: Augment, support: int = 32,
                 max_delta: int = 10) -> None:
        self.videos = [v for v in videos if len(_visible_frames(v)) >= 2]
        if not self.videos:
            raise ValueError('no video has two frames with a visible target')
        if max_delta < 1 or support < 1:
            raise ValueError('max_delta and support must be >= 1')
        self.args, self.aug = args, aug
        self.support, self.max_delta = support, max_delta

    def sample(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Crops (2, 3, S, S); rois (2, 4 x support, 4) in crop pixels; labels (2, 4 x support)."""
        a, aug = self.args, self.aug
        for _ in range(100):
            video = self.videos[int(rng.integers(len(self.videos)))]
            frames = set(_visible_frames(video).tolist())
            j = int(rng.choice(sorted(frames)))
            k = j + int(rng.integers(1, self.max_delta + 1))
            if k in frames:
                break
        else:
            raise RuntimeError('no frame pair delta apart with a visible target')
        crops, rois, labels = [], [], []
        for i, jitter in ((j, False), (k, True)):
            image = video.frame(i)
            box = np.asarray(video.boxes[i], np.float64)
            h, w = image.shape[:2]
            side = context_size(box[2], box[3], a.context) * a.search_factor
            cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
            if jitter:
                side *= float(np.exp(rng.uniform(-aug.scale, aug.scale)))
                cx, cy = np.array([cx, cy]) + rng.uniform(-1, 1, 2) * aug.translate \
                    * side / a.input_size
            crop = crop_square(image, cx, cy, side, a.input_size, mean_color(image))
            crops.append(_photometric(crop, aug, rng))
            pos, neg = labelled_samples(box, self.support, 3 * self.support, rng, (w, h))
            b = np.concatenate([pos, neg])
            s = a.input_size / side
            xy = (b[:, :2] - [cx - side / 2, cy - side / 2]) * s
            rois.append(np.concatenate([xy, xy + b[:, 2:] * s], axis=1))
            labels.append(np.r_[np.ones(len(pos)), np.zeros(len(neg))])
        return {'crops': np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2)),
                'rois': np.array(rois, np.float32), 'labels': np.array(labels, np.float32)}


class MetaSDNetObjective(nn.Module):
    """The batch's loss: MetaSDNet's future-frame loss, or the plain classifier's."""

    def __init__(self, net: MetaSDNetNet, method: str, shuffle: float = 0.5) -> None:
        super().__init__()
        self.net, self.method, self.shuffle = net, method, shuffle
        self._rng = np.random.default_rng(0)

    def forward(self, batch: dict[str, torch.Tensor], progress: float,
                first_order: bool) -> tuple[torch.Tensor, dict[str, float]]:
        model, inner = self.net.model, self.net.inner
        crops = batch['crops'].float()                       # (B, 2, 3, S, S)
        b = crops.shape[0]
        feats = model.features(crops.flatten(0, 1))
        rois = batch['rois']                                 # (B, 2, P, 4)
        p = rois.shape[2]
        index = torch.arange(2 * b, dtype=rois.dtype).repeat_interleave(p)[:, None]
        x = model.patches(feats, torch.cat([index, rois.flatten(0, 2)], dim=1))
        x = x.unflatten(0, (b, 2, p))
        labels = batch['labels']
        if self.method == 'baseline':
            logits = model(x.flatten(0, 2))
            loss = model.loss(logits, labels.flatten())
            return loss, {'loss': float(loss.detach()),
                          'accuracy': model.accuracy(logits.detach(), labels.flatten())}
        inner.first_order = first_order
        total, before, after = 0.0, 0.0, 0.0
        for e in range(b):
            y = labels[e]
            if self._rng.random() < self.shuffle:
                y = 1.0 - y                                  # label shuffling (section 4.2)

            def loss_on(i: int, fast, e=e, y=y) -> torch.Tensor:
                return model.loss(functional(model, fast, x[e, i]), y[i])

            trajectory = inner(lambda fast: loss_on(0, fast), inner.initial(model),
                               meta_training=True)
            loss = loss_on(1, trajectory[-1])
            total = total + loss
            with torch.no_grad():
                before += model.accuracy(functional(model, trajectory[0], x[e, 1]), y[1])
                after += model.accuracy(functional(model, trajectory[-1], x[e, 1]), y[1])
        loss = total / b
        return loss, {'loss': float(loss.detach()), 'query_acc_theta0': before / b,
                      'query_acc_thetak': after / b}


def build_metasdnet(cfg: TrainConfig) -> tuple[MetaSDNetNet, dict[str, Any]]:
    """Build the classifier (ImageNet CNN, or init_from) and its parent's metadata."""
    inner = MetaSDNetInnerArgs(steps=cfg.inner_steps, lr=cfg.inner_lr,
                               lr_mode='parameter' if cfg.method == 'maml' else 'fixed')
    net = MetaSDNetNet(MetaSDNetArgs.from_dict(cfg.model), inner)
    if cfg.init_from:
        return net, load_init_from(net, cfg)
    if cfg.pretrained == 'imagenet':
        net.model.load_imagenet()
    return net, {}


def metasdnet_train_mode(net: MetaSDNetNet) -> list[nn.Parameter]:
    """Freeze the CNN; return fc4-6 (and alpha, when meta-trained)."""
    net.train()
    return [p for p in net.parameters() if p.requires_grad]
