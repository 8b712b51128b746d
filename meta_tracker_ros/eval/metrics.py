# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Tracking metrics with the definitions of the got10k toolkit (0.1.3) and pysot.

One-pass evaluation (OPE), as got10k's ExperimentOTB:
- IoU of x, y, w, h boxes in continuous coordinates (got10k rect_iou: intersection over
  union + eps; the OTB MATLAB toolkit's +1 pixel convention is not used).
- Success curve: fraction of frames with IoU > t for t in linspace(0, 1, 21); the
  success score (AUC) is the mean of the curve. Precision curve: fraction of frames with
  centre error <= t px, t = 0..50, centres x + (w - 1) / 2; P@20 is the value at 20 px.
  Normalised precision (pysot): centres divided by the ground-truth w, h (+1e-16), error
  <= t for t = 0, 0.01, .., 0.5; reported at 0.2.
- Curves are computed per sequence and averaged over sequences; the overall AUC is the
  mean of the averaged success curve. The initialisation frame counts with the
  ground-truth box (got10k sets boxes[0] = anno[0]).
- Speed: per sequence the mean of 1 / t over frames with a positive time; overall the
  mean over sequences that have one (got10k's ExperimentOTB).

Frames whose ground truth is not usable (NaN, w <= 0 or h <= 0, or flagged absent: UAV123
NaN rows, LaSOT full_occlusion | out_of_view, GOT-10k absence/cover 0) are handled by one
of three policies, because the toolkits disagree:
- 'exclude': dropped from numerator and denominator. got10k's ExperimentUAV123 does this
  for UAV NaN rows (_calc_metrics keeps only rows without NaN).
- 'fail': kept in the denominator and counted as failures in all three curves. pysot's
  OPE benchmark on LaSOT (it scores only frames with absent == 1, i.e. visible, but
  divides by the full length) and pytracking's LaSOT analysis do this; so does the LaSOT
  toolkit.
- 'otb': kept in the denominator; counted as failures in the success curve but as hits
  in both precision curves. This is the OTB/UAV MATLAB toolkit (calcSeqErrRobust sets
  IoU -1 and centre error -1 for invalid rows), which pysot (success_overlap /
  success_error, whose masks give IoU -1 and distance -1) and pytracking (dataset 'uav')
  reproduce on UAV123. Validity is pysot's and pytracking's test (w > 0 and h > 0); the
  MATLAB toolkit also invalidates rows with x <= 0 or y <= 0, which we do not.
DEFAULT_POLICY maps each benchmark to the policy its standard toolkit applies. Frames
before Sequence.init_index() (only our synthetic sequences start with an absent target)
were never tracked and are left out under every policy; a sequence with no usable ground
truth after its initialisation frame (GOT-10k test split) scores NaN.

GOT-10k (got10k's ExperimentGOT10k): AO, SR0.50 and SR0.75 over the IoUs of all frames of
all sequences pooled, without the first frame, only frames with cover > 0 (frames not
flagged absent where cover.label is missing), both boxes clipped to the image
(rect_iou's bound = meta_info.ini resolution). SR is the fraction of IoU > threshold.

VOT reset-based protocol (pysot's toolkit, VOT2016-2018 baseline): see vot_accuracy_
robustness and vot_eao.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence as Seq

from meta_tracker_ros.eval.sequence import Sequence
from meta_tracker_ros.eval.vot_region import vot_overlap
import numpy as np

THRESHOLDS_IOU = np.linspace(0, 1, 21)
THRESHOLDS_CENTER = np.arange(0, 51, dtype=np.float64)
THRESHOLDS_NORM = np.arange(0, 51, dtype=np.float64) / 100.0
THRESHOLDS_GOT10K = np.linspace(0, 1, 101)

POLICIES = ('exclude', 'fail', 'otb')
DEFAULT_POLICY = {
    'otb': 'otb', 'uav123': 'otb', 'uav20l': 'otb', 'vot': 'otb',
    'lasot': 'fail',
    'got10k': 'exclude', 'vid': 'exclude', 'synthetic': 'exclude',
}

# VOT protocol constants (pysot: tools/test.py and toolkit/evaluation).
VOT_SKIP = 5           # re-initialise this many frames after a failure
VOT_BURNIN = 10        # frames from each (re)initialisation left out of accuracy
VOT_EAO_INTERVALS = {'VOT2016': (108, 371), 'VOT2017': (100, 356), 'VOT2018': (100, 356),
                     'VOT2019': (46, 291)}


def rect_iou(boxes1: np.ndarray, boxes2: np.ndarray,
             bound: tuple[float, float] | None = None) -> np.ndarray:
    """
    Compute the IoU of (N, 4) x, y, w, h boxes, as got10k.utils.metrics.rect_iou.

    bound: (width, height); when given both boxes are first clipped to [0, width] x
    [0, height] as got10k does (without modifying the inputs, which got10k does).
    """
    a = np.array(boxes1, dtype=np.float64, copy=True).reshape(-1, 4)
    b = np.array(boxes2, dtype=np.float64, copy=True).reshape(-1, 4)
    if a.shape != b.shape:
        raise ValueError(f'box arrays differ in shape: {a.shape} vs {b.shape}')
    if bound is not None:
        for r in (a, b):
            r[:, 0] = np.clip(r[:, 0], 0, bound[0])
            r[:, 1] = np.clip(r[:, 1], 0, bound[1])
            r[:, 2] = np.clip(r[:, 2], 0, bound[0] - r[:, 0])
            r[:, 3] = np.clip(r[:, 3], 0, bound[1] - r[:, 1])
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.clip(inter / (union + np.finfo(float).eps), 0.0, 1.0)


def centers(boxes: np.ndarray) -> np.ndarray:
    """(N, 2) centres x + (w - 1) / 2, y + (h - 1) / 2 (got10k, pysot, OTB toolkit)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return boxes[:, :2] + (boxes[:, 2:] - 1) / 2


def center_error(boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """Euclidean distance between centres, as got10k.utils.metrics.center_error."""
    return np.sqrt(np.sum((centers(boxes1) - centers(boxes2)) ** 2, axis=-1))


def normalized_center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Centre distance after dividing both centres by the ground-truth size (pysot)."""
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    wh = gt[:, 2:] + 1e-16
    return np.sqrt(np.sum((centers(pred) / wh - centers(gt) / wh) ** 2, axis=-1))


def success_curve(ious: np.ndarray, thresholds: np.ndarray = THRESHOLDS_IOU) -> np.ndarray:
    """Fraction of frames with IoU > threshold, per threshold."""
    ious = np.asarray(ious, dtype=np.float64)
    if ious.size == 0:
        return np.full(len(thresholds), np.nan)
    return np.mean(ious[:, None] > thresholds[None, :], axis=0)


def precision_curve(errors: np.ndarray,
                    thresholds: np.ndarray = THRESHOLDS_CENTER) -> np.ndarray:
    """Fraction of frames with error <= threshold, per threshold."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        return np.full(len(thresholds), np.nan)
    return np.mean(errors[:, None] <= thresholds[None, :], axis=0)


def usable_gt(seq: Sequence) -> np.ndarray:
    """(N,) True where the ground truth can be scored: finite, w > 0, h > 0, not absent."""
    gt = seq.gt
    with np.errstate(invalid='ignore'):
        ok = np.isfinite(gt).all(axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)
    return ok & ~seq.absent


def policy_for(seq: Sequence) -> str:
    """Return the invalid-frame policy of the sequence's benchmark (DEFAULT_POLICY)."""
    bench = seq.meta.get('benchmark', 'synthetic')
    if bench not in DEFAULT_POLICY:
        raise ValueError(f'{seq.name}: unknown benchmark {bench!r}; known: '
                         f'{", ".join(sorted(DEFAULT_POLICY))}')
    return DEFAULT_POLICY[bench]


def image_bound(seq: Sequence) -> tuple[float, float]:
    """(width, height) for GOT-10k box clipping: meta resolution, else the first frame's size."""
    if 'resolution' in seq.meta:
        w, h = seq.meta['resolution']
        return float(w), float(h)
    h, w = seq.load_image(0).shape[:2]
    return float(w), float(h)


def sequence_fps(times: np.ndarray | None) -> float:
    """Mean of 1 / t over frames with a positive time (got10k); NaN without times."""
    if times is None:
        return float('nan')
    t = np.asarray(times, dtype=np.float64)
    t = t[np.isfinite(t) & (t > 0)]
    return float(np.mean(1.0 / t)) if len(t) else float('nan')


class _CurveFigures:
    """The headline numbers read off success and precision curves (got10k / pysot)."""

    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray

    @property
    def auc(self) -> float:
        return float(np.mean(self.success))

    @property
    def p20(self) -> float:
        return float(self.precision[20])

    @property
    def norm_p20(self) -> float:
        return float(self.norm_precision[20])


@dataclass
class OPEScores(_CurveFigures):
    """
    One tracker on one sequence.

    success (21,), precision (51,), norm_precision (51,): the curves; frames: the number
    of frames in their denominator. got10k_ious: the IoUs that enter GOT-10k's AO/SR
    (frames after the first with a visible target, boxes clipped to the image).
    """

    sequence: str
    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    frames: int
    got10k_ious: np.ndarray
    times: np.ndarray | None = None
    policy: str = 'exclude'

    @property
    def fps(self) -> float:
        return sequence_fps(self.times)

    @property
    def ao(self) -> float:
        return float(np.mean(self.got10k_ious)) if len(self.got10k_ious) else float('nan')

    def as_dict(self) -> dict[str, Any]:
        sr = {f'sr{int(t * 100)}': (float(np.mean(self.got10k_ious > t))
                                    if len(self.got10k_ious) else float('nan'))
              for t in (0.5, 0.75)}
        return {'auc': self.auc, 'p20': self.p20, 'norm_p20': self.norm_p20, 'ao': self.ao,
                **sr, 'fps': self.fps, 'frames': self.frames, 'policy': self.policy}


def evaluate_ope(seq: Sequence, boxes: np.ndarray, times: np.ndarray | None = None,
                 policy: str | None = None) -> OPEScores:
    """
    Score one sequence's 0-based (N, 4) result boxes against its ground truth.

    policy: 'exclude', 'fail' or 'otb' (module docstring); None = the benchmark's default.
    """
    policy = policy or policy_for(seq)
    if policy not in POLICIES:
        raise ValueError(f'unknown invalid-frame policy {policy!r}; use {", ".join(POLICIES)}')
    boxes = np.array(boxes, dtype=np.float64, copy=True).reshape(-1, 4)
    if len(boxes) != len(seq):
        raise ValueError(f'{seq.name}: {len(boxes)} result boxes for {len(seq)} frames')
    start = seq.init_index()
    gt = seq.gt[start:]
    pred = boxes[start:]
    pred[0] = gt[0]
    ok = usable_gt(seq)[start:]
    times = None if times is None else np.asarray(times, dtype=np.float64)
    if not ok[1:].any():
        # Nothing to score after the initialisation (e.g. GOT-10k's test split, whose
        # ground truth is withheld): NaN rather than a perfect score from the init frame.
        nan = np.full(len(THRESHOLDS_CENTER), np.nan)
        return OPEScores(seq.name, np.full(len(THRESHOLDS_IOU), np.nan), nan, nan.copy(), 0,
                         np.zeros(0), times, policy)
    if not np.isfinite(pred[ok]).all():
        bad = start + int(np.flatnonzero(~np.isfinite(pred).all(axis=1) & ok)[0])
        raise ValueError(f'{seq.name}: result box of frame {bad} is not finite')

    with np.errstate(invalid='ignore'):
        ious = rect_iou(pred, gt)
        ce = center_error(pred, gt)
        nce = normalized_center_error(pred, gt)
    if policy == 'exclude':
        ious, ce, nce = ious[ok], ce[ok], nce[ok]
    else:
        ious[~ok] = -1.0
        miss = np.inf if policy == 'fail' else -1.0
        ce[~ok] = miss
        nce[~ok] = miss

    if 'cover' in seq.attributes:
        visible = np.asarray(seq.attributes['cover'])[start:] > 0
    else:
        visible = ok
    got_ious = rect_iou(pred[1:][visible[1:]], gt[1:][visible[1:]], bound=image_bound(seq))
    return OPEScores(seq.name, success_curve(ious), precision_curve(ce, THRESHOLDS_CENTER),
                     precision_curve(nce, THRESHOLDS_NORM), len(ious), got_ious, times, policy)


@dataclass
class OPESummary(_CurveFigures):
    """Mean curves over sequences (got10k ExperimentOTB.report) and pooled GOT-10k scores."""

    success: np.ndarray
    precision: np.ndarray
    norm_precision: np.ndarray
    fps: float
    ao: float
    sr50: float
    sr75: float
    got10k_fps: float
    sequences: int
    per_sequence: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {'auc': self.auc, 'p20': self.p20, 'norm_p20': self.norm_p20, 'fps': self.fps,
                'ao': self.ao, 'sr50': self.sr50, 'sr75': self.sr75,
                'got10k_fps': self.got10k_fps, 'sequences': self.sequences,
                'success_curve': self.success.tolist(),
                'precision_curve': self.precision.tolist(),
                'norm_precision_curve': self.norm_precision.tolist(),
                'per_sequence': self.per_sequence}


def summarize_ope(scores: Seq[OPEScores]) -> OPESummary:
    """Average per-sequence curves; pool GOT-10k IoUs and times over all frames."""
    if not scores:
        raise ValueError('no sequence scores to summarise')
    succ = np.mean([s.success for s in scores], axis=0)
    prec = np.mean([s.precision for s in scores], axis=0)
    norm = np.mean([s.norm_precision for s in scores], axis=0)
    speeds = np.array([s.fps for s in scores])
    speeds = speeds[np.isfinite(speeds)]
    ious = np.concatenate([s.got10k_ious for s in scores])
    times = np.concatenate([s.times for s in scores if s.times is not None] or [np.zeros(0)])
    pooled = {t: float(np.mean(ious > t)) if len(ious) else float('nan') for t in (0.5, 0.75)}
    return OPESummary(
        succ, prec, norm, float(np.mean(speeds)) if len(speeds) else float('nan'),
        float(np.mean(ious)) if len(ious) else float('nan'), pooled[0.5], pooled[0.75],
        sequence_fps(times), len(scores), {s.sequence: s.as_dict() for s in scores})


def paired_difference(a: OPESummary, b: OPESummary, margin: float = 0.02) -> dict[str, Any]:
    """
    Per-sequence AUC differences a - b over the sequences both scored.

    Returns the number of sequences, the mean difference (equal to the difference of the two
    mean AUCs when both scored the same sequences), its standard error (sample standard
    deviation / sqrt(n)) and how many sequences each side wins by more than `margin`. Two
    trackers whose mean difference is within about two standard errors are not told apart by
    the suite: the difference between two suites of the same distribution would often flip it.
    """
    return paired_values({k: v['auc'] for k, v in a.per_sequence.items()},
                         {k: v['auc'] for k, v in b.per_sequence.items()}, margin)


def paired_values(a: dict[str, float], b: dict[str, float], margin: float = 0.02
                  ) -> dict[str, Any]:
    """Paired differences a - b of any per-sequence measure (sequence name -> value)."""
    keys = [k for k in a if k in b and np.isfinite(a[k]) and np.isfinite(b[k])]
    d = np.array([a[k] - b[k] for k in keys], dtype=np.float64)
    n = len(d)
    return {'sequences': n, 'mean': float(d.mean()) if n else float('nan'),
            'standard_error': float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float('nan'),
            'better': int((d > margin).sum()), 'worse': int((d < -margin).sum()),
            'margin': margin}


# Per-frame attributes under which the target cannot be seen (the lost state is right).
HIDDEN_ATTRIBUTES = ('full_occlusion', 'out_of_view')
OCCLUDED_ATTRIBUTES = ('occlusion',)


def _frame_flags(seq: Sequence, names: Seq[str]) -> np.ndarray:
    flags = np.zeros(len(seq), dtype=bool)
    for name in names:
        value = seq.attributes.get(name)
        if isinstance(value, np.ndarray) and value.shape == (len(seq),):
            flags |= value.astype(bool)
    return flags


def lost_state_counts(seq: Sequence, states: Seq[str | None], boxes: np.ndarray | None = None,
                      overlap: float = 0.3) -> dict[str, int]:
    """
    Count how often a tracker's lost state was right, per frame after initialisation.

    hidden: the target is absent, fully occluded or out of view; occluded: partly occluded;
    visible: neither (fully in view). lost_right: lost while hidden or occluded; lost_wrong:
    lost while visible; hidden_lost / hidden_tracking: lost / tracking while hidden.
    lost_state_rates turns the counts into the false-lost and hidden-caught rates.

    With boxes, the (N, 4) boxes the tracker reported (while lost: the box it holds),
    lost_wrong is split: lost_wrong_at_box counts the false alarms, frames where the visible
    target overlaps the held box (IoU >= overlap); in the others the target is in view
    elsewhere (it moved while hidden, or the tracker had drifted) and searching is the right
    thing to do, though the target has not been found yet.
    """
    states = list(states)
    if len(states) != len(seq):
        raise ValueError(f'{seq.name}: {len(states)} states for {len(seq)} frames')
    if boxes is not None and np.shape(boxes) != (len(seq), 4):
        raise ValueError(f'{seq.name}: boxes of shape {np.shape(boxes)} for {len(seq)} frames')
    hidden = seq.absent | _frame_flags(seq, HIDDEN_ATTRIBUTES)
    occluded = _frame_flags(seq, OCCLUDED_ATTRIBUTES)
    lost = np.array([s == 'lost' for s in states])
    tracking = np.array([s == 'tracking' for s in states])
    visible = ~hidden & ~occluded
    wrong = lost & visible
    counts = {'frames': int((lost | tracking).sum()), 'lost': int(lost.sum()),
              'lost_right': int((lost & (hidden | occluded)).sum()),
              'lost_wrong': int(wrong.sum()),
              'visible': int(((lost | tracking) & visible).sum()),
              'hidden': int(((lost | tracking) & hidden).sum()),
              'hidden_lost': int((lost & hidden).sum()),
              'hidden_tracking': int((tracking & hidden).sum())}
    if boxes is not None:
        with np.errstate(invalid='ignore'):
            at_box = rect_iou(boxes, seq.gt) >= overlap
        counts['lost_wrong_at_box'] = int((wrong & at_box).sum())
    return counts


def lost_state_rates(counts: dict[str, int]) -> dict[str, float]:
    """
    Turn (summed) lost_state_counts into the two rates that judge a lost state.

    false_lost_rate: frames reported lost while the target was fully visible / fully
    visible frames (lower is better); hidden_caught_rate: frames reported lost while the
    target was hidden / hidden frames (higher is better). NaN without such frames.
    """
    visible, hidden = counts['visible'], counts['hidden']
    return {'false_lost_rate': counts['lost_wrong'] / visible if visible else float('nan'),
            'hidden_caught_rate': counts['hidden_lost'] / hidden if hidden else float('nan')}


def attribute_subsets(seqs: Iterable[Sequence]) -> dict[str, list[str]]:
    """
    Attribute -> names of the sequences that have it.

    Per-sequence flags (OTB, UAV) count as given; per-frame boolean flags (VOT tags,
    LaSOT full_occlusion, VID occluded) count when any frame has them. Integer labels
    (GOT-10k cover) are not attributes.
    """
    out: dict[str, list[str]] = {}
    for s in seqs:
        for name, value in s.attributes.items():
            arr = np.asarray(value)
            if arr.dtype != bool:
                continue
            out.setdefault(name, [])
            if arr.any():
                out[name].append(s.name)
    return {k: v for k, v in sorted(out.items()) if v}


# ----------------------------------------------------------------------------------------
# VOT reset-based (supervised) protocol, as pysot's toolkit evaluates it.
#
# A trajectory holds one entry per frame: 1 = (re)initialised here, 2 = failure (zero
# overlap with the ground truth), 0 = skipped (between a failure and the re-initialisation
# VOT_SKIP frames later), or the tracker's box x, y, w, h.

Record = int | tuple[float, float, float, float]


def vot_polygons(seq: Sequence) -> np.ndarray:
    """Return the VOT ground-truth polygons; boxes become pysot's x .. x + w - 1 polygons."""
    if 'polygons' in seq.meta:
        return np.asarray(seq.meta['polygons'], dtype=np.float64)
    x, y, w, h = seq.gt.T
    return np.stack([x, y, x, y + h - 1, x + w - 1, y + h - 1, x + w - 1, y], axis=1)


def vot_overlaps(records: Seq[Record], polygons: np.ndarray, bound: tuple[float, float],
                 burnin: int = 0) -> np.ndarray:
    """
    Per-frame overlaps of a trajectory (pysot calculate_accuracy): NaN for coded frames.

    burnin: frames from each initialisation (inclusive) whose overlap is left out.
    """
    n = min(len(records), len(polygons))
    masked = np.zeros(n, dtype=bool)
    for i in range(n):
        if records[i] == 1:
            masked[i:i + burnin] = True
    out = np.full(n, np.nan)
    for i in range(n):
        if not masked[i] and not isinstance(records[i], int):
            out[i] = vot_overlap(records[i], polygons[i], bound)
    return out


def vot_failures(records: Seq[Record]) -> list[int]:
    """Frame indices of failures (entries 2)."""
    return [i for i, r in enumerate(records) if isinstance(r, int) and r == 2]


def vot_accuracy_robustness(seqs: Seq[Sequence], records: Seq[Seq[Record]],
                            sizes: Seq[tuple[int, int]]) -> dict[str, Any]:
    """
    Accuracy, robustness and failures (pysot AccuracyRobustnessBenchmark, 1 repetition).

    sizes: (width, height) of each sequence's images; overlaps are bounded by them.
    accuracy: mean overlap over all frames of all sequences, without the VOT_BURNIN frames
    after each initialisation and the coded frames. lost: the total number of failures.
    robustness: pysot's figure, failures / frames of all sequences * 100.
    """
    overlaps, lost, per_seq = [], 0, {}
    for seq, rec, size in zip(seqs, records, sizes):
        ov = vot_overlaps(rec, vot_polygons(seq), size, burnin=VOT_BURNIN)
        fails = len(vot_failures(rec))
        overlaps.append(ov)
        lost += fails
        per_seq[seq.name] = {'accuracy': float(np.nanmean(ov)) if np.isfinite(ov).any()
                             else float('nan'), 'failures': fails}
    pooled = np.concatenate(overlaps)
    length = sum(len(o) for o in overlaps)
    return {'accuracy': float(np.nanmean(pooled)) if np.isfinite(pooled).any() else float('nan'),
            'robustness': lost / length * 100.0, 'lost': lost, 'per_sequence': per_seq}


def expected_overlap_curve(fragments: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """
    Compute the expected overlap curve as pysot's calculate_expected_overlap.

    For every length i, the weighted mean over fragments of the mean overlap of frames
    1..i (float32, as pysot stores it).
    """
    max_len = fragments.shape[1]
    curve = np.zeros(max_len, np.float32)
    curve[0] = 1
    for i in range(1, max_len):
        mask = ~np.isnan(fragments[:, i])
        if np.any(mask):
            frag = fragments[mask, 1:i + 1]
            seq_mean = np.sum(frag, 1) / frag.shape[1]
            curve[i] = np.sum(seq_mean * weights[mask]) / np.sum(weights[mask])
    return curve


def vot_eao(seqs: Seq[Sequence], records: Seq[Seq[Record]], sizes: Seq[tuple[int, int]],
            interval: tuple[int, int] = VOT_EAO_INTERVALS['VOT2016']) -> dict[str, Any]:
    """
    Compute the expected average overlap (pysot EAOBenchmark, tag 'all', 1 repetition).

    Each trajectory is cut at its re-initialisations (failure + VOT_SKIP) into fragments;
    a fragment that ended in a failure continues with overlap 0 to the longest sequence's
    length, the last fragment of a sequence stops at the sequence end. The expected
    overlap curve is the weighted mean over fragments of the average overlap of frames
    1..n, and EAO its mean over n in interval (1-based, inclusive; VOT2016: 108-371).
    Overlaps here are bounded by (width - 1, height - 1), as pysot's EAO does (its
    accuracy uses (width, height)).
    """
    all_overlaps, all_failures, lengths = [], [], []
    for seq, rec, (w, h) in zip(seqs, records, sizes):
        ov = vot_overlaps(rec, vot_polygons(seq), (w - 1, h - 1))
        # Our extension (pysot assumes every frame has ground truth): frames without usable
        # ground truth count as overlap 0, as pysot's failure fragments count NaN.
        no_gt = ~np.isfinite(vot_polygons(seq)[:len(ov)]).all(axis=1)
        ov[no_gt] = 0.0
        all_overlaps.append(ov)
        all_failures.append(vot_failures(rec))
        lengths.append(len(seq))
    n_fragments = sum(len(f) + 1 for f in all_failures)
    max_len = max(len(o) for o in all_overlaps)
    seq_weight = 1 / (1 + 1e-10)  # pysot: 1 / (repetitions + 1e-10)
    weights = np.full(n_fragments, np.nan)
    fragments = np.full((n_fragments, max_len), np.nan)
    row = 0
    for traj_len, failures, overlaps in zip(lengths, all_failures, all_overlaps):
        if failures:
            points = [0] + [f + VOT_SKIP for f in failures if f + VOT_SKIP <= len(overlaps)]
            for i, p in enumerate(points):
                last = i == len(points) - 1
                frag = np.array(overlaps[p:] if last else overlaps[p:points[i + 1] + 1])
                if not last:
                    fragments[row, :] = 0
                frag[np.isnan(frag)] = 0
                fragments[row, :len(frag)] = frag
                # Tag 'all' marks every frame, so the weight is the number of frames of
                # the fragment's span within the sequence over the span (pysot's formula).
                if last:
                    weights[row] = seq_weight * (len(overlaps) - p) / (traj_len - p + 1e-16)
                else:
                    nxt = points[i + 1]
                    weights[row] = seq_weight * (min(nxt + 1, traj_len) - p) / (nxt - p + 1)
                row += 1
        else:
            n = min(len(overlaps), max_len)
            fragments[row, :n] = overlaps[:n]
            weights[row] = seq_weight * 1.0
            row += 1
    curve = expected_overlap_curve(fragments, weights)
    low, high = interval
    sel = np.zeros(len(curve))
    sel[low - 1:high] = 1
    valid = ~np.isnan(curve)
    denom = np.sum(sel[valid])
    eao = float(np.sum(curve[valid] * sel[valid]) / denom) if denom > 0 else float('nan')
    return {'eao': eao, 'interval': [low, high], 'curve': curve.tolist()}
