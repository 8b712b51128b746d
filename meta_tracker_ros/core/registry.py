# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Decorator registry of trackers (detectron2 style) and the one factory the node uses."""

from __future__ import annotations

from dataclasses import dataclass
import importlib
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from meta_tracker_ros.core.config import ConfigError, TrackerConfig
from meta_tracker_ros.core.paths import find_weights
from meta_tracker_ros.core.tracker import Tracker


@dataclass(frozen=True)
class TrackerEntry:
    name: str
    cls: type
    config_cls: type[TrackerConfig]
    needs_weights: bool
    default_weights: str | None
    description: str


_REGISTRY: dict[str, TrackerEntry] = {}
_LOADED = False


def register_tracker(name: str, *, config: type[TrackerConfig], needs_weights: bool = False,
                     default_weights: str | None = None,
                     description: str = '') -> Callable[[type], type]:
    """
    Register a tracker class under a name, as a class decorator.

    Usage: ``@register_tracker('mlt', config=MLTConfig, needs_weights=True)``.

    The class is constructed as ``cls(config=cfg, weights=path_or_None, device=str)``;
    default_weights names a file in the package's weights/ folder, used when none is given.
    """

    def deco(cls: type) -> type:
        if name in _REGISTRY and _REGISTRY[name].cls is not cls:
            raise ValueError(f'tracker name {name!r} registered twice')
        _REGISTRY[name] = TrackerEntry(name, cls, config, needs_weights, default_weights,
                                       description or (cls.__doc__ or '').strip().split('\n')[0])
        cls.name = name
        return cls

    return deco


def _load_all() -> None:
    global _LOADED
    if not _LOADED:
        importlib.import_module('meta_tracker_ros.core.trackers')
        _LOADED = True


def available_trackers() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def get_entry(name: str) -> TrackerEntry:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f'unknown tracker {name!r}; available: {", ".join(sorted(_REGISTRY))}') from None


def build_tracker(name: str, config: TrackerConfig | Mapping[str, Any] | None = None,
                  weights: str | Path | None = None, device: str = 'cpu',
                  weights_dirs: Iterable[str | Path] = ()) -> Tracker:
    """
    Make a ready-to-initialise tracker; raises ConfigError or WeightsError with a reason.

    weights: a file path; relative paths and the tracker's default file name are looked up
    with core.paths.find_weights (extra weights_dirs first after the working directory).
    """
    entry = get_entry(name)
    if not isinstance(config, TrackerConfig):
        config = entry.config_cls.from_dict(config)
    elif not isinstance(config, entry.config_cls):
        raise ConfigError(f'{name} needs a {entry.config_cls.__name__}, '
                          f'got {type(config).__name__}')
    if weights and not (entry.needs_weights or entry.default_weights):
        raise ConfigError(f'tracker {name!r} takes no weights file (got {str(weights)!r})')
    if not weights and entry.default_weights:
        weights = entry.default_weights
    if weights:
        weights = find_weights(weights, weights_dirs)
    elif entry.needs_weights:
        raise ConfigError(f'tracker {name!r} needs a weights file (parameter weights)')
    return entry.cls(config=config, weights=weights, device=device)
