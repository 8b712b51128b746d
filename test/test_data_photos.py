# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The photo pool and the photo suites: stable splits, loaders, cut-outs, split-only sequences.

Runs with or without the training-only sources (Debian's opencv-doc, scikit-learn): CI has
neither, so these tests use scikit-image's and matplotlib's photos and skip only the checks
that read a missing source.
"""

from __future__ import annotations

import dataclasses

import cv2
from meta_tracker_ros.data import photos
from meta_tracker_ros.data.generator import generate_sequence, output_digest
from meta_tracker_ros.data.spec import SequenceSpec, SpecError
from meta_tracker_ros.data.suites import ensure_suite, get_suite, SUITES, write_entries
import numpy as np
import pytest
from training.datasets import synthetic_videos, TRAINING_SUITES

# output_digest() of the generator before the photo pool existed (pinned requirements): the
# default spec must render exactly as it did. A library upgrade changes it for its own sake.
DIGEST_BEFORE_PHOTOS = '40f2bb96d1c14b1f'
# Splits of the photos every machine has; they must never move.
PINNED_SPLITS = {
    'skimage:astronaut': 'train', 'skimage:camera': 'train', 'skimage:chelsea': 'train',
    'skimage:coins': 'train', 'skimage:grass': 'train', 'skimage:gravel': 'train',
    'skimage:hubble_deep_field': 'train', 'skimage:rocket': 'train', 'skimage:text': 'train',
    'mpl:grace_hopper.jpg': 'train', 'skimage:clock': 'dev', 'skimage:coffee': 'dev',
    'skimage:motorcycle_left': 'dev', 'skimage:motorcycle_right': 'dev',
    'skimage:brick': 'test', 'skimage:immunohistochemistry': 'test', 'skimage:moon': 'test',
    'skimage:retina': 'test',
}
SMALL = {'width': 128, 'height': 96}


def _has(source: str) -> bool:
    return any(s.name == source and s.folder() is not None for s in photos.SOURCES)


def _fake_source(tmp_path, names: list[str]) -> photos._Source:
    for n in names:
        cv2.imwrite(str(tmp_path / n), np.full((40, 60, 3), 90, np.uint8))
    return photos._Source('fake', 'apt-get install fake-photos', str(tmp_path), '',
                          tuple((n, n, '') for n in names))


def test_splits_are_pinned_hashed_and_disjoint():
    pool = photos.list_photos()
    ids = {p.photo_id for p in pool}
    assert set(PINNED_SPLITS) <= ids
    for p in pool:
        assert p.split == photos.split_of(p.group) and p.split in photos.SPLITS
        if p.photo_id in PINNED_SPLITS:
            assert p.split == PINNED_SPLITS[p.photo_id], p.photo_id
    by_split = {s: {p.photo_id for p in photos.list_photos(s)} for s in photos.SPLITS}
    assert all(by_split.values())
    assert sum(len(v) for v in by_split.values()) == len(ids) == len(pool)
    assert set().union(*by_split.values()) == ids
    # a group (a video, a stereo pair) never straddles two splits
    groups: dict[str, set[str]] = {}
    for p in pool:
        groups.setdefault(p.group, set()).add(p.split)
    assert all(len(v) == 1 for v in groups.values())
    assert photos.split_of('opencv-doc:vtest.avi') == photos.split_of('opencv-doc:vtest.avi')


def test_adding_a_source_moves_no_photo(tmp_path, monkeypatch):
    before = {p.photo_id: p.split for p in photos.list_photos()}
    only = {p.photo_id: p.split for p in photos.list_photos(sources=('skimage', 'mpl'))}
    assert only.items() <= before.items()
    monkeypatch.setattr(photos, 'SOURCES', photos.SOURCES + (_fake_source(
        tmp_path, [f'extra{k}.png' for k in range(6)]),))
    after = {p.photo_id: p.split for p in photos.list_photos()}
    assert before.items() <= after.items() and len(after) == len(before) + 6
    assert {k.split(':')[0] for k in set(after) - set(before)} == {'fake'}


def test_missing_sources_are_skipped_and_named(monkeypatch):
    gone = tuple(dataclasses.replace(s, where='/nonexistent/photos')
                 if s.name in ('opencv-doc', 'sklearn') else s for s in photos.SOURCES)
    monkeypatch.setattr(photos, 'SOURCES', gone)
    assert {p.source for p in photos.list_photos()} == {'skimage', 'mpl'}
    lines = photos.missing()
    assert any('opencv-doc' in line and 'apt-get install opencv-doc' in line for line in lines)
    assert any(photos.SKLEARN_PIN in line for line in lines)
    with pytest.raises(photos.PhotoPoolError, match='make setup-training'):
        photos.require_all('this test')
    with pytest.raises(ValueError, match='unknown photo split'):
        photos.list_photos('val')


def test_loaders_return_rgb_uint8_read_only():
    for p in photos.list_photos(sources=('skimage', 'mpl', 'sklearn')):
        img = photos.load_photo(p.photo_id)
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3, p.photo_id
        assert not img.flags.writeable and min(img.shape[:2]) >= 100
        assert photos.load_photo(p.photo_id) is img  # cached
    # RGB, not OpenCV's BGR: the astronaut's suit is orange
    suit = photos.load_photo('skimage:astronaut')[400:480, 100:200].reshape(-1, 3).mean(0)
    assert suit[0] > suit[2] + 40
    with pytest.raises(photos.PhotoPoolError):
        photos.load_photo('skimage:no-such-photo')


@pytest.mark.skipif(not _has('opencv-doc'), reason="Debian's opencv-doc is not installed")
def test_video_frames_load():
    frames = [p for p in photos.list_photos(sources=('opencv-doc',)) if p.frame is not None]
    cup = [p for p in frames if p.group == 'opencv-doc:cup.mp4']  # a gzipped video
    assert len(cup) == 4 and len({p.split for p in cup}) == 1
    imgs = [photos.load_photo(p.photo_id) for p in cup]
    assert all(i.shape == (480, 640, 3) and i.dtype == np.uint8 for i in imgs)
    assert not np.array_equal(imgs[0], imgs[1])


def test_cutouts_are_binary_deterministic_and_unstretched():
    img = photos.load_photo('skimage:coffee')
    hows = []
    for seed in range(4):
        rgb, mask, how = photos.cutout(np.random.default_rng(seed), img, 90, 60)
        cv2.setRNGSeed(12345)  # GrabCut must not depend on OpenCV's global generator
        cv2.randu(np.zeros((8, 8), np.uint8), 0, 255)
        rgb2, mask2, how2 = photos.cutout(np.random.default_rng(seed), img, 90, 60)
        assert how == how2 and np.array_equal(rgb, rgb2) and np.array_equal(mask, mask2)
        assert rgb.shape == (60, 90, 3) and rgb.dtype == np.uint8
        assert mask.shape == (60, 90) and set(np.unique(mask)) == {0, 255}
        if how == 'grabcut':  # centred at its own aspect: spans the width or the height
            cols = np.flatnonzero(mask.any(axis=0))
            rows = np.flatnonzero(mask.any(axis=1))
            assert cols[-1] - cols[0] >= 86 or rows[-1] - rows[0] >= 56
        hows.append(how)
    assert 'grabcut' in hows
    flat = np.full((120, 160, 3), 128, np.uint8)  # nothing to cut: a shape mask instead
    rgb, mask, how = photos.cutout(np.random.default_rng(0), flat, 30, 20)
    assert how.startswith('shape:') and mask.any() and set(np.unique(mask)) <= {0, 255}


def test_photo_split_sequences_use_only_that_split():
    seen_cutout = False
    for split in ('train', 'test'):
        allowed = {p.photo_id for p in photos.list_photos(split)}
        spec = SequenceSpec.from_difficulty(0.5, photo_split=split, **SMALL)
        for seed in range(6):
            seq = generate_sequence(seed, 4, spec)
            used = seq.sources['photos']
            assert used and set(used) <= allowed, (split, seed, used)
            for key in ('background', 'target'):
                src = seq.sources[key]
                assert src.startswith('procedural:') or src in allowed, (key, src)
            info = seq.info()
            assert info['spec']['photo_split'] == split
            assert info['photo_pool'] == photos.pool_digest(split)
            seen_cutout |= seq.sources['target_shape'] == 'grabcut'
            for i in range(4):  # the labels are exact for any target alpha
                f = seq.frame(i)
                assert f.image.shape == (96, 128, 3)
                if f.visibility == 1.0:
                    cols = np.flatnonzero(f.mask.any(axis=0))
                    rows = np.flatnonzero(f.mask.any(axis=1))
                    box = [cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1]
                    assert np.array_equal(f.box, box)
    assert seen_cutout
    pool = photos.SplitPool('test')
    with pytest.raises(photos.PhotoPoolError, match='not a photo of the'):
        pool.load(next(iter(PINNED_SPLITS)))


def test_default_spec_output_is_unchanged():
    assert output_digest() == DIGEST_BEFORE_PHOTOS
    spec = SequenceSpec.from_difficulty(0.5, **SMALL)
    assert 'photo_split' not in spec.to_dict()
    seq = generate_sequence(3, 2, spec)
    assert 'photos' not in seq.sources and 'photo_pool' not in seq.info()
    dev = SequenceSpec.from_difficulty(0.5, photo_split='dev', **SMALL)
    assert SequenceSpec.from_dict(dev.to_dict()) == dev
    with pytest.raises(SpecError, match='photo_split'):
        SequenceSpec(photo_split='val')


def test_photo_suites_fingerprint_their_photos():
    for name, split in (('synth-photo-train', 'train'), ('photo-dev', 'dev'),
                        ('synth-photo-test', 'test')):
        suite = get_suite(name)
        assert suite.photo_split == split and suite.entry(0).spec.photo_split == split
        fp = suite.fingerprint()
        assert fp['photo_split'] == split
        assert fp['photos'] == [[p.photo_id, photos.photo_sha256(p.photo_id)]
                                for p in photos.list_photos(split)]
        assert all(len(sha) == 64 for _, sha in fp['photos'])
    assert all('photos' not in s.fingerprint() for s in SUITES.values() if not s.photo_split)
    test = get_suite('synth-photo-test')
    assert test.count >= 150 and test.frames[0] >= 300 and (test.width, test.height) == (640, 480)
    dev = get_suite('photo-dev')
    assert dev.count == 50 and dev.frames == (300, 500) and (dev.width, dev.height) == (640, 480)
    assert 'synth-photo-train' in TRAINING_SUITES
    assert 'photo-dev' not in TRAINING_SUITES and 'synth-photo-test' not in TRAINING_SUITES


def test_writing_a_photo_suite_needs_the_whole_pool(tmp_path, monkeypatch):
    gone = photos._Source('fake', 'apt-get install fake-photos', str(tmp_path), '',
                          (('gone.jpg', 'gone.jpg', ''),))
    monkeypatch.setattr(photos, 'SOURCES', photos.SOURCES + (gone,))
    for call in (lambda: ensure_suite('photo-dev', tmp_path / 'dev', progress=False),
                 lambda: write_entries('synth-photo-test', 150, 151, tmp_path / 'more',
                                       progress=False),
                 lambda: synthetic_videos('synth-photo-train', 1, 4)):
        with pytest.raises(photos.PhotoPoolError, match='apt-get install fake-photos.*'
                           'make setup-training'):
            call()
    assert not (tmp_path / 'dev').exists()
