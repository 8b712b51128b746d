# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Score result folders and write report.md, metrics.json and the plots.

report.md holds the summary table, per-attribute and per-sequence figures, links to the
plots, and for every tracker what produced its numbers: name, package version and git
commit, resolved config, weights path, weights metadata and sha256 (from the result
folder's tracker.json, written when the results were made).
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any, Sequence as Seq

import meta_tracker_ros
from meta_tracker_ros.eval import plots
from meta_tracker_ros.eval.masks import sequence_scores
from meta_tracker_ros.eval.metrics import (attribute_subsets, evaluate_ope,
                                           lost_state_counts, lost_state_rates, OPEScores,
                                           OPESummary, paired_values,
                                           summarize_ope, vot_accuracy_robustness, vot_eao,
                                           VOT_EAO_INTERVALS)
from meta_tracker_ros.eval.runner import git_commit, read_masks, read_result
from meta_tracker_ros.eval.sequence import Sequence
import numpy as np


def score_ope(tracker_dir: Path, seqs: Seq[Sequence],
              policy: str | None = None) -> list[OPEScores]:
    """Per-sequence OPE scores of one tracker's result folder."""
    out = []
    for seq in seqs:
        run = read_result(tracker_dir, seq, 'ope')
        out.append(evaluate_ope(seq, run.boxes, run.times, policy))
    return out


def image_size(seq: Sequence) -> tuple[int, int]:
    """(width, height) of the sequence's first frame."""
    h, w = seq.load_image(0).shape[:2]
    return w, h


def score_vot(tracker_dir: Path, seqs: Seq[Sequence],
              interval: tuple[int, int] = VOT_EAO_INTERVALS['VOT2016']) -> dict[str, Any]:
    """Accuracy, robustness, failures and EAO of one tracker's VOT result folder."""
    records = [read_result(tracker_dir, s, 'vot').records for s in seqs]
    sizes = [image_size(s) for s in seqs]
    return {**vot_accuracy_robustness(seqs, records, sizes),
            **vot_eao(seqs, records, sizes, interval)}


def _f(v: float, digits: int = 3) -> str:
    return 'n/a' if v is None or (isinstance(v, float) and math.isnan(v)) else f'{v:.{digits}f}'


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return (['| ' + ' | '.join(header) + ' |', '|' + '|'.join(['---'] * len(header)) + '|']
            + ['| ' + ' | '.join(r) + ' |' for r in rows])


def _tracker_section(name: str, info: dict[str, Any]) -> list[str]:
    lines = [f'### {name}', '',
             f'- description: {info.get("description", "")}',
             f'- version: meta_tracker_ros {info.get("version")}, git commit '
             f'{info.get("git_commit") or "unknown"}'
             + (f' (folder reopened at {", ".join(info["reopened_at"])}: sequences resumed '
                f'or results scored again; complete sequences are not re-run)'
                if info.get('reopened_at') else ''),
             f'- device: {info.get("device")}, seed: {info.get("seed")}',
             f'- weights: {info.get("weights") or "none"}']
    if info.get('weights'):
        lines.append(f'- weights sha256: `{info.get("weights_sha256")}`')
    lines += ['- config:', '', '```json', json.dumps(info.get('config'), indent=2,
                                                     sort_keys=True), '```', '']
    if info.get('weights_metadata'):
        lines += ['- weights metadata:', '', '```json',
                  json.dumps(info['weights_metadata'], indent=2, sort_keys=True), '```', '']
    return lines


def _read_info(tracker_dir: Path) -> dict[str, Any]:
    f = tracker_dir / 'tracker.json'
    return json.loads(f.read_text()) if f.is_file() else {}


def write_report(out: str | Path, dataset: str, seqs: Seq[Sequence],
                 tracker_dirs: Seq[Path], *, protocol: str = 'ope', policy: str | None = None,
                 eao_interval: tuple[int, int] = VOT_EAO_INTERVALS['VOT2016']) -> dict[str, Any]:
    """
    Score every tracker folder, write <out>/report.md, metrics.json and plots/*.png.

    Returns the metrics dictionary that metrics.json holds.
    """
    out = Path(out)
    plot_dir = out / 'plots'
    names = [Path(d).name for d in tracker_dirs]
    infos = {n: _read_info(Path(d)) for n, d in zip(names, tracker_dirs)}
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')
    metrics: dict[str, Any] = {
        'dataset': dataset, 'protocol': protocol, 'sequences': [s.name for s in seqs],
        'created': now, 'evaluator': {'version': meta_tracker_ros.__version__,
                                      'git_commit': git_commit()},
        'trackers': {}}
    md = [f'# Tracking evaluation on `{dataset}`', '',
          f'{len(seqs)} sequences, {sum(len(s) for s in seqs)} frames, protocol '
          f'{protocol.upper()}. Made {now} by meta_tracker_ros '
          f'{meta_tracker_ros.__version__} (commit {metrics["evaluator"]["git_commit"]}).', '']
    if protocol == 'vot':
        md += _vot_sections(names, tracker_dirs, seqs, eao_interval, metrics, plot_dir)
    else:
        md += _ope_sections(names, tracker_dirs, seqs, policy, metrics, plot_dir)
    md += ['## Trackers', '']
    for n in names:
        metrics['trackers'][n]['info'] = infos[n]
        md += _tracker_section(n, infos[n])
    out.mkdir(parents=True, exist_ok=True)
    (out / 'report.md').write_text('\n'.join(md) + '\n')
    (out / 'metrics.json').write_text(json.dumps(metrics, indent=2, sort_keys=True,
                                                 default=_json_default) + '\n')
    return metrics


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f'cannot serialise {type(v).__name__}')


def _ope_sections(names: list[str], dirs: Seq[Path], seqs: Seq[Sequence], policy: str | None,
                  metrics: dict[str, Any], plot_dir: Path) -> list[str]:
    scores = {n: score_ope(Path(d), seqs, policy) for n, d in zip(names, dirs)}
    summaries = {n: summarize_ope(s) for n, s in scores.items()}
    policies = sorted({sc.policy for s in scores.values() for sc in s})
    for n in names:
        metrics['trackers'][n] = {'summary': summaries[n].as_dict()}
    md = [f'Invalid or absent ground-truth frames are scored with policy '
          f'{", ".join(policies)} (see eval/metrics.py).', '', '## Summary', '']
    md += _table(['tracker', 'AUC', 'P@20', 'NormP@0.2', 'AO', 'SR0.50', 'SR0.75', 'fps'],
                 [[n, _f(s.auc), _f(s.p20), _f(s.norm_p20), _f(s.ao), _f(s.sr50), _f(s.sr75),
                   _f(s.fps, 1)] for n, s in summaries.items()])
    files = [plots.success_plot({n: s.success for n, s in summaries.items()},
                                plot_dir / 'success.png', 'Success plots of OPE'),
             plots.precision_plot({n: s.precision for n, s in summaries.items()},
                                  plot_dir / 'precision.png', 'Precision plots of OPE'),
             plots.norm_precision_plot({n: s.norm_precision for n, s in summaries.items()},
                                       plot_dir / 'norm_precision.png',
                                       'Normalised precision plots of OPE')]
    subsets = attribute_subsets(seqs)
    rows = []
    for attr, members in subsets.items():
        curves = {n: np.mean([sc.success for sc in scores[n] if sc.sequence in members], axis=0)
                  for n in names}
        files.append(plots.success_plot(curves, plot_dir / f'success_{attr}.png',
                                        f'Success plots of OPE - {attr} ({len(members)})'))
        rows.append([attr, str(len(members))] + [_f(float(np.mean(curves[n]))) for n in names])
        for n in names:
            metrics['trackers'][n].setdefault('attributes', {})[attr] = {
                'sequences': members, 'auc': float(np.mean(curves[n])),
                'success_curve': curves[n].tolist()}
    md += _paired_section(names, summaries, metrics)
    md += ['', '## Plots', ''] + [f'![{f.stem}](plots/{f.name})' for f in files] + ['']
    if rows:
        md += ['## Success (AUC) per attribute', '']
        md += _table(['attribute', 'sequences'] + names, rows) + ['']
    md += _lost_state_section(names, dirs, seqs, metrics)
    md += _mask_section(names, dirs, seqs, metrics, plot_dir)
    md += ['## Per-sequence results', '']
    for n in names:
        md += [f'### {n}', '']
        body = [[sc.sequence, str(sc.frames), _f(sc.auc), _f(sc.p20), _f(sc.norm_p20),
                 _f(sc.ao), _f(sc.fps, 1)] for sc in scores[n]]
        s = summaries[n]
        body.append(['**mean**', str(sum(sc.frames for sc in scores[n])), _f(s.auc), _f(s.p20),
                     _f(s.norm_p20), _f(s.ao), _f(s.fps, 1)])
        md += _table(['sequence', 'frames', 'AUC', 'P@20', 'NormP@0.2', 'AO', 'fps'], body)
        md += ['']
    return md


def _paired_table(names: list[str], per_sequence: dict[str, dict[str, float]], measure: str,
                  metrics: dict[str, Any], key: str) -> list[str]:
    """
    Paired per-sequence differences of every two trackers (eval.metrics.paired_values).

    per_sequence: tracker -> sequence -> value; the results go to metrics[key]['a - b'].
    """
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            p = paired_values(per_sequence[a], per_sequence[b])
            metrics.setdefault(key, {})[f'{a} - {b}'] = p
            rows.append([f'{a} - {b}', str(p['sequences']), f"{p['mean']:+.3f}",
                         _f(p['standard_error']), str(p['better']), str(p['worse'])])
    return _table(['pair', 'sequences', f'mean {measure} difference', 'standard error',
                   'better by > 0.02', 'worse by > 0.02'], rows)


def _paired_section(names: list[str], summaries: dict[str, OPESummary],
                    metrics: dict[str, Any]) -> list[str]:
    """Per-sequence AUC differences of every pair of trackers (eval.metrics.paired_values)."""
    if len(names) < 2:
        return []
    aucs = {n: {k: v['auc'] for k, v in summaries[n].per_sequence.items()} for n in names}
    return (['', '## Paired differences', '',
             'Per-sequence AUC of the first tracker minus the second, over the sequences both '
             'scored: mean, standard error of the mean, and the sequences won and lost by more '
             'than 0.02. A mean within about two standard errors of zero does not tell the two '
             'apart on this suite.', '']
            + _paired_table(names, aucs, 'AUC', metrics, 'paired'))


def _mask_section(names: list[str], dirs: Seq[Path], seqs: Seq[Sequence],
                  metrics: dict[str, Any], plot_dir: Path) -> list[str]:
    """
    J, F and J&F (eval.masks, DAVIS's definitions) of the trackers that recorded masks.

    Scored on the sequences with true masks, from the tracker's initialisation frame on (the
    first scored frame is the one after it, as DAVIS leaves out the given first frame).
    """
    with_truth = [s for s in seqs if s.masks is not None]
    rows = []
    curves: dict[str, np.ndarray] = {}
    for n, d in zip(names, dirs):
        per_seq = {}
        for seq in with_truth:
            preds = read_masks(Path(d), seq)
            if preds is None:
                continue
            start = seq.init_index()
            gts = [seq.load_mask(i) for i in range(start, len(seq))]
            per_seq[seq.name] = sequence_scores(preds[start:], gts)
        if not per_seq:
            continue
        j = float(np.nanmean([v['J_mean'] for v in per_seq.values()]))
        f = float(np.nanmean([v['F_mean'] for v in per_seq.values()]))
        jr = float(np.nanmean([v['J_recall'] for v in per_seq.values()]))
        metrics['trackers'][n]['masks'] = {
            'sequences': len(per_seq), 'J_mean': j, 'F_mean': f, 'JF': (j + f) / 2,
            'J_recall': jr, 'per_sequence': {k: {m: v[m] for m in (
                'J_mean', 'J_recall', 'J_decay', 'F_mean', 'F_recall', 'F_decay', 'JF')}
                for k, v in per_seq.items()}}
        rows.append([n, str(len(per_seq)), _f((j + f) / 2), _f(j), _f(f), _f(jr),
                     _f(metrics['trackers'][n]['summary']['auc'])])
        curves[n] = np.mean([plots.mask_success(v['J']) for v in per_seq.values()], axis=0)
    if not rows:
        return []
    jf = {n: metrics['trackers'][n]['masks']['JF'] for n in curves}
    box_auc = {n: metrics['trackers'][n]['summary']['auc'] for n in curves}
    figure = plots.mask_success_plot(curves, jf, box_auc, plot_dir / 'masks.png',
                                     'Mask success plots (J)')
    return (['## Masks', '', 'Region similarity J (mask IoU) and contour accuracy F (boundary '
             'F-measure, tolerance 0.8% of the image diagonal) as the DAVIS benchmark defines '
             'them, mean over sequences of the per-frame means; J recall = share of frames '
             'with J > 0.5; a lost frame counts as an empty mask. Box AUC beside them.', '']
            + _table(['tracker', 'sequences', 'J&F', 'J', 'F', 'J recall', 'box AUC'], rows)
            + ['', f'![{figure.stem}](plots/{figure.name})', ''] + _paired_masks(metrics))


def _paired_masks(metrics: dict[str, Any]) -> list[str]:
    """Per-sequence J&F differences of every pair of mask trackers (eval.metrics)."""
    names = [n for n, t in metrics['trackers'].items() if 'masks' in t]
    if len(names) < 2:
        return []
    jf = {n: {k: v['JF'] for k, v in metrics['trackers'][n]['masks']['per_sequence'].items()}
          for n in names}
    return (['Paired J&F differences: per-sequence J&F of the first tracker minus the second '
             '(as the AUC differences above).', '']
            + _paired_table(names, jf, 'J&F', metrics, 'paired_jf') + [''])


def _lost_state_section(names: list[str], dirs: Seq[Path], seqs: Seq[Sequence],
                        metrics: dict[str, Any]) -> list[str]:
    """How often each tracker's lost state was right (eval.metrics.lost_state_counts)."""
    rows = []
    for n, d in zip(names, dirs):
        total: dict[str, int] = {}
        for seq in seqs:
            run = read_result(Path(d), seq, 'ope')
            for k, v in lost_state_counts(seq, run.states, run.boxes).items():
                total[k] = total.get(k, 0) + v
        rates = lost_state_rates(total)
        metrics['trackers'][n]['lost_state'] = {**total, **rates}
        right = total['lost_right'] / total['lost'] if total['lost'] else float('nan')
        rows.append([n, _f(rates['false_lost_rate']), _f(rates['hidden_caught_rate']),
                     str(total['frames']), str(total['visible']), str(total['lost']),
                     str(total['lost_right']), str(total['lost_wrong']),
                     str(total['lost_wrong_at_box']), _f(right), str(total['hidden'])])
    return (['## Lost state', '', 'false-lost rate = frames reported lost while the target '
             'was fully visible (not absent, occluded or out of view) / fully visible frames; '
             'hidden-caught rate = frames reported lost while the target was hidden (absent, '
             'fully occluded or out of view) / hidden frames; frames counted after the '
             'initialisation. lost right = lost while the target was absent, out of view or '
             '(partly) occluded; lost wrong = lost while it was fully in view; of those, at '
             'the box = the target overlapped the box the tracker held (IoU >= 0.3: a false '
             'alarm), the others = the target was in view elsewhere, not found yet.', '']
            + _table(['tracker', 'false-lost rate', 'hidden-caught rate', 'frames', 'visible',
                      'lost', 'lost right', 'lost wrong', 'lost wrong at the box',
                      'right / lost', 'hidden'], rows) + [''])


def _vot_sections(names: list[str], dirs: Seq[Path], seqs: Seq[Sequence],
                  interval: tuple[int, int], metrics: dict[str, Any],
                  plot_dir: Path) -> list[str]:
    results = {n: score_vot(Path(d), seqs, interval) for n, d in zip(names, dirs)}
    for n in names:
        metrics['trackers'][n] = {'vot': results[n]}
    md = [f'Reset-based protocol (pysot): re-initialisation 5 frames after a failure, '
          f'10 burn-in frames left out of accuracy, EAO over lengths '
          f'{interval[0]}-{interval[1]}.', '', '## Summary', '']
    md += _table(['tracker', 'Accuracy', 'Robustness', 'Lost', 'EAO'],
                 [[n, _f(r['accuracy']), _f(r['robustness']), str(r['lost']), _f(r['eao'])]
                  for n, r in results.items()])
    f = plots.expected_overlap_plot({n: r['curve'] for n, r in results.items()},
                                    {n: r['eao'] for n, r in results.items()}, interval,
                                    plot_dir / 'expected_overlap.png', 'Expected overlap')
    md += ['', '## Plots', '', f'![{f.stem}](plots/{f.name})', '', '## Per-sequence results',
           '']
    for n in names:
        md += [f'### {n}', '']
        md += _table(['sequence', 'frames', 'accuracy', 'failures'],
                     [[s.name, str(len(s)), _f(results[n]['per_sequence'][s.name]['accuracy']),
                       str(results[n]['per_sequence'][s.name]['failures'])] for s in seqs])
        md += ['']
    return md
