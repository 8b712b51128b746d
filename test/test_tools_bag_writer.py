# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
seq_to_bag: bags written from a small OTB-style folder, a video and a synthetic sequence.

Each bag is read back with rosbags alone (no rclpy), as any rosbag2 user would: topics,
counts, type hashes, encodings, pixels, stamps, receive times, camera_info and ground truth.
"""

import importlib.util
import json
import math
from pathlib import Path

import cv2
from meta_tracker_ros.data.generator import generate_sequence
from meta_tracker_ros.data.spec import SequenceSpec
from meta_tracker_ros.data.writer import write_sequence
from meta_tracker_ros.eval.readers.synthetic import read_synthetic_sequence
from meta_tracker_ros.tools.bag_writer import main
from meta_tracker_ros.tools.common import typestore
import numpy as np
import pytest
from rosbags.rosbag2 import Reader

W, H = 64, 48


def read_bag(path):
    """{topic: [(receive_ns, message)]} and {topic: connection}, via rosbags only."""
    store = typestore()
    out, conns = {}, {}
    with Reader(path) as reader:
        for c in reader.connections:
            conns[c.topic] = c
        for conn, t, raw in reader.messages():
            out.setdefault(conn.topic, []).append((t, store.deserialize_cdr(raw, conn.msgtype)))
    return out, conns


def installed_hash(msgtype):
    """RIHS01 hash that rosidl generated for msgtype (<prefix>/share/<pkg>/msg/<Name>.json)."""
    pkg, _, name = msgtype.split('/')
    prefix = Path(importlib.util.find_spec(pkg).origin).parents[4]
    desc = json.loads((prefix / 'share' / pkg / 'msg' / f'{name}.json').read_text())
    return next(h['hash_string'] for h in desc['type_hashes'] if h['type_name'] == msgtype)


def stamp_ns(msg):
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def frame(i):
    """Return frame i: its pixels tell the index (red) and the channel order."""
    img = np.zeros((H, W, 3), np.uint8)
    img[:, :, 0] = 10 * i
    img[:, :, 1] = np.arange(W, dtype=np.uint8)[None, :]
    img[:, :, 2] = 200
    return img


@pytest.fixture
def otb_folder(tmp_path):
    """OTB layout: img/0001.png.. and 1-based groundtruth_rect.txt with one unlabelled row."""
    seq = tmp_path / 'Toy'
    (seq / 'img').mkdir(parents=True)
    rows = []
    for i in range(6):
        cv2.imwrite(str(seq / 'img' / f'{i + 1:04d}.png'),
                    cv2.cvtColor(frame(i), cv2.COLOR_RGB2BGR))
        rows.append('nan,nan,nan,nan' if i == 3 else f'{11 + i},21,20,10')
    (seq / 'groundtruth_rect.txt').write_text('\n'.join(rows) + '\n')
    return seq


def test_image_folder_to_bag(otb_folder, tmp_path):
    bag = tmp_path / 'bag'
    assert main([str(otb_folder), str(bag), '--encoding', 'bgr8', '--fps', '10',
                 '--start-time', '100', '--hfov', '90', '--no-progress']) == 0
    msgs, conns = read_bag(bag)
    assert set(msgs) == {'/camera/image_raw', '/camera/camera_info', '/groundtruth'}
    assert [len(msgs[t]) for t in sorted(msgs)] == [6, 6, 6]
    # Type hashes equal those the installed message packages (what rclpy uses) were built with.
    for topic in msgs:
        assert conns[topic].digest == installed_hash(conns[topic].msgtype), topic

    for i, (t, img) in enumerate(msgs['/camera/image_raw']):
        assert stamp_ns(img) == 100_000_000_000 + i * 100_000_000
        assert 2e6 <= t - stamp_ns(img) <= 3e6, 'receive time = stamp + delay + jitter'
        assert (img.encoding, img.width, img.height, img.step) == ('bgr8', W, H, 3 * W)
        assert img.header.frame_id == 'camera'
        pixels = np.asarray(img.data).reshape(H, W, 3)
        np.testing.assert_array_equal(pixels, cv2.cvtColor(frame(i), cv2.COLOR_RGB2BGR))
    receive = [t for t, _ in msgs['/camera/image_raw']]
    assert len({b - a for a, b in zip(receive, receive[1:])}) > 1, 'jitter varies'

    for (t_img, img), (t_info, info) in zip(msgs['/camera/image_raw'],
                                            msgs['/camera/camera_info']):
        assert stamp_ns(info) == stamp_ns(img) and t_info > t_img
        assert (info.width, info.height, info.distortion_model) == (W, H, 'plumb_bob')
        assert list(info.d) == [0.0] * 5
        fx = (W / 2) / math.tan(math.radians(45))
        np.testing.assert_allclose(info.k, [fx, 0, W / 2, 0, fx, H / 2, 0, 0, 1])
        np.testing.assert_allclose(np.asarray(info.p).reshape(3, 4)[:, :3],
                                   np.asarray(info.k).reshape(3, 3))

    for i, (_, arr) in enumerate(msgs['/groundtruth']):
        assert stamp_ns(arr) == 100_000_000_000 + i * 100_000_000
        if i == 3:
            assert len(arr.detections) == 0, 'an unlabelled frame is an empty array'
            continue
        (det,) = arr.detections
        # The OTB row x = 11 + i is passed as read (got10k's convention); centre = x + w / 2.
        assert (det.bbox.center.position.x, det.bbox.center.position.y) == (21 + i, 26)
        assert (det.bbox.size_x, det.bbox.size_y) == (20, 10)
        assert det.results[0].hypothesis.score == 1.0
    gt = np.loadtxt(bag / 'groundtruth.txt', delimiter=',')
    expected = np.array([[11 + i, 21, 20, 10] for i in range(6)], float)
    expected[3] = np.nan
    np.testing.assert_array_equal(gt, expected)

    again = tmp_path / 'again'
    assert main([str(otb_folder), str(again), '--encoding', 'bgr8', '--fps', '10',
                 '--start-time', '100', '--hfov', '90', '--no-progress']) == 0
    assert [t for t, _ in read_bag(again)[0]['/camera/image_raw']] == receive, 'seeded'


def test_video_to_bag(tmp_path):
    video = tmp_path / 'clip.avi'
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 12, (W, H))
    for i in range(8):
        out.write(cv2.cvtColor(frame(i), cv2.COLOR_RGB2BGR))
    out.release()
    gt_file = tmp_path / 'boxes.txt'
    gt_file.write_text(''.join(f'{i},5,10,10\n' for i in range(8)))

    bag = tmp_path / 'bag'
    assert main([str(video), str(bag), '--encoding', 'mono8', '--max-frames', '5',
                 '--topic', '/cam/image', '--frame-id', 'optical', '--no-progress']) == 0
    msgs, _ = read_bag(bag)
    assert set(msgs) == {'/cam/image', '/cam/camera_info'}, 'no ground truth without a file'
    assert not (bag / 'groundtruth.txt').exists()
    images = [m for _, m in msgs['/cam/image']]
    assert len(images) == 5 and len(msgs['/cam/camera_info']) == 5
    assert all((m.encoding, m.step, m.header.frame_id) == ('mono8', W, 'optical')
               for m in images)
    # The video's own frame rate (12 fps) sets the stamps (rounded per frame: no drift).
    t0 = stamp_ns(images[0])
    assert [stamp_ns(m) - t0 for m in images] == [round(i * 1e9 / 12) for i in range(5)]
    grey = np.asarray(images[2].data).reshape(H, W)
    expected = cv2.cvtColor(frame(2), cv2.COLOR_RGB2GRAY)
    assert np.abs(grey.astype(int) - expected).mean() < 4, 'MJPG is lossy, but barely'

    with_gt = tmp_path / 'with_gt'
    assert main([str(video), str(with_gt), '--groundtruth', str(gt_file), '--fps', '30',
                 '--no-progress']) == 0
    msgs, _ = read_bag(with_gt)
    assert len(msgs['/groundtruth']) == 8
    assert msgs['/groundtruth'][7][1].detections[0].bbox.center.position.x == 12.0
    assert np.loadtxt(with_gt / 'groundtruth.txt', delimiter=',').shape == (8, 4)


def test_synthetic_sequence_to_bag(tmp_path):
    spec = SequenceSpec.from_difficulty(0.0, width=96, height=64)
    folder = write_sequence(generate_sequence(7, 6, spec), tmp_path / 'synth', 'toy')
    seq = read_synthetic_sequence(folder)
    bag = tmp_path / 'bag'
    assert main([str(folder), str(bag), '--no-progress']) == 0  # format guessed: synth
    msgs, _ = read_bag(bag)
    assert len(msgs['/camera/image_raw']) == 6
    gt = np.loadtxt(bag / 'groundtruth.txt', delimiter=',', ndmin=2)
    np.testing.assert_allclose(gt, seq.gt, atol=1e-3)
    first = np.asarray(msgs['/camera/image_raw'][0][1].data).reshape(64, 96, 3)
    np.testing.assert_array_equal(first, seq.load_image(0))


def test_bad_inputs(otb_folder, tmp_path, capsys):
    bag = tmp_path / 'bag'
    assert main([str(tmp_path / 'missing'), str(bag)]) == 2
    assert 'does not exist' in capsys.readouterr().err
    assert main([str(otb_folder), str(bag), '--no-progress']) == 0
    assert main([str(otb_folder), str(bag), '--no-progress']) == 2
    assert '--overwrite' in capsys.readouterr().err
    assert main([str(otb_folder), str(bag), '--overwrite', '--no-progress']) == 0
    (otb_folder / 'groundtruth_rect.2.txt').write_text('1,1,5,5\n' * 6)
    (otb_folder / 'groundtruth_rect.1.txt').write_text('1,1,5,5\n' * 6)
    (otb_folder / 'groundtruth_rect.txt').unlink()
    assert main([str(otb_folder), str(tmp_path / 'b2'), '--no-progress']) == 2
    assert 'Toy-1, Toy-2' in capsys.readouterr().err
    assert main([str(otb_folder), str(tmp_path / 'b2'), '--sequence', 'Toy-2',
                 '--no-progress']) == 0
    with pytest.raises(SystemExit):
        main([str(otb_folder), str(tmp_path / 'b3'), '--encoding', 'jpeg'])
