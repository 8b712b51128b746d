# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
TrackMLP's model (paper 003: a SiamMask-style tracker adapted online by two-stage MAML).

- Backbone: the paper's ResNet-50 (SiamMask's) is replaced (deviation: CPU budget, the one
  pretrained network this package ships) by the ImageNet MobileNetV2 cut at stride 8:
  features[:shared] frozen, features[shared:cut] (the "body") trained in the outer loop only.
  Template 127x127 -> 16x16 features, of which the centre template_crop x template_crop are
  kept (SiamMask keeps the centre 7x7 of 15x15); search 255x255 -> 32x32.
- Three heads, each SiamMask's depth-wise correlation head: a 3x3 conv (+BN, ReLU) on each
  branch, depth-wise cross-correlation of the search features with the template's, then a
  1x1 conv (+BN, ReLU) and a 1x1 output conv. With an 8x8 template the maps are 25x25, as in
  the paper ("5 x 25 x 25 binary classification scores for 5 prior anchor boxes").
  - cls: one logit per anchor (5 aspect ratios of a 64x64 area), positives IoU > 0.6,
    negatives < 0.3, binary cross-entropy;
  - loc: the anchors' (dx, dy, log dw, log dh), smooth L1 on the positives;
  - mask: mask_size^2 = 63 x 63 logits per position, the target's mask in the 127x127 window
    of the search image centred on that position (SiamMask), logistic loss (eq. 8) at the
    positive positions. No refinement module (the paper's optional refine-model).
  Batch norm stays in eval mode (ImageNet and offline statistics), as the paper says for
  adaptation.
- The mask-label generator g_zeta (eq. 7): a 2-layer MLP from a 2-D Gaussian prior of the
  box, drawn on the mask_size grid of the window, to a soft label c in (-1, 1) per pixel; it
  trains through the inner loop (eq. 10), so the outer loss reaches it only through the
  second-order path of the heads' adaptation.

Coordinates: search-image pixels; output position (i, j) of the 25x25 maps is centred at
pixel (c + stride * (j - 12), c + stride * (i - 12)), c = (search_size - 1) / 2.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
import math
from typing import Any, Mapping

from meta_tracker_ros.core.config import strict_args
from meta_tracker_ros.core.models.backbones import MobileNetV2Cut
from meta_tracker_ros.core.models.maml_detector import box_iou
import torch
from torch import nn
import torch.nn.functional as F
from torchvision.ops import roi_align

HEADS = ('cls_head', 'loc_head', 'mask_head')
# What the inner loop adapts: each head's output layer (its last 1x1 convolution). The paper
# adapts "the heads"; here everything before their output layers stays as trained offline, so
# the first frame's hidden maps are computed once and the 20 online steps run only the output
# layers (deviation, for a CPU: 20 steps through whole heads on 40 regions took 17 s on one
# thread, through the layers after the correlation 6.4 s).
ADAPTED = tuple(f'{h}.head.3.*' for h in HEADS)


@dataclass(frozen=True)
class TrackMLPArgs:
    """Everything needed to rebuild the model; stored in the weights file's metadata."""

    cut: int = 7
    shared: int = 5
    channels: int = 64            # hidden width of every head
    exemplar_size: int = 127
    search_size: int = 255
    template_crop: int = 8        # centre of the template's features kept (SiamMask: 7 of 15)
    ratios: tuple[float, ...] = (0.33, 0.5, 1.0, 2.0, 3.0)
    anchor_size: float = 64.0     # side of the ratio-1 anchor
    pos_iou: float = 0.6
    neg_iou: float = 0.3
    mask_size: int = 63
    generator_hidden: int = 256

    def __post_init__(self) -> None:
        if not 1 <= self.shared < self.cut <= 7:
            raise ValueError(f'need 1 <= shared < cut <= 7, got {self.shared}, {self.cut}')
        if self.channels < 1 or self.mask_size < 8 or self.generator_hidden < 1:
            raise ValueError('channels >= 1, mask_size >= 8 and generator_hidden >= 1 required')
        if not self.ratios or any(r <= 0 for r in self.ratios):
            raise ValueError(f'ratios must be positive, got {self.ratios}')
        if not 0.0 <= self.neg_iou <= self.pos_iou <= 1.0:
            raise ValueError('need 0 <= neg_iou <= pos_iou <= 1')

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrackMLPArgs:
        values = dict(values)
        if 'ratios' in values:
            values['ratios'] = tuple(float(r) for r in values['ratios'])
        return strict_args(cls, values, 'TrackMLP model')

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d['ratios'] = list(self.ratios)
        return d


def depthwise_xcorr(search: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Correlate each channel of search (N, C, H, W) with kernel (N, C, h, w): (N, C, H', W')."""
    n, c, h, w = search.shape
    out = F.conv2d(search.reshape(1, n * c, h, w), kernel.reshape(n * c, 1, *kernel.shape[2:]),
                   groups=n * c)
    return out.reshape(n, c, *out.shape[2:])


class DepthCorrHead(nn.Module):
    """SiamMask's head: conv on each branch, depth-wise correlation, 1x1 convs to `out`."""

    def __init__(self, in_channels: int, hidden: int, out: int) -> None:
        super().__init__()

        def branch() -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(in_channels, hidden, 3, bias=False),
                                 nn.BatchNorm2d(hidden), nn.ReLU())
        self.conv_kernel = branch()
        self.conv_search = branch()
        self.head = nn.Sequential(nn.Conv2d(hidden, hidden, 1, bias=False),
                                  nn.BatchNorm2d(hidden), nn.ReLU(), nn.Conv2d(hidden, out, 1))

    def correlation(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Depth-wise cross-correlate the search features with the template: (N, hidden, h, w)."""
        return depthwise_xcorr(self.conv_search(x), self.conv_kernel(z))

    def correlate(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Template and search features -> the hidden map before the output layer."""
        return self.head[:3](self.correlation(z, x))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head[3](self.correlate(z, x))


class MaskLabelGenerator(nn.Module):
    """
    g_zeta (eq. 7): Gaussian prior of a box on the n x n mask grid -> soft label c in (-1, 1).

    Two layers (the paper's "2-layer MLP"); initialised so that c starts near the box's
    rectangle label (the last layer's bias -1 plus a learned offset would take longer).
    """

    def __init__(self, size: int, hidden: int) -> None:
        super().__init__()
        self.size = size
        self.net = nn.Sequential(nn.Linear(size * size, hidden), nn.ReLU(),
                                 nn.Linear(hidden, size * size))

    def prior(self, boxes: torch.Tensor) -> torch.Tensor:
        """Boxes (N, 4) x1, y1, x2, y2 in grid pixels -> Gaussian priors (N, n, n) in [0, 1]."""
        n = self.size
        g = torch.arange(n, dtype=boxes.dtype, device=boxes.device)
        cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
        # sigma of half the box side: the prior is 0.61 at the box's edges (the sides of an
        # upright ellipse inscribed in the box), near 0 two sides away.
        sx = ((boxes[:, 2] - boxes[:, 0]) / 2).clamp(min=0.5)
        sy = ((boxes[:, 3] - boxes[:, 1]) / 2).clamp(min=0.5)
        px = torch.exp(-0.5 * ((g[None] - cx[:, None]) / sx[:, None]) ** 2)
        py = torch.exp(-0.5 * ((g[None] - cy[:, None]) / sy[:, None]) ** 2)
        return py[:, :, None] * px[:, None, :]

    def forward(self, boxes: torch.Tensor) -> torch.Tensor:
        """Boxes (N, 4) in grid pixels -> soft labels (N, n, n) in (-1, 1)."""
        p = self.prior(boxes)
        return torch.tanh(self.net(p.flatten(1)).view_as(p) + 4.0 * (p - 0.5))


def anchors(size: float, ratios: tuple[float, ...]) -> torch.Tensor:
    """Anchor (w, h) per ratio h/w with area size^2: (A, 2)."""
    r = torch.tensor(ratios, dtype=torch.float32)
    w = size / torch.sqrt(r)
    return torch.stack([w, w * r], dim=1)


class FeatureNet(nn.Module):
    """A TrackMLP's backbone alone (normalisation, shared blocks, body), for tracing."""

    def __init__(self, model: TrackMLP) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.features(images)


class TrackMLP(nn.Module):
    """Backbone + cls, loc and mask heads (see the module docstring); forward on crops."""

    def __init__(self, args: TrackMLPArgs) -> None:
        super().__init__()
        self.args = args
        cut = MobileNetV2Cut(cut=args.cut)
        self.stride = cut.stride
        self.register_buffer('mean', cut.mean.clone(), persistent=False)
        self.register_buffer('inv_std', cut.inv_std.clone(), persistent=False)
        self.shared = cut.features[:args.shared]
        self.body = cut.features[args.shared:]
        width = cut.out_channels
        a = len(args.ratios)
        self.cls_head = DepthCorrHead(width, args.channels, a)
        self.loc_head = DepthCorrHead(width, args.channels, 4 * a)
        self.mask_head = DepthCorrHead(width, args.channels, args.mask_size ** 2)
        for head in (self.cls_head, self.loc_head, self.mask_head):
            nn.init.normal_(head.head[3].weight, std=0.01)
            nn.init.zeros_(head.head[3].bias)
        self.generator = MaskLabelGenerator(args.mask_size, args.generator_hidden)
        n = self.output_size()
        c = (args.search_size - 1) / 2.0
        offsets = (torch.arange(n, dtype=torch.float32) - (n - 1) / 2) * self.stride + c
        ys, xs = torch.meshgrid(offsets, offsets, indexing='ij')
        self.register_buffer('centres', torch.stack([xs, ys]), persistent=False)   # (2, n, n)
        self.register_buffer('anchor_wh', anchors(args.anchor_size, args.ratios),
                             persistent=False)

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> TrackMLP:
        return cls(TrackMLPArgs.from_dict(values))

    def output_size(self) -> int:
        """Side of the head maps: the search features after the 3x3 conv, minus the kernel's."""
        feat = math.ceil(self.args.search_size / self.stride)
        return (feat - 2) - (self.args.template_crop - 2) + 1

    def load_imagenet(self, path: str | None = None) -> None:
        cut = MobileNetV2Cut(cut=self.args.cut)
        cut.load_imagenet(path)
        self.shared.load_state_dict(cut.features[:self.args.shared].state_dict())
        self.body.load_state_dict(cut.features[self.args.shared:].state_dict())

    def freeze_shared(self) -> None:
        for p in self.shared.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> TrackMLP:
        super().train(mode)
        for m in self.modules():       # batch norm in eval mode, always (see the docstring)
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(self.shared((images - self.mean) * self.inv_std))

    def template_features(self, exemplars: torch.Tensor) -> torch.Tensor:
        """Exemplar crops (N, 3, 127, 127) -> the centre template_crop^2 features."""
        return self.crop_template(self.features(exemplars))

    def crop_template(self, features: torch.Tensor) -> torch.Tensor:
        """Keep the centre template_crop x template_crop of an exemplar's features."""
        k = self.args.template_crop
        top = (features.shape[-1] - k) // 2
        return features[..., top:top + k, top:top + k]

    def correlations(self, z: torch.Tensor, x: torch.Tensor, mask: bool = True
                     ) -> dict[str, torch.Tensor]:
        """Each head's hidden map (before its output layer) of template and search features."""
        heads = HEADS if mask else HEADS[:2]
        return {h: getattr(self, h).correlate(z, x) for h in heads}

    def forward(self, z: torch.Tensor | None = None, x: torch.Tensor | None = None,
                positions: torch.Tensor | None = None, mask: bool = True,
                corr: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """
        Template and search features -> cls (N, A, n, n), loc (N, 4A, n, n) and mask logits.

        corr: the heads' hidden maps (`correlations`) in place of z and x, so that repeated
        calls (the inner loop's steps) run only the output layers. The mask's 1x1 output
        layer (mask_size^2 channels) runs only where asked: positions (P, 3) of (batch, i, j)
        give 'mask' (P, m, m); without positions it is the whole map (N, m^2, n, n);
        mask=False skips the mask head.
        """
        if corr is None:
            corr = self.correlations(z, x, mask)
        out = {'cls': self.cls_head.head[3](corr['cls_head']),
               'loc': self.loc_head.head[3](corr['loc_head'])}
        if not mask:
            return out
        if positions is None:
            out['mask'] = self.mask_head.head[3](corr['mask_head'])
            return out
        hidden = corr['mask_head'][positions[:, 0], :, positions[:, 1], positions[:, 2]]
        out_conv = self.mask_head.head[3]
        logits = F.linear(hidden, out_conv.weight.flatten(1), out_conv.bias)
        out['mask'] = logits.view(-1, self.args.mask_size, self.args.mask_size)
        return out

    def mask_at(self, z: torch.Tensor, x: torch.Tensor, i: int, j: int) -> torch.Tensor:
        """Return the mask logits (N, m, m) of one position only (tracking: no full map)."""
        pos = torch.tensor([[b, i, j] for b in range(len(x))], device=x.device)
        return self.forward(z, x, pos)['mask']

    # --- targets and losses ---------------------------------------------------------------
    def anchor_boxes(self) -> torch.Tensor:
        """Return the anchors (A, n, n, 4) as x1, y1, x2, y2 in search pixels."""
        c = self.centres.permute(1, 2, 0)[None]                     # (1, n, n, 2)
        wh = self.anchor_wh[:, None, None, :]                        # (A, 1, 1, 2)
        return torch.cat([c - wh / 2, c + wh / 2], dim=-1)

    def targets(self, boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Boxes (N, 4) -> labels (N, A, n, n) in {1, 0, -1 ignored}, deltas (N, 4A, n, n)."""
        anc = self.anchor_boxes()
        iou = box_iou(anc[None], boxes[:, None, None, None, :])       # (N, A, n, n)
        labels = torch.full_like(iou, -1.0)
        labels[iou < self.args.neg_iou] = 0.0
        labels[iou > self.args.pos_iou] = 1.0
        best = iou.flatten(1).argmax(dim=1)
        labels.flatten(1)[torch.arange(len(boxes), device=boxes.device), best] = 1.0
        aw = (anc[..., 2] - anc[..., 0])[None]
        ah = (anc[..., 3] - anc[..., 1])[None]
        ax = ((anc[..., 0] + anc[..., 2]) / 2)[None]
        ay = ((anc[..., 1] + anc[..., 3]) / 2)[None]
        b = boxes[:, :, None, None, None]
        gx, gy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        gw, gh = (b[:, 2] - b[:, 0]).clamp(min=1.0), (b[:, 3] - b[:, 1]).clamp(min=1.0)
        deltas = torch.stack([(gx - ax) / aw, (gy - ay) / ah, torch.log(gw / aw),
                              torch.log(gh / ah)], dim=1)              # (N, 4, A, n, n)
        return labels, deltas.flatten(1, 2)

    def decode(self, loc: torch.Tensor) -> torch.Tensor:
        """Decode loc (N, 4A, n, n) to boxes (N, A, n, n, 4) x1, y1, x2, y2 (search pixels)."""
        n_, _, h, w = loc.shape
        d = loc.view(n_, 4, -1, h, w)
        anc = self.anchor_boxes()
        aw, ah = anc[..., 2] - anc[..., 0], anc[..., 3] - anc[..., 1]
        ax, ay = (anc[..., 0] + anc[..., 2]) / 2, (anc[..., 1] + anc[..., 3]) / 2
        cx, cy = ax + d[:, 0] * aw, ay + d[:, 1] * ah
        bw = aw * torch.exp(d[:, 2].clamp(max=4.0))
        bh = ah * torch.exp(d[:, 3].clamp(max=4.0))
        return torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], dim=-1)

    def window_boxes(self, positions: torch.Tensor) -> torch.Tensor:
        """Positions (P, 3) as (batch, i, j) -> their 127x127 windows (P, 5) for roi_align."""
        half = self.args.exemplar_size / 2.0
        cx = self.centres[0, positions[:, 1], positions[:, 2]]
        cy = self.centres[1, positions[:, 1], positions[:, 2]]
        return torch.stack([positions[:, 0].float(), cx - half, cy - half, cx + half,
                            cy + half], dim=1)

    def mask_labels(self, masks: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Cut true masks (N, S, S) of the search crops to +-1 labels (P, m, m) at positions."""
        m = self.args.mask_size
        patches = roi_align(masks[:, None].float(), self.window_boxes(positions), (m, m),
                            spatial_scale=1.0, sampling_ratio=2, aligned=True)[:, 0]
        return torch.where(patches > 0.5, 1.0, -1.0)

    def box_labels(self, boxes: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Boxes (N, 4) in search pixels -> the box in each position's mask grid (P, 4)."""
        w = self.window_boxes(positions)
        scale = self.args.mask_size / self.args.exemplar_size
        b = boxes[positions[:, 0]]
        return torch.stack([(b[:, 0] - w[:, 1]) * scale, (b[:, 1] - w[:, 2]) * scale,
                            (b[:, 2] - w[:, 1]) * scale, (b[:, 3] - w[:, 2]) * scale], dim=1)

    def loss(self, out: Mapping[str, torch.Tensor], boxes: torch.Tensor,
             mask_labels: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """
        Return cls + loc + mask losses against boxes (N, 4) and per-positive mask labels.

        mask_labels: (P, m, m) in [-1, 1] at `positive_positions(boxes)`, whose mask logits
        out['mask'] holds (forward with those positions); None = no mask loss. The labels are
        g_zeta's in the inner loop and the true masks in the outer loop: the same logistic
        loss of eq. 8, summed per pixel and averaged over positions.
        """
        labels, deltas = self.targets(boxes)
        valid = labels >= 0
        cls_loss = F.binary_cross_entropy_with_logits(out['cls'][valid], labels[valid])
        pos = labels > 0
        a = labels.shape[1]
        pos4 = pos[:, None].expand(-1, 4, -1, -1, -1).flatten(1, 2)
        reg = out['loc'].view(len(boxes), 4, a, *labels.shape[2:]).flatten(1, 2)
        n_pos = pos.sum().clamp(min=1).float()
        loc_loss = F.smooth_l1_loss(reg[pos4], deltas[pos4], beta=1.0 / 9.0,
                                    reduction='sum') / n_pos
        parts = {'cls': cls_loss.detach(), 'loc': loc_loss.detach()}
        total = cls_loss + loc_loss
        if mask_labels is not None:
            m = self.args.mask_size
            logits = out['mask']
            if logits.shape != mask_labels.shape:
                raise ValueError(f'mask logits {tuple(logits.shape)} for labels '
                                 f'{tuple(mask_labels.shape)}: run forward with the positive '
                                 'positions')
            seg = F.softplus(-mask_labels * logits).sum(dim=(1, 2)).mean() / (m * m)
            total = total + seg
            parts['mask'] = seg.detach()
        return total, parts

    def positive_positions(self, boxes: torch.Tensor) -> torch.Tensor:
        """(P, 3) batch, i, j of the positions where some anchor is positive for boxes."""
        labels, _ = self.targets(boxes)
        return torch.nonzero((labels > 0).any(dim=1))


@dataclass(frozen=True)
class TrackMLPInnerArgs:
    """The inner loop stored with the weights: fixed step size (the paper's 0.001)."""

    lr: float = 1e-3
    steps: int = 1               # offline (the paper: one step); online steps are the tracker's

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrackMLPInnerArgs:
        return strict_args(cls, values, 'TrackMLP inner-loop')


class TrackMLPNet(nn.Module):
    """The model and its inner loop over the three heads, one weights file."""

    def __init__(self, model: TrackMLPArgs, inner: TrackMLPInnerArgs) -> None:
        super().__init__()
        from meta_tracker_ros.core.meta.maml import InnerLoop
        self.model = TrackMLP(model)
        self.inner_args = inner
        self.inner = InnerLoop.for_module(self.model, ADAPTED,
                                          steps=inner.steps, lr=inner.lr, lr_mode='fixed')

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> TrackMLPNet:
        unknown = sorted(set(values) - {'model', 'inner'})
        if unknown:
            raise ValueError(f'unknown model argument group(s) {unknown}')
        return cls(TrackMLPArgs.from_dict(values.get('model', {})),
                   TrackMLPInnerArgs.from_dict(values.get('inner', {})))

    def model_args(self) -> dict[str, Any]:
        return {'model': self.model.args.to_dict(), 'inner': asdict(self.inner_args)}
