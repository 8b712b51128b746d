# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Synthetic suites: seed ranges, sizes, writing, resuming, and the round trip to the reader."""

from __future__ import annotations

import json

import cv2
from meta_tracker_ros.data import suites
from meta_tracker_ros.data.generator import output_digest
from meta_tracker_ros.data.suites import ensure_suite, get_suite, SuiteDef, SUITES
from meta_tracker_ros.data.writer import write_sequence
from meta_tracker_ros.eval.readers.synthetic import read_synthetic
import numpy as np
import pytest


def test_seed_ranges_are_disjoint_and_entries_stay_inside():
    ranges = sorted(s.seed_range for s in SUITES.values())
    for (a0, a1), (b0, b1) in zip(ranges, ranges[1:]):
        assert a0 < a1 <= b0 < b1
    seeds = {}
    for s in SUITES.values():
        entries = s.entries()
        assert len(entries) == s.count
        for e in entries:
            assert s.seed_range[0] <= e.seed < s.seed_range[1]
            assert suites.suite_of_seed(e.seed) == s.name
            assert e.seed not in seeds
            seeds[e.seed] = s.name
    assert suites.TRAIN_SEEDS == SUITES['synth-train'].seed_range


def test_suite_sizes_follow_the_design():
    for name in ('synth-dev', 'synth-test'):
        s = get_suite(name)
        assert s.count >= 50 and s.frames[0] >= 300
    long = get_suite('synth-long')
    assert long.count >= 10 and long.frames[0] >= 2000
    assert all(e.spec.out_of_view[0] > 0 for e in long.entries())
    assert min(e.spec.target_size[1] for e in long.entries()) <= 0.07
    train = get_suite('synth-train')
    assert train.count >= 200 and 100 <= train.frames[0] <= train.frames[1] <= 300


def test_suites_start_with_a_fully_visible_target():
    for s in SUITES.values():
        for e in s.entries()[:1 if s.frames[0] > 1000 else 4]:
            lab = e.sequence().label(0)
            assert lab.visibility == 1.0 and not lab.absent, e.name


def test_entries_are_deterministic():
    a, b = get_suite('synth-dev').entries(), get_suite('synth-dev').entries()
    assert a == b
    assert get_suite('synth-train').entry(123456).seed == suites.TRAIN_SEEDS[0] + 123456
    with pytest.raises(IndexError):
        get_suite('synth-mini').entry(10 ** 7)
    with pytest.raises(KeyError, match='synth-mini'):
        get_suite('synth-nope')


def test_default_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv('META_TRACKER_DATA', str(tmp_path))
    assert suites.suite_path('synth-dev') == tmp_path / 'synth' / 'synth-dev'
    monkeypatch.delenv('META_TRACKER_DATA')
    assert suites.suite_path('synth-dev').parts[-3:] == ('meta_tracker_ros', 'synth', 'synth-dev')


@pytest.fixture
def tiny_suite(monkeypatch):
    s = SuiteDef('synth-tiny', 'test suite', 2, (9_000_000, 9_000_100), (6, 8), 96, 72,
                 (0.8, 0.9), overrides={'occlusion': (5.0, 5.0), 'distractors': (1.0, 1.0)})
    monkeypatch.setitem(SUITES, s.name, s)
    return s


def test_round_trip_through_the_reader(tiny_suite, tmp_path):
    root = ensure_suite(tiny_suite.name, tmp_path / 'tiny', progress=False)
    seqs = read_synthetic(root)
    assert [s.name for s in seqs] == [e.name for e in tiny_suite.entries()]
    for s, e in zip(seqs, tiny_suite.entries()):
        gen = e.sequence()
        assert len(s) == e.num_frames and s.meta['seed'] == e.seed
        assert s.meta['suite'] == tiny_suite.name and s.meta['benchmark'] == 'synthetic'
        for i in range(len(s)):
            f = gen.frame(i)
            np.testing.assert_array_equal(s.gt[i], f.box)
            assert s.absent[i] == f.absent
            assert abs(s.meta['visibility'][i] - f.visibility) < 1e-6
            assert np.array_equal(s.load_mask(i), f.mask)
            ok, jpg = cv2.imencode('.jpg', cv2.cvtColor(f.image, cv2.COLOR_RGB2BGR),
                                   [cv2.IMWRITE_JPEG_QUALITY, 95])
            assert ok and s.frames[i].read_bytes() == jpg.tobytes()
            for k, v in f.flags.items():
                assert s.attributes[k][i] == v


def test_ensure_suite_resumes_an_interrupted_write(tiny_suite, tmp_path):
    root = ensure_suite(tiny_suite.name, tmp_path / 'tiny', progress=False)
    names = [e.name for e in tiny_suite.entries()]
    stamp = {n: (root / n / 'meta.json').stat().st_mtime_ns for n in names}
    assert ensure_suite(tiny_suite.name, root, progress=False) == root
    assert {n: (root / n / 'meta.json').stat().st_mtime_ns for n in names} == stamp
    # an interrupted write: no marker, one sequence without meta.json
    (root / suites.MARKER).unlink()
    (root / names[1] / 'meta.json').unlink()
    ensure_suite(tiny_suite.name, root, progress=False)
    assert (root / names[0] / 'meta.json').stat().st_mtime_ns == stamp[names[0]]
    assert (root / names[1] / 'meta.json').is_file()
    assert json.loads((root / suites.MARKER).read_text()) == tiny_suite.fingerprint()
    assert len(read_synthetic(root)) == 2
    # a sequence written by another generator output (code or library version) is redone
    meta_path = root / names[0] / 'meta.json'
    meta = json.loads(meta_path.read_text())
    meta['output_digest'] = 'something-else'
    meta_path.write_text(json.dumps(meta))
    (root / suites.MARKER).unlink()
    ensure_suite(tiny_suite.name, root, progress=False)
    assert json.loads(meta_path.read_text())['output_digest'] == output_digest()


def test_ensure_suite_in_parallel_matches_serial(tiny_suite, tmp_path):
    serial = ensure_suite(tiny_suite.name, tmp_path / 'a', progress=False)
    parallel = ensure_suite(tiny_suite.name, tmp_path / 'b', jobs=2, progress=False)
    for a, b in zip(read_synthetic(serial), read_synthetic(parallel)):
        np.testing.assert_array_equal(a.gt, b.gt)
        for i in range(len(a)):
            assert a.frames[i].read_bytes() == b.frames[i].read_bytes()


def test_write_entries_extends_a_suite_beyond_its_count(tiny_suite, tmp_path, monkeypatch):
    monkeypatch.setenv('META_TRACKER_DATA', str(tmp_path / 'data'))
    out = suites.write_entries(tiny_suite.name, 2, 4, tmp_path / 'extra', progress=False)
    seqs = read_synthetic(out)
    # entries 2 and 3: the seeds after the suite's two, under the suite's names
    assert [s.name for s in seqs] == ['synth-tiny-0002', 'synth-tiny-0003']
    assert [s.meta['seed'] for s in seqs] == [9_000_002, 9_000_003]
    assert all(s.meta['suite'] == tiny_suite.name for s in seqs)
    np.testing.assert_array_equal(seqs[0].gt, [f.box for f in tiny_suite.entry(2).sequence()])
    # a second call keeps what is written; a wider range adds the missing entries
    stamp = (out / 'synth-tiny-0002' / 'meta.json').stat().st_mtime_ns
    suites.write_entries(tiny_suite.name, 1, 4, out, jobs=2, progress=False)
    assert (out / 'synth-tiny-0002' / 'meta.json').stat().st_mtime_ns == stamp
    assert [s.name for s in read_synthetic(out)] == [f'synth-tiny-000{k}' for k in (1, 2, 3)]
    with pytest.raises(ValueError, match='outside'):
        suites.write_entries(tiny_suite.name, 5, 5, out, progress=False)
    with pytest.raises(ValueError, match='outside'):
        suites.write_entries(tiny_suite.name, 99, 101, out, progress=False)
    with pytest.raises(ValueError, match='folder of the suite'):
        suites.write_entries(tiny_suite.name, 2, 3, suites.suite_path(tiny_suite.name),
                             progress=False)


def test_write_sequence_refuses_to_overwrite(tmp_path):
    seq = get_suite('synth-mini').entry(0).sequence()
    (tmp_path / 'x').mkdir()
    with pytest.raises(FileExistsError):
        write_sequence(seq, tmp_path, 'x')
    with pytest.raises(ValueError, match='name'):
        write_sequence(seq, tmp_path, '../x')
