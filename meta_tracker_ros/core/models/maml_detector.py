# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Retina-MAML's and FCOS-MAML's detector (Wang et al., CVPR 2020, section 4.1, Fig. 4).

The paper's backbone is ResNet-18 with block 5 removed (stride 8), its first three blocks
ImageNet-trained and frozen, and two independent copies of block 4, one per branch. Ours
(deviation: the pretrained network this package already ships, faster on a CPU) is the
ImageNet MobileNetV2 cut at stride 8 (features[:7], 32 channels): features[:shared] frozen
and shared, features[shared:7] copied into the classification and the regression branch.
Each branch ends in a small head (head_convs 3x3 convolutions of `channels` and a 3x3
output convolution); there is no FPN, since the tracker's search region keeps the target
near one size (the paper's simplification).

- RetinaNet head: one 64x64 anchor per position; the classification output is the anchor's
  logit, the regression output the standard (dx, dy, log dw, log dh) offsets. Anchors with
  IoU > 0.5 are positive, < 0.3 negative (between: ignored); focal loss and smooth L1.
- FCOS head: the classification branch is FCOS's centre-ness alone (the paper keeps only it,
  as the score); the regression outputs the distances (l, t, r, b) from the position to the
  box's sides, exp-parameterised. L2 loss on the centre-ness output (no sigmoid: the score is
  the output clipped to [0, 1]; summed, divided by the positions inside the box), L1 (or IoU)
  on the distances of the positions inside the box.

Positions: output (i, j) of the 263x263 input sits at pixel (stride * j, stride * i) (each of
the three stride-2 convolutions has padding 1 and kernel 3). Boxes are (x1, y1, x2, y2) in
search-image pixels.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from meta_tracker_ros.core.config import strict_args
from meta_tracker_ros.core.meta.maml import InnerLoop, select_parameters
from meta_tracker_ros.core.models.backbones import MobileNetV2Cut
import torch
from torch import nn
import torch.nn.functional as F

HEADS = ('retina', 'fcos')
# Wang et al. 2020, Table 3 and section 4.3: the layers online training adapts (Fig. 4's
# "subset of trainable layers": the heads, not the copied blocks).
ADAPT = {'all': ('cls_head.*', 'reg_head.*'), 'cls': ('cls_head.*',)}


@dataclass(frozen=True)
class DetectorArgs:
    """Everything needed to rebuild the detector; stored in the weights file's metadata."""

    head: str = 'fcos'
    cut: int = 7                 # MobileNetV2 features[:cut]: stride 8, 32 channels
    shared: int = 5              # features[:shared] frozen and shared by both branches
    channels: int = 64           # head width
    head_convs: int = 1          # 3x3 conv + ReLU layers before each output convolution
    input_size: int = 263        # search image side (section 4.2)
    anchor: float = 64.0         # RetinaNet's single anchor (section 4.1)
    pos_iou: float = 0.5
    neg_iou: float = 0.3
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    fcos_reg_loss: str = 'l1'    # 'l1' (the paper) or 'iou'

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ValueError(f'head must be one of {HEADS}, got {self.head!r}')
        if not 1 <= self.shared < self.cut <= 7:
            raise ValueError(f'need 1 <= shared < cut <= 7, got shared {self.shared}, '
                             f'cut {self.cut}')
        if self.channels < 1 or self.head_convs < 0 or self.input_size < 64:
            raise ValueError('channels >= 1, head_convs >= 0 and input_size >= 64 required')
        if not 0.0 <= self.neg_iou <= self.pos_iou <= 1.0:
            raise ValueError('need 0 <= neg_iou <= pos_iou <= 1')
        if self.fcos_reg_loss not in ('l1', 'iou'):
            raise ValueError(f"fcos_reg_loss must be 'l1' or 'iou', got {self.fcos_reg_loss!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> DetectorArgs:
        return strict_args(cls, values, 'detector')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _head(in_channels: int, channels: int, convs: int, out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(convs):
        layers += [nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU(inplace=False)]
        in_channels = channels
    layers.append(nn.Conv2d(in_channels, out, 3, padding=1))
    return nn.Sequential(*layers)


class MAMLDetector(nn.Module):
    """
    Backbone + two branches + the Retina or FCOS head (section 4.1).

    forward(images (N, 3, S, S) in [0, 255]) -> (scores (N, H, W) logits, regression
    (N, 4, H, W)). Parameters adapted online are those of cls_head and reg_head (ADAPT);
    the copied blocks (cls_block, reg_block) train offline only.
    """

    def __init__(self, args: DetectorArgs) -> None:
        super().__init__()
        self.args = args
        cut = MobileNetV2Cut(cut=args.cut)
        self.stride = cut.stride
        self.register_buffer('mean', cut.mean.clone(), persistent=False)
        self.register_buffer('inv_std', cut.inv_std.clone(), persistent=False)
        self.shared = cut.features[:args.shared]
        block = cut.features[args.shared:]
        self.cls_block = block
        self.reg_block = copy.deepcopy(block)
        width = cut.out_channels
        self.cls_head = _head(width, args.channels, args.head_convs, 1)
        self.reg_head = _head(width, args.channels, args.head_convs, 4)
        for conv in (self.cls_head[-1], self.reg_head[-1]):
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)
        if args.head == 'retina':
            # Focal loss's prior (Lin et al. 2017): start with p(object) = 0.01 everywhere.
            nn.init.constant_(self.cls_head[-1].bias, -4.595)
        self.register_buffer('centres', self.positions(self.output_size(), self.output_size()),
                             persistent=False)

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> MAMLDetector:
        return cls(DetectorArgs.from_dict(values))

    def output_size(self, input_size: int | None = None) -> int:
        """Side of the score map for an input side (default the configured one)."""
        size = self.args.input_size if input_size is None else input_size
        for _ in range(self.stride.bit_length() - 1):
            size = (size + 1) // 2
        return size

    def positions(self, h: int, w: int) -> torch.Tensor:
        """Pixel (x, y) of each output position of an h x w map: (2, h, w)."""
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
        return torch.stack([xs, ys]).float().to(self.inv_std.device) * self.stride

    def load_imagenet(self, path: str | None = None) -> None:
        """Initialise the shared layers and both block copies from the ImageNet checkpoint."""
        cut = MobileNetV2Cut(cut=self.args.cut)
        cut.load_imagenet(path)
        self.shared.load_state_dict(cut.features[:self.args.shared].state_dict())
        for block in (self.cls_block, self.reg_block):
            block.load_state_dict(cut.features[self.args.shared:].state_dict())

    def freeze_shared(self) -> None:
        """Freeze the shared layers (section 4.1: pretrained and frozen), batch norm included."""
        for p in self.shared.parameters():
            p.requires_grad_(False)
        self.shared.eval()

    def train(self, mode: bool = True) -> MAMLDetector:
        # Batch norm keeps its ImageNet statistics everywhere: batches of one tracked target
        # would ruin them, and the inner loop must not depend on the batch.
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Run the shared, frozen part: images (N, 3, S, S) in [0, 255] -> (N, C, h, w)."""
        return self.shared((images - self.mean) * self.inv_std)

    def branches(self, feats: torch.Tensor) -> torch.Tensor:
        """Shared features -> both branches' block outputs, stacked on channels (N, 2C, h, w)."""
        return torch.cat([self.cls_block(feats), self.reg_block(feats)], dim=1)

    def heads(self, branches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Branch outputs (N, 2C, h, w) -> (score logits (N, H, W), regression (N, 4, H, W))."""
        c = branches.shape[1] // 2
        return self.cls_head(branches[:, :c])[:, 0], self.reg_head(branches[:, c:])

    def forward(self, inputs: torch.Tensor, level: str = 'images'
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Return (score logits (N, H, W), regression (N, 4, H, W)).

        inputs are images, shared features or branch outputs (level): online updates adapt
        only the heads, so the tracker keeps its support set as branch outputs and runs only
        the heads in the inner loop.
        """
        if level == 'images':
            inputs = self.features(inputs)
        if level in ('images', 'features'):
            inputs = self.branches(inputs)
        elif level != 'branches':
            raise ValueError(f"level must be 'images', 'features' or 'branches', got {level!r}")
        return self.heads(inputs)

    def scores(self, cls: torch.Tensor) -> torch.Tensor:
        """Classification outputs -> scores in [0, 1]: Retina's sigmoid, FCOS's centre-ness."""
        if self.args.head == 'retina':
            return torch.sigmoid(cls)
        return cls.clamp(0.0, 1.0)

    def decode(self, reg: torch.Tensor) -> torch.Tensor:
        """Regression (N, 4, H, W) -> boxes (N, 4, H, W) as (x1, y1, x2, y2) pixels."""
        h, w = reg.shape[-2:]
        grid = self.centres if self.centres.shape[-2:] == (h, w) else self.positions(h, w)
        cx, cy = grid[0], grid[1]
        if self.args.head == 'retina':
            a = self.args.anchor
            x = cx + reg[:, 0] * a
            y = cy + reg[:, 1] * a
            w = a * torch.exp(reg[:, 2].clamp(max=4.0))
            h = a * torch.exp(reg[:, 3].clamp(max=4.0))
            return torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], dim=1)
        d = self._distances(reg)
        return torch.stack([cx - d[:, 0], cy - d[:, 1], cx + d[:, 2], cy + d[:, 3]], dim=1)

    def _distances(self, reg: torch.Tensor) -> torch.Tensor:
        # FCOS: exp keeps distances positive; in units of the anchor size so that the
        # zero-initialised output starts at a plausible box.
        return self.args.anchor / 2 * torch.exp(reg.clamp(max=4.0))

    def loss(self, cls: torch.Tensor, reg: torch.Tensor, boxes: torch.Tensor
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """
        Return the detection loss of outputs (N, H, W), (N, 4, H, W) against boxes (N, 4).

        Returns (loss, parts), loss = classification + regression, each averaged as the
        detector's paper does (focal loss over the positive count; FCOS over positions).
        """
        if self.args.head == 'retina':
            return retina_loss(cls, reg, boxes, self.centres, self.args)
        return fcos_loss(cls, reg, boxes, self.centres, self.args, self._distances)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return the IoU of boxes (..., 4) against (..., 4) as (x1, y1, x2, y2), broadcast."""
    lt = torch.maximum(a[..., :2], b[..., :2])
    rb = torch.minimum(a[..., 2:], b[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (a[..., 2:] - a[..., :2]).clamp(min=0).prod(-1)
    area_b = (b[..., 2:] - b[..., :2]).clamp(min=0).prod(-1)
    return inter / (area + area_b - inter).clamp(min=1e-6)


def anchor_boxes(centres: torch.Tensor, size: float) -> torch.Tensor:
    """One size x size anchor per position: centres (2, H, W) -> (H, W, 4)."""
    c = centres.permute(1, 2, 0)
    return torch.cat([c - size / 2, c + size / 2], dim=-1)


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float,
               gamma: float) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017) per element; targets in {0, 1}."""
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction='none')
    p_t = p * targets + (1 - p) * (1 - targets)
    a_t = alpha * targets + (1 - alpha) * (1 - targets)
    return a_t * (1 - p_t) ** gamma * ce


def retina_targets(boxes: torch.Tensor, centres: torch.Tensor, args: DetectorArgs
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    Labels (N, H, W) in {1 positive, 0 negative, -1 ignored} and offsets (N, 4, H, W).

    Positive: anchor IoU > pos_iou; the best anchor is always positive (a small target
    overlaps no 64x64 anchor by 0.5, RetinaNet's low-quality match); negative < neg_iou.
    """
    anchors = anchor_boxes(centres, args.anchor)                       # (H, W, 4)
    iou = box_iou(anchors.unsqueeze(0), boxes[:, None, None, :])       # (N, H, W)
    labels = torch.full_like(iou, -1.0)
    labels[iou < args.neg_iou] = 0.0
    labels[iou > args.pos_iou] = 1.0
    best = iou.flatten(1).argmax(dim=1)
    labels.flatten(1)[torch.arange(len(boxes), device=best.device), best] = 1.0
    a = args.anchor
    gx = (boxes[:, 0] + boxes[:, 2]) / 2
    gy = (boxes[:, 1] + boxes[:, 3]) / 2
    gw = (boxes[:, 2] - boxes[:, 0]).clamp(min=1.0)
    gh = (boxes[:, 3] - boxes[:, 1]).clamp(min=1.0)
    offsets = torch.stack([(gx[:, None, None] - centres[0]) / a,
                           (gy[:, None, None] - centres[1]) / a,
                           torch.log(gw / a)[:, None, None].expand_as(iou),
                           torch.log(gh / a)[:, None, None].expand_as(iou)], dim=1)
    return labels, offsets, iou


def retina_loss(cls: torch.Tensor, reg: torch.Tensor, boxes: torch.Tensor,
                centres: torch.Tensor, args: DetectorArgs
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Focal loss over labelled anchors / positives + smooth L1 on the positives' offsets."""
    labels, offsets, _ = retina_targets(boxes, centres, args)
    valid = labels >= 0
    pos = labels > 0
    n_pos = pos.sum().clamp(min=1).float()
    cls_loss = focal_loss(cls[valid], labels[valid], args.focal_alpha,
                          args.focal_gamma).sum() / n_pos
    pos4 = pos.unsqueeze(1).expand_as(reg)
    reg_loss = F.smooth_l1_loss(reg[pos4], offsets[pos4], beta=1.0 / 9.0,
                                reduction='sum') / n_pos
    return cls_loss + reg_loss, {'cls': cls_loss.detach(), 'reg': reg_loss.detach()}


def fcos_targets(boxes: torch.Tensor, centres: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    Centre-ness (N, H, W), distances (N, 4, H, W) and the inside mask (N, H, W) (FCOS).

    Centre-ness = sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b)) inside the box, 0
    outside.
    """
    cx, cy = centres[0], centres[1]
    d = torch.stack([cx - boxes[:, 0, None, None], cy - boxes[:, 1, None, None],
                     boxes[:, 2, None, None] - cx, boxes[:, 3, None, None] - cy], dim=1)
    inside = d.min(dim=1).values > 0
    dc = d.clamp(min=1e-6)
    lr = torch.minimum(dc[:, 0], dc[:, 2]) / torch.maximum(dc[:, 0], dc[:, 2])
    tb = torch.minimum(dc[:, 1], dc[:, 3]) / torch.maximum(dc[:, 1], dc[:, 3])
    centreness = torch.where(inside, torch.sqrt(lr * tb), torch.zeros_like(lr))
    return centreness, d, inside


def fcos_loss(cls: torch.Tensor, reg: torch.Tensor, boxes: torch.Tensor,
              centres: torch.Tensor, args: DetectorArgs, distances
              ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """L2 on the centre-ness (all positions, per positive) + L1 (or IoU) inside the box."""
    target, d, inside = fcos_targets(boxes, centres)
    n = inside.sum().clamp(min=1).float()
    # L2 on the centre-ness output itself (the score is that output clipped to [0, 1], see
    # MAMLDetector.scores), summed over every position and divided by the positions inside
    # the box (FCOS's normalisation by the positives). The paper names the L2 loss, not its
    # output or normalisation. Tried first: L2 on a sigmoid, averaged over all positions.
    # Most targets are 0, the sigmoid saturates there and its gradient vanishes: after 80
    # minutes (and again with the per-positive normalisation) the centre-ness was about 0.01
    # everywhere, target included, peaking only at the border; validation AUC 0.13.
    cls_loss = ((cls - target) ** 2).sum() / n
    pred = distances(reg)
    m = inside.unsqueeze(1).expand_as(pred)
    if args.fcos_reg_loss == 'l1':
        reg_loss = (pred[m] - d[m]).abs().sum() / (4 * n) / args.anchor
    else:
        p, g = pred.permute(0, 2, 3, 1)[inside], d.permute(0, 2, 3, 1)[inside]
        area_p = (p[:, 0] + p[:, 2]) * (p[:, 1] + p[:, 3])
        area_g = (g[:, 0] + g[:, 2]) * (g[:, 1] + g[:, 3])
        w = torch.minimum(p[:, 0], g[:, 0]) + torch.minimum(p[:, 2], g[:, 2])
        h = torch.minimum(p[:, 1], g[:, 1]) + torch.minimum(p[:, 3], g[:, 3])
        inter = w * h
        iou = inter / (area_p + area_g - inter).clamp(min=1e-6)
        reg_loss = -torch.log(iou.clamp(min=1e-6)).sum() / n
    return cls_loss + reg_loss, {'cls': cls_loss.detach(), 'reg': reg_loss.detach()}


@dataclass(frozen=True)
class InnerArgs:
    """The inner loop trained with the detector (section 4.2); stored with the weights."""

    lr_mode: str = 'kernel'      # KLLR (eq. 5); 'fixed' for the baseline detector (Table 1)
    lr: float = 1e-3             # initial (and, when fixed, the) learning rate
    steps: int = 4               # offline inner steps (section 4.2)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> InnerArgs:
        return strict_args(cls, values, 'inner-loop')


class MAMLDetectorNet(nn.Module):
    """The detector and its inner loop (learned rates over every head parameter), one file."""

    def __init__(self, detector: DetectorArgs, inner: InnerArgs) -> None:
        super().__init__()
        self.detector = MAMLDetector(detector)
        self.inner_args = inner
        self.inner = InnerLoop.for_module(self.detector, ADAPT['all'], steps=inner.steps,
                                          lr=inner.lr, lr_mode=inner.lr_mode)

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> MAMLDetectorNet:
        unknown = sorted(set(values) - {'detector', 'inner'})
        if unknown:
            raise ValueError(f'unknown model argument group(s) {unknown}')
        return cls(DetectorArgs.from_dict(values.get('detector', {})),
                   InnerArgs.from_dict(values.get('inner', {})))

    def model_args(self) -> dict[str, Any]:
        return {'detector': self.detector.args.to_dict(), 'inner': asdict(self.inner_args)}

    def adapted_names(self, adapt: str) -> list[str]:
        """Names the online updates adapt: 'all' heads or the 'cls' head only (Table 3)."""
        if adapt not in ADAPT:
            raise ValueError(f'adapt must be one of {sorted(ADAPT)}, got {adapt!r}')
        return list(select_parameters(self.detector, ADAPT[adapt]))
