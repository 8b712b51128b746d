# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MetaSDNet and the pyMDNet-k baselines (Park and Berg, "Meta-Tracker", ECCV 2018, 4.2).

MDNet's tracking-by-detection on one classifier (core/models/metasdnet.py), two ways to
build its first model:

- `metasdnet`: the meta-learned fc4-6 (theta_0) and init_steps (1: MetaSDNet-01) steps of the
  meta-learned per-element rates on the first frame's init_pos positive and init_neg negative
  patches (1:3), through the shared inner loop (core/meta);
- `pymdnet_01`, `pymdnet_15`: weights trained offline as a plain target-vs-background
  classifier (training method 'baseline', the single-domain pySDNet the paper starts from),
  fc6 drawn afresh (MDNet re-initialises its last layer for every sequence), then k plain
  gradient steps at init_lr on minibatches of the first frame's pools (pool_pos / pool_neg).

Per frame (MDNet, section 4): `candidates` boxes drawn around the previous box (Gaussian,
trans x the mean side, scale 1.05 ** N(0, 0.5)), scored from one CNN pass over the search
region (RoI-aligned: the batched scoring of RT-MDNet), the mean of the top_k boxes is the new
box; the target score is the mean of their (target - background) logits, a failure below 0.
On success the bounding-box regression fitted on the first frame (ridge, MDNet's) refines the
top_k boxes, and update_pos / update_neg patches around the result join the memory (positives
of the last memory_long frames, negatives of the last memory_short); on failure the search
widens to trans_limit and a short-term update runs; every update_interval frames a long-term
one: update_steps plain gradient steps at update_lr on minibatches of the memory (the paper:
"a learning rate for subsequent frames" with the original optimiser, 15 iterations). The lost
state (on sigmoid of the target score) and the widening re-detection are core/ops/lost.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meta_tracker_ros.core.config import param
from meta_tracker_ros.core.meta.maml import functional, InnerLoop
from meta_tracker_ros.core.models.backbones import inference_graph
from meta_tracker_ros.core.models.metasdnet import ADAPTED, MetaSDNet, MetaSDNetNet
from meta_tracker_ros.core.ops.crops import (check_image, context_size, crop_square,
                                             crop_to_tensor_layout, mean_color)
from meta_tracker_ros.core.ops.lost import LostConfig
from meta_tracker_ros.core.ops.samples import draw_samples, iou_xywh, labelled_samples
from meta_tracker_ros.core.registry import register_tracker, register_variant
from meta_tracker_ros.core.types import Box, TrackResult, TrackState
from meta_tracker_ros.core.weights import load_model, WeightsError
import numpy as np
import torch


@dataclass(frozen=True)
class MetaSDNetConfig(LostConfig):
    """MDNet's sampling, search, updates and regression; the lost state."""

    lost_threshold: float = param(0.5, 'absolute floor of the lost test on sigmoid(target '
                                  "score): 0.5 is MDNet's failure (score under 0)", min=0.0,
                                  max=1.0)
    init_steps: int = param(1, 'steps on the first frame (MetaSDNet-01: 1, pyMDNet-k: k)',
                            min=0, max=200)
    init_lr: float = param(0.05, 'fixed first-frame rate of the pyMDNet-k baselines (plain '
                           "SGD; MDNet's fc6 0.01 with momentum 0.9 is ~0.1)", min=0.0,
                           max=10.0)
    init_pos: int = param(32, 'positive patches per first-frame step', min=1, max=1000)
    init_neg: int = param(96, 'negative patches per first-frame step (1:3)', min=1, max=10000)
    pool_pos: int = param(200, "first frame's positive pool (pyMDNet's minibatches; MDNet "
                          '500)', min=1, max=5000)
    pool_neg: int = param(1000, "first frame's negative pool (MDNet 5000)", min=1, max=50000)
    candidates: int = param(256, 'candidate boxes per frame', min=8, max=4096)
    trans: float = param(0.6, 'candidate spread, times the mean side', min=0.01, max=5.0)
    trans_limit: float = param(1.5, 'candidate spread after a failure', min=0.01, max=5.0)
    scale_step: float = param(1.05, "candidates' scale step", min=1.0, max=1.5)
    top_k: int = param(5, 'candidates averaged into the box', min=1, max=100)
    bbreg: bool = param(True, 'bounding-box regression of the top candidates')
    bbreg_samples: int = param(200, 'first-frame samples the regression is fitted on', min=8,
                               max=5000)
    bbreg_lambda: float = param(1000.0, 'ridge strength of the regression', min=0.0,
                                max=1e7)
    update_interval: int = param(10, 'frames between long-term updates (0 = never)', min=0,
                                 max=10000)
    update_steps: int = param(15, 'gradient steps per update (pyMDNet: 15)', min=1, max=200)
    update_lr: float = param(0.01, 'fixed rate of the online updates (plain SGD)', min=0.0,
                             max=10.0)
    update_pos: int = param(50, 'positives collected per tracked frame', min=1, max=1000)
    update_neg: int = param(200, 'negatives collected per tracked frame', min=1, max=10000)
    memory_long: int = param(100, 'frames whose positives the updates use', min=1,
                             max=10000)
    memory_short: int = param(20, 'frames whose negatives the updates use (and the '
                              "short-term update's positives)", min=1, max=10000)
    seed: int = param(0, 'seed of the sampling (reproducible tracks)', min=0,
                      max=2 ** 31 - 1)


class _MDNetTracker:
    """Sampling, scoring, regression, memory and updates shared by the variants."""

    name = ''

    def __init__(self, *, config: MetaSDNetConfig, net: MetaSDNetNet,
                 device: str = 'cpu') -> None:
        self.config = config
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.model: MetaSDNet = net.model
        self._size = self.model.args.input_size
        self._graph = inference_graph(self.model.backbone, self._size) \
            if self.device.type == 'cpu' else self.model.backbone
        self._redetect = config.redetection(0.0)
        self._reset_state()

    # --- what each variant defines -----------------------------------------------------------
    def _first_model(self, pos: torch.Tensor, neg: torch.Tensor
                     ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Return the fc4-6 weights before and after the first frame's steps."""
        raise NotImplementedError

    # --- protocol -------------------------------------------------------------------------------
    def initialize(self, image: np.ndarray, box: Box) -> None:
        h, w = check_image(image)
        box = box.validate_init(w, h)
        cfg = self.config
        self._reset_state()
        self._rng = np.random.default_rng(cfg.seed)
        b = box.as_xywh().astype(np.float64)
        feats, origin, scale = self._search(image, b, 1.0)
        pos, neg = labelled_samples(b, cfg.pool_pos, cfg.pool_neg, self._rng, (w, h))
        pos_f = self._patches(feats, pos, origin, scale)
        neg_f = self._patches(feats, neg, origin, scale)
        self.first_weights, self._fast = self._first_model(pos_f, neg_f)
        self._regressor = self._fit_regression(feats, b, origin, scale, (w, h)) \
            if cfg.bbreg else None
        self._pos_memory = [pos_f[:cfg.update_pos]]
        self._neg_memory = [neg_f[:cfg.update_neg]]
        self._box = b
        self._base_wh = b[2:].copy()
        self._trans = cfg.trans
        self._t = 1
        self._state = TrackState.TRACKING

    def update(self, image: np.ndarray) -> TrackResult:
        if self._fast is None:
            raise RuntimeError('update() before initialize()')
        h, w = check_image(image)
        cfg = self.config
        self._t += 1
        frames = self._lost.lost_frames if self._state == TrackState.LOST else 0
        size, _ = self._redetect.search(frames, self._size, self.model.stride)
        grow = size / self._size
        trans = self._trans * grow
        cands = draw_samples(self._box, cfg.candidates, self._rng, 'gaussian', trans, 1.0,
                             cfg.scale_step, (w, h))
        feats, origin, scale = self._search(image, self._box, grow, size)
        cf = self._patches(feats, cands, origin, scale)
        with torch.no_grad():
            logits = functional(self.model, self._fast, cf)
        d = (logits[:, 1] - logits[:, 0]).cpu().numpy()
        top = np.argsort(-d)[:cfg.top_k]
        target = float(d[top].mean())
        score = float(1.0 / (1.0 + np.exp(-np.clip(target, -50.0, 50.0))))
        success = target > 0.0
        if self._lost.judge(score, 0.0):
            self._state = TrackState.LOST
            self._trans = cfg.trans_limit
            return TrackResult(self._result(), score, None, self._state)
        self._state = TrackState.TRACKING
        new = cands[top].mean(axis=0)
        if success and self._regressor is not None:
            new = self._regress(cf[top], cands[top]).mean(axis=0)
        new[2:] = np.clip(new[2:], self._base_wh * 0.1, self._base_wh * 10.0)
        self._box = new
        if success:
            self._trans = cfg.trans
            self._collect(feats, origin, scale, (w, h))
        else:
            self._trans = cfg.trans_limit
        if not success:
            self._online_update(short=True)
        elif cfg.update_interval and self._t % cfg.update_interval == 0:
            self._online_update(short=False)
        return TrackResult(self._result(), score, None, self._state)

    def reset(self) -> None:
        self._reset_state()

    def patch_metrics(self, image: np.ndarray, box: Box, weights: dict[str, torch.Tensor]
                      | None = None, n_pos: int = 32, n_neg: int = 96) -> dict[str, float]:
        """
        Return the accuracy (Table 2's measure) and loss of a model on one frame's patches.

        Positives (IoU >= 0.7) and negatives (IoU < 0.5) drawn around box, 1:3 as the paper;
        weights default to the current model (first_weights: before the first frame).
        """
        h, w = check_image(image)
        b = box.as_xywh().astype(np.float64)
        feats, origin, scale = self._search(image, b, 1.0)
        pos, neg = labelled_samples(b, n_pos, n_neg, self._rng, (w, h))
        x = torch.cat([self._patches(feats, pos, origin, scale),
                       self._patches(feats, neg, origin, scale)])
        labels = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))]).to(self.device)
        with torch.no_grad():
            logits = functional(self.model, weights or self._fast, x)
        return {'accuracy': self.model.accuracy(logits, labels),
                'loss': float(self.model.loss(logits, labels))}

    # --- steps ----------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self._fast: dict[str, torch.Tensor] | None = None
        self.first_weights: dict[str, torch.Tensor] = {}
        self._regressor: torch.Tensor | None = None
        self._pos_memory: list[torch.Tensor] = []
        self._neg_memory: list[torch.Tensor] = []
        self._rng = np.random.default_rng(self.config.seed)
        self._t = 0
        self._lost = self.config.lost_state()
        self.updates = 0
        self._state = TrackState.IDLE

    def _search(self, image: np.ndarray, box: np.ndarray, grow: float, size: int | None = None
                ) -> tuple[torch.Tensor, np.ndarray, float]:
        """CNN features of the search region around box; its origin and pixels per image px."""
        a = self.model.args
        size = size or self._size
        side = context_size(box[2], box[3], a.context) * a.search_factor * grow
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        crop = crop_square(image, cx, cy, side, size, mean_color(image))
        x = torch.from_numpy(crop_to_tensor_layout([crop])).to(self.device)
        with torch.no_grad():
            feats = self._graph(x)
        return feats, np.array([cx - side / 2, cy - side / 2]), size / side

    def _patches(self, feats: torch.Tensor, boxes: np.ndarray, origin: np.ndarray,
                 scale: float) -> torch.Tensor:
        xy = (boxes[:, :2] - origin) * scale
        wh = boxes[:, 2:] * scale
        rois = np.concatenate([np.zeros((len(boxes), 1)), xy, xy + wh], axis=1)
        with torch.no_grad():
            return self.model.patches(feats, torch.as_tensor(rois, dtype=torch.float32,
                                                             device=self.device))

    def _fit_regression(self, feats: torch.Tensor, box: np.ndarray, origin: np.ndarray,
                        scale: float, image_wh: tuple[int, int]) -> torch.Tensor | None:
        """Fit the bounding-box regression (MDNet's): ridge from patch features to offsets."""
        cfg = self.config
        s = draw_samples(box, 4 * cfg.bbreg_samples, self._rng, 'uniform', 0.3, 1.6, 1.05,
                         image_wh)
        s = s[iou_xywh(s, box) > 0.6][:cfg.bbreg_samples]
        if len(s) < 8:
            return None
        x = self._patches(feats, s, origin, scale).double()
        x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype, device=x.device)], dim=1)
        y = torch.as_tensor(_offsets(s, box), device=x.device)
        eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device) * cfg.bbreg_lambda
        eye[-1, -1] = 0.0
        return torch.linalg.solve(x.T @ x + eye, x.T @ y).float()

    def _regress(self, feats: torch.Tensor, boxes: np.ndarray) -> np.ndarray:
        x = torch.cat([feats, torch.ones(len(feats), 1, device=feats.device)], dim=1)
        d = (x @ self._regressor).cpu().numpy().astype(np.float64)
        cx = boxes[:, 0] + boxes[:, 2] / 2 + d[:, 0] * boxes[:, 2]
        cy = boxes[:, 1] + boxes[:, 3] / 2 + d[:, 1] * boxes[:, 3]
        w = boxes[:, 2] * np.exp(np.clip(d[:, 2], -1.0, 1.0))
        h = boxes[:, 3] * np.exp(np.clip(d[:, 3], -1.0, 1.0))
        return np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)

    def _collect(self, feats: torch.Tensor, origin: np.ndarray, scale: float,
                 image_wh: tuple[int, int]) -> None:
        cfg = self.config
        pos, neg = labelled_samples(self._box, cfg.update_pos, cfg.update_neg, self._rng,
                                    image_wh, neg_iou=0.3)
        self._pos_memory.append(self._patches(feats, pos, origin, scale))
        self._neg_memory.append(self._patches(feats, neg, origin, scale))
        del self._pos_memory[:-cfg.memory_long]
        del self._neg_memory[:-cfg.memory_short]

    def _online_update(self, short: bool) -> None:
        cfg = self.config
        pos = torch.cat(self._pos_memory[-cfg.memory_short:] if short else self._pos_memory)
        neg = torch.cat(self._neg_memory)
        self._fast = self._sgd(self._fast, pos, neg, cfg.update_steps, cfg.update_lr)
        self.updates += 1

    def _sgd(self, fast: dict[str, torch.Tensor], pos: torch.Tensor, neg: torch.Tensor,
             steps: int, lr: float) -> dict[str, torch.Tensor]:
        """Take `steps` plain gradient steps, each on an init_pos / init_neg minibatch."""
        cfg = self.config
        step = InnerLoop({n: t.shape for n, t in fast.items()}, steps=1, lr=lr,
                         lr_mode='fixed')
        for _ in range(steps):
            p = pos[self._rng.integers(0, len(pos), min(cfg.init_pos, len(pos)))]
            n = neg[self._rng.integers(0, len(neg), min(cfg.init_neg, len(neg)))]
            x, y = _batch(p, n)
            fast = step(lambda f, x=x, y=y: self.model.loss(functional(self.model, f, x), y),
                        fast, meta_training=False)[-1]
        return fast

    def _result(self) -> Box:
        return Box(*(float(v) for v in self._box))


def _batch(pos: torch.Tensor, neg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.cat([pos, neg])
    y = torch.cat([torch.ones(len(pos)), torch.zeros(len(neg))]).to(x.device)
    return x, y


def _offsets(samples: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Return the regression targets (MDNet's) of samples (N, 4) towards box, xywh."""
    sc = samples[:, :2] + samples[:, 2:] / 2
    bc = box[:2] + box[2:] / 2
    return np.concatenate([(bc - sc) / samples[:, 2:], np.log(box[2:] / samples[:, 2:])],
                          axis=1)


@register_tracker('metasdnet', config=MetaSDNetConfig, needs_weights=True,
                  default_weights='metasdnet.safetensors')
class MetaSDNetTracker(_MDNetTracker):
    """MetaSDNet: meta-learned fc4-6 and per-element rates, one step (paper 001)."""

    def __init__(self, *, config: MetaSDNetConfig, weights: Path | None,
                 device: str = 'cpu') -> None:
        net = load_model(weights, 'metasdnet', MetaSDNetNet.from_args, type(self).__name__)
        if net.inner_args.lr_mode != 'parameter':
            raise WeightsError(f'{weights}: not meta-trained weights (inner lr_mode '
                               f'{net.inner_args.lr_mode!r}); the pyMDNet-k baselines take '
                               f'those')
        super().__init__(config=config, net=net, device=device)

    def _first_model(self, pos, neg):
        cfg = self.config
        theta0 = {n: t.detach() for n, t in self.net.inner.initial(self.model).items()}
        if cfg.init_steps == 0:
            return theta0, theta0
        x, y = _batch(pos[:cfg.init_pos], neg[:cfg.init_neg])
        fast = self.net.inner(lambda f: self.model.loss(functional(self.model, f, x), y),
                              theta0, steps=cfg.init_steps, meta_training=False)[-1]
        return theta0, fast


class PyMDNetTracker(_MDNetTracker):
    """pyMDNet-k: offline-trained fc4-5, a fresh fc6, k plain steps on the first frame."""

    def __init__(self, *, config: MetaSDNetConfig, weights: Path | None,
                 device: str = 'cpu') -> None:
        net = load_model(weights, 'metasdnet', MetaSDNetNet.from_args, type(self).__name__)
        super().__init__(config=config, net=net, device=device)

    def _first_model(self, pos, neg):
        cfg = self.config
        names = [n for n, _ in self.model.named_parameters() if n.split('.')[0] in
                 {p.split('.')[0] for p in ADAPTED}]
        own = dict(self.model.named_parameters())
        g = torch.Generator().manual_seed(cfg.seed)
        theta0 = {n: own[n].detach() for n in names}
        theta0['fc6.weight'] = (torch.randn(own['fc6.weight'].shape, generator=g)
                                * 0.01).to(self.device)
        theta0['fc6.bias'] = torch.zeros_like(own['fc6.bias'])
        return theta0, self._sgd(theta0, pos, neg, cfg.init_steps, cfg.init_lr)


for _k in (1, 15):
    register_variant(f'pymdnet_{_k:02d}', PyMDNetTracker, MetaSDNetConfig, {'init_steps': _k},
                     f'pyMDNet-{_k:02d}: offline fc4-5, fresh fc6, {_k} plain step(s) on the '
                     f'first frame (paper 001, Table 2).', default_weights='pymdnet.safetensors')
