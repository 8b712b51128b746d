# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""meta_tracker_ros: meta-learned single-object trackers for ROS 2."""

__version__ = '0.1.0'
