# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MetaCREST's model (Park and Berg, "Meta-Tracker", ECCV 2018, section 4.1, Fig. 2a).

F(x, theta): a cropped image centred on the target -> a frozen CNN feature extractor ->
a 1x1 convolution (the meta-learned dimension reduction, theta_d, in place of CREST's
per-sequence PCA) -> a single-layer correlation filter (theta_f) -> a response map, trained
towards a Gaussian label y with CREST's loss (eq. 6):

    sum over P of (exp(y) |y - y_hat|)^2 / |P| + lambda |f|^2,  P = {|y - y_hat| > 0.1},

divided here by the map's positions instead of |P| (see MetaCREST.loss).

theta_f is meta-learned at one canonical size and warped to each target's size in feature
cells by differentiable bilinear resampling (the paper's "canonical size initialization");
the warped filter is scaled by canonical area / target area so that the response does not
grow with the target. The per-element learning rates alpha (Meta-SGD) live in the shared
inner loop (core/meta/maml.py, lr_mode 'parameter').

Deviations (say so in the docs): the feature extractor is the ImageNet MobileNetV2 cut at
stride 8 (features[:7], 32 channels) instead of VGG-16 conv4_3 (512 channels), reduced to 16
channels instead of 64; the spatio-temporal residual modules of CREST are left out, as the
paper's MetaCREST leaves them out.

Geometry: a square crop of side search_factor x the SiamFC context square around the target,
resized to input_size pixels; output cell (i, j) of the response sits at crop pixel
(stride * j, stride * i) (each stride-2 convolution has kernel 3 and padding 1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from meta_tracker_ros.core.config import strict_args
from meta_tracker_ros.core.meta.maml import InnerLoop
from meta_tracker_ros.core.models.backbones import FrozenCNN
import torch
from torch import nn
import torch.nn.functional as F

# The parameters MetaCREST adapts (theta_d and theta_f); CREST-k adapts the filter only (its
# PCA projection is fixed after the first frame, as in CREST).
ADAPTED = ('reduce.weight', 'reduce.bias', 'filter')


@dataclass(frozen=True)
class MetaCRESTArgs:
    """Everything needed to rebuild the model; stored in the weights file's metadata."""

    cut: int = 7                 # MobileNetV2 features[:cut]: stride 8, 32 channels
    channels: int = 16           # after the 1x1 dimension reduction
    canonical_h: int = 9         # canonical filter size in cells (the mean training target:
    canonical_w: int = 9         # a square target is 64 px of the 255-px crop, 8 cells)
    input_size: int = 255
    context: float = 0.5         # SiamFC's context margin
    search_factor: float = 2.0   # crop side / context square side
    sigma: float = 0.1           # label Gaussian's sigma / the target's side (in cells)
    margin: float = 0.1          # eq. 6's P: positions off the label by more than this
    weight_decay: float = 1e-4   # eq. 6's lambda
    max_filter: int = 25         # largest warped filter side in cells

    def __post_init__(self) -> None:
        if not 2 <= self.cut <= 18 or self.channels < 1 or self.input_size < 64:
            raise ValueError('need cut in 2..18, channels >= 1 and input_size >= 64')
        if min(self.canonical_h, self.canonical_w) < 1 or self.canonical_h % 2 == 0 \
                or self.canonical_w % 2 == 0:
            raise ValueError('the canonical filter size must be odd and positive')
        if self.search_factor < 1.0 or self.sigma <= 0 or self.margin < 0 \
                or self.weight_decay < 0 or self.max_filter < 3:
            raise ValueError('need search_factor >= 1, sigma > 0, margin >= 0, '
                             'weight_decay >= 0 and max_filter >= 3')

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MetaCRESTArgs:
        return strict_args(cls, values, 'MetaCREST')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MetaCREST(FrozenCNN):
    """
    Feature extractor + 1x1 reduction + warped correlation filter.

    features(images (N, 3, S, S) in [0, 255]) -> (N, C, h, w), frozen; forward(features,
    filter_hw) -> responses (N, h, w) with the filter warped to filter_hw cells.
    """

    def __init__(self, args: MetaCRESTArgs) -> None:
        super().__init__(args.cut)
        self.args = args
        self.reduce = nn.Conv2d(self.backbone.out_channels, args.channels, 1)
        nn.init.orthogonal_(self.reduce.weight)
        nn.init.zeros_(self.reduce.bias)
        self.filter = nn.Parameter(torch.randn(1, args.channels, args.canonical_h,
                                               args.canonical_w) * 1e-2)
        n = self.output_size()
        ys, xs = torch.meshgrid(torch.arange(n), torch.arange(n), indexing='ij')
        self.register_buffer('grid', torch.stack([xs, ys]).float() * self.stride,
                             persistent=False)

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> MetaCREST:
        return cls(MetaCRESTArgs.from_dict(values))

    def output_size(self, input_size: int | None = None) -> int:
        """Side of the response map for an input side (default the configured one)."""
        size = self.args.input_size if input_size is None else input_size
        for _ in range(self.stride.bit_length() - 1):
            size = (size + 1) // 2
        return size

    def filter_size(self, w: float, h: float) -> tuple[int, int]:
        """Return the odd (rows, cols) in cells of the filter of a w x h (crop pixels) target."""
        def odd(v: float) -> int:
            k = int(round(v / self.stride))
            k = k + 1 if k % 2 == 0 else k
            return int(min(max(k, 1), self.args.max_filter - (1 - self.args.max_filter % 2)))
        return odd(h), odd(w)

    def warped_filter(self, filt: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Warp the canonical filter to size (rows, cols), scaled by the area ratio."""
        kh, kw = filt.shape[-2:]
        if (kh, kw) == tuple(size):
            return filt
        warped = F.interpolate(filt, size=size, mode='bilinear', align_corners=True)
        return warped * (kh * kw) / (size[0] * size[1])

    def forward(self, feats: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Return the responses (N, h, w) of features (N, C_in, h, w) to the warped filter."""
        x = self.reduce(feats)
        f = self.warped_filter(self.filter, size)
        return F.conv2d(x, f, padding=(size[0] // 2, size[1] // 2))[:, 0]

    def label(self, centres: torch.Tensor, sizes: torch.Tensor, shape: tuple[int, int]
              ) -> torch.Tensor:
        """
        Gaussian labels (N, h, w) peaking at 1 on each target centre (N, 2) in crop pixels.

        sigma = args.sigma x the target's side (sqrt of w x h, sizes (N, 2) in crop pixels).
        """
        h, w = shape
        grid = self.grid if self.grid.shape[-2:] == (h, w) else self._grid(h, w)
        side = torch.sqrt(sizes[:, 0] * sizes[:, 1]).clamp(min=1.0)
        sigma = (self.args.sigma * side).clamp(min=0.5 * self.stride)
        d2 = (grid[0] - centres[:, 0, None, None]) ** 2 \
            + (grid[1] - centres[:, 1, None, None]) ** 2
        return torch.exp(-0.5 * d2 / sigma[:, None, None] ** 2)

    def _grid(self, h: int, w: int) -> torch.Tensor:
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
        return torch.stack([xs, ys]).float().to(self.grid.device) * self.stride

    def loss(self, response: torch.Tensor, label: torch.Tensor, filt: torch.Tensor
             ) -> torch.Tensor:
        """
        Return eq. 6 (CREST's loss) averaged over the batch, plus lambda |f|^2.

        Deviation: the sum over P is divided by the positions of the map, not by |P| as eq. 6
        is printed. Divided by |P|, many small errors just over the margin lower the loss
        (they join P and dilute the target's error): a 15-minute meta-training run learnt
        exactly that, a noisy response whose loss (0.05) was lower than any peaked one.
        """
        diff = (label - response).abs()
        keep = (diff > self.args.margin).float()
        per = ((torch.exp(label) * diff) ** 2 * keep).flatten(1).mean(1)
        return per.mean() + self.args.weight_decay * (filt ** 2).sum()


def pca_projection(feats: torch.Tensor, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return CREST's dimension reduction: the first frame's PCA as a 1x1 convolution.

    feats (1, C, h, w) -> (weight (channels, C, 1, 1), bias (channels,)) projecting centred
    features on the top principal directions, scaled so the projection has unit variance
    overall (our addition: one SGD learning rate then suits every sequence).
    """
    x = feats[0].flatten(1).T                                   # (h*w, C)
    mean = x.mean(0)
    xc = x - mean
    _, s, v = torch.linalg.svd(xc, full_matrices=False)
    k = min(channels, v.shape[0])
    basis = v[:k]
    if k < channels:
        basis = torch.cat([basis, basis.new_zeros(channels - k, basis.shape[1])])
    var = float((s[:k] ** 2).sum()) / max(len(x) - 1, 1) / k
    basis = basis / max(var, 1e-12) ** 0.5
    return basis[:, :, None, None].contiguous(), -(basis @ mean)


@dataclass(frozen=True)
class MetaCRESTInnerArgs:
    """The meta-learned update (Meta-SGD): one step by default, alpha per element."""

    steps: int = 1
    lr: float = 1e-3             # alpha's initial value

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MetaCRESTInnerArgs:
        return strict_args(cls, values, 'MetaCREST inner-loop')


class MetaCRESTNet(nn.Module):
    """The model and its Meta-SGD inner loop (theta_0 and alpha), one weights file."""

    def __init__(self, args: MetaCRESTArgs, inner: MetaCRESTInnerArgs) -> None:
        super().__init__()
        self.model = MetaCREST(args)
        self.inner_args = inner
        self.inner = InnerLoop.for_module(self.model, ADAPTED, steps=inner.steps, lr=inner.lr,
                                          lr_mode='parameter')

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> MetaCRESTNet:
        unknown = sorted(set(values) - {'model', 'inner'})
        if unknown:
            raise ValueError(f'unknown model argument group(s) {unknown}')
        return cls(MetaCRESTArgs.from_dict(values.get('model', {})),
                   MetaCRESTInnerArgs.from_dict(values.get('inner', {})))

    def model_args(self) -> dict[str, Any]:
        return {'model': self.model.args.to_dict(), 'inner': asdict(self.inner_args)}
