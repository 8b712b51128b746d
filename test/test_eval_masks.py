# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Mask scores (DAVIS's J and F) and the video-segmentation readers (DAVIS, YouTube-VOS).

J and F are checked on hand-made masks whose values are known, and against a plain
transcription of davis2017-evaluation's f_measure (loops and distances, no dilation) on
random masks; the readers on small folders written here in each layout.
"""

import math

from meta_tracker_ros.eval import masks as M
from meta_tracker_ros.eval.datasets import load_dataset
from meta_tracker_ros.eval.readers.davis import mask_box
import numpy as np
from PIL import Image
import pytest


def square(x, y, size=10, shape=(100, 100)):
    m = np.zeros(shape, dtype=bool)
    m[y:y + size, x:x + size] = True
    return m


def reference_f(fg, gt, bound_th=0.008):
    """davis2017-evaluation's f_measure, written out: seg2bmap, then a distance test."""
    def seg2bmap(seg):
        h, w = seg.shape
        b = np.zeros_like(seg)
        for y in range(h):
            for x in range(w):
                v = seg[y, x]
                e = seg[y, x + 1] if x + 1 < w else False
                s = seg[y + 1, x] if y + 1 < h else False
                se = seg[y + 1, x + 1] if x + 1 < w and y + 1 < h else False
                if y == h - 1 and x == w - 1:
                    b[y, x] = False
                elif y == h - 1:
                    b[y, x] = v != e
                elif x == w - 1:
                    b[y, x] = v != s
                else:
                    b[y, x] = v != e or v != s or v != se
        return b

    r = math.ceil(bound_th * math.hypot(*fg.shape))
    fb, gb = seg2bmap(fg), seg2bmap(gt)
    fp, gp = np.argwhere(fb), np.argwhere(gb)

    def matched(a, b):
        if len(b) == 0:
            return 0
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return int((d2.min(axis=1) <= r * r).sum())
    if len(fp) == 0 and len(gp) > 0:
        p, rc = 1.0, 0.0
    elif len(fp) > 0 and len(gp) == 0:
        p, rc = 0.0, 1.0
    elif len(fp) == 0 and len(gp) == 0:
        p, rc = 1.0, 1.0
    else:
        p, rc = matched(fp, gp) / len(fp), matched(gp, fp) / len(gp)
    return 0.0 if p + rc == 0 else 2 * p * rc / (p + rc)


def test_j_and_f_on_known_masks():
    a = square(20, 30)
    assert M.region_similarity(a, a) == 1.0 and M.contour_accuracy(a, a) == 1.0
    empty = np.zeros_like(a)
    assert M.region_similarity(empty, empty) == 1.0 and M.contour_accuracy(empty, empty) == 1.0
    assert M.region_similarity(empty, a) == 0.0 and M.contour_accuracy(empty, a) == 0.0
    assert M.region_similarity(a, empty) == 0.0 and M.contour_accuracy(a, empty) == 0.0
    # Shifted by 2 px: IoU 80 / 120; the boundaries are within the tolerance (ceil(0.008 *
    # 141.4) = 2 px), so F is 1. Shifted by 6 px the vertical edges no longer match.
    assert M.region_similarity(square(22, 30), a) == pytest.approx(80 / 120)
    assert M.contour_accuracy(square(22, 30), a) == 1.0
    assert M.contour_accuracy(square(26, 30), a) < 0.8
    far = square(70, 70)
    assert M.region_similarity(far, a) == 0.0 and M.contour_accuracy(far, a) == 0.0
    with pytest.raises(ValueError, match='one shape'):
        M.region_similarity(a, a[:50])


def test_f_matches_the_reference_transcription():
    from skimage.morphology import disk
    for r in (1, 2, 5):
        assert np.array_equal(M.disk(r), disk(r).astype(np.uint8))
    rng = np.random.default_rng(3)
    for k in range(12):
        shape = (int(rng.integers(20, 60)), int(rng.integers(20, 60)))
        blobs = []
        for _ in range(2):
            small = rng.random((shape[0] // 6 + 1, shape[1] // 6 + 1)) > 0.6
            big = np.kron(small, np.ones((6, 6), dtype=bool))[:shape[0], :shape[1]]
            blobs.append(big)
        got = M.contour_accuracy(blobs[0], blobs[1])
        assert got == pytest.approx(reference_f(blobs[0], blobs[1]), abs=1e-12), k


def test_statistics_and_sequence_scores():
    s = M.statistics([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert s['mean'] == 0.5 and s['recall'] == 0.5
    # davis2017's bins for 8 frames: ids round(linspace(1, 8, 5)) - 1 = [0, 2, 4, 5, 7].
    assert s['decay'] == pytest.approx(1.0 - 0.0)
    a = square(20, 30)
    gts = [a, a, a, None, a]
    preds = [None, a, square(22, 30), a, None]
    out = M.sequence_scores(preds, gts)
    assert out['frames'] == [1, 2]             # first, last and unlabelled frames left out
    assert out['J'] == pytest.approx([1.0, 80 / 120])
    assert out['JF'] == pytest.approx((out['J_mean'] + out['F_mean']) / 2)


def _palette_png(path, labels):
    im = Image.fromarray(labels.astype(np.uint8), mode='P')
    im.putpalette([0, 0, 0, 200, 0, 0, 0, 200, 0] + [0] * (256 * 3 - 9))
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)


def _jpeg(path, shape=(48, 64)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*shape, 3), 90, dtype=np.uint8)).save(path)


def test_davis_reader(tmp_path):
    root = tmp_path / 'DAVIS'
    for i in range(4):
        _jpeg(root / 'JPEGImages/480p/cars/{:05d}.jpg'.format(i))
        lab = np.zeros((48, 64), dtype=np.uint8)
        lab[5:15, 10 + i:30 + i] = 1                # object 1 moves right
        if i != 2:
            lab[30:40, 40:50] = 2                   # object 2 hidden in frame 2
        lab[0, 0] = 255                              # void
        _palette_png(root / 'Annotations/480p/cars/{:05d}.png'.format(i), lab)
        _jpeg(root / 'JPEGImages/480p/dog/{:05d}.jpg'.format(i))
        binary = np.zeros((48, 64), dtype=np.uint8)
        binary[10:20, 10:20] = 255
        path = root / 'Annotations/480p/dog/{:05d}.png'.format(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(binary, mode='L').save(path)   # DAVIS-2016: binary 0/255
    (root / 'ImageSets/2017').mkdir(parents=True)
    (root / 'ImageSets/2017/val.txt').write_text('cars\ndog\n')
    (root / 'ImageSets/2017/train.txt').write_text('dog\n')

    seqs = {s.name: s for s in load_dataset(f'davis:{root}')}
    assert sorted(seqs) == ['cars_1', 'cars_2', 'dog']
    c1, c2, dog = seqs['cars_1'], seqs['cars_2'], seqs['dog']
    assert np.allclose(c1.gt[3], [13, 5, 20, 10])
    assert c2.absent.tolist() == [False, False, True, False] and np.isnan(c2.gt[2]).all()
    assert np.allclose(dog.gt[0], [10, 10, 10, 10])
    m = c1.load_mask(1)
    assert m.dtype == bool and m.sum() == 200 and not m[0, 0]
    assert np.allclose(mask_box(m), c1.gt[1])
    assert [s.name for s in load_dataset(f'davis:{root}:train')] == ['dog']


def test_youtube_vos_reader(tmp_path):
    base = tmp_path / 'ytvos' / 'valid'
    for i in range(6):
        _jpeg(base / 'JPEGImages/v1/{:05d}.jpg'.format(i * 5))
        if i % 2 == 0:                              # annotated every other frame
            lab = np.zeros((48, 64), dtype=np.uint8)
            lab[10:20, 10:20] = 1
            if i >= 2:
                lab[25:35, 30:45] = 2               # object 2 enters at frame 2
            _palette_png(base / 'Annotations/v1/{:05d}.png'.format(i * 5), lab)
    seqs = {s.name: s for s in load_dataset(f'ytvos:{tmp_path / "ytvos"}')}
    assert sorted(seqs) == ['v1_1', 'v1_2']
    one, two = seqs['v1_1'], seqs['v1_2']
    assert len(one) == 6 and len(two) == 4          # starts at its first appearance
    assert np.isnan(one.gt[1]).all() and not one.absent[1], 'unlabelled, not absent'
    assert one.load_mask(1) is None and one.load_mask(2).sum() == 100
    assert np.allclose(two.gt[0], [30, 25, 15, 10])


def test_mask_polygon_is_the_rotated_rectangle():
    import cv2
    from meta_tracker_ros.eval.vot_region import vot_overlap
    corners = cv2.boxPoints(((60.0, 50.0), (50.0, 20.0), 30.0))
    mask = np.zeros((100, 120), np.uint8)
    cv2.fillPoly(mask, [np.round(corners).astype(np.int32)], 255)
    poly = M.mask_polygon(mask)
    assert len(poly) == 8
    assert vot_overlap(poly, tuple(corners.reshape(-1)), (120, 100)) > 0.9
    assert M.mask_polygon(np.zeros((10, 10), np.uint8)) is None


def test_mask_success_curve_counts_frames_above_each_threshold():
    from meta_tracker_ros.eval.plots import mask_success
    c = mask_success([0.0, 0.5, 0.9, 1.0])
    assert len(c) == 21 and c[0] == 0.75            # J > 0: three of four frames
    assert c[10] == 0.5 and c[19] == 0.25 and c[20] == 0.0   # J > 0.5, > 0.95, > 1
    assert (np.diff(c) <= 0).all()
    assert (mask_success([]) == 0).all()
