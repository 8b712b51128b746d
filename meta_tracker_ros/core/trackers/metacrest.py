# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MetaCREST and the CREST-k baselines (Park and Berg, "Meta-Tracker", ECCV 2018).

One correlation-filter tracker, two ways to build its first model:

- `metacrest`: the meta-learned theta_0 (1x1 dimension reduction + canonical-size filter,
  warped to the target) and one step of the meta-learned per-element rates alpha on the first
  frame (MetaCREST-01; init_steps for more), through the shared inner loop (core/meta).
- `crest_01`, `crest_05`, `crest_10` (the paper's CREST-k): CREST's own initialisation, the
  first frame's PCA projection (fixed afterwards) and a zero filter at the target's size,
  trained by k iterations of plain gradient descent at one fixed rate (crest_lr, chosen on
  synth-dev). Same feature extractor, label, loss (eq. 6) and search as metacrest, so the
  difference is the initialisation.

Per frame both search a crop around the previous centre at three scales (one batch), take
the scale whose response peaks highest (non-unit scales penalised), locate the peak on the
cosine-windowed, bicubically upsampled response and move by it; the size follows the chosen
scale, damped. Tracked frames scoring above update_threshold join a memory of the last
`memory` frames (the first always kept); every update_interval frames update_steps plain
gradient steps at update_lr run on it (the paper: "we find a learning rate for subsequent
frames and then use existing optimization algorithms", 2 iterations for CREST). The lost
state and the widening re-detection search are core/ops/lost.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meta_tracker_ros.core.config import param, with_default
from meta_tracker_ros.core.meta.maml import functional, InnerLoop
from meta_tracker_ros.core.models.backbones import inference_graph
from meta_tracker_ros.core.models.metacrest import ADAPTED, MetaCREST, MetaCRESTArgs, \
    MetaCRESTNet, pca_projection
from meta_tracker_ros.core.ops.crops import (check_image, context_size, crop_square,
                                             crop_to_tensor_layout, mean_color)
from meta_tracker_ros.core.ops.lost import LostConfig, peak_to_sidelobe
from meta_tracker_ros.core.ops.windows import apply_window, cosine_window, upsample
from meta_tracker_ros.core.registry import register_tracker, register_variant
from meta_tracker_ros.core.types import Box, TrackResult, TrackState
from meta_tracker_ros.core.weights import load_model, WeightsError
import numpy as np
import torch


@dataclass(frozen=True)
class MetaCRESTConfig(LostConfig):
    """
    The correlation tracker's search, updates and lost state.

    The lost defaults are provisional, not yet calibrated (training/calibrate_lost.py): the
    shared floor 0.2 reported CREST-01's tracked frames lost (its peaks lie near 0.15), so
    the floor is off and a peak under half the median of the track's recent peaks is lost.
    """

    lost_threshold: float = with_default(LostConfig, 'lost_threshold', 0.0)
    lost_ratio: float = with_default(LostConfig, 'lost_ratio', 0.5)

    init_steps: int = param(1, 'meta-learned steps on the first frame (MetaCREST-01: 1)',
                            min=0, max=100)
    scales: int = param(3, 'scales searched per frame (1 or an odd number)', min=1, max=7)
    scale_step: float = param(1.04, 'ratio between neighbouring search scales', min=1.0,
                              max=1.5)
    scale_penalty: float = param(0.97, 'factor on the peaks of the non-unit scales',
                                 min=0.5, max=1.0)
    scale_lr: float = param(0.5, 'damping of the size change towards the chosen scale',
                            min=0.0, max=1.0)
    window_influence: float = param(0.2, 'cosine window weight on the response', min=0.0,
                                    max=1.0)
    upsample: int = param(4, 'bicubic upsampling of the response before the peak', min=1,
                          max=16)
    update_interval: int = param(2, 'frames between online updates (0 = never)', min=0,
                                 max=10000)
    update_steps: int = param(2, 'gradient steps per online update (the paper: 2)', min=1,
                              max=100)
    update_lr: float = param(0.005, 'fixed learning rate of the online updates (half of '
                             "CREST-k's first-frame rate)", min=0.0, max=10.0)
    update_threshold: float = param(0.3, 'peak a tracked frame needs to join the memory',
                                    min=0.0, max=1.0)
    memory: int = param(10, 'frames kept for the online updates (the first always)', min=1,
                        max=1000)
    min_scale: float = param(0.2, 'smallest target size relative to the initial one',
                             min=0.01, max=1.0)
    max_scale: float = param(5.0, 'largest target size relative to the initial one',
                             min=1.0, max=100.0)


@dataclass(frozen=True)
class CRESTConfig(MetaCRESTConfig):
    """CREST-k: PCA and a zero filter trained by crest_steps fixed-rate steps."""

    crest_steps: int = param(5, 'gradient steps on the first frame (CREST-k)', min=1, max=200)
    crest_lr: float = param(0.01, "CREST-k's fixed first-frame learning rate (the largest "
                            'stable one on synth-dev, benchmarks/meta_init.py)', min=1e-6,
                            max=10.0)


class _CorrelationTracker:
    """The search, updates and lost state shared by metacrest and crest_k."""

    name = ''

    def __init__(self, *, config: MetaCRESTConfig, model: MetaCREST,
                 device: str = 'cpu') -> None:
        if config.scales % 2 == 0:
            raise ValueError(f'scales must be odd, got {config.scales}')
        self.config = config
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self._size = model.args.input_size
        self._graph = inference_graph(model.backbone, self._size) \
            if self.device.type == 'cpu' else model.backbone
        self._redetect = config.redetection(config.window_influence)
        self._windows: dict[int, np.ndarray] = {}
        self._reset_state()

    # --- what each variant defines -----------------------------------------------------------
    def _first_model(self, feats: torch.Tensor, centre: torch.Tensor, size: torch.Tensor
                     ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], list[str]]:
        """Return the weights before and after the first frame's steps, the adapted names."""
        raise NotImplementedError

    # --- protocol -------------------------------------------------------------------------------
    def initialize(self, image: np.ndarray, box: Box) -> None:
        h, w = check_image(image)
        box = box.validate_init(w, h)
        side = self._side(box.w, box.h)
        s = self._size / side
        feats = self._features([crop_square(image, box.cx, box.cy, side, self._size,
                                            mean_color(image))])
        c = (self._size - 1) / 2.0
        centre = torch.tensor([[c, c]], device=self.device)
        size = torch.tensor([[box.w * s, box.h * s]], device=self.device)
        self._reset_state()
        self._fsize = self.model.filter_size(box.w * s, box.h * s)
        self.first_weights, self._fast, self._names = self._first_model(feats, centre, size)
        self._memory = [(feats, centre, size)]
        self._center = np.array([box.cx, box.cy])
        self._wh = np.array([box.w, box.h])
        self._base_wh = self._wh.copy()
        self._t = 1
        self._state = TrackState.TRACKING

    def update(self, image: np.ndarray) -> TrackResult:
        if self._fast is None:
            raise RuntimeError('update() before initialize()')
        check_image(image)
        cfg = self.config
        self._t += 1
        lost = self._state == TrackState.LOST
        frames = self._lost.lost_frames if lost else 0
        size, influence = self._redetect.search(frames, self._size, self.model.stride)
        base = self._side(*self._wh) * size / self._size
        n = 1 if lost else cfg.scales
        factors = cfg.scale_step ** (np.arange(n) - n // 2)
        pad = mean_color(image)
        feats = self._features([crop_square(image, self._center[0], self._center[1],
                                            base * f, size, pad) for f in factors])
        with torch.no_grad():
            resp = functional(self.model, self._fast, feats, self._fsize).cpu().numpy()
        peaks = resp.reshape(n, -1).max(axis=1) * np.where(factors == 1.0, 1.0,
                                                           cfg.scale_penalty)
        k = int(np.argmax(peaks))
        r = resp[k]
        self.last_psr = peak_to_sidelobe(r)
        up = cfg.upsample
        if r.shape[0] not in self._windows:
            self._windows[r.shape[0]] = cosine_window(r.shape[0] * up)
        fine = apply_window(upsample(r, up), self._windows[r.shape[0]], influence)
        iy, ix = np.unravel_index(int(np.argmax(fine)), fine.shape)
        score = float(np.clip(r[min(iy // up, r.shape[0] - 1), min(ix // up, r.shape[1] - 1)],
                              0.0, 1.0))
        if self._lost.judge(score, self.last_psr):
            self._state = TrackState.LOST
            return TrackResult(self._box(), score, None, self._state)
        self._state = TrackState.TRACKING
        stride = self.model.stride
        c = (size - 1) / 2.0
        px = np.array([stride * ((ix + 0.5) / up - 0.5), stride * ((iy + 0.5) / up - 0.5)])
        side = base * factors[k]
        pixel = side / size                       # image pixels per crop pixel
        self._center = np.clip(self._center + (px - c) * pixel, 0.0,
                               [image.shape[1], image.shape[0]])
        wh = self._wh * (1.0 - cfg.scale_lr + cfg.scale_lr * factors[k])
        self._wh = np.clip(wh, self._base_wh * cfg.min_scale, self._base_wh * cfg.max_scale)
        if score >= cfg.update_threshold and size == self._size:
            s = self._size / side
            self._memory.append((feats[k:k + 1],
                                 torch.tensor([[float(px[0]), float(px[1])]], device=self.device),
                                 torch.tensor([[self._wh[0] * s, self._wh[1] * s]],
                                              device=self.device, dtype=torch.float32)))
            if len(self._memory) > cfg.memory:
                del self._memory[1]
        if cfg.update_interval and self._t % cfg.update_interval == 0:
            self._online_update()
        return TrackResult(self._box(), score, None, self._state)

    def reset(self) -> None:
        self._reset_state()

    def loss_at(self, image: np.ndarray, box: Box, around: Box,
                weights: dict[str, torch.Tensor] | None = None) -> float:
        """
        Return CREST's loss (eq. 6) of a model on one frame: Table 2's measurement.

        The crop is cut around `around` (the search a tracker right on the previous frame
        makes) at the track's scale, the label sits on `box`; weights default to the current
        model (first_weights: before the first frame's steps).
        """
        side = self._side(*self._base_wh)
        s = self._size / side
        feats = self._features([crop_square(image, around.cx, around.cy, side, self._size,
                                            mean_color(image))])
        c = (self._size - 1) / 2.0
        centre = torch.tensor([[c + (box.cx - around.cx) * s, c + (box.cy - around.cy) * s]],
                              device=self.device)
        size = torch.tensor([[box.w * s, box.h * s]], device=self.device)
        with torch.no_grad():
            return float(self._loss_fn(feats, centre, size, {})(weights or self._fast))

    # --- steps ----------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self._fast: dict[str, torch.Tensor] | None = None
        self.first_weights: dict[str, torch.Tensor] = {}
        self._names: list[str] = []
        self._memory: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self._fsize = (1, 1)
        self._t = 0
        self._lost = self.config.lost_state()
        self.last_psr = float('nan')
        self.updates = 0
        self._state = TrackState.IDLE

    def _side(self, w: float, h: float) -> float:
        a = self.model.args
        return context_size(w, h, a.context) * a.search_factor

    def _features(self, crops: list[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(crop_to_tensor_layout(crops)).to(self.device)
        with torch.no_grad():
            return self._graph(x)

    def _loss_fn(self, feats: torch.Tensor, centre: torch.Tensor, size: torch.Tensor,
                 fixed: dict[str, torch.Tensor]):
        label = self.model.label(centre, size, feats.shape[-2:])

        def loss(fast: dict[str, torch.Tensor]) -> torch.Tensor:
            weights = {**fixed, **fast}
            out = functional(self.model, weights, feats, self._fsize)
            return self.model.loss(out, label, weights['filter'])
        return loss

    def _online_update(self) -> None:
        """update_steps plain gradient steps at update_lr on the memory."""
        cfg = self.config
        feats = torch.cat([f for f, _, _ in self._memory])
        centre = torch.cat([c for _, c, _ in self._memory])
        size = torch.cat([s for _, _, s in self._memory])
        fixed = {n: t for n, t in self._fast.items() if n not in self._names}
        step = InnerLoop({n: self._fast[n].shape for n in self._names}, steps=cfg.update_steps,
                         lr=cfg.update_lr, lr_mode='fixed')
        adapted = step(self._loss_fn(feats, centre, size, fixed),
                       {n: self._fast[n] for n in self._names}, meta_training=False)[-1]
        self._fast = {**self._fast, **adapted}
        self.updates += 1

    def _box(self) -> Box:
        return Box.from_center(self._center[0], self._center[1], self._wh[0], self._wh[1])


@register_tracker('metacrest', config=MetaCRESTConfig, needs_weights=True,
                  default_weights='metacrest.safetensors')
class MetaCRESTTracker(_CorrelationTracker):
    """MetaCREST: meta-learned reduction, filter and per-element rates, 1 step (paper 001)."""

    def __init__(self, *, config: MetaCRESTConfig, weights: Path | None,
                 device: str = 'cpu') -> None:
        self.net = load_model(weights, 'metacrest', MetaCRESTNet.from_args,
                              type(self).__name__)
        super().__init__(config=config, model=self.net.model, device=device)
        self.net.to(self.device).eval()

    def _first_model(self, feats, centre, size):
        names = list(ADAPTED)
        theta0 = {n: t.detach() for n, t in self.net.inner.initial(self.model).items()}
        if self.config.init_steps == 0:
            return theta0, theta0, names
        loss = self._loss_fn(feats, centre, size, {})
        fast = self.net.inner(loss, theta0, steps=self.config.init_steps,
                              meta_training=False)[-1]
        return theta0, fast, names


def _imagenet_model(args: dict[str, Any] | None = None) -> MetaCREST:
    model = MetaCREST(MetaCRESTArgs.from_dict(args or {}))
    try:
        model.load_imagenet()
    except (FileNotFoundError, ValueError) as exc:
        raise WeightsError(f'crest: {exc}') from exc
    return model


class CRESTTracker(_CorrelationTracker):
    """CREST-k: first-frame PCA, a zero filter, k fixed-rate gradient steps (paper 001)."""

    def __init__(self, *, config: CRESTConfig, weights: Path | None,
                 device: str = 'cpu') -> None:
        # No weights file (the registry refuses one): CREST has no offline training beyond
        # its ImageNet backbone.
        super().__init__(config=config, model=_imagenet_model(), device=device)

    def _first_model(self, feats, centre, size):
        cfg = self.config
        w, b = pca_projection(feats, self.model.args.channels)
        fast = {'reduce.weight': w, 'reduce.bias': b,
                'filter': feats.new_zeros(1, self.model.args.channels, *self._fsize)}
        names = ['filter']
        steps = InnerLoop({'filter': fast['filter'].shape}, steps=cfg.crest_steps,
                          lr=cfg.crest_lr, lr_mode='fixed')
        fixed = {n: t for n, t in fast.items() if n not in names}
        adapted = steps(self._loss_fn(feats, centre, size, fixed), {'filter': fast['filter']},
                        meta_training=False)[-1]
        return fast, {**fast, **adapted}, names


for _k in (1, 5, 10):
    register_variant(f'crest_{_k:02d}', CRESTTracker, CRESTConfig, {'crest_steps': _k},
                     f'CREST-{_k:02d}: PCA, a zero filter, {_k} fixed-rate step(s) on the first '
                     f'frame (paper 001, Table 2).', needs_weights=False)
