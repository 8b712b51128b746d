# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Decorator registry of trackers (detectron2 style) and the one factory the node uses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
import importlib
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from meta_tracker_ros.core.config import ConfigError, TrackerConfig, with_default
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


def register_variant(name: str, tracker: type, base_config: type[TrackerConfig],
                     defaults: Mapping[str, Any], doc: str, *, needs_weights: bool = True,
                     default_weights: str | None = None) -> type:
    """
    Register a variant of a tracker class: the same class with other config defaults.

    The variant's config is a frozen subclass of base_config whose fields in `defaults` keep
    their help and range with the new default (core.config.with_default), so the node's
    parameters and the docs show the variant's own values; the tracker is a subclass of
    `tracker` with its own registry name. Returns the new tracker class.
    """
    stem = ''.join(part.capitalize() for part in name.split('_'))
    module = tracker.__module__
    attrs: dict[str, Any] = {'__doc__': f'{doc} (config)', '__module__': module,
                             '__annotations__': {}}
    for field, value in defaults.items():
        if field not in base_config.__dataclass_fields__:
            raise ValueError(f'{name}: {base_config.__name__} has no field {field!r}')
        attrs['__annotations__'][field] = base_config.__dataclass_fields__[field].type
        attrs[field] = with_default(base_config, field, value)
    config = dataclasses.dataclass(frozen=True)(type(f'{stem}Config', (base_config,), attrs))
    cls = type(f'{stem}Tracker', (tracker,), {'__doc__': doc, '__module__': module})
    return register_tracker(name, config=config, needs_weights=needs_weights,
                            default_weights=default_weights)(cls)


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
