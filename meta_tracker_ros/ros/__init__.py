# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS 2 node and its message conversions; with tools/, the only places that import rclpy."""
