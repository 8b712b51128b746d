# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Metrics against the toolkits themselves: got10k 0.1.3's own code, pysot's formulas."""

import importlib
import json
from pathlib import Path

import cv2
from got10k.utils import metrics as g10k_metrics
from meta_tracker_ros.eval import metrics as M
from meta_tracker_ros.eval.readers.got10k import read_got10k
from meta_tracker_ros.eval.runner import TrackRun, write_result
from meta_tracker_ros.eval.sequence import Sequence
from meta_tracker_ros.eval.vot_region import vot_overlap
import numpy as np
import pytest
from shapely.geometry import Polygon


@pytest.fixture
def got10k_experiments():
    """Import got10k.experiments (got10k 0.1.3 needs six, pinned in requirements.txt)."""
    return importlib.import_module('got10k.experiments')


def random_boxes(rng, n, lo=0.0, hi=200.0, size=(5.0, 80.0)):
    xy = rng.uniform(lo, hi, (n, 2))
    wh = rng.uniform(*size, (n, 2))
    return np.hstack([xy, wh])


def make_seq(name, gt, absent=None, one_based=False, benchmark='otb', resolution=(320, 240)):
    return Sequence(name=name, frames=[Path(f'{name}/{i:04d}.jpg') for i in range(len(gt))],
                    gt=gt, absent=absent, one_based=one_based,
                    meta={'benchmark': benchmark, 'resolution': resolution})


def jitter(rng, gt, scale=8.0):
    pred = gt + rng.normal(0, scale, gt.shape)
    pred[:, 2:] = np.abs(pred[:, 2:]) + 1
    return pred


# ------------------------------------------------------------------ got10k's own code

def test_iou_and_center_error_match_got10k_functions():
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 500), random_boxes(rng, 500)
    np.testing.assert_allclose(M.rect_iou(a, b), g10k_metrics.rect_iou(a.copy(), b.copy()),
                               atol=1e-6, rtol=0)
    np.testing.assert_allclose(M.center_error(a, b), g10k_metrics.center_error(a, b),
                               atol=1e-6, rtol=0)
    a = random_boxes(rng, 500, -50, 300)
    b = np.vstack([jitter(rng, a[:250], 15.0), random_boxes(rng, 250, -50, 300)])
    bound = (256, 192)
    ours = M.rect_iou(a, b, bound=bound)
    np.testing.assert_allclose(ours, g10k_metrics.rect_iou(a.copy(), b.copy(), bound=bound),
                               atol=1e-6, rtol=0)
    assert np.count_nonzero(ours == 0) > 50 and np.count_nonzero(ours > 0.1) > 10


def test_curves_match_got10k_calc_curves(got10k_experiments):
    exp = got10k_experiments.ExperimentOTB.__new__(got10k_experiments.ExperimentOTB)
    exp.nbins_iou, exp.nbins_ce = 21, 51
    rng = np.random.default_rng(1)
    ious = np.concatenate([rng.uniform(0, 1, 300), [0.0, 0.5, 1.0, 0.05, 0.95]])
    errors = np.concatenate([rng.uniform(0, 60, 300), [0.0, 20.0, 50.0, 3.0, 51.0]])
    succ, prec = exp._calc_curves(ious, errors)
    np.testing.assert_allclose(M.success_curve(ious), succ, atol=1e-6, rtol=0)
    np.testing.assert_allclose(M.precision_curve(errors), prec, atol=1e-6, rtol=0)


class _ListDataset:
    """What ExperimentOTB.report iterates over: (img_files, anno) pairs and seq_names."""

    def __init__(self, annos):
        self.seq_names = list(annos)
        self._annos = [annos[n] for n in self.seq_names]

    def __len__(self):
        return len(self._annos)

    def __getitem__(self, i):
        return [], self._annos[i]


def test_ope_results_scored_by_got10k_report_equal_ours(tmp_path, got10k_experiments):
    """Our result files, read by got10k's ExperimentOTB.report, give our AUC and P@20."""
    rng = np.random.default_rng(2)
    seqs, scores, annos = [], [], {}
    for k, n in enumerate((40, 25, 60)):
        gt = random_boxes(rng, n, 10, 150)
        seq = make_seq(f'seq{k}', gt, one_based=True)
        pred = jitter(rng, gt)
        pred[0] = gt[0]
        times = rng.uniform(0.001, 0.02, n)
        write_result(tmp_path / 'res' / 'trk', seq,
                     TrackRun(pred, None, times, [None] * n, [None] * n), 'ope')
        annos[seq.name] = gt + [1, 1, 0, 0]  # the dataset's own 1-based annotation
        seqs.append(seq)
        scores.append(M.evaluate_ope(seq, pred, times))
    exp = got10k_experiments.ExperimentOTB.__new__(got10k_experiments.ExperimentOTB)
    exp.dataset = _ListDataset(annos)
    exp.result_dir, exp.report_dir = str(tmp_path / 'res'), str(tmp_path / 'rep')
    exp.nbins_iou, exp.nbins_ce = 21, 51
    exp.plot_curves = lambda names: None
    perf = exp.report(['trk'])['trk']
    summary = M.summarize_ope(scores)
    assert abs(summary.auc - perf['overall']['success_score']) < 1e-6
    assert abs(summary.p20 - perf['overall']['precision_score']) < 1e-6
    np.testing.assert_allclose(summary.success, perf['overall']['success_curve'], atol=1e-6)
    for sc in scores:
        assert abs(sc.auc - perf['seq_wise'][sc.sequence]['success_score']) < 1e-6
    assert 0.2 < summary.auc < 0.9  # the jitter leaves something to measure


def test_uav_exclude_policy_matches_got10k_uav123(got10k_experiments):
    exp = got10k_experiments.ExperimentUAV123.__new__(got10k_experiments.ExperimentUAV123)
    exp.nbins_iou, exp.nbins_ce = 21, 51
    rng = np.random.default_rng(3)
    gt = random_boxes(rng, 80, 10, 150)
    gt[[5, 6, 7, 40]] = np.nan
    pred = jitter(rng, np.nan_to_num(gt, nan=50.0))
    pred[0] = gt[0]  # got10k's report sets boxes[0] = anno[0] before _calc_metrics
    sc = M.evaluate_ope(make_seq('uav', gt, benchmark='uav123'), pred, policy='exclude')
    ious, ce = exp._calc_metrics(pred, gt)
    succ, prec = exp._calc_curves(ious, ce)
    np.testing.assert_allclose(sc.success, succ, atol=1e-6, rtol=0)
    np.testing.assert_allclose(sc.precision, prec, atol=1e-6, rtol=0)
    assert sc.frames == 76


def _write_got10k_val(root: Path, rng) -> None:
    jpg = cv2.imencode('.jpg', np.zeros((48, 64, 3), np.uint8))[1].tobytes()
    names = ['GOT-10k_Val_000001', 'GOT-10k_Val_000002']
    (root / 'val').mkdir(parents=True)
    (root / 'val' / 'list.txt').write_text('\n'.join(names) + '\n')
    for name, n in zip(names, (30, 45)):
        d = root / 'val' / name
        d.mkdir()
        for i in range(n):
            (d / f'{i + 1:08d}.jpg').write_bytes(jpg)
        gt = random_boxes(rng, n, -10, 60, (5, 30))
        np.savetxt(d / 'groundtruth.txt', gt, fmt='%.4f', delimiter=',')
        cover = rng.integers(0, 9, n)
        cover[0] = 8
        np.savetxt(d / 'cover.label', cover, fmt='%d')
        np.savetxt(d / 'absence.label', (cover == 0).astype(int), fmt='%d')
        np.savetxt(d / 'cut_by_image.label', np.zeros(n, int), fmt='%d')
        (d / 'meta_info.ini').write_text('[METAINFO]\nobject_class: ant\n'
                                         'resolution: (64, 48)\n')


def test_got10k_ao_sr_match_experiment_got10k(tmp_path, got10k_experiments):
    rng = np.random.default_rng(4)
    _write_got10k_val(tmp_path / 'data', rng)
    seqs = read_got10k(tmp_path / 'data', 'val')
    scores, ref_ious = [], []
    for seq in seqs:
        pred = jitter(rng, np.nan_to_num(seq.gt), 4.0)
        pred[0] = seq.gt[0]
        d = tmp_path / 'res' / 'GOT-10k' / 'trk' / seq.name
        d.mkdir(parents=True)
        np.savetxt(d / f'{seq.name}_001.txt', pred, fmt='%.6f', delimiter=',')
        np.savetxt(d / f'{seq.name}_time.txt', np.full(len(seq), 0.01), fmt='%.8f')
        scores.append(M.evaluate_ope(seq, pred))
        visible = seq.attributes['cover'][1:] > 0
        ref_ious.append(g10k_metrics.rect_iou(pred[1:].copy(), seq.gt[1:].copy(),
                                              bound=(64, 48))[visible])
    exp = got10k_experiments.ExperimentGOT10k(str(tmp_path / 'data'), subset='val',
                                              result_dir=str(tmp_path / 'res'),
                                              report_dir=str(tmp_path / 'rep'))
    exp.plot_curves = lambda files, names: None
    perf = exp.report(['trk'])['trk']['overall']
    summary = M.summarize_ope(scores)
    assert abs(summary.ao - perf['ao']) < 1e-6
    assert abs(summary.sr50 - perf['sr']) < 1e-6
    assert abs(summary.sr75 - np.mean(np.concatenate(ref_ious) > 0.75)) < 1e-12
    assert 0.05 < summary.ao < 0.95


# ---------------------------------------------------------------- pysot's conventions

def _pysot_success(gt, pred, n_frame):
    """Compute the OPE success curve as pysot's success_overlap (toolkit/utils/statistics)."""
    iou = np.full(len(gt), -1.0)
    with np.errstate(invalid='ignore'):
        mask = np.sum(gt[:, 2:] > 0, axis=1) == 2
    iou[mask] = g10k_metrics.rect_iou(gt[mask], pred[mask])
    return np.array([np.sum(iou > t) / n_frame for t in np.arange(0, 1.05, 0.05)])


def _pysot_precision(gt_c, pred_c, thresholds, n_frame):
    """Compute a precision curve as pysot's success_error (toolkit/utils/statistics)."""
    dist = np.full(len(gt_c), -1.0)
    with np.errstate(invalid='ignore'):
        mask = np.sum(gt_c > 0, axis=1) == 2
    dist[mask] = np.sqrt(np.sum((gt_c[mask] - pred_c[mask]) ** 2, axis=1))
    return np.array([np.sum(dist <= t) / n_frame for t in thresholds])


def test_otb_policy_is_pysot_on_uav_nan_rows():
    rng = np.random.default_rng(5)
    gt = random_boxes(rng, 70, 20, 150)
    gt[[10, 11, 30]] = np.nan
    pred = jitter(rng, np.nan_to_num(gt, nan=60.0))
    pred[0] = gt[0]
    sc = M.evaluate_ope(make_seq('u', gt, benchmark='uav123'), pred)
    assert sc.policy == 'otb' and sc.frames == 70
    np.testing.assert_allclose(sc.success, _pysot_success(gt, pred, 70), atol=1e-9)
    np.testing.assert_allclose(sc.precision, _pysot_precision(
        M.centers(gt), M.centers(pred), np.arange(51), 70), atol=1e-9)
    wh = gt[:, 2:] + 1e-16
    np.testing.assert_allclose(sc.norm_precision, _pysot_precision(
        M.centers(gt) / wh, M.centers(pred) / wh, np.arange(51) / 100, 70), atol=1e-9)
    assert sc.precision[0] >= 3 / 70  # pysot counts the NaN rows as precision hits


def test_fail_policy_is_pysot_on_lasot_absent_frames():
    rng = np.random.default_rng(6)
    gt = random_boxes(rng, 90, 20, 150)
    absent = np.zeros(90, bool)
    absent[[4, 5, 6, 50, 89]] = True
    pred = jitter(rng, gt)
    pred[0] = gt[0]
    sc = M.evaluate_ope(make_seq('l', gt, absent=absent, benchmark='lasot'), pred)
    vis = ~absent  # pysot keeps frames with absent == 1 (its flag means visible), n = all
    assert sc.policy == 'fail' and sc.frames == 90
    np.testing.assert_allclose(sc.success, _pysot_success(gt[vis], pred[vis], 90), atol=1e-9)
    np.testing.assert_allclose(sc.precision, _pysot_precision(
        M.centers(gt[vis]), M.centers(pred[vis]), np.arange(51), 90), atol=1e-9)
    wh = gt[vis, 2:] + 1e-16
    np.testing.assert_allclose(sc.norm_precision, _pysot_precision(
        M.centers(gt[vis]) / wh, M.centers(pred[vis]) / wh, np.arange(51) / 100, 90),
        atol=1e-9)


def test_normalized_precision_and_frames_before_init():
    gt = np.array([[np.nan] * 4, [0, 0, 10, 20], [0, 0, 10, 20], [0, 0, 10, 20]])
    pred = np.array([[np.nan] * 4, [5, 5, 1, 1], [1, 3, 10, 20], [3, 0, 10, 20]])
    sc = M.evaluate_ope(make_seq('s', gt, benchmark='synthetic'), pred)
    assert sc.frames == 3  # frame 0 was never tracked
    # init frame exact; frame 2 off by (0.1, 0.15) -> 0.180 <= 0.2; frame 3 off by 0.3
    assert sc.norm_p20 == pytest.approx(2 / 3)
    assert sc.norm_precision[19] == pytest.approx(2 / 3)
    assert sc.norm_precision[18] == pytest.approx(1 / 3)
    assert sc.p20 == 1.0 and sc.precision[3] == pytest.approx(2 / 3)
    gt[2:] = np.nan  # nothing to score after the initialisation (GOT-10k test split)
    sc = M.evaluate_ope(make_seq('t', gt, benchmark='got10k'), pred)
    assert sc.frames == 0 and np.isnan(sc.auc) and np.isnan(sc.ao)
    with pytest.raises(ValueError, match='unknown invalid-frame policy'):
        M.evaluate_ope(make_seq('s', gt), pred, policy='ignore')


# ------------------------------------------------------------------------- VOT overlap

def test_vot_overlap_rasterised_like_the_vot_library():
    square = [0, 0, 10, 10]
    assert vot_overlap(square, [0, 0, 10, 0, 10, 10, 0, 10]) == 1.0
    # Both ends of a span are filled: x 0..10 and 5..15 are 11 columns, 6 shared.
    assert vot_overlap(square, [5, 0, 10, 10]) == pytest.approx(66 / 176)
    assert vot_overlap(square, [30, 30, 5, 5]) == 0.0
    # Bounds clip both regions to x <= 5: they become the same 6 x 11 pixels.
    assert vot_overlap([-10, 0, 20, 10], square, bounds=(5, 100)) == 1.0
    assert vot_overlap([-10, 0, 20, 10], square) == pytest.approx(121 / 231)
    # C's round(): 0.5 -> 1 and 10.5 -> 11 (numpy's half-to-even would give 0 and 10).
    assert vot_overlap([0.5, 0, 10, 10], square) == pytest.approx(110 / 132)
    assert np.isnan(vot_overlap(square, [np.nan] * 8))


def test_vot_overlap_close_to_exact_iou_for_large_rotated_polygons():
    rng = np.random.default_rng(7)
    for _ in range(10):
        c = rng.uniform(150, 250, 2)
        ang = rng.uniform(0, np.pi)
        r1 = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        corners = np.array([[-60, -35], [60, -35], [60, 35], [-60, 35]]) @ r1.T + c
        box = [*(c + rng.uniform(-30, 30, 2) - [50, 30]), 100, 60]
        poly = corners.reshape(-1)
        exact = Polygon(corners).intersection(Polygon(
            [(box[0], box[1]), (box[0] + box[2], box[1]), (box[0] + box[2], box[1] + box[3]),
             (box[0], box[1] + box[3])])).area
        union = Polygon(corners).area + box[2] * box[3] - exact
        assert abs(vot_overlap(box, poly) - exact / union) < 0.03


# -------------------------------------------------------------------- VOT AR and EAO

def _square_seq(name, n):
    return make_seq(name, np.tile([0.0, 0.0, 10.0, 10.0], (n, 1)), benchmark='vot')


BOX = (0.0, 0.0, 10.0, 10.0)
OV = 100 / 121  # the box (11 x 11 pixels) over pysot's inclusive polygon (10 x 10)


def test_vot_accuracy_burnin_and_robustness():
    seq = _square_seq('a', 25)
    rec = [1, BOX, 2, 0, 0, 0, 0, 1] + [BOX] * 17
    ar = M.vot_accuracy_robustness([seq], [rec], [(64, 48)])
    ov = M.vot_overlaps(rec, M.vot_polygons(seq), (64, 48), burnin=M.VOT_BURNIN)
    assert np.isnan(ov[:17]).all() and np.allclose(ov[17:], OV)  # burn-in 0-9 and 7-16
    assert ar['accuracy'] == pytest.approx(OV) and ar['lost'] == 1
    assert ar['robustness'] == pytest.approx(100 / 25)


def test_vot_eao_fragments_as_pysot():
    # A: never fails. B: fails at 2, too late to restart. EO(i) = (OV + OV / i) / 2.
    a, b = _square_seq('a', 6), _square_seq('b', 6)
    recs = [[1] + [BOX] * 5, [1, BOX, 2, 0, 0, 0]]
    out = M.vot_eao([a, b], recs, [(64, 48)] * 2, interval=(2, 4))
    expected = [1.0] + [(OV + OV / i) / 2 for i in range(1, 6)]
    np.testing.assert_allclose(out['curve'], expected, rtol=1e-6)
    assert out['eao'] == pytest.approx(np.mean(expected[1:4]), rel=1e-6)
    # C: fails at 2, restarts at 7; the first fragment continues as zeros to the end.
    c = _square_seq('c', 12)
    rec = [1, BOX, 2, 0, 0, 0, 0, 1, BOX, BOX, BOX, BOX]
    out = M.vot_eao([c], [rec], [(64, 48)], interval=(1, 12))
    expected = [1.0] + [(OV / i + OV) / 2 if i <= 4 else OV / i for i in range(1, 12)]
    np.testing.assert_allclose(out['curve'], expected, rtol=1e-6)
    assert out['eao'] == pytest.approx(np.mean(expected), rel=1e-6)


def test_lost_state_counts():
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (8, 1))
    absent = np.zeros(8, bool)
    absent[5:7] = True
    gt[5:7] = np.nan
    seq = make_seq('lost', gt, absent=absent)
    seq.attributes['occlusion'] = np.array([0, 0, 0, 1, 0, 0, 0, 0], bool)
    states = ['init', 'tracking', 'lost', 'lost', 'tracking', 'lost', 'tracking', 'tracking']
    c = M.lost_state_counts(seq, states)
    assert c == {'frames': 7, 'lost': 3, 'lost_right': 2, 'lost_wrong': 1, 'visible': 4,
                 'hidden': 2, 'hidden_lost': 1, 'hidden_tracking': 1}
    with pytest.raises(ValueError, match='states'):
        M.lost_state_counts(seq, states[:-1])
    # The one wrong 'lost' (frame 2, target in view): a false alarm when the held box is on
    # the target, not when the box is elsewhere (the target moved or the tracker drifted).
    boxes = np.tile([10.0, 10.0, 20.0, 20.0], (8, 1))
    assert M.lost_state_counts(seq, states, boxes) == {**c, 'lost_wrong_at_box': 1}
    boxes[2] = [15.0, 15.0, 20.0, 20.0]  # IoU 0.39 with the target: still a false alarm
    assert M.lost_state_counts(seq, states, boxes)['lost_wrong_at_box'] == 1
    boxes[2] = [40.0, 10.0, 20.0, 20.0]
    assert M.lost_state_counts(seq, states, boxes)['lost_wrong_at_box'] == 0
    with pytest.raises(ValueError, match='boxes'):
        M.lost_state_counts(seq, states, boxes[:-1])


def test_false_lost_and_hidden_caught_rates():
    # Frames 0-11: frame 0 precedes the initialisation (target absent), 1 is the init frame.
    states = [None, 'init', 'tracking', 'lost', 'lost', 'lost', 'tracking', 'lost', 'lost',
              'tracking', 'lost', 'lost']
    n = len(states)
    gt = np.tile([10.0, 10.0, 20.0, 20.0], (n, 1))
    absent = np.zeros(n, bool)
    absent[[0, 10]] = True  # absent: hidden
    gt[absent] = np.nan
    seq = make_seq('rates', gt, absent=absent)
    flags = {'out_of_view': [5, 6], 'full_occlusion': [7], 'occlusion': [8]}
    for name, frames in flags.items():
        seq.attributes[name] = np.isin(np.arange(n), frames)
    c = M.lost_state_counts(seq, states)
    # Fully visible after init: 2, 3, 4, 9, 11 (3, 4, 11 lost); hidden: 5, 6, 7, 10 (5, 7, 10
    # lost); frame 8 (partly occluded) is neither; frame 0 (before init) is not counted.
    assert (c['visible'], c['lost_wrong'], c['hidden'], c['hidden_lost']) == (5, 3, 4, 3)
    assert M.lost_state_rates(c) == {'false_lost_rate': pytest.approx(3 / 5),
                                     'hidden_caught_rate': pytest.approx(3 / 4)}
    # Never lost: no false alarms and nothing caught; no hidden frames: the rate is undefined.
    c = M.lost_state_counts(seq, [None, 'init'] + ['tracking'] * (n - 2))
    assert M.lost_state_rates(c) == {'false_lost_rate': 0.0, 'hidden_caught_rate': 0.0}
    seq = make_seq('seen', np.tile([10.0, 10.0, 20.0, 20.0], (4, 1)))
    rates = M.lost_state_rates(M.lost_state_counts(seq, ['init', 'lost', 'tracking', 'lost']))
    assert rates['false_lost_rate'] == pytest.approx(2 / 3)
    assert np.isnan(rates['hidden_caught_rate'])


def _summary_of(aucs: dict[str, float]) -> M.OPESummary:
    curve = np.zeros(21)
    return M.OPESummary(curve, np.zeros(51), np.zeros(51), 1.0, 0.0, 0.0, 0.0, 1.0,
                        len(aucs), {k: {'auc': v} for k, v in aucs.items()})


def test_paired_difference():
    a = _summary_of({'s1': 0.50, 's2': 0.40, 's3': 0.90, 's4': float('nan')})
    b = _summary_of({'s1': 0.45, 's2': 0.41, 's3': 0.60, 's5': 0.2})
    p = M.paired_difference(a, b)
    d = np.array([0.05, -0.01, 0.30])  # s4 (NaN) and s5 (only b) are left out
    assert p['sequences'] == 3 and p['mean'] == pytest.approx(d.mean())
    assert p['standard_error'] == pytest.approx(d.std(ddof=1) / np.sqrt(3))
    assert (p['better'], p['worse']) == (2, 0)
    q = M.paired_difference(b, a, margin=0.0)
    assert q['mean'] == pytest.approx(-d.mean()) and (q['better'], q['worse']) == (1, 2)
    assert M.paired_values({'s1': 0.50, 's2': 0.40, 's3': 0.90, 's4': float('nan')},
                           {'s1': 0.45, 's2': 0.41, 's3': 0.60, 's5': 0.2}) == p
    one = M.paired_difference(_summary_of({'s1': 0.5}), _summary_of({'s1': 0.2}))
    assert one['mean'] == pytest.approx(0.3) and np.isnan(one['standard_error'])


def test_compare_reads_runs_of_different_reports(tmp_path, capsys):
    from meta_tracker_ros.eval.compare import main as compare_main

    def report(name, tracker, aucs):
        folder = tmp_path / name
        folder.mkdir()
        per = {f's{i}': {'auc': a} for i, a in enumerate(aucs)}
        doc = {'trackers': {tracker: {'summary': {'auc': float(np.mean(aucs)),
                                                  'per_sequence': per}}}}
        (folder / 'metrics.json').write_text(json.dumps(doc))
        return f'{folder / "metrics.json"}:{tracker}'

    old = report('old', 'mlt', [0.5, 0.4, 0.3, float('nan')])
    new = report('new', 'mlt', [0.6, 0.45, 0.3, 0.7])
    assert compare_main([new, old, '--label', 'new', '--label', 'old']) == 0
    out = capsys.readouterr().out
    # Three sequences scored by both (NaN left out): differences 0.1, 0.05, 0.
    assert '| new | old | 3 | +0.0500 | 0.0289 | 2 | 0 |' in out
    assert compare_main([new, str(tmp_path / 'old' / 'metrics.json') + ':csrt']) == 2
    assert 'no tracker' in capsys.readouterr().err
