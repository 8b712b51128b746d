# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TrackMLP: box and mask tracking, the heads adapted to the target on the first frame (paper 003).

On the first frame the support set is `support_size` augmentations of its search region
(shift, scale, horizontal flip with the template flipped alike, blur); `adapt_steps` steps of
the shared inner loop (core/meta/maml.py, the step size stored with the weights) adapt the
cls, loc and mask heads on it: cls and loc against the box, the mask against the soft label
the generator g_zeta makes from the box (`trackmlp`), against the box's rectangle
(`trackmlp_rect`), or no adaptation at all (`trackmlp_noadapt`): Table II's three rows.

Per frame (SiamMask's test procedure): the search region around the previous box, the
anchors' scores with SiamRPN's shape penalty and a cosine window, the best anchor's box with
its size interpolated; the mask of that position (its 127x127 window of the search region,
63x63 logits) is pasted into the frame and thresholded (`mask_threshold`); a rotated box is
fitted to it (cv2.minAreaRect) for TrackResult.angle. The lost state is core/ops/lost's;
while lost the search region widens as core/ops/lost.Redetection plans it, at the same input
resolution (the heads' maps keep their size: a deviation from the other trackers, which
enlarge the search image).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
from meta_tracker_ros.core.config import param, with_default
from meta_tracker_ros.core.meta.maml import functional
from meta_tracker_ros.core.models.backbones import inference_graph
from meta_tracker_ros.core.models.trackmlp import FeatureNet, TrackMLPNet
from meta_tracker_ros.core.ops.crops import (check_image, context_size, crop_square,
                                             crop_to_tensor_layout, mean_color)
from meta_tracker_ros.core.ops.lost import LostConfig, peak_to_sidelobe
from meta_tracker_ros.core.ops.windows import cosine_window, shape_penalised
from meta_tracker_ros.core.registry import register_tracker
from meta_tracker_ros.core.types import Box, TrackResult, TrackState
from meta_tracker_ros.core.weights import load_model
import numpy as np
import torch

MASK_LABELS = ('generated', 'rect', 'none')


@dataclass(frozen=True)
class TrackMLPConfig(LostConfig):
    """
    First-frame adaptation (paper 003, section IV), SiamMask's tracking, the lost state.

    Lost state calibrated on the committed weights (sha256 2901407b...; `python -m
    training.calibrate_lost --tracker trackmlp --max-seqs 24`, 24 sequences of synth-dev and
    photo-dev, docs/results/calibrate-lost/trackmlp.json): no absolute floor (the best one
    catches nothing at a false-lost rate <= 2%), lost when the peak is under 0.75 x the median
    of the recent tracked peaks and the peak-to-sidelobe ratio under 8: it catches 8% / 13%
    of the hidden frames at false-lost 1.8% / 1.1%. A weak signal: the anchor scores are low
    even on a tracked target (0.07-0.1 on the bag test's easy one; docs/trackers.md).
    """

    lost_threshold: float = with_default(LostConfig, 'lost_threshold', 0.0)
    lost_ratio: float = with_default(LostConfig, 'lost_ratio', 0.75)
    lost_psr: float = with_default(LostConfig, 'lost_psr', 8.0)

    context: float = param(0.5, 'context margin around the target (SiamFC)', min=0.0, max=4.0)
    optimize: bool = param(True, 'run the backbone as a frozen TorchScript graph on a CPU '
                           '(batch norm folded; 2-4x faster, the same network)')
    adapt_steps: int = param(20, 'inner steps on the first frame (the paper: 20)', min=0,
                             max=200)
    support_size: int = param(40, 'augmented copies of the first frame in the support set',
                              min=1, max=200)
    mask_label: str = param('generated', "the mask label of the adaptation: 'generated' "
                            "(g_zeta), 'rect' (the box) or 'none' (no mask loss)",
                            choices=MASK_LABELS)
    shift: float = param(0.1, 'support augmentation: largest shift, times the region side',
                         min=0.0, max=0.5)
    scale: float = param(0.1, 'support augmentation: largest relative scale change',
                         min=0.0, max=0.5)
    penalty_k: float = param(0.04, 'shape penalty strength (SiamRPN)', min=0.0, max=1.0)
    window_influence: float = param(0.42, 'cosine window weight (SiamMask)', min=0.0,
                                    max=1.0)
    size_lr: float = param(0.25, 'size interpolation rate, times the penalised score '
                           '(SiamMask)', min=0.0, max=1.0)
    mask_threshold: float = param(0.35, 'mask probability threshold (SiamMask)', min=0.0,
                                  max=1.0)
    min_scale: float = param(0.2, 'smallest target size relative to the initial one',
                             min=0.01, max=1.0)
    max_scale: float = param(5.0, 'largest target size relative to the initial one',
                             min=1.0, max=100.0)
    lost_search_max: int = with_default(LostConfig, 'lost_search_max', 511)


class TrackMLPTracker:
    """Paper 003's tracker over a TrackMLPNet weights file."""

    name = ''
    family = 'trackmlp'

    def __init__(self, *, config: TrackMLPConfig, weights: Path | None,
                 device: str = 'cpu') -> None:
        net = load_model(weights, self.family, TrackMLPNet.from_args, type(self).__name__)
        self.config = config
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.model = net.model
        self._features = self.model.features
        if config.optimize and self.device.type == 'cpu':
            self._features = inference_graph(FeatureNet(self.model), self.model.args.search_size)
        a = self.model.args
        self._ex, self._search = a.exemplar_size, a.search_size
        self._redetect = config.redetection(config.window_influence)
        self._centres = self.model.centres.cpu().numpy()
        n = self.model.output_size()
        self._window = np.tile(cosine_window(n)[None], (len(a.ratios), 1, 1)).reshape(-1)
        self._reset_state()

    # --- protocol -------------------------------------------------------------------------
    def initialize(self, image: np.ndarray, box: Box) -> None:
        h, w = check_image(image)
        box = box.validate_init(w, h)
        cfg = self.config
        pad = mean_color(image)
        s_z = context_size(box.w, box.h, cfg.context)
        exemplar = crop_square(image, box.cx, box.cy, s_z, self._ex, pad)
        z = self._template([exemplar, exemplar[:, ::-1]])
        self._reset_state()
        self._z = z[:1]
        if cfg.adapt_steps > 0 and cfg.support_size > 0:
            self._adapt(image, box, s_z, z, pad)
        self._center = np.array([box.cx, box.cy])
        self._wh = np.array([box.w, box.h])
        self._base_wh = self._wh.copy()
        self._state = TrackState.TRACKING

    def update(self, image: np.ndarray) -> TrackResult:
        if self._z is None:
            raise RuntimeError('update() before initialize()')
        check_image(image)
        cfg = self.config
        frames = self._lost.lost_frames if self._state == TrackState.LOST else 0
        wider, influence = self._redetect.search(frames, self._search, self.model.stride)
        s_x = context_size(*self._wh, cfg.context) * self._search / self._ex
        s_x *= wider / self._search
        scale = s_x / self._search                       # image pixels per search pixel
        crop = crop_square(image, self._center[0], self._center[1], s_x, self._search,
                           mean_color(image))
        with torch.no_grad():
            x = self._features(self._tensor([crop]))
            # The hidden maps before the adapted output layers, computed once per frame: the
            # mask's is added only when the frame is tracked (see _mask).
            corr = self.model.correlations(self._z, x, mask=False)
            out = functional(self.model, self._fast, mask=False, corr=corr)
            scores = torch.sigmoid(out['cls'])[0].cpu().numpy()          # (A, n, n)
            boxes = self.model.decode(out['loc'])[0].cpu().numpy()       # (A, n, n, 4)
        self.last_psr = peak_to_sidelobe(scores.max(axis=0))
        best, penalised = self._choose(scores, boxes, scale, influence)
        a, i, j = np.unravel_index(best, scores.shape)
        score = float(scores[a, i, j])
        if self._lost.judge(score, self.last_psr):
            self._state = TrackState.LOST
            return TrackResult(self._box(), score, None, self._state)
        self._state = TrackState.TRACKING
        crop_center = self._center.copy()
        self._move(boxes[a, i, j], scale, float(penalised[best]), image.shape)
        mask, angle = self._mask(x, corr, int(i), int(j), crop_center, scale, image.shape)
        return TrackResult(self._box(), score, mask, self._state, angle)

    def reset(self) -> None:
        self._reset_state()

    # --- steps ----------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self._z: torch.Tensor | None = None
        self._fast = {n: t.detach() for n, t in self.net.inner.initial(self.model).items()}
        self._lost = self.config.lost_state()
        self.last_psr = float('nan')
        self._state = TrackState.IDLE

    def _tensor(self, crops: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(crop_to_tensor_layout(crops)).to(self.device)

    def _template(self, crops: list[np.ndarray]) -> torch.Tensor:
        with torch.no_grad():
            return self.model.crop_template(self._features(self._tensor(
                [np.ascontiguousarray(c) for c in crops])))

    def _adapt(self, image: np.ndarray, box: Box, s_z: float, z: torch.Tensor,
               pad: tuple[float, float, float]) -> None:
        """Build the support set from the first frame, then take adapt_steps steps on the heads."""
        cfg = self.config
        rng = np.random.default_rng(0)                  # the same support for the same frame
        s_x = s_z * self._search / self._ex
        c = (self._search - 1) / 2.0
        crops, boxes, flips = [], [], []
        for k in range(cfg.support_size):
            if k == 0:
                dx = dy = 0.0
                zoom, flip, blur = 1.0, False, False
            else:
                dx, dy = rng.uniform(-cfg.shift, cfg.shift, 2) * s_x
                zoom = float(np.exp(rng.uniform(-cfg.scale, cfg.scale)))
                flip, blur = bool(rng.random() < 0.5), bool(rng.random() < 0.2)
            side = s_x * zoom
            crop = crop_square(image, box.cx + dx, box.cy + dy, side, self._search, pad)
            if blur:
                crop = cv2.GaussianBlur(crop, (5, 5), 1.5)
            s = self._search / side
            bx, by = c - dx * s, c - dy * s
            if flip:
                crop, bx = crop[:, ::-1], self._search - 1 - bx
            crops.append(np.ascontiguousarray(crop))
            boxes.append([bx - box.w * s / 2, by - box.h * s / 2, bx + box.w * s / 2,
                          by + box.h * s / 2])
            flips.append(flip)
        boxes_t = torch.tensor(boxes, dtype=torch.float32, device=self.device)
        zs = z[torch.tensor([int(f) for f in flips], device=self.device)]
        with torch.no_grad():
            x = self._features(self._tensor(crops))
            positions = self.model.positive_positions(boxes_t)
            labels = None
            if cfg.mask_label == 'generated':
                labels = self.model.generator(self.model.box_labels(boxes_t, positions))
            elif cfg.mask_label == 'rect':
                labels = self._rect_labels(self.model.box_labels(boxes_t, positions))
        model = self.model
        with torch.no_grad():      # the adapted output layers come after these maps
            corr = model.correlations(zs, x, labels is not None)

        def support_loss(fast: dict[str, torch.Tensor]) -> torch.Tensor:
            out = functional(model, fast, positions=positions, mask=labels is not None,
                             corr=corr)
            return model.loss(out, boxes_t, labels)[0]

        self._fast = self.net.inner(support_loss, self._fast, steps=cfg.adapt_steps,
                                    meta_training=False)[-1]

    def _rect_labels(self, grid_boxes: torch.Tensor) -> torch.Tensor:
        m = self.model.args.mask_size
        g = torch.arange(m, device=grid_boxes.device, dtype=torch.float32) + 0.5
        b = grid_boxes[:, :, None]
        inside_x = (g[None] >= b[:, 0]) & (g[None] <= b[:, 2])
        inside_y = (g[None] >= b[:, 1]) & (g[None] <= b[:, 3])
        return torch.where(inside_y[:, :, None] & inside_x[:, None, :], 1.0, -1.0)

    def _choose(self, scores: np.ndarray, boxes: np.ndarray, scale: float,
                influence: float) -> tuple[int, np.ndarray]:
        """Apply SiamRPN's shape penalty and cosine window; return the best anchor's index."""
        return shape_penalised(scores.reshape(-1), ((boxes[..., 2] - boxes[..., 0]) * scale)
                               .reshape(-1), ((boxes[..., 3] - boxes[..., 1]) * scale)
                               .reshape(-1), tuple(self._wh), self.config.penalty_k,
                               self._window, influence)

    def _move(self, box: np.ndarray, scale: float, penalised: float,
              shape: tuple[int, ...]) -> None:
        cfg = self.config
        c = (self._search - 1) / 2.0
        cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        self._center = np.clip(self._center + (np.array([cx, cy]) - c) * scale, 0.0,
                               [shape[1], shape[0]])
        lr = penalised * cfg.size_lr
        wh = np.maximum(np.array([box[2] - box[0], box[3] - box[1]]) * scale, 1.0)
        self._wh = np.clip(self._wh * (1.0 - lr) + wh * lr, self._base_wh * cfg.min_scale,
                           self._base_wh * cfg.max_scale)

    def _mask(self, x: torch.Tensor, corr: dict[str, torch.Tensor], i: int, j: int,
              crop_center: np.ndarray, scale: float, shape: tuple[int, ...]
              ) -> tuple[np.ndarray, float | None]:
        """Paste the chosen position's mask into the frame; fit the rotated box's angle."""
        m = self.model.args.mask_size
        with torch.no_grad():
            pos = torch.tensor([[0, i, j]], device=self.device)
            corr = {**corr, 'mask_head': self.model.mask_head.correlate(self._z, x)}
            logits = functional(self.model, self._fast, positions=pos, corr=corr)['mask'][0]
            prob = torch.sigmoid(logits).cpu().numpy().astype(np.float32)
        c = (self._search - 1) / 2.0
        centres = self._centres
        # The position's exemplar-sized window, in frame pixels.
        side = self._ex * scale
        ox = crop_center[0] + (centres[0, i, j] - c) * scale - side / 2
        oy = crop_center[1] + (centres[1, i, j] - c) * scale - side / 2
        k = side / m
        affine = np.array([[k, 0.0, ox + 0.5 * k - 0.5], [0.0, k, oy + 0.5 * k - 0.5]])
        full = cv2.warpAffine(prob, affine, (shape[1], shape[0]), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        mask = np.where(full > self.config.mask_threshold, 255, 0).astype(np.uint8)
        angle = None
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if contours:
            (_, _), (_, _), deg = cv2.minAreaRect(max(contours, key=cv2.contourArea))
            angle = float(np.deg2rad(deg))
        return mask, angle

    def _box(self) -> Box:
        return Box.from_center(self._center[0], self._center[1], self._wh[0], self._wh[1])


@register_tracker('trackmlp', config=TrackMLPConfig, needs_weights=True,
                  default_weights='trackmlp.safetensors')
class TrackMLPGenerated(TrackMLPTracker):
    """TrackMLP: adaptation on g_zeta's soft mask labels (Table II, last row)."""


@dataclass(frozen=True)
class TrackMLPRectConfig(TrackMLPConfig):
    """trackmlp_rect: the adaptation's mask label is the box's rectangle."""

    mask_label: str = param('rect', "the mask label of the adaptation: 'generated' "
                            "(g_zeta), 'rect' (the box) or 'none' (no mask loss)",
                            choices=MASK_LABELS)


@dataclass(frozen=True)
class TrackMLPNoAdaptConfig(TrackMLPConfig):
    """trackmlp_noadapt: no first-frame adaptation (the offline weights as they are)."""

    adapt_steps: int = param(0, 'inner steps on the first frame (the paper: 20)', min=0,
                             max=200)


@register_tracker('trackmlp_rect', config=TrackMLPRectConfig, needs_weights=True,
                  default_weights='trackmlp.safetensors')
class TrackMLPRect(TrackMLPTracker):
    """TrackMLP adapted on rectangular box masks (Table II)."""


@register_tracker('trackmlp_noadapt', config=TrackMLPNoAdaptConfig, needs_weights=True,
                  default_weights='trackmlp.safetensors')
class TrackMLPNoAdapt(TrackMLPTracker):
    """TrackMLP without online adaptation (Table II)."""
