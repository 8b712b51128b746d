# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""OPE/VOT runner, result files, report and CLI with OpenCV trackers on a drawn square."""

import json
import math
from pathlib import Path

import cv2
from meta_tracker_ros.core.types import Box, TrackResult, TrackState
from meta_tracker_ros.core.weights import save_weights
from meta_tracker_ros.eval.cli import load_config_file, main
from meta_tracker_ros.eval.datasets import load_dataset
from meta_tracker_ros.eval.metrics import evaluate_ope
from meta_tracker_ros.eval.readers.common import DatasetError
from meta_tracker_ros.eval.readers.otb import read_otb
from meta_tracker_ros.eval.runner import (read_result, result_paths, run_tracker, sha256_file,
                                          track_ope, tracker_info, TrackerSpec,
                                          write_result)
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def write_square_sequence(root: Path, name: str, n: int = 12, jump_at: int | None = None,
                          step: int = 2) -> None:
    """
    Draw an orange 20x16 square moving on a dark textured background, OTB layout.

    The annotation row is where the square is drawn in 0-based pixels, which is how the
    field's toolkits (got10k, pysot) read OTB's rows.
    """
    rng = np.random.default_rng(len(name))
    background = rng.integers(20, 60, (72, 96, 3), dtype=np.uint8)
    d = root / name
    (d / 'img').mkdir(parents=True)
    rows = []
    for i in range(n):
        x, y = 10 + step * i, 12 + i
        if jump_at is not None and i >= jump_at:
            x, y = 70, 50
        img = background.copy()
        img[y:y + 16, x:x + 20] = (0, 140, 255)
        img[y + 4:y + 12, x + 6:x + 14] = (255, 255, 255)
        cv2.imwrite(str(d / 'img' / f'{i + 1:04d}.png'), img)
        rows.append(f'{x},{y},20,16')
    (d / 'groundtruth_rect.txt').write_text('\n'.join(rows) + '\n')


@pytest.fixture
def squares(tmp_path):
    root = tmp_path / 'otb'
    write_square_sequence(root, 'Car4')
    write_square_sequence(root, 'Square', step=3)
    return root


def test_ope_files_in_toolkit_layout_and_resume(tmp_path, squares):
    seqs = read_otb(squares)
    spec = TrackerSpec('opencv_kcf')
    out = run_tracker(spec, seqs, tmp_path / 'res', progress=False)
    assert out == tmp_path / 'res' / 'opencv_kcf'
    car = seqs[0]
    lines = (out / 'Car4.txt').read_text().splitlines()
    assert len(lines) == 12 and lines[0] == '10.0000,12.0000,20.0000,16.0000'  # the file's row
    run = read_result(out, car)
    np.testing.assert_allclose(run.boxes[0], car.gt[0])
    assert (run.times > 0).all()
    assert run.states[0] == 'init' and set(run.states[1:]) <= {'tracking', 'lost'}
    assert run.scores[0] is None and all(isinstance(s, float) for s in run.scores[1:])
    info = json.loads((out / 'tracker.json').read_text())
    assert info['tracker'] == 'opencv_kcf' and info['config']['detect_thresh'] == 0.5
    assert evaluate_ope(car, run.boxes, run.times).auc > 0.6

    stamps = {p: p.stat().st_mtime_ns for p in out.iterdir() if p.name != 'tracker.json'}
    (out / 'Square.txt').unlink()
    run_tracker(spec, seqs, tmp_path / 'res', progress=False)
    assert (out / 'Square.txt').is_file()
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items() if p.name.startswith('Car4'))

    with pytest.raises(RuntimeError, match='different config'):
        run_tracker(TrackerSpec('opencv_kcf', {'detect_thresh': 0.3}), seqs, tmp_path / 'res',
                    progress=False)

    # Reopened by another commit: the folder keeps the commit that made its results.
    info = json.loads((out / 'tracker.json').read_text())
    (out / 'tracker.json').write_text(json.dumps({**info, 'git_commit': 'abc1234'}))
    run_tracker(spec, seqs, tmp_path / 'res', progress=False)
    again = json.loads((out / 'tracker.json').read_text())
    assert again['git_commit'] == 'abc1234'
    assert again.get('reopened_at') == ([info['git_commit']] if info['git_commit'] else None)


class _HoldingTracker:
    """Reports the box it was initialised with on every frame."""

    def __init__(self) -> None:
        self.init_boxes: list[Box] = []

    def initialize(self, image: np.ndarray, box: Box) -> None:
        self.init_boxes.append(box)

    def update(self, image: np.ndarray) -> TrackResult:
        return TrackResult(self.init_boxes[-1], 1.0, None, TrackState.TRACKING)

    def reset(self) -> None:
        self.init_boxes.clear()


def test_tracker_is_initialised_with_the_annotation_row_it_is_scored_against(tmp_path):
    """got10k's ExperimentOTB: tracker.track(img_files, anno[0]); rect_iou(boxes, anno)."""
    d = tmp_path / 'otb' / 'Static'
    (d / 'img').mkdir(parents=True)
    for i in range(4):
        cv2.imwrite(str(d / 'img' / f'{i + 1:04d}.png'), np.zeros((30, 40, 3), np.uint8))
    (d / 'groundtruth_rect.txt').write_text('5,7,12,9\n' * 4)
    (seq,) = read_otb(tmp_path / 'otb')
    tracker = _HoldingTracker()
    run = track_ope(tracker, seq)
    assert tracker.init_boxes == [Box(5.0, 7.0, 12.0, 9.0)]  # no 1-pixel shift
    out = tmp_path / 'res' / 'hold'
    write_result(out, seq, run, 'ope')
    assert (out / 'Static.txt').read_text().splitlines() == ['5.0000,7.0000,12.0000,9.0000'] * 4
    scores = evaluate_ope(seq, read_result(out, seq).boxes)
    np.testing.assert_allclose(scores.got10k_ious, 1.0)  # scored against the same rows
    assert scores.p20 == 1.0


def test_initialisation_waits_for_the_first_visible_frame(tmp_path, squares):
    (car,) = [s for s in read_otb(squares) if s.name == 'Car4']
    gt = car.gt.copy()
    gt[:3] = np.nan
    seq = Sequence('late', car.frames, gt, meta={'benchmark': 'synthetic'})
    out = run_tracker(TrackerSpec('opencv_kcf'), [seq], tmp_path / 'res', progress=False)
    lines = (out / 'late.txt').read_text().splitlines()
    assert lines[:3] == ['nan,nan,nan,nan'] * 3
    run = read_result(out, seq)
    assert run.states[:4] == [None, None, None, 'init'] and np.isnan(run.times[:3]).all()
    assert evaluate_ope(seq, run.boxes).frames == 9


def test_parallel_jobs_give_the_serial_results(tmp_path, squares):
    seqs = read_otb(squares)
    serial = run_tracker(TrackerSpec('opencv_kcf'), seqs, tmp_path / 'a', progress=False)
    parallel = run_tracker(TrackerSpec('opencv_kcf'), seqs, tmp_path / 'b', jobs=2,
                           progress=False)
    for s in seqs:
        assert (serial / f'{s.name}.txt').read_text() == (parallel / f'{s.name}.txt').read_text()


def test_vot_protocol_fails_and_reinitialises_five_frames_later(tmp_path):
    write_square_sequence(tmp_path / 'otb', 'Jumper', n=16, jump_at=6)
    (seq,) = read_otb(tmp_path / 'otb')
    out = run_tracker(TrackerSpec('opencv_kcf'), [seq], tmp_path / 'res', protocol='vot',
                      progress=False)
    main_file = result_paths(out, 'Jumper', 'vot')[0]
    assert main_file == out / 'baseline' / 'Jumper' / 'Jumper_001.txt'
    records = read_result(out, seq, 'vot').records
    assert records[0] == 1 and all(isinstance(r, tuple) for r in records[1:6])
    assert records[6:12] == [2, 0, 0, 0, 0, 1]
    assert all(isinstance(r, tuple) for r in records[12:])
    assert main_file.read_text().splitlines()[6:12] == ['2', '0', '0', '0', '0', '1']


def test_tracker_info_records_weights_metadata_and_sha256(tmp_path):
    w = save_weights(tmp_path / 'w.safetensors', {'k': torch.ones(3)}, tracker='demo',
                     model_args={'width': 3}, training_config={'lr': 0.1})
    info = tracker_info(TrackerSpec('opencv_csrt', {'padding': 2.0}, str(w)))
    assert info['weights'] == str(w.resolve()) and info['weights_sha256'] == sha256_file(w)
    assert info['weights_metadata']['tracker'] == 'demo'
    assert info['weights_metadata']['training_config'] == {'lr': 0.1}
    assert info['config']['padding'] == 2.0 and info['config']['use_hog'] is True
    assert info['version'] and 'git_commit' in info


def test_config_files_plain_and_ros_params(tmp_path):
    assert load_config_file(REPO / 'config' / 'opencv_kcf.yaml', 'opencv_kcf') == {
        'detect_thresh': 0.5, 'compressed_size': 2}
    f = tmp_path / 'c.yaml'
    f.write_text('padding: 2.5\nuse_hog: false\n')
    assert load_config_file(f, 'opencv_csrt') == {'padding': 2.5, 'use_hog': False}


def test_cli_ope_report_plots_and_metrics(tmp_path, squares, capsys):
    cfg = tmp_path / 'csrt.yaml'
    cfg.write_text('use_segmentation: false\n')
    out = tmp_path / 'out'
    rc = main(['--trackers', 'opencv_kcf', 'opencv_csrt', '--dataset', f'otb:{squares}',
               '--out', str(out), '--config', f'opencv_csrt={cfg}', '--max-seqs', '1',
               '--no-progress'])
    assert rc == 0
    assert 'opencv_kcf: AUC' in capsys.readouterr().out
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['sequences'] == ['Car4']
    kcf = metrics['trackers']['opencv_kcf']
    assert 0.6 < kcf['summary']['auc'] <= 1.0 and len(kcf['summary']['success_curve']) == 21
    assert metrics['trackers']['opencv_csrt']['info']['config']['use_segmentation'] is False
    assert kcf['attributes']['IV']['sequences'] == ['Car4']  # OTB's attributes of Car4
    report = (out / 'report.md').read_text()
    for text in ('| opencv_kcf |', '### opencv_csrt', '"use_segmentation": false',
                 'success_IV.png', '| Car4 | 12 |', '**mean**'):
        assert text in report
    for name in ('success', 'precision', 'norm_precision', 'success_IV', 'success_SV'):
        assert (out / 'plots' / f'{name}.png').stat().st_size > 1000
    assert 'lost wrong at the box' in report and 'reopened' not in report
    assert '| tracker | false-lost rate | hidden-caught rate | frames |' in report
    lost = kcf['lost_state']
    assert lost['visible'] == 11 and lost['hidden'] == 0  # Car4: 11 frames after init
    assert lost['false_lost_rate'] == pytest.approx(lost['lost_wrong'] / 11)
    assert math.isnan(lost['hidden_caught_rate'])
    pair = metrics['paired']['opencv_kcf - opencv_csrt']
    auc = {n: metrics['trackers'][n]['summary']['auc'] for n in ('opencv_kcf', 'opencv_csrt')}
    assert pair['sequences'] == 1 and pair['mean'] == pytest.approx(
        auc['opencv_kcf'] - auc['opencv_csrt'])
    assert f"| opencv_kcf - opencv_csrt | 1 | {pair['mean']:+.3f} |" in report

    # Scored again from the same files by a later commit: the report names both commits.
    info_file = out / 'opencv_kcf' / 'tracker.json'
    info = json.loads(info_file.read_text())
    info_file.write_text(json.dumps({**info, 'git_commit': 'abc1234'}))
    assert main(['--trackers', 'opencv_kcf', '--dataset', f'otb:{squares}', '--out', str(out),
                 '--max-seqs', '1', '--no-progress']) == 0
    report = (out / 'report.md').read_text()
    assert 'git commit abc1234' in report
    assert ('folder reopened at' in report) == bool(info['git_commit'])


def test_cli_vot_report(tmp_path):
    write_square_sequence(tmp_path / 'otb', 'Jumper', n=30, jump_at=6, step=1)
    out = tmp_path / 'out'
    assert main(['--trackers', 'opencv_kcf', '--dataset', f'otb:{tmp_path / "otb"}', '--out',
                 str(out), '--vot', '--eao-interval', '2', '10', '--no-progress']) == 0
    vot = json.loads((out / 'metrics.json').read_text())['trackers']['opencv_kcf']['vot']
    assert vot['lost'] == 1 and vot['robustness'] == pytest.approx(100 / 30)
    # Accuracy covers frames 21-29 only (burn-in after the inits at 0 and 11).
    assert 0.3 < vot['accuracy'] <= 1 and 0 < vot['eao'] < 1
    assert vot['per_sequence']['Jumper']['failures'] == 1
    assert '| opencv_kcf |' in (out / 'report.md').read_text()
    assert (out / 'plots' / 'expected_overlap.png').is_file()


def test_cli_errors_are_clear(tmp_path, squares, capsys):
    assert main(['--trackers', 'nope', '--dataset', f'otb:{squares}', '--out',
                 str(tmp_path)]) == 2
    assert 'unknown tracker(s) nope' in capsys.readouterr().err
    assert main(['--trackers', 'opencv_kcf', '--dataset', f'otb:{squares}', '--out',
                 str(tmp_path), '--weights', 'opencv_kcf']) == 2
    assert '--weights takes NAME=VALUE' in capsys.readouterr().err
    assert main(['--trackers', 'opencv_kcf', '--dataset', f'otb:{squares}', '--out',
                 str(tmp_path), '--sequences', 'Nope']) == 2
    assert 'sequences not in' in capsys.readouterr().err


def test_cli_on_a_generated_synthetic_suite(tmp_path, monkeypatch):
    monkeypatch.setenv('META_TRACKER_DATA', str(tmp_path / 'data'))
    with pytest.raises(DatasetError, match="unknown suite 'synth-nope'"):
        load_dataset('synth:synth-nope')
    out = tmp_path / 'out'
    assert main(['--trackers', 'opencv_kcf', '--dataset', 'synth:synth-mini', '--out', str(out),
                 '--max-seqs', '1', '--no-progress']) == 0
    metrics = json.loads((out / 'metrics.json').read_text())
    assert metrics['sequences'] == ['synth-mini-0000']
    summary = metrics['trackers']['opencv_kcf']['summary']
    assert summary['per_sequence']['synth-mini-0000']['policy'] == 'exclude'
    assert 0.0 <= summary['auc'] <= 1.0 and summary['per_sequence']['synth-mini-0000']['frames']
    seqs = load_dataset(f'synthdir:{tmp_path / "data" / "synth" / "synth-mini"}')
    assert [s.name for s in seqs] == ['synth-mini-0000', 'synth-mini-0001', 'synth-mini-0002']


def test_masks_are_recorded_and_scored_with_j_and_f(tmp_path, monkeypatch):
    # trackmlp (a small weights file) makes masks: the OPE run writes them per frame and the
    # report scores them against the suite's exact masks (J, F, J&F beside the box AUC).
    from meta_tracker_ros.eval.masks import region_similarity
    from meta_tracker_ros.eval.runner import mask_dir, read_masks
    from tracker_helpers import small_trackmlp_weights
    monkeypatch.setenv('META_TRACKER_DATA', str(tmp_path / 'data'))
    weights = small_trackmlp_weights(tmp_path / 'tm.safetensors', mask_bias=3.0)
    cfg = tmp_path / 'tm.yaml'
    cfg.write_text('lost_threshold: 0.0\nsupport_size: 2\nadapt_steps: 1\n')
    out = tmp_path / 'out'
    assert main(['--trackers', 'trackmlp', 'trackmlp_rect', '--dataset', 'synth:synth-mini',
                 '--out', str(out), '--max-seqs', '1', '--no-progress', '--weights',
                 f'trackmlp={weights}', f'trackmlp_rect={weights}', '--config',
                 f'trackmlp={cfg}', f'trackmlp_rect={cfg}']) == 0
    seq = load_dataset('synth:synth-mini')[0]
    preds = read_masks(out / 'trackmlp', seq)
    start = seq.init_index()
    assert preds is not None and preds[start] is None and preds[start + 1] is not None
    assert len(list(mask_dir(out / 'trackmlp', seq.name).glob('*.png'))) == len(seq) - start - 1
    metrics = json.loads((out / 'metrics.json').read_text())
    masks = metrics['trackers']['trackmlp']['masks']
    js = [region_similarity(preds[i], seq.load_mask(i)) for i in range(start + 1, len(seq) - 1)]
    assert masks['J_mean'] == pytest.approx(np.mean(js))
    assert 0.0 <= masks['F_mean'] <= 1.0 and masks['JF'] == pytest.approx(
        (masks['J_mean'] + masks['F_mean']) / 2)
    assert '## Masks' in (out / 'report.md').read_text()
    # Table II's paired J&F differences, per sequence, beside the AUC ones.
    rect = metrics['trackers']['trackmlp_rect']['masks']
    paired = metrics['paired_jf']['trackmlp - trackmlp_rect']
    assert paired['sequences'] == 1 and paired['mean'] == pytest.approx(
        masks['JF'] - rect['JF'])
    assert 'mean J&F difference' in (out / 'report.md').read_text()
    assert (out / 'plots' / 'masks.png').stat().st_size > 0
    assert '![masks](plots/masks.png)' in (out / 'report.md').read_text()


def test_vot_records_of_a_mask_tracker_are_rotated_rectangles(tmp_path):
    from tracker_helpers import small_trackmlp_weights
    weights = small_trackmlp_weights(tmp_path / 'tm.safetensors', mask_bias=3.0)
    write_square_sequence(tmp_path / 'otb', 'Square', n=6)
    (seq,) = read_otb(tmp_path / 'otb')
    spec = TrackerSpec('trackmlp', {'lost_threshold': 0.0, 'support_size': 2,
                                    'adapt_steps': 1}, str(weights))
    out = run_tracker(spec, [seq], tmp_path / 'res', protocol='vot', progress=False)
    records = read_result(out, seq, 'vot').records
    assert records[0] == 1
    assert all(isinstance(r, int) or len(r) == 8 for r in records[1:])
    assert any(not isinstance(r, int) for r in records[1:])
