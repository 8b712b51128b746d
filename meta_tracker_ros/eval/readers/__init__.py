# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Dataset readers, one module per format; each returns a list of eval.sequence.Sequence.

eval.datasets.load_dataset(spec) picks the reader from a spec string such as 'otb:/data/OTB'.
"""
