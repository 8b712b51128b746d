# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Bag tools: sequence/video -> rosbag2 writer, rclpy bag player, result recorder."""
