# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MetaSDNet's classifier (Park and Berg, "Meta-Tracker", ECCV 2018, section 4.2, Fig. 2b).

MDNet scores image patches with a CNN: shared convolutional layers, then three fully
connected layers fc4, fc5 (ReLU) and fc6 (two logits: background, target), trained with the
binary cross-entropy of sampled positive and negative patches. MetaSDNet meta-learns the
initial fc4-6 and a learning rate per element (Meta-SGD) so that one step on the first
frame's patches gives a classifier that holds on future frames.

Deviations (say so in the docs): the convolutional layers are the ImageNet MobileNetV2 cut at
stride 8 (features[:7], frozen) instead of VGG-16 conv1-3; patches are not cropped and run
through the CNN one by one: the search region runs once and each patch's features are
RoI-aligned from the map (RT-MDNet's batching, the issue's accepted deviation), roi x roi
cells of 32 channels; fc widths of `hidden` (MDNet: 512).

Coordinates: boxes (x1, y1, x2, y2) in pixels of the input_size x input_size search crop.
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
from torchvision.ops import roi_align

# The layers MetaSDNet adapts: fc4-6 (MDNet's online layers are fc4-6 as well).
ADAPTED = ('fc4.*', 'fc5.*', 'fc6.*')


@dataclass(frozen=True)
class MetaSDNetArgs:
    """Everything needed to rebuild the classifier; stored in the weights file's metadata."""

    cut: int = 7                 # MobileNetV2 features[:cut]: stride 8, 32 channels
    roi: int = 5                 # RoI-aligned cells per patch side
    hidden: int = 256            # fc4 and fc5 width
    input_size: int = 255        # search crop side
    context: float = 0.5         # SiamFC's context margin
    search_factor: float = 2.5   # search crop side / context square side

    def __post_init__(self) -> None:
        if not 2 <= self.cut <= 18 or self.roi < 1 or self.hidden < 1 \
                or self.input_size < 64 or self.search_factor < 1.0:
            raise ValueError('need cut in 2..18, roi >= 1, hidden >= 1, input_size >= 64 and '
                             'search_factor >= 1')

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MetaSDNetArgs:
        return strict_args(cls, values, 'MetaSDNet')

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MetaSDNet(FrozenCNN):
    """Frozen CNN + RoI-aligned patch features + fc4-6."""

    def __init__(self, args: MetaSDNetArgs) -> None:
        super().__init__(args.cut)
        self.args = args
        width = self.backbone.out_channels * args.roi * args.roi
        self.fc4 = nn.Linear(width, args.hidden)
        self.fc5 = nn.Linear(args.hidden, args.hidden)
        self.fc6 = nn.Linear(args.hidden, 2)
        nn.init.normal_(self.fc6.weight, std=0.01)
        nn.init.zeros_(self.fc6.bias)

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> MetaSDNet:
        return cls(MetaSDNetArgs.from_dict(values))

    def patches(self, feats: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """
        RoI-align boxes (K, 5) as (image index, x1, y1, x2, y2) -> features (K, C*roi^2).

        Box coordinates are continuous crop pixels (pixel i spans [i, i + 1)). Cell j of the
        map is centred on pixel stride * j (the stride-2 convolutions have kernel 3 and
        padding 1), at continuous stride * j + 0.5, while roi_align (aligned) puts it at
        stride * (j + 0.5): the boxes shift by stride / 2 - 0.5 to meet it.
        """
        r = self.args.roi
        shift = torch.zeros(5, dtype=boxes.dtype, device=boxes.device)
        shift[1:] = self.stride / 2.0 - 0.5
        out = roi_align(feats, boxes + shift, (r, r), spatial_scale=1.0 / self.stride,
                        sampling_ratio=2, aligned=True)
        return out.flatten(1)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """Return the logits (K, 2) (background, target) of patch features (K, C*roi^2)."""
        x = F.relu(self.fc4(patches))
        x = F.relu(self.fc5(x))
        return self.fc6(x)

    @staticmethod
    def loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Return MDNet's binary softmax cross-entropy; labels (K,) in {0 background, 1 target}."""
        return F.cross_entropy(logits, labels.long())

    @staticmethod
    def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
        """Fraction of patches classified right (Table 2's MetaSDNet measure)."""
        return float((logits.argmax(1) == labels.long()).float().mean())


@dataclass(frozen=True)
class MetaSDNetInnerArgs:
    """The first frame's update: Meta-SGD (learned per-element rates) or a fixed rate."""

    steps: int = 1
    lr: float = 1e-3
    lr_mode: str = 'parameter'   # 'fixed' for the pyMDNet baseline's weights

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MetaSDNetInnerArgs:
        return strict_args(cls, values, 'MetaSDNet inner-loop')


class MetaSDNetNet(nn.Module):
    """The classifier and its inner loop (theta_0 and alpha), one weights file."""

    def __init__(self, args: MetaSDNetArgs, inner: MetaSDNetInnerArgs) -> None:
        super().__init__()
        self.model = MetaSDNet(args)
        self.inner_args = inner
        self.inner = InnerLoop.for_module(self.model, ADAPTED, steps=inner.steps, lr=inner.lr,
                                          lr_mode=inner.lr_mode)

    @classmethod
    def from_args(cls, values: Mapping[str, Any]) -> MetaSDNetNet:
        unknown = sorted(set(values) - {'model', 'inner'})
        if unknown:
            raise ValueError(f'unknown model argument group(s) {unknown}')
        return cls(MetaSDNetArgs.from_dict(values.get('model', {})),
                   MetaSDNetInnerArgs.from_dict(values.get('inner', {})))

    def model_args(self) -> dict[str, Any]:
        return {'model': self.model.args.to_dict(), 'inner': asdict(self.inner_args)}
