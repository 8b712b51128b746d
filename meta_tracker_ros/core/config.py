# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Typed tracker configurations: frozen dataclasses with strict parsing.

Every tracker declares one dataclass derived from TrackerConfig whose fields carry a help
text and an optional range through param. The node turns each field into a ROS parameter
<tracker>.<field> with that description; the same class validates values from YAML,
the command line and ros2 param set.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any


class ConfigError(ValueError):
    """A configuration value or key that the tracker cannot accept."""


def param(default: Any, help: str, *, min: float | None = None,  # noqa: A002
          max: float | None = None, choices: tuple[Any, ...] | None = None) -> Any:  # noqa: A002
    """Declare a config field with a description and optional bounds (inclusive)."""
    return dataclasses.field(
        default=default, metadata={'help': help, 'min': min, 'max': max, 'choices': choices})


def with_default(cls: type, name: str, value: Any) -> Any:
    """Return cls's field `name` (its help and range) with another default, for a subclass."""
    return dataclasses.field(default=value, metadata=cls.__dataclass_fields__[name].metadata)


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    name: str
    kind: type
    default: Any
    description: str
    low: float | None
    high: float | None
    choices: tuple[Any, ...] | None


def _coerce(name: str, typ: Any, value: Any) -> Any:
    origin = typing.get_origin(typ)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'{name}: expected a list, got {type(value).__name__} {value!r}')
        inner = typing.get_args(typ)[0]
        return tuple(_coerce(f'{name}[{i}]', inner, v) for i, v in enumerate(value))
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(f'{name}: expected true/false, got {type(value).__name__} {value!r}')
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f'{name}: expected an integer, got {type(value).__name__} {value!r}')
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f'{name}: expected a number, got {type(value).__name__} {value!r}')
        if not math.isfinite(value):
            raise ConfigError(f'{name}: expected a finite number, got {value!r}')
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f'{name}: expected a string, got {type(value).__name__} {value!r}')
        return value
    raise TypeError(f'unsupported config field type {typ!r} for {name}')


@dataclasses.dataclass(frozen=True)
class TrackerConfig:
    """Base class; subclasses add fields declared with param."""

    def __post_init__(self) -> None:
        for info in self.fields():
            value = _coerce(info.name, info.kind, getattr(self, info.name))
            object.__setattr__(self, info.name, value)
            values = value if isinstance(value, tuple) else (value,)
            for v in values:
                if info.low is not None and v < info.low:
                    raise ConfigError(f'{info.name}: {v!r} is below the minimum {info.low}')
                if info.high is not None and v > info.high:
                    raise ConfigError(f'{info.name}: {v!r} is above the maximum {info.high}')
                if info.choices is not None and v not in info.choices:
                    raise ConfigError(
                        f'{info.name}: {v!r} is not one of {", ".join(map(repr, info.choices))}')

    @classmethod
    def fields(cls) -> list[FieldInfo]:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            md = f.metadata
            out.append(FieldInfo(f.name, hints[f.name], f.default, md.get('help', ''),
                                 md.get('min'), md.get('max'), md.get('choices')))
        return out

    @classmethod
    def from_dict(cls, values: typing.Mapping[str, Any] | None) -> typing.Self:
        """Build from a mapping; unknown keys are an error that names them."""
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f'unknown key(s) {", ".join(unknown)} for {cls.__name__}; '
                f'valid keys: {", ".join(sorted(known))}')
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    def replace(self, **changes: Any) -> typing.Self:
        return self.from_dict({**self.to_dict(), **changes})


@dataclasses.dataclass(frozen=True)
class EmptyConfig(TrackerConfig):
    """For trackers without hyperparameters."""


def strict_args(cls: type, values: typing.Mapping[str, Any], what: str) -> Any:
    """Build dataclass cls from values; unknown keys raise ValueError naming them (what)."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f'unknown {what} argument(s) {unknown}; valid: {sorted(known)}')
    return cls(**dict(values))
