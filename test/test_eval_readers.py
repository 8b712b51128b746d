# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Dataset readers on small folders written here in each benchmark's exact layout."""

from pathlib import Path

import cv2
from got10k.datasets import OTB, UAV123
from meta_tracker_ros.eval.datasets import load_dataset, parse_spec
from meta_tracker_ros.eval.readers.common import DatasetError, read_rows
from meta_tracker_ros.eval.readers.got10k import read_got10k
from meta_tracker_ros.eval.readers.lasot import LASOT_TEST_SET, read_lasot
from meta_tracker_ros.eval.readers.otb import read_otb
from meta_tracker_ros.eval.readers.uav import read_uav, UAV_TABLES
from meta_tracker_ros.eval.readers.vid import read_vid
from meta_tracker_ros.eval.readers.vot import axis_aligned_box, read_vot
import numpy as np
import pytest

_JPEG = cv2.imencode('.jpg', np.full((4, 6, 3), 128, np.uint8))[1].tobytes()


def write_frames(folder: Path, numbers, pattern: str = '{:04d}.jpg') -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in numbers:
        (folder / pattern.format(k)).write_bytes(_JPEG)


def write_rows(path: Path, rows, sep: str = ',') -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(sep.join(str(v) for v in r) for r in rows) + '\n')


# --------------------------------------------------------------------------------- OTB

def test_read_rows_mixed_separators_and_nan(tmp_path):
    f = tmp_path / 'gt.txt'
    f.write_text('1,2,3,4\n5\t6\t7\t8\n\n9 10  11 12\nNaN,NaN,NaN,NaN\n')
    rows = read_rows(f)
    assert rows.shape == (4, 4)
    np.testing.assert_array_equal(rows[:3], [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    assert np.isnan(rows[3]).all()
    f.write_text('1,2,3\n')
    with pytest.raises(DatasetError, match='gt.txt:1: expected 4 values'):
        read_rows(f)
    f.write_text('1,2,x,4\n')
    with pytest.raises(DatasetError, match='not a row of numbers'):
        read_rows(f)


def test_otb_plain_sequence_tab_separated_rows_as_read(tmp_path):
    write_frames(tmp_path / 'Car4' / 'img', range(1, 6))
    rows = [[10 + i, 20, 30, 40] for i in range(5)]
    write_rows(tmp_path / 'Car4' / 'groundtruth_rect.txt', rows, sep='\t')
    (seq,) = read_otb(tmp_path)
    assert seq.name == 'Car4' and len(seq) == 5 and not seq.one_based
    # The rows as got10k's ExperimentOTB passes them to init and scores them: no 1-px shift.
    np.testing.assert_array_equal(seq.gt, rows)
    assert seq.init_index() == 0
    assert seq.frames[0].name == '0001.jpg'
    assert seq.attributes == {a: a in ('IV', 'SV') for a in seq.attributes}
    assert seq.attributes['IV'] and not seq.attributes['OCC']


def test_otb_david_starts_at_frame_300(tmp_path):
    write_frames(tmp_path / 'David' / 'img', range(1, 771))
    write_rows(tmp_path / 'David' / 'groundtruth_rect.txt',
               [[i, 1, 5, 5] for i in range(300, 771)])
    (seq,) = read_otb(tmp_path)
    assert len(seq) == 471
    assert seq.frames[0].name == '0300.jpg' and seq.frames[-1].name == '0770.jpg'
    assert seq.gt[0, 0] == 300 and seq.meta['start_frame'] == 300


def test_otb_tiger1_drops_its_first_five_annotated_frames(tmp_path):
    write_frames(tmp_path / 'Tiger1' / 'img', range(1, 355))
    write_rows(tmp_path / 'Tiger1' / 'groundtruth_rect.txt',
               [[i, 1, 5, 5] for i in range(1, 355)])
    (seq,) = read_otb(tmp_path)
    assert len(seq) == 349
    assert seq.frames[0].name == '0006.jpg'
    assert seq.gt[0, 0] == 6  # the row of frame 6, as written


def test_otb_blurcar_folder_starting_late(tmp_path):
    write_frames(tmp_path / 'BlurCar3' / 'img', range(3, 360))
    write_rows(tmp_path / 'BlurCar3' / 'groundtruth_rect.txt',
               [[i, 1, 5, 5] for i in range(3, 360)])
    (seq,) = read_otb(tmp_path)
    assert len(seq) == 357 and seq.frames[0].name == '0003.jpg' and seq.gt[0, 0] == 3


def test_otb_two_targets_and_empty_annotation_file(tmp_path):
    write_frames(tmp_path / 'Jogging' / 'img', range(1, 4))
    write_rows(tmp_path / 'Jogging' / 'groundtruth_rect.1.txt', [[1, 1, 4, 4]] * 3)
    write_rows(tmp_path / 'Jogging' / 'groundtruth_rect.2.txt', [[9, 9, 4, 4]] * 3)
    write_frames(tmp_path / 'Human4' / 'img', range(1, 4))
    (tmp_path / 'Human4' / 'groundtruth_rect.1.txt').write_text('\n')
    write_rows(tmp_path / 'Human4' / 'groundtruth_rect.2.txt', [[2, 2, 4, 4]] * 3)
    seqs = {s.name: s for s in read_otb(tmp_path)}
    assert sorted(seqs) == ['Human4', 'Jogging-1', 'Jogging-2']
    assert seqs['Jogging-2'].gt[0, 0] == 9 and seqs['Jogging-1'].gt[0, 0] == 1
    assert seqs['Jogging-1'].attributes['OCC'] and seqs['Human4'].attributes['IV']


def test_otb_missing_frame_and_row_count_errors(tmp_path):
    write_frames(tmp_path / 'Freeman3' / 'img', range(1, 400))
    write_rows(tmp_path / 'Freeman3' / 'groundtruth_rect.txt', [[1, 1, 4, 4]] * 460)
    with pytest.raises(DatasetError, match='frame 400 of range 1-460 is missing'):
        read_otb(tmp_path)
    write_rows(tmp_path / 'Freeman3' / 'groundtruth_rect.txt', [[1, 1, 4, 4]] * 459)
    with pytest.raises(DatasetError, match='459 rows, expected 460'):
        read_otb(tmp_path)


# --------------------------------------------------------------------------------- UAV

def test_uav123_segment_of_a_folder_with_nan_rows_and_attributes(tmp_path):
    assert UAV_TABLES['UAV123']['bird1_2'] == ('bird1', 775, 1477)
    assert len(UAV_TABLES['UAV123']) == 123 and len(UAV_TABLES['UAV20L']) == 20
    write_frames(tmp_path / 'data_seq' / 'UAV123' / 'bird1', range(1, 260), '{:06d}.jpg')
    rows = [[10, 20, 5, 6]] * 253
    rows[100:103] = [['NaN'] * 4] * 3
    write_rows(tmp_path / 'anno' / 'UAV123' / 'bird1_1.txt', rows)
    write_rows(tmp_path / 'anno' / 'UAV123' / 'att' / 'bird1_1.txt',
               [[1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]])
    (seq,) = read_uav(tmp_path, 'UAV123')
    assert seq.name == 'bird1_1' and len(seq) == 253
    assert seq.frames[-1].name == '000253.jpg'
    assert seq.absent.sum() == 3 and seq.absent[100:103].all()
    np.testing.assert_array_equal(seq.gt[0], [10, 20, 5, 6])  # as read (got10k's UAV123)
    assert not seq.one_based and np.isnan(seq.gt[100:103]).all()
    assert seq.attributes['FOC'] and seq.attributes['OV'] and not seq.attributes['BC']
    assert seq.meta['benchmark'] == 'uav123'


def test_uav_unknown_sequence_and_wrong_length(tmp_path):
    write_frames(tmp_path / 'data_seq' / 'UAV123' / 'uav6', range(1, 110), '{:06d}.jpg')
    write_rows(tmp_path / 'anno' / 'UAV123' / 'uav6.txt', [[1, 1, 2, 2]] * 108)
    with pytest.raises(DatasetError, match='108 rows for frames 1-109'):
        read_uav(tmp_path)
    write_rows(tmp_path / 'anno' / 'UAV123' / 'uav6.txt', [[1, 1, 2, 2]] * 109)
    write_rows(tmp_path / 'anno' / 'UAV123' / 'mystery.txt', [[1, 1, 2, 2]])
    with pytest.raises(DatasetError, match="'mystery' is not a UAV123 sequence"):
        read_uav(tmp_path)


# ------------------------------------------------------ against the got10k toolkit's readers

def test_otb_and_uav_boxes_are_got10ks_anno_rows(tmp_path):
    """
    The boxes a tracker is initialised with and scored against are got10k's anno.

    got10k's ExperimentOTB (and ExperimentUAV123, which runs the same way) passes anno[0] to
    tracker.track and scores rect_iou(boxes, anno); a 1-pixel shift here would fail.
    """
    otb = tmp_path / 'otb'
    write_frames(otb / 'Car4' / 'img', range(1, 6))
    write_rows(otb / 'Car4' / 'groundtruth_rect.txt',
               [[70.5 + i, 51, 107, 87] for i in range(5)], sep='\t')
    write_frames(otb / 'David' / 'img', range(1, 771))
    write_rows(otb / 'David' / 'groundtruth_rect.txt', [[i, 1, 5, 5] for i in range(300, 771)])
    theirs = OTB(str(otb), 2015, download=False)
    for seq in read_otb(otb):
        img_files, anno = theirs[seq.name]
        np.testing.assert_array_equal(seq.gt, anno)
        assert [str(f) for f in seq.frames] == img_files

    uav = tmp_path / 'uav'
    write_frames(uav / 'data_seq' / 'UAV123' / 'car1', range(1, 1628), '{:06d}.jpg')
    rows = [[31 + i % 7, 40, 12.25, 9] for i in range(877)]
    rows[5:9] = [['NaN'] * 4] * 4
    write_rows(uav / 'anno' / 'UAV123' / 'car1_2.txt', rows)
    for extra in ('a', 'b'):  # got10k's UAV123 wants more than three entries in its root
        (uav / extra).mkdir()
    (seq,) = read_uav(uav, 'UAV123')
    img_files, anno = UAV123(str(uav), 'UAV123')['car1_2']
    np.testing.assert_array_equal(seq.gt, anno)  # NaN rows included
    assert [str(f) for f in seq.frames] == img_files


# ------------------------------------------------------------------------------- LaSOT

def make_lasot_sequence(root: Path, name: str, n: int = 6) -> Path:
    d = root / name.rsplit('-', 1)[0] / name
    write_frames(d / 'img', range(1, n + 1), '{:08d}.jpg')
    write_rows(d / 'groundtruth.txt', [[5, 6, 7, 8]] * n)
    occ = ['0'] * n
    occ[2] = '1'
    out = ['0'] * n
    out[4] = '1'
    (d / 'full_occlusion.txt').write_text(','.join(occ) + '\n')
    (d / 'out_of_view.txt').write_text(','.join(out) + '\n')
    (d / 'nlp.txt').write_text('a small test target\n')
    return d


def test_lasot_absent_from_occlusion_and_out_of_view(tmp_path):
    make_lasot_sequence(tmp_path, 'airplane-1')
    (seq,) = read_lasot(tmp_path)
    assert seq.name == 'airplane-1' and not seq.one_based
    np.testing.assert_array_equal(seq.absent, [0, 0, 1, 0, 1, 0])
    np.testing.assert_array_equal(seq.gt[0], [5, 6, 7, 8])  # as read (got10k's LaSOT)
    assert seq.meta['nlp'] == 'a small test target' and seq.meta['class'] == 'airplane'
    assert seq.attributes['full_occlusion'][2] and not seq.attributes['out_of_view'][2]


def test_lasot_test_subset_lists_280_and_reports_missing(tmp_path):
    assert len(LASOT_TEST_SET) == 280 and len(set(LASOT_TEST_SET)) == 280
    make_lasot_sequence(tmp_path, 'airplane-1')
    with pytest.raises(DatasetError, match='279 LaSOT testing sequences missing'):
        read_lasot(tmp_path, 'test')


# ----------------------------------------------------------------------------- GOT-10k

def make_got10k(root: Path, subset: str = 'val', n: int = 5) -> None:
    names = [f'GOT-10k_Val_{i:06d}' for i in (1, 2)]
    (root / subset).mkdir(parents=True)
    (root / subset / 'list.txt').write_text('\n'.join(names) + '\n')
    for k, name in enumerate(names):
        d = root / subset / name
        write_frames(d, range(1, n + 1), '{:08d}.jpg')
        write_rows(d / 'groundtruth.txt', [[10 + k, 10, 20, 20]] * (1 if subset == 'test' else n))
        (d / 'meta_info.ini').write_text('[METAINFO]\nobject_class: ant\n'
                                         'resolution: (64, 48)\nmotion_class: walking\n')
        if subset != 'test':
            (d / 'absence.label').write_text('0\n0\n1\n0\n0\n')
            (d / 'cover.label').write_text('8\n8\n0\n3\n0\n')
            (d / 'cut_by_image.label').write_text('0\n0\n0\n1\n0\n')


def test_got10k_val_labels_and_meta(tmp_path):
    make_got10k(tmp_path)
    seqs = read_got10k(tmp_path, 'val')
    assert [s.name for s in seqs] == ['GOT-10k_Val_000001', 'GOT-10k_Val_000002']
    s = seqs[0]
    assert not s.one_based and s.meta['resolution'] == (64, 48)
    assert s.meta['info']['object_class'] == 'ant'
    np.testing.assert_array_equal(s.absent, [0, 0, 1, 0, 1])  # absence 1 or cover 0
    np.testing.assert_array_equal(s.attributes['cover'], [8, 8, 0, 3, 0])
    np.testing.assert_array_equal(s.gt[1], [10, 10, 20, 20])


def test_got10k_test_split_has_only_the_first_box(tmp_path):
    make_got10k(tmp_path, 'test')
    s = read_got10k(tmp_path, 'test')[1]
    np.testing.assert_array_equal(s.gt[0], [11, 10, 20, 20])
    assert np.isnan(s.gt[1:]).all() and s.init_index() == 0


# --------------------------------------------------------------------------------- VOT

def test_vot_polygons_boxes_tags_and_color_folder(tmp_path):
    (tmp_path / 'list.txt').write_text('rotated\nboxed\n')
    d = tmp_path / 'rotated'
    write_frames(d / 'color', range(1, 4), '{:08d}.jpg')
    diamond = [20, 10, 30, 20, 20, 30, 10, 20]
    write_rows(d / 'groundtruth.txt', [diamond] * 3)
    (d / 'occlusion.tag').write_text('0\n1\n')
    (d / 'camera_motion.label').write_text('1\n1\n1\n')
    d = tmp_path / 'boxed'
    write_frames(d, range(1, 3), '{:08d}.jpg')
    write_rows(d / 'groundtruth.txt', [[5, 6, 10, 8]] * 2)
    rotated, boxed = read_vot(tmp_path)
    assert rotated.frames[0].parent.name == 'color'
    np.testing.assert_array_equal(rotated.attributes['occlusion'], [False, True, False])
    assert rotated.attributes['camera_motion'].all()
    # Diamond of half-diagonal 10: area 200, bbox 20x20, s = sqrt(0.5); w = 20 s + 1.
    w = 20 * np.sqrt(0.5) + 1
    np.testing.assert_allclose(rotated.gt[0], [20 - (w - 1) / 2, 20 - (w - 1) / 2, w, w])
    np.testing.assert_array_equal(rotated.meta['polygons'][0], diamond)
    # A box becomes pysot's inclusive polygon, whose axis-aligned box is the box again.
    np.testing.assert_array_equal(boxed.meta['polygons'][0], [5, 6, 5, 13, 14, 13, 14, 6])
    np.testing.assert_allclose(boxed.gt[0], [5, 6, 10, 8])
    np.testing.assert_allclose(axis_aligned_box(np.array([diamond], float)), rotated.gt[:1])


# --------------------------------------------------------------------------------- VID

def write_vid_xml(path: Path, objects) -> None:
    body = ''.join(
        f'<object><trackid>{t}</trackid><name>n0{t}</name><bndbox><xmax>{x2}</xmax>'
        f'<xmin>{x1}</xmin><ymax>{y2}</ymax><ymin>{y1}</ymin></bndbox>'
        f'<occluded>{occ}</occluded><generated>0</generated></object>'
        for t, (x1, y1, x2, y2), occ in objects)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'<annotation><folder>x</folder><filename>{path.stem}</filename><size>'
                    f'<width>64</width><height>48</height></size>{body}</annotation>')


def test_vid_one_sequence_per_track_with_unannotated_frames_absent(tmp_path):
    base = tmp_path / 'ILSVRC2015'
    snip = 'ILSVRC2015_val_00000001'
    write_frames(base / 'Data' / 'VID' / 'val' / snip, range(0, 6), '{:06d}.JPEG')
    frames = {0: [(0, (1, 2, 10, 12), 0), (5, (3, 3, 4, 4), 0)],
              1: [(0, (2, 2, 11, 12), 1)],
              2: [],
              3: [(0, (4, 2, 13, 12), 0)],
              4: [],
              5: []}
    for k, objs in frames.items():
        write_vid_xml(base / 'Annotations' / 'VID' / 'val' / snip / f'{k:06d}.xml', objs)
    (seq,) = read_vid(tmp_path, 'val')  # track 5 has one frame and is dropped (got10k)
    assert seq.name == f'{snip}.0' and len(seq) == 4
    np.testing.assert_array_equal(seq.gt[0], [1, 2, 10, 11])  # w = xmax - xmin + 1
    np.testing.assert_array_equal(seq.absent, [False, False, True, False])
    np.testing.assert_array_equal(seq.attributes['occluded'], [False, True, False, False])
    assert seq.meta['resolution'] == (64, 48) and seq.meta['class'] == 'n00'


def test_vid_train_chunk_level(tmp_path):
    snip = 'ILSVRC2015_train_00000000'
    rel = Path('ILSVRC2015_VID_train_0000') / snip
    write_frames(tmp_path / 'Data' / 'VID' / 'train' / rel, range(0, 2), '{:06d}.JPEG')
    for k in range(2):
        write_vid_xml(tmp_path / 'Annotations' / 'VID' / 'train' / rel / f'{k:06d}.xml',
                      [(3, (0, 0, 9, 9), 0)])
    (seq,) = load_dataset(f'vid:{tmp_path}:train')
    assert seq.name == f'{snip}.3' and len(seq) == 2


# ------------------------------------------------------------------------- dataset specs

def test_parse_spec_and_errors(tmp_path):
    assert parse_spec('lasot:/data/LaSOT:test') == ('lasot', '/data/LaSOT', 'test')
    assert parse_spec('lasot:/data/LaSOT') == ('lasot', '/data/LaSOT', 'all')
    assert parse_spec('got10k:/d') == ('got10k', '/d', 'val')
    assert parse_spec('synth:synth-test') == ('synth', 'synth-test', None)
    assert parse_spec('OTB:/x:test') == ('otb', '/x:test', None)
    with pytest.raises(DatasetError, match='unknown dataset kind'):
        parse_spec('mot17:/x')
    with pytest.raises(DatasetError, match='must look like'):
        parse_spec('/data/OTB')
    with pytest.raises(DatasetError, match='folder not found'):
        load_dataset(f'otb:{tmp_path / "nope"}')
    make_got10k(tmp_path / 'got')
    assert len(load_dataset(f'got10k:{tmp_path / "got"}:val')) == 2
