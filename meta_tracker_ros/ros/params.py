# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node's own parameters, declared through the same typed-config machinery as trackers."""

from __future__ import annotations

from dataclasses import dataclass
import re

from meta_tracker_ros.core.config import ConfigError, param, TrackerConfig

DEVICE = re.compile(r'cpu|auto|cuda(:\d+)?')


@dataclass(frozen=True)
class NodeParams(TrackerConfig):
    """Parameters of tracker_node (the tracker's own appear as `<tracker>.<name>`)."""

    autostart: bool = param(True, 'configure and activate the lifecycle node at startup '
                            '(false: wait for change_state, e.g. from a lifecycle manager)')
    tracker: str = param('mlt', 'tracker registry name (e.g. mlt, opencv_csrt)')
    weights: str = param('', "weights file (.safetensors); empty = the tracker's default file "
                         'shipped with the package; relative paths are looked up in the '
                         'working directory, then in the package share directory')
    device: str = param('cpu', 'torch device: cpu, cuda, cuda:N or auto (cuda when torch sees '
                        'one, else cpu); CUDA asked for and absent is refused with the reason')
    num_threads: int = param(1, 'CPU threads for torch and OpenCV (1 measured best beside '
                             'other busy processes on small machines)', min=1, max=256)
    fallback_tracker: str = param('opencv_csrt', 'tracker used when the configured one cannot '
                                  'be built at startup (missing or bad weights); empty = none')
    label: str = param('target', 'class_id written into every detection')
    image_qos: str = param('sensor_data', 'image subscription QoS: sensor_data (best effort, '
                           'keep last 1: a slow tracker drops frames) or reliable (keep all: '
                           'for bag evaluation)', choices=('sensor_data', 'reliable'))
    process_every_frame: bool = param(False, 'track every received frame in order instead of '
                                      'jumping to the newest (bag evaluation; lags when slow)')
    init_buffer_size: int = param(60, 'frames kept to initialise on the frame a target/init '
                                  'stamp names', min=1, max=10000)
    init_wait: float = param(2.0, 'seconds an init waits for the frame its stamp names when '
                             'that frame has not arrived yet', min=0.0, max=60.0)
    lost_score_threshold: float = param(-1e9, 'a score below this is reported as lost in '
                                        "addition to the tracker's own lost state",
                                        min=-1e9, max=1e9)
    publish_mask: bool = param(True, 'publish the mask topic (trackers that make masks)')
    publish_debug_image: bool = param(False, 'publish debug_image with box, score and state')

    def __post_init__(self) -> None:
        super().__post_init__()
        if not DEVICE.fullmatch(self.device):
            raise ConfigError(f'device: {self.device!r} is not cpu, cuda, cuda:N or auto')


# Parameters that shape subscriptions: fixed after startup.
READ_ONLY = frozenset({'autostart', 'image_qos', 'init_buffer_size'})
# Parameters whose change rebuilds the tracker.
REBUILD = frozenset({'tracker', 'weights', 'device', 'num_threads'})
