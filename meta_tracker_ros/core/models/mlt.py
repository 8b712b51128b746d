# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MLT's matching network and meta-learner (Choi et al., ICCV 2019, section 3).

Shapes: B episodes (or tracked targets), S search/context images per episode, C backbone
channels, K output kernels of the last layer (w5: K = 192; adapted: 192 + 32).

The last layer is applied functionally (embed takes its kernels as an argument) so that the
same code runs the base network (w5), the adapted one ([w5, w_target] with attention, eq. 4),
and the per-episode gradients of eq. 2 without mutating the module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from meta_tracker_ros.core.config import strict_args
from meta_tracker_ros.core.models.backbones import BACKBONES, build_backbone
import torch
from torch import nn
import torch.nn.functional as F


NORMALIZATIONS = ('position', 'window')


@dataclass(frozen=True)
class MLTModelArgs:
    """Everything needed to rebuild the network; stored in the weights file's metadata."""

    backbone: str = 'mobilenet_v2'
    backbone_args: dict[str, Any] = field(default_factory=lambda: {'cut': 7})
    last_channels: int = 192        # w5: 1x1xCx192 (section 3.2.1)
    extra_kernels: int = 32         # w_target: 1x1xCx32 (section 3.2.2)
    hidden: int = 512               # g_theta's two intermediate layers
    keep_prob: float = 0.7          # dropout keep probability while training
    exemplar_size: int = 127
    search_size: int = 255
    context: float = 0.5            # SiamFC context margin around the target
    pos_radius: float = 16.0        # label radius in search-image pixels (SiamFC's r_pos;
    #                                 the committed weights use 8, one stride: the paper's
    #                                 "+1 at the position of the target")
    # Feature L2 normalisation (section 3.2.1; the paper does not say over which axes):
    # 'position' normalises each spatial feature vector, so every exemplar position, flat
    # background included, weighs the same; 'window' normalises the exemplar embedding as a
    # whole and each exemplar-sized search window as a whole (a normalised cross-correlation),
    # so strongly textured positions dominate. Weights files without this key are 'position'.
    normalization: str = 'position'

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f'unknown backbone {self.backbone!r}; '
                             f'available: {", ".join(BACKBONES)}')
        if self.search_size <= self.exemplar_size:
            raise ValueError('search_size must exceed exemplar_size')
        if not 0.0 < self.keep_prob <= 1.0:
            raise ValueError(f'keep_prob must be in (0, 1], got {self.keep_prob}')
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f'normalization must be one of {NORMALIZATIONS}, '
                             f'got {self.normalization!r}')

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MLTModelArgs:
        return strict_args(cls, values, 'MLT model')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def logistic_loss(response: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """
    Eq. 6: logistic loss with label-imbalance weights, one value per response map.

    response: (..., H, W) scores f(x, z); labels: (..., H, W) in {-1, +1}. The weights
    c(+1) = |P| / (2 n_pos) and c(-1) = |P| / (2 n_neg) give positives and negatives equal
    total weight. Returns (...) losses.
    """
    pos = (labels > 0).to(response.dtype)
    neg = 1.0 - pos
    n_pos = pos.sum(dim=(-2, -1), keepdim=True).clamp(min=1.0)
    n_neg = neg.sum(dim=(-2, -1), keepdim=True).clamp(min=1.0)
    weights = pos * (0.5 / n_pos) + neg * (0.5 / n_neg)
    return (weights * F.softplus(-response * labels)).sum(dim=(-2, -1))


def response_labels(size: int, stride: int, offsets: torch.Tensor, radius: float) -> torch.Tensor:
    """
    Binary label maps g (+1 near the target, -1 elsewhere), section 3.2.1.

    offsets: (..., 2) target centre (dx, dy) relative to the search image centre, in search
    pixels. radius: in search pixels. Returns (..., size, size) float in {-1, +1}.
    """
    coords = (torch.arange(size, dtype=torch.float32) - (size - 1) / 2.0) * stride
    dx = coords.view(1, size) - offsets[..., 0, None, None].float()
    dy = coords.view(size, 1) - offsets[..., 1, None, None].float()
    inside = dx * dx + dy * dy <= radius * radius
    return inside.float() * 2.0 - 1.0


def exemplar_weights(shape: tuple[int, int], target_wh: tuple[float, float] | torch.Tensor,
                     stride: int, background: float) -> torch.Tensor:
    """
    Weights (h, w) of the exemplar template's positions: 1 on the target, background elsewhere.

    shape: the exemplar feature map's (h, w); target_wh: the target's size in exemplar pixels,
    centred in the exemplar, a pair or a (..., 2) tensor (then the result is (..., h, w)). A
    position's weight is its overlap with the target box grown by half a stride (linear over
    one stride), blended with background; the weights are scaled to mean 1, so a template that
    matches everywhere keeps its response. background = 1 gives all ones (the paper's
    template, every position weighing the same).
    """
    h, w = shape
    if not 0.0 <= background <= 1.0:
        raise ValueError(f'background must be in [0, 1], got {background}')
    wh = torch.as_tensor(target_wh, dtype=torch.float32).clamp(min=0.0)
    tw, th = wh[..., 0, None], wh[..., 1, None]
    xs = (torch.arange(w, dtype=torch.float32) - (w - 1) / 2.0).abs() * stride
    ys = (torch.arange(h, dtype=torch.float32) - (h - 1) / 2.0).abs() * stride
    mx = ((tw / 2.0 + stride / 2.0 - xs) / stride).clamp(0.0, 1.0)
    my = ((th / 2.0 + stride / 2.0 - ys) / stride).clamp(0.0, 1.0)
    weights = background + (1.0 - background) * my.unsqueeze(-1) * mx.unsqueeze(-2)
    mean = weights.mean(dim=(-2, -1), keepdim=True)
    return torch.where(mean > 0, weights / mean.clamp(min=1e-12), torch.ones_like(weights))


def semi_orthogonal(rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    """
    Return a fixed (rows, cols) matrix with orthonormal columns (W^T W = I), rows >= cols.

    The identity when rows == cols; otherwise the Q of a seeded Gaussian matrix, so every row
    is non-zero and receives gradients (zero rows of [I; 0] would never train: their output
    is zero in both branches of the correlation).
    """
    if rows < cols:
        raise ValueError(f'need rows >= cols for orthonormal columns, got {rows}x{cols}')
    if rows == cols:
        return torch.eye(rows)
    g = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(rows, cols, generator=g, dtype=torch.float64))
    return (q * torch.sign(torch.diagonal(r))).float()


def _scaled(weight: torch.Tensor, attention: torch.Tensor | None) -> torch.Tensor:
    """Fold a channel attention (B, K) into the kernels (B, K, C): a_k * w_k."""
    return weight if attention is None else weight * attention.unsqueeze(-1)


def embed(feats: torch.Tensor, weight: torch.Tensor,
          attention: torch.Tensor | None = None) -> torch.Tensor:
    """
    Last layer, channel-wise attention and L2 normalisation (section 3.2.1, eq. 4).

    feats: (B, S, C, h, w) backbone features; weight: (B, K, C) 1x1 kernels per episode;
    attention: (B, K) in (0, 1) or None. Returns (B, S, K, h, w), each spatial feature vector
    of unit length (the paper does not say along which axis it normalises; per position keeps
    the correlation a bounded cosine similarity).
    """
    b, s, c, h, w = feats.shape
    out = torch.matmul(_scaled(weight, attention).unsqueeze(1), feats.reshape(b, s, c, h * w))
    return F.normalize(out, dim=2).reshape(b, s, -1, h, w)


def template(feats: torch.Tensor, weight: torch.Tensor,
             attention: torch.Tensor | None = None) -> torch.Tensor:
    """
    Map the exemplar's embedding back through the last layer: W_a^T embed(x).

    feats: (B, C, hz, wz). Returns (B, C, hz, wz). With normalize_search this computes the
    correlation of embed(x) and embed(z) in the C backbone channels instead of the K = 224
    embedding channels (the same value, reassociated; 5-7x less work on a CPU):
    sum_k ez_k * (W_a f)_k / |W_a f| = sum_c (W_a^T ez)_c * f_c / |W_a f|.
    """
    ez = embed(feats.unsqueeze(1), weight, attention)[:, 0]
    b, k, h, w = ez.shape
    wa = _scaled(weight, attention)
    return torch.matmul(wa.transpose(1, 2), ez.reshape(b, k, h * w)).reshape(b, -1, h, w)


def normalize_search(feats: torch.Tensor, weight: torch.Tensor,
                     attention: torch.Tensor | None = None, eps: float = 1e-12) -> torch.Tensor:
    """
    Search features divided by the norm of their embedding: f / |W_a f| per position.

    feats: (B, S, C, h, w). Returns the same shape. |W_a f|^2 = f^T (W_a^T W_a) f, so the
    K-channel embedding is never materialised.
    """
    b, s, c, h, w = feats.shape
    wa = _scaled(weight, attention)
    gram = torch.matmul(wa.transpose(1, 2), wa).unsqueeze(1)
    flat = feats.reshape(b, s, c, h * w)
    sq = (flat * torch.matmul(gram, flat)).sum(dim=2, keepdim=True)
    return (flat / sq.clamp(min=0.0).sqrt().clamp(min=eps)).reshape(b, s, c, h, w)


def window_template(feats: torch.Tensor, weight: torch.Tensor,
                    attention: torch.Tensor | None = None, eps: float = 1e-12) -> torch.Tensor:
    """
    Exemplar template for 'window' normalisation: W_a^T (e / |e|) with e = W_a z.

    feats: (B, C, hz, wz). The embedding e (B, K, hz, wz) is normalised as one vector.
    Returns (B, C, hz, wz).
    """
    b, c, h, w = feats.shape
    wa = _scaled(weight, attention)
    e = torch.matmul(wa, feats.reshape(b, c, h * w))
    e = e / e.flatten(1).norm(dim=1).clamp(min=eps).view(b, 1, 1)
    return torch.matmul(wa.transpose(1, 2), e).reshape(b, c, h, w)


def window_response(exemplar_template: torch.Tensor, feats: torch.Tensor,
                    weight: torch.Tensor, attention: torch.Tensor | None = None,
                    eps: float = 1e-12) -> torch.Tensor:
    """
    Normalised cross-correlation: cosine of the exemplar embedding and each search window's.

    exemplar_template: (B, C, hz, wz) from window_template; feats: (B, S, C, hx, wx).
    Returns (B, S, hx-hz+1, wx-wz+1) in [-1, 1]. A window's squared norm is the box sum of
    the per-position |W_a f|^2 = f^T (W_a^T W_a) f.
    """
    b, s, c, h, w = feats.shape
    hz, wz = exemplar_template.shape[-2:]
    wa = _scaled(weight, attention)
    gram = torch.matmul(wa.transpose(1, 2), wa).unsqueeze(1)
    flat = feats.reshape(b, s, c, h * w)
    sq = (flat * torch.matmul(gram, flat)).sum(dim=2).clamp(min=0.0).reshape(b * s, 1, h, w)
    win = F.avg_pool2d(sq, (hz, wz), stride=1).reshape(b, s, h - hz + 1, w - wz + 1)
    # correlate averages over the hz*wz positions, and so does avg_pool2d: the ratio is the
    # cosine once the window norm is taken as sqrt(hz*wz * mean).
    corr = correlate(exemplar_template, feats)
    return corr * ((hz * wz) ** 0.5) / win.sqrt().clamp(min=eps)


def correlate(exemplar: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
    """
    Cross-correlation (eq. 1) summed over channels, averaged over exemplar positions.

    exemplar: (B, K, hz, wz); search: (B, S, K, hx, wx). Returns (B, S, hx-hz+1, wx-wz+1).
    Computed with FFTs of size (hx, wx): the circular correlation equals the linear one on
    the valid positions, and on a CPU it is 5-20x faster than a grouped conv2d (forward and
    backward) for 16x16 exemplars.
    """
    hz, wz = exemplar.shape[-2:]
    hx, wx = search.shape[-2:]
    fx = torch.fft.rfft2(search, s=(hx, wx))
    fz = torch.fft.rfft2(exemplar, s=(hx, wx))
    out = torch.fft.irfft2((fx * fz.conj().unsqueeze(1)).sum(dim=2), s=(hx, wx))
    return out[..., :hx - hz + 1, :wx - wz + 1] * (1.0 / (hz * wz))


class MatchingNetwork(nn.Module):
    """
    Siamese matching network f_w(x, z) = phi_w(x) * phi_w(z) (eq. 1).

    backbone: phi's layers 1..N-1; last: w5 (no bias, no batch norm, so that [w5, w_target]
    is one homogeneous 1x1 layer). out_scale/out_bias map the bounded correlation to logits
    for eq. 6 (the paper does not describe this step; SiamFC has an equivalent adjust layer).
    """

    def __init__(self, args: MLTModelArgs) -> None:
        super().__init__()
        self.args = args
        self.backbone = build_backbone(args.backbone, **args.backbone_args)
        self.stride = int(self.backbone.stride)
        c = int(self.backbone.out_channels)
        self.last = nn.Conv2d(c, args.last_channels, 1, bias=False)
        self.out_scale = nn.Parameter(torch.tensor(10.0))
        self.out_bias = nn.Parameter(torch.tensor(-5.0))
        with torch.no_grad():
            was = self.backbone.training
            self.backbone.eval()
            hz = self.backbone(torch.zeros(1, 3, args.exemplar_size, args.exemplar_size)).shape
            hx = self.backbone(torch.zeros(1, 3, args.search_size, args.search_size)).shape
            self.backbone.train(was)
        self.exemplar_feat_size = int(hz[-1])
        self.search_feat_size = int(hx[-1])
        self.response_size = int(hx[-1] - hz[-1] + 1)

    @property
    def in_channels(self) -> int:
        """C: channels entering the last layer."""
        return int(self.last.weight.shape[1])

    def last_weight(self) -> torch.Tensor:
        """w5 as a (K, C) matrix."""
        return self.last.weight[:, :, 0, 0]

    def init_reference(self, pretrained: str | None = 'imagenet') -> None:
        """
        Make this network the no-training reference (siamfc_imagenet's matching).

        The backbone takes the ImageNet weights (pretrained 'imagenet'; None keeps its own),
        w5 a matrix with orthonormal columns (semi_orthogonal), out_scale/out_bias their
        initial 10 / -5. Then |w5 f| = |f| and the response is the cosine correlation of the
        backbone's own features, whatever w5's width: training from here starts at the
        reference and can only move away from it through what it learns.
        """
        if pretrained == 'imagenet':
            if not hasattr(self.backbone, 'load_imagenet'):
                raise ValueError(f'{self.args.backbone} has no ImageNet weights')
            self.backbone.load_imagenet()
        with torch.no_grad():
            k, c = self.last.weight.shape[:2]
            self.last.weight.copy_(semi_orthogonal(k, c)[:, :, None, None])
            self.out_scale.fill_(10.0)
            self.out_bias.fill_(-5.0)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Apply phi up to the last layer: images (N, 3, H, W) in [0, 255] -> (N, C, h, w)."""
        return self.backbone(images)

    def _kernels(self, b: int, weight: torch.Tensor | None) -> torch.Tensor:
        return self.last_weight().unsqueeze(0).expand(b, -1, -1) if weight is None else weight

    def template(self, exemplar_feats: torch.Tensor, weight: torch.Tensor | None = None,
                 attention: torch.Tensor | None = None,
                 exemplar_mask: torch.Tensor | None = None) -> torch.Tensor:
        """
        Map exemplar features to what respond_to correlates: shape (B, C, hz, wz).

        exemplar_mask: (B, hz, wz) weights of the template's positions (exemplar_weights),
        or None for all alike (the paper).
        """
        k = self._kernels(exemplar_feats.shape[0], weight)
        if self.args.normalization == 'window':
            out = window_template(exemplar_feats, k, attention)
        else:
            out = template(exemplar_feats, k, attention)
        return out if exemplar_mask is None else out * exemplar_mask.unsqueeze(1)

    def respond_to(self, exemplar_template: torch.Tensor, search_feats: torch.Tensor,
                   weight: torch.Tensor | None = None,
                   attention: torch.Tensor | None = None) -> torch.Tensor:
        """Response maps (B, S, H, W) of a template against search features (B, S, C, ...)."""
        k = self._kernels(search_feats.shape[0], weight)
        if self.args.normalization == 'window':
            cos = window_response(exemplar_template, search_feats, k, attention)
        else:
            cos = correlate(exemplar_template, normalize_search(search_feats, k, attention))
        return self.out_scale * cos + self.out_bias

    def respond(self, exemplar_feats: torch.Tensor, search_feats: torch.Tensor,
                weight: torch.Tensor | None = None, attention: torch.Tensor | None = None,
                exemplar_mask: torch.Tensor | None = None) -> torch.Tensor:
        """
        Response maps from backbone features: f_w(x, z) (eq. 1) or f_w_adapt (eq. 4).

        exemplar_feats: (B, C, hz, wz); search_feats: (B, S, C, hx, wx); weight: (B, K, C)
        last-layer kernels (default w5 for every episode); attention: (B, K) or None;
        exemplar_mask: (B, hz, wz) template position weights or None. Returns (B, S, H, W)
        logits.
        """
        return self.respond_to(self.template(exemplar_feats, weight, attention, exemplar_mask),
                               search_feats, weight, attention)

    def forward(self, exemplars: torch.Tensor, searches: torch.Tensor,
                exemplar_mask: torch.Tensor | None = None) -> torch.Tensor:
        """
        Run the base network on exemplars (B, 3, 127, 127) and searches (B, S, 3, 255, 255).

        exemplar_mask: (B, hz, wz) template position weights or None. Returns (B, S, 17, 17)
        logits.
        """
        b, s = searches.shape[:2]
        fz = self.features(exemplars)
        fx = self.features(searches.flatten(0, 1))
        return self.respond(fz, fx.view(b, s, *fx.shape[1:]), exemplar_mask=exemplar_mask)


class MetaLearner(nn.Module):
    """
    g_theta (section 3.2.2): delta -> (w_target, channel attention), eqs. 3-4.

    Three fully connected layers, two hidden of 512 units with ReLU, each followed by dropout
    (keep probability 0.7 while training). The input is delta divided by delta_scale, a
    constant fixed from the first training batches (the paper does not say how it scales the
    input; the raw gradients are orders of magnitude below 1). The last layer starts near zero
    so an untrained meta-learner leaves the matching network almost unchanged.
    """

    def __init__(self, in_channels: int, args: MLTModelArgs) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.base_kernels = args.last_channels
        self.extra_kernels = args.extra_kernels
        out_features = args.extra_kernels * in_channels + args.last_channels + args.extra_kernels
        drop = 1.0 - args.keep_prob
        self.layers = nn.Sequential(
            nn.Linear(args.last_channels * in_channels, args.hidden), nn.ReLU(inplace=True),
            nn.Dropout(drop),
            nn.Linear(args.hidden, args.hidden), nn.ReLU(inplace=True), nn.Dropout(drop),
            nn.Linear(args.hidden, out_features),
        )
        nn.init.normal_(self.layers[-1].weight, std=1e-3)
        nn.init.zeros_(self.layers[-1].bias)
        self.register_buffer('delta_scale', torch.tensor(1.0))

    def forward(self, delta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map delta (B, 192, C) to w_target (B, 32, C) and attention (B, 192 + 32) in (0, 1)."""
        b = delta.shape[0]
        out = self.layers(delta.reshape(b, -1) / self.delta_scale)
        n = self.extra_kernels * self.in_channels
        w_target = out[:, :n].view(b, self.extra_kernels, self.in_channels)
        attention = torch.sigmoid(out[:, n:])
        return w_target, attention


class MLTNet(nn.Module):
    """The matching network and its meta-learner, saved together in one weights file."""

    def __init__(self, args: MLTModelArgs) -> None:
        super().__init__()
        self.args = args
        self.matching = MatchingNetwork(args)
        self.meta_learner = MetaLearner(self.matching.in_channels, args)

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> MLTNet:
        return cls(MLTModelArgs.from_dict(values))

    def adapted_kernels(self, delta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """w_adapt's last layer [w5, g_theta(delta)] (B, 192 + 32, C) and its attention."""
        w_target, attention = self.meta_learner(delta)
        w5 = self.matching.last_weight().unsqueeze(0).expand(delta.shape[0], -1, -1)
        return torch.cat([w5, w_target], dim=1), attention
