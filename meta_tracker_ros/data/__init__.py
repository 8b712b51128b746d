# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Procedural tracking video generator with exact boxes, masks and visibility (ROS-free).

In memory (training):

    from meta_tracker_ros.data import generate_sequence, SequenceSpec
    seq = generate_sequence(seed, num_frames, SequenceSpec.from_difficulty(0.6))
    f = seq.frame(i)            # SyntheticFrame: image, box, mask, visibility, flags, absent
    lab = seq.label(i)          # FrameLabel without rendering the image (fast)
    for image, box, mask, visibility in seq: ...

On disk (evaluation): ensure_suite('synth-test') -> folder, read with
eval.readers.synthetic.read_synthetic(folder). Suites and their seed ranges are in suites.py.
"""

from meta_tracker_ros.data.generator import (ABSENT_VISIBILITY, FRAME_FLAGS, FrameLabel,
                                             generate_sequence, GENERATOR_VERSION,
                                             SyntheticFrame, SyntheticSequence)
from meta_tracker_ros.data.spec import SequenceSpec, SpecError
from meta_tracker_ros.data.suites import (ensure_suite, get_suite, SuiteDef, SuiteEntry,
                                          SUITES, TRAIN_SEEDS, write_entries)
from meta_tracker_ros.data.writer import write_sequence

__all__ = [
    'ABSENT_VISIBILITY', 'FRAME_FLAGS', 'FrameLabel', 'generate_sequence', 'GENERATOR_VERSION',
    'SyntheticFrame', 'SyntheticSequence', 'SequenceSpec', 'SpecError', 'ensure_suite',
    'get_suite', 'SuiteDef', 'SuiteEntry', 'SUITES', 'TRAIN_SEEDS', 'write_entries',
    'write_sequence',
]
