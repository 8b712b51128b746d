# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
ROS-free tracking core: types, the Tracker protocol, registry, configs and weights I/O.

Importing this package must never import rclpy (test/test_core_no_ros.py proves it).
"""

from meta_tracker_ros.core.registry import available_trackers, build_tracker, register_tracker
from meta_tracker_ros.core.tracker import Tracker
from meta_tracker_ros.core.types import Box, TrackResult, TrackState

__all__ = [
    'Box', 'TrackResult', 'TrackState', 'Tracker',
    'available_trackers', 'build_tracker', 'register_tracker',
]
