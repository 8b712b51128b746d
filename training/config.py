# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training configuration: one YAML file per stage, parsed strictly into a dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Sequence

from meta_tracker_ros.core.meta.maml import LR_MODES
import yaml

# Tracker families training/ makes weights for: MLT (stages 1 and 2) and the MAML detectors
# (training/detector.py, one stage).
FAMILIES = ('mlt', 'retina_maml', 'fcos_maml', 'trackmlp', 'metacrest', 'metasdnet')


class TrainConfigError(ValueError):
    """A training config with an unknown key or a bad value."""


@dataclass(frozen=True)
class TrainConfig:
    """
    One training stage.

    stage 1 trains the matching network on (x, z) pairs (section 3.2.1); stage 2 trains the
    meta-learner with the matching network fixed (section 3.2.2).
    data: list of sources, each a dataset spec understood by eval.datasets.load_dataset
    ('got10k:/path', 'lasot:/path', 'vid:/path') or a dict {synth: <suite>, videos: N,
    frames: N} for the generator (training suites only).
    bank_slots > 0 (stage 2) draws episodes from a feature bank (training.bank) of that many
    episodes with bank_contexts patches each, bank_refresh of them replaced per step.
    max_minutes bounds the stage's wall-clock time (counted across resumes); iterations
    bounds its steps; whichever comes first ends the stage.
    support_selection (stage 2): how each episode's M support patches are chosen from its M':
    'min_entropy' (the default: the M whose responses under the fixed matching network have
    the lowest entropy, eq. 5, as the tracker chooses them; the paper says only that they
    "are chosen") or 'random' (the first M of the M' patches, drawn at random).
    exemplar_background: weight of the exemplar template's positions off the target box in
    the loss (1 = the paper, every position alike; the tracker's exemplar_background, so
    training and tracking score the same template; a deviation).
    start (stage 1 without init_from): 'pretrained' (the backbone's pretrained weights, w5
    and the output scale at PyTorch's random init) or 'reference' (MatchingNetwork.
    init_reference: the untrained network IS siamfc_imagenet's matching, so training starts
    from the no-training floor).
    l2_sp: strength of L2-SP (Li et al., ICML 2018): (l2_sp / 2) * |theta - theta_0|^2 over
    the trained parameters, theta_0 their values at the stage's start (ImageNet, the
    orthonormal w5), instead of weight decay towards zero.
    validation: training.validation.ValidationConfig keys; when given, the stage tracks
    validation sequences (synth-dev, photo-dev) at its start and every few minutes and
    writes the weights that scored the highest AUC, not the last ones.
    family: 'mlt' or a MAML detector ('retina_maml', 'fcos_maml'; training/detector.py),
    which use: method ('maml' or Table 1's 'baseline' detector), inner_steps, inner_lr (the
    kernel-wise rates' start; the baseline's fixed rate), lr_mode (core.meta.maml.LR_MODES:
    'kernel' is KLLR), first_order_fraction (of the run, by iterations or time), zoom (the
    support set's zoom in/out); model: core.models.maml_detector.DetectorArgs keys.
    family 'trackmlp' (training/trackmlp.py): support (augmented search regions of the support
    frame), queries (search regions of other frames, with true masks), inner_steps and
    inner_lr (a fixed step, lr_mode 'fixed'); model: core.models.trackmlp.TrackMLPArgs keys.
    family 'metacrest' (training/metacrest.py): inner_steps (T, the paper's 1) and inner_lr
    (alpha's start) of Meta-SGD (lr_mode 'parameter'), max_gap the largest look-ahead delta
    (the paper's 10); model: core.models.metacrest.MetaCRESTArgs keys.
    family 'metasdnet' (training/metasdnet.py): method 'maml' (MetaSDNet, lr_mode 'parameter')
    or 'baseline' (the pyMDNet-k trackers' plain classifier), support (positive patches per
    frame, 3x as many negatives), inner_steps, inner_lr, max_gap (the look-ahead delta);
    model: core.models.metasdnet.MetaSDNetArgs keys.
    """

    stage: int
    run_dir: str
    output: str
    data: list[Any]
    model: dict[str, Any] = field(default_factory=dict)
    init_from: str = ''
    pretrained: str = 'imagenet'
    freeze_backbone_layers: int = 0
    iterations: int = 1000
    max_minutes: float = 0.0
    batch_size: int = 8
    lr: float = 1e-4
    weight_decay: float = 0.0
    support: int = 8
    contexts: int = 16
    max_gap: int = 100
    augment: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    threads: int = 1
    checkpoint_minutes: float = 5.0
    log_every: int = 20
    delta_scale_batches: int = 4
    bank_slots: int = 0
    bank_contexts: int = 24
    bank_refresh: int = 1
    exemplar_background: float = 1.0
    support_selection: str = 'min_entropy'
    start: str = 'pretrained'
    l2_sp: float = 0.0
    validation: dict[str, Any] = field(default_factory=dict)
    family: str = 'mlt'
    method: str = 'maml'
    inner_steps: int = 4
    inner_lr: float = 1e-3
    lr_mode: str = 'kernel'
    first_order_fraction: float = 0.75
    zoom: float = 1.08
    queries: int = 2

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise TrainConfigError(f'family must be one of {FAMILIES}, got {self.family!r}')
        if self.family != 'mlt':
            self._check_detector()
        if self.stage not in (1, 2):
            raise TrainConfigError(f'stage must be 1 or 2, got {self.stage!r}')
        if self.stage == 2 and not self.init_from:
            raise TrainConfigError('stage 2 needs init_from: the stage-1 weights file')
        if self.stage == 2 and self.model:
            raise TrainConfigError('stage 2 takes the model from init_from; remove model:')
        if not self.data:
            raise TrainConfigError('data: give at least one source')
        if self.pretrained not in ('imagenet', 'none'):
            raise TrainConfigError(f"pretrained must be 'imagenet' or 'none', "
                                   f'got {self.pretrained!r}')
        for name in ('iterations', 'batch_size', 'support', 'contexts', 'threads', 'log_every'):
            if int(getattr(self, name)) < 1:
                raise TrainConfigError(f'{name} must be positive, got {getattr(self, name)!r}')
        if self.bank_slots > 0 and (self.stage != 2 or self.bank_contexts < self.contexts):
            raise TrainConfigError('the feature bank is for stage 2 and needs bank_contexts >= '
                                   'contexts')
        if self.family == 'mlt' and self.support > self.contexts:
            raise TrainConfigError("support (M) must not exceed contexts (M')")
        if not 0.0 <= self.exemplar_background <= 1.0:
            raise TrainConfigError(f'exemplar_background must be in [0, 1], got '
                                   f'{self.exemplar_background!r}')
        if self.support_selection not in ('random', 'min_entropy'):
            raise TrainConfigError(f"support_selection must be 'random' or 'min_entropy', "
                                   f'got {self.support_selection!r}')
        if self.start not in ('pretrained', 'reference'):
            raise TrainConfigError(f"start must be 'pretrained' or 'reference', got "
                                   f'{self.start!r}')
        if self.start == 'reference' and (self.stage != 1 or self.init_from):
            raise TrainConfigError('start: reference is for stage 1 without init_from')
        if self.l2_sp < 0:
            raise TrainConfigError(f'l2_sp must not be negative, got {self.l2_sp}')
        try:
            from training.validation import ValidationConfig
            ValidationConfig.from_dict(self.validation)
        except (TypeError, ValueError) as exc:
            raise TrainConfigError(f'validation: {exc}') from exc
        if self.lr <= 0:
            raise TrainConfigError(f'lr must be positive, got {self.lr}')

    def _check_detector(self) -> None:
        if self.stage != 1:
            raise TrainConfigError(f'{self.family} trains in one stage (stage: 1)')
        if self.method not in ('maml', 'baseline'):
            raise TrainConfigError(f"method must be 'maml' or 'baseline', got {self.method!r}")
        if self.family == 'trackmlp' and (self.method != 'maml' or self.lr_mode != 'fixed'
                                          or self.queries < 1):
            raise TrainConfigError("trackmlp trains with method 'maml', lr_mode 'fixed' (the "
                                   "paper's fixed step) and queries >= 1")
        if self.family == 'metacrest' and (self.method != 'maml' or self.lr_mode != 'parameter'):
            raise TrainConfigError("metacrest trains with method 'maml' and lr_mode 'parameter' "
                                   '(Meta-SGD: a learned rate per element)')
        if self.family == 'metasdnet' and self.method == 'maml' and self.lr_mode != 'parameter':
            raise TrainConfigError("metasdnet's method 'maml' trains with lr_mode 'parameter' "
                                   '(Meta-SGD); the pyMDNet baseline is method: baseline')
        if self.lr_mode not in LR_MODES:
            raise TrainConfigError(f'lr_mode must be one of {LR_MODES}, got {self.lr_mode!r}')
        if self.inner_steps < 1 or self.inner_lr <= 0 or self.zoom < 1.0 \
                or not 0.0 <= self.first_order_fraction <= 1.0:
            raise TrainConfigError('need inner_steps >= 1, inner_lr > 0, zoom >= 1 and '
                                   'first_order_fraction in [0, 1]')
        if self.start != 'pretrained' or self.bank_slots:
            raise TrainConfigError('start: reference and the feature bank are MLT options')

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TrainConfigError(f'unknown training config key(s) {unknown}; valid keys: '
                                   f'{sorted(known)}')
        missing = sorted(n for n in ('stage', 'run_dir', 'output', 'data') if n not in values)
        if missing:
            raise TrainConfigError(f'training config lacks {missing}')
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path, overrides: Sequence[str] = ()) -> TrainConfig:
        """Read a YAML config; overrides 'key=value' (value in YAML) replace its keys."""
        path = Path(path)
        if not path.is_file():
            raise TrainConfigError(f'training config not found: {path}')
        values = yaml.safe_load(path.read_text())
        if not isinstance(values, dict):
            raise TrainConfigError(f'{path}: expected a mapping at the top level')
        for item in overrides:
            key, sep, value = item.partition('=')
            if not sep or not key:
                raise TrainConfigError(f'--set needs key=value, got {item!r}')
            values[key.strip()] = yaml.safe_load(value)
        try:
            return cls.from_dict(values)
        except TypeError as exc:
            raise TrainConfigError(f'{path}: {exc}') from exc

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
