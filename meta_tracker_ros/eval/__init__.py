# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluation: sequence readers, the OPE runner, metrics, plots and reports (ROS-free)."""
