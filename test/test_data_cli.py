# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""meta-tracker-gen: single sequences, previews, listing and errors."""

from __future__ import annotations

import cv2

from meta_tracker_ros.data.cli import main
from meta_tracker_ros.eval.readers.synthetic import read_synthetic

SMALL = ['--frames', '5', '--width', '96', '--height', '72']


def test_single_sequences_accumulate_in_list(tmp_path, capsys):
    out = tmp_path / 'out'
    assert main(['--seed', '3', *SMALL, '--out', str(out)]) == 0
    assert main(['--seed', '4', *SMALL, '--out', str(out), '--name', 'four']) == 0
    seqs = read_synthetic(out)
    assert [s.name for s in seqs] == ['seed-3', 'four']
    assert seqs[0].meta['seed'] == 3 and len(seqs[1]) == 5
    assert main(['--seed', '3', *SMALL, '--out', str(out)]) == 2
    assert 'exists' in capsys.readouterr().err
    assert main(['--seed', '3', *SMALL, '--out', str(out), '--force']) == 0


def test_previews(tmp_path):
    sheet = tmp_path / 'sheet.png'
    assert main(['--seed', '3', *SMALL, '--preview', str(sheet)]) == 0
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[1] == 4 * (96 + 2)
    video = tmp_path / 'mini.avi'
    assert main(['--suite', 'synth-mini', '--index', '1', '--preview', str(video)]) == 0
    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 60
    cap.release()


def test_list_and_errors(capsys):
    assert main(['--list']) == 0
    assert 'synth-test' in capsys.readouterr().out
    assert main(['--suite', 'synth-nope']) == 2
    assert 'unknown suite' in capsys.readouterr().err
    assert main(['--seed', '1', *SMALL]) == 2
    assert '--out' in capsys.readouterr().err
    assert main(['--seed', '1', '--difficulty', '3', '--preview', 'x.png']) == 2
    assert 'difficulty' in capsys.readouterr().err


def test_suite_entries_beyond_the_count(tmp_path, capsys):
    out = tmp_path / 'more'
    assert main(['--suite', 'synth-mini', '--entries', '3', '4', '--out', str(out),
                 '--quiet']) == 0
    assert f'synthdir:{out}' in capsys.readouterr().out
    seqs = read_synthetic(out)
    assert [s.name for s in seqs] == ['synth-mini-0003'] and seqs[0].meta['seed'] == 5_000_003
    assert main(['--suite', 'synth-mini', '--entries', '3', '4']) == 2
    assert '--out' in capsys.readouterr().err
