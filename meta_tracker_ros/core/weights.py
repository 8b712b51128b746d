# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Weights files: safetensors tensors + JSON metadata that describes the model.

A file carries the tracker family it was made for, the model arguments needed to rebuild the
network, the training config and seed, and the versions that made it, so the node rebuilds the
network from the file alone. Loading never unpickles code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import datetime
import hashlib
import json
from pathlib import Path
import platform
from typing import Any, Callable, Iterable, Mapping

FORMAT = 'meta_tracker_ros.weights'
FORMAT_VERSION = 1


class WeightsError(RuntimeError):
    """A weights file that is missing, unreadable, or made for something else."""


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class WeightsMeta:
    tracker: str
    model_args: dict[str, Any]
    training_config: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


def _versions() -> dict[str, str]:
    import torch

    from meta_tracker_ros import __version__
    return {'meta_tracker_ros': __version__, 'torch': torch.__version__,
            'python': platform.python_version()}


def save_weights(path: str | Path, tensors: Mapping[str, Any], *, tracker: str,
                 model_args: Mapping[str, Any], training_config: Mapping[str, Any] | None = None,
                 info: Mapping[str, Any] | None = None) -> Path:
    """Write tensors (a state_dict) and self-describing metadata to a .safetensors file."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        'format': FORMAT,
        'format_version': str(FORMAT_VERSION),
        'tracker': tracker,
        'model_args': json.dumps(dict(model_args), sort_keys=True),
        'training_config': json.dumps(dict(training_config or {}), sort_keys=True),
        'info': json.dumps({'created': datetime.datetime.now(datetime.timezone.utc).isoformat(),
                            'versions': _versions(), **dict(info or {})}, sort_keys=True),
    }
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    tmp = path.with_suffix(path.suffix + '.tmp')
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)
    return path


def read_metadata(path: str | Path) -> WeightsMeta:
    """Read only the metadata; raises WeightsError for missing, corrupt or foreign files."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f'weights file not found: {path}')
    try:
        with safe_open(str(path), framework='pt') as f:
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors raises several types for corrupt headers
        raise WeightsError(f'cannot read {path} as safetensors (corrupt or not a weights '
                           f'file): {exc}') from exc
    if meta.get('format') != FORMAT:
        raise WeightsError(f'{path} is a safetensors file but not a meta_tracker_ros weights '
                           f'file (no {FORMAT!r} metadata)')
    if int(meta.get('format_version', '0')) > FORMAT_VERSION:
        raise WeightsError(f'{path} has format version {meta["format_version"]}; this release '
                           f'reads up to {FORMAT_VERSION}')
    try:
        return WeightsMeta(meta['tracker'], json.loads(meta['model_args']),
                           json.loads(meta.get('training_config', '{}')),
                           json.loads(meta.get('info', '{}')))
    except (KeyError, json.JSONDecodeError) as exc:
        raise WeightsError(f'{path} has malformed metadata: {exc}') from exc


def load_weights(path: str | Path, *, accept: str | Iterable[str],
                 device: str = 'cpu') -> tuple[dict[str, Any], WeightsMeta]:
    """Load tensors and metadata, refusing a file made for a tracker family not in accept."""
    from safetensors.torch import load_file

    accepted = {accept} if isinstance(accept, str) else set(accept)
    meta = read_metadata(path)
    if meta.tracker not in accepted:
        raise WeightsError(f'{path} was made for tracker {meta.tracker!r}; this tracker '
                           f'accepts {", ".join(sorted(accepted))}')
    try:
        tensors = load_file(str(path), device=device)
    except Exception as exc:
        raise WeightsError(f'cannot read tensors from {path}: {exc}') from exc
    return tensors, meta


def load_state_strict(module: Any, tensors: Mapping[str, Any], path: str | Path) -> None:
    """load_state_dict(strict) with an error that lists what does not match."""
    own = module.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    shapes = [f'{k}: file {tuple(tensors[k].shape)} vs model {tuple(own[k].shape)}'
              for k in sorted(set(own) & set(tensors)) if own[k].shape != tensors[k].shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f'missing {missing[:5]}' + (' ...' if len(missing) > 5 else ''))
        if unexpected:
            parts.append(f'unexpected {unexpected[:5]}' + (' ...' if len(unexpected) > 5 else ''))
        if shapes:
            parts.append('shape mismatch ' + '; '.join(shapes[:5]))
        raise WeightsError(f'{path} does not fit the model its metadata describes: '
                           + ', '.join(parts))
    for k, v in tensors.items():
        if v.is_floating_point() and not bool(v.isfinite().all()):
            raise WeightsError(f'{path}: tensor {k} contains NaN or Inf')
    module.load_state_dict(tensors, strict=True)


def load_model(path: str | Path | None, family: str,
               build: Callable[[Mapping[str, Any]], Any], owner: str) -> Any:
    """
    Build a family's network from a weights file's model arguments and load its tensors.

    build(model_args) makes the module (e.g. MAMLDetectorNet.from_args); its TypeError or
    ValueError, a missing path, a file of another family and tensors that do not fit all
    become a WeightsError naming the file (owner: who asked, for the message).
    """
    if path is None:
        raise WeightsError(f'{owner} needs a weights file')
    tensors, meta = load_weights(path, accept=family)
    try:
        net = build(meta.model_args)
    except (TypeError, ValueError) as exc:
        raise WeightsError(f'{path}: bad model arguments: {exc}') from exc
    load_state_strict(net, tensors, path)
    return net
