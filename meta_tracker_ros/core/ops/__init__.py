# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Shared tracking steps: crops, search regions, box maths, windows, scale pyramids."""
