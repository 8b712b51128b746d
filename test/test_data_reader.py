# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Reader of our synthetic format: clear errors for malformed folders."""

from __future__ import annotations

import json
from pathlib import Path
import shutil

from meta_tracker_ros.data import generate_sequence, SequenceSpec
from meta_tracker_ros.data.writer import write_list, write_sequence
from meta_tracker_ros.eval.readers.common import DatasetError
from meta_tracker_ros.eval.readers.synthetic import read_synthetic
import pytest


SPEC = SequenceSpec(width=64, height=48, out_of_view=(20.0, 20.0),
                    out_of_view_frames=(3.0, 3.0))


@pytest.fixture(scope='module')
def written(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('synth')
    write_sequence(generate_sequence(4, 6, SPEC), root, 'a')
    write_list(root, ['a'])
    return root


@pytest.fixture
def root(written, tmp_path) -> Path:
    out = tmp_path / 'copy'
    shutil.copytree(written, out)
    return out


def test_reads_a_valid_folder(root):
    (seq,) = read_synthetic(root)
    assert seq.name == 'a' and len(seq) == 6 and not seq.one_based
    assert seq.meta['resolution'] == (64, 48) and seq.meta['visibility'].shape == (6,)
    assert seq.init_index() == 0


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


@pytest.mark.parametrize('damage, message', [
    (lambda r: (r / 'list.txt').unlink(), 'no list.txt'),
    (lambda r: (r / 'list.txt').write_text('a\nb\n'), 'sequence folder not found'),
    (lambda r: (r / 'list.txt').write_text('a\na\n'), 'duplicate'),
    (lambda r: (r / 'list.txt').write_text('\n'), 'no sequence names'),
    (lambda r: (r / 'a' / 'meta.json').unlink(), 'no meta.json'),
    (lambda r: (r / 'a' / 'meta.json').write_text('{'), 'unreadable JSON'),
    (lambda r: (r / 'a' / 'img' / '000003.jpg').unlink(), 'first 000003.jpg'),
    (lambda r: shutil.copy(r / 'a' / 'img' / '000001.jpg', r / 'a' / 'img' / '000007.jpg'),
     'unexpected files'),
    (lambda r: (r / 'a' / 'masks' / '000006.png').unlink(), 'missing'),
    (lambda r: (r / 'a' / 'groundtruth.txt').write_text(
        '\n'.join(_lines(r / 'a' / 'groundtruth.txt')[:5]) + '\n'), '5 boxes'),
    (lambda r: (r / 'a' / 'groundtruth.txt').write_text(
        '1,2,3\n' * 6), 'expected 4 values'),
    (lambda r: (r / 'a' / 'groundtruth.txt').write_text(
        'nan,nan,nan,nan\n' * 6), 'absence.label'),
    (lambda r: (r / 'a' / 'absence.label').write_text('0\n0\n2\n0\n0\n0\n'), 'expected 0 or 1'),
    (lambda r: (r / 'a' / 'visibility.txt').write_text('1.5\n' * 6), r'\[0, 1\]'),
    (lambda r: (r / 'a' / 'visibility.txt').write_text('1\n' * 5), '5 lines'),
])
def test_malformed_folders_raise_clear_errors(root, damage, message):
    damage(root)
    with pytest.raises(DatasetError, match=message):
        read_synthetic(root)


def test_bad_frame_attributes_and_missing_root(root, tmp_path):
    meta = json.loads((root / 'a' / 'meta.json').read_text())
    meta['frame_attributes']['occlusion'] = '01'
    (root / 'a' / 'meta.json').write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="frame_attributes\\['occlusion'\\]"):
        read_synthetic(root)
    with pytest.raises(DatasetError, match='not found'):
        read_synthetic(tmp_path / 'nowhere')
