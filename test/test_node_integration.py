# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
tracker_node in its own process over real rclpy + Fast DDS.

Each test starts the node in a namespace of its own, publishes frames of a moving square and
init boxes from this process, and checks what comes back on the node's topics.
"""

import itertools
import math
import signal

from meta_tracker_ros.core.types import Box
from meta_tracker_ros.core.weights import save_weights
from meta_tracker_ros.ros import conversions as conv
import pytest
from ros_harness import det_box, NodeFactory, Scene, stamp_of
import torch


pytestmark = pytest.mark.usefixtures('ros_context')


@pytest.fixture
def node_and_client(tmp_path):
    """Start tracker_node (opencv_csrt, reliable QoS, every frame) and a client."""
    nodes = NodeFactory(tmp_path, alternate_signals=True)

    def start(*extra: str, tracker: str = 'opencv_csrt'):
        return nodes.start(*extra, tracker=tracker)[:2]

    yield start
    nodes.close()


def _play(client, scene, frames, start=0):
    for i in range(start, start + frames):
        client.publish_frame(scene.frame(i), i)
        client.spin(0.02)


def _iou_at(client, scene, i):
    arr = client.by_stamp().get(stamp_of(i))
    box = det_box(arr) if arr is not None else None
    return box.iou(scene.box(i)) if box else 0.0


def test_tracks_with_output_stamps_equal_to_input(node_and_client):
    node, client = node_and_client()
    scene = Scene()
    client.publish_init(scene.box(0), 0)  # before its frame: waits for it (init_wait)
    client.spin(0.1)
    _play(client, scene, 40)
    assert client.wait_until(lambda: len(client.detections) >= 40), node.text()
    inputs = {stamp_of(i) for i in range(40)}
    assert {(m.header.stamp.sec, m.header.stamp.nanosec) for m in client.detections} <= inputs
    assert all(m.header.frame_id == 'camera' for m in client.detections)
    ious = [_iou_at(client, scene, i) for i in range(1, 40)]
    assert min(ious) > 0.6, ious
    det = client.by_stamp()[stamp_of(39)].detections[0]
    assert det.id and det.results[0].hypothesis.class_id == 'target'
    assert det.results[0].hypothesis.score == pytest.approx(1.0)


def test_init_on_past_stamp_uses_that_frame(node_and_client):
    node, client = node_and_client()
    scene = Scene(speed=5.0)
    _play(client, scene, 20)
    assert client.wait_until(lambda: len(client.detections) >= 20)
    assert not any(m.detections for m in client.detections), 'idle must publish empty arrays'
    # The box was drawn on frame 4; by now frame 19 is the newest (75 px further right): a
    # node that used the newest frame would start on background.
    client.publish_init(scene.box(4), 4)
    client.spin(0.5)
    _play(client, scene, 15, start=20)
    assert client.wait_until(lambda: stamp_of(34) in client.by_stamp()
                             and client.by_stamp()[stamp_of(34)].detections), node.text()
    assert 'on the frame stamped 1000.005000' in node.text()
    assert min(_iou_at(client, scene, i) for i in range(22, 35)) > 0.6


def test_reinit_new_track_id_reset_and_stop(node_and_client):
    node, client = node_and_client()
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 10)
    assert client.wait_until(lambda: len(client.detections) >= 10)
    first_id = client.by_stamp()[stamp_of(9)].detections[0].id
    client.publish_init(scene.box(9), 9)
    client.spin(0.3)
    _play(client, scene, 5, start=10)
    assert client.wait_until(lambda: len(client.detections) >= 15)
    second_id = client.by_stamp()[stamp_of(14)].detections[0].id
    assert first_id and second_id and first_id != second_id
    res = client.reset()
    assert res.success and 'tracking stopped' in res.message
    _play(client, scene, 5, start=15)
    assert client.wait_until(lambda: len(client.detections) >= 20)
    assert all(not client.by_stamp()[stamp_of(i)].detections for i in range(15, 20))
    client.publish_init(scene.box(19), 19)
    client.spin(0.3)
    _play(client, scene, 3, start=20)
    assert client.wait_until(lambda: len(client.detections) >= 23)
    assert client.by_stamp()[stamp_of(22)].detections
    client.publish_init(Box(0, 0, 0, 0), None)  # empty box = stop
    client.spin(0.3)
    _play(client, scene, 3, start=23)
    assert client.wait_until(lambda: len(client.detections) >= 26)
    assert not client.by_stamp()[stamp_of(25)].detections


def test_bad_inputs_are_logged_and_tracking_survives(node_and_client, tmp_path):
    missing = tmp_path / 'missing.safetensors'
    corrupt = tmp_path / 'corrupt.safetensors'
    corrupt.write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00{"not": "safetensors"')
    foreign = save_weights(tmp_path / 'toy.safetensors', torch.nn.Linear(2, 2).state_dict(),
                           tracker='toy', model_args={})
    node, client = node_and_client()
    scene = Scene()
    # Init before any image (zero stamp = newest frame, and there is none).
    client.publish_init(scene.box(0), None)
    assert node.wait_for_log('no image received yet'), node.text()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 10)
    assert client.wait_until(lambda: len(client.detections) >= 10)

    bad = conv.rgb_to_image(scene.frame(10), 'rgb8')
    bad.encoding = '32FC1'
    client.publish_raw(bad)
    assert node.wait_for_log('unsupported image encoding'), node.text()
    truncated = conv.rgb_to_image(scene.frame(10), 'rgb8')
    truncated.data = bytes(truncated.data)[:1000]
    client.publish_raw(truncated)
    assert node.wait_for_log('truncated'), node.text()
    empty = conv.rgb_to_image(scene.frame(10), 'rgb8')
    empty.height, empty.width, empty.step, empty.data = 0, 0, 0, b''
    client.publish_raw(empty)
    assert node.wait_for_log('zero size'), node.text()

    client.publish_init(Box(5000, 5000, 30, 30), 9)
    assert node.wait_for_log('outside the'), node.text()
    client.publish_init(Box(math.nan, 10, 30, 30), 9)
    assert node.wait_for_log('non-finite'), node.text()
    client.publish_init(Box(10, 10, -3, 30), 9)
    assert node.wait_for_log('not positive'), node.text()

    ok, reason = client.set_param('num_threads', 'abc')
    assert not ok and 'num_threads' in reason and 'integer' in reason
    ok, reason = client.set_param('opencv_csrt.padding', 99.0)
    assert not ok and 'out of range' in reason
    ok, reason = client.set_param('tracker', 'no_such_tracker')
    assert not ok and 'unknown tracker' in reason
    ok, reason = client.set_param('image_qos', 'reliable')
    assert not ok
    ok, reason = client.set_param('weights', '/nonexistent/w.safetensors')
    assert not ok and 'weights' in reason
    ok, reason = client.set_params({'tracker': 'mlt', 'weights': str(missing)})
    assert not ok and 'not found' in reason, reason
    ok, reason = client.set_params({'tracker': 'mlt', 'weights': str(corrupt)})
    assert not ok and 'corrupt' in reason, reason
    ok, reason = client.set_params({'tracker': 'mlt', 'weights': str(foreign)})
    assert not ok and "made for tracker 'toy'" in reason, reason
    assert node.wait_for_log('parameter change rejected'), node.text()

    # Still the same track, still correct, with the yuyv and mono8 cameras too.
    for i, enc in zip(range(10, 25), itertools.cycle(['rgb8', 'bgr8', 'yuyv', 'bgra8'])):
        client.publish_frame(scene.frame(i), i, enc)
        client.spin(0.02)
    assert client.wait_until(lambda: stamp_of(24) in client.by_stamp()), node.text()
    assert min(_iou_at(client, scene, i) for i in range(10, 25)) > 0.6
    assert node.alive()


def test_bad_startup_parameter_falls_back_to_default(node_and_client):
    node, client = node_and_client('-p', 'init_buffer_size:=abc', '-p', 'num_threads:=0')
    text = node.text()
    assert 'parameter init_buffer_size rejected' in text and 'parameter num_threads rejected' \
        in text, text
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 10)
    assert client.wait_until(lambda: len(client.detections) >= 10)
    assert _iou_at(client, scene, 9) > 0.6


def test_unknown_tracker_at_startup_runs_fallback(node_and_client):
    node, client = node_and_client(tracker='no_such_tracker')
    assert 'running the fallback tracker opencv_csrt' in node.text(), node.text()
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 8)
    assert client.wait_until(lambda: len(client.detections) >= 8)
    assert _iou_at(client, scene, 7) > 0.6


def test_switch_tracker_at_runtime(node_and_client):
    node, client = node_and_client()
    scene = Scene()
    ok, reason = client.set_param('tracker', 'opencv_kcf')
    assert ok, reason
    assert node.wait_for_log('tracker opencv_kcf rebuilt'), node.text()
    ok, reason = client.set_param('opencv_kcf.detect_thresh', 0.3)
    assert ok, reason
    ok, reason = client.set_param('opencv_kcf.detect_thresh', 'high')
    assert not ok and 'detect_thresh' in reason
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 10)
    assert client.wait_until(lambda: len(client.detections) >= 10), node.text()
    assert _iou_at(client, scene, 9) > 0.6


# Each meta-learned family and the family whose weights file it must refuse.
OTHER_FAMILY = {'fcos_maml': 'retina_maml', 'retina_maml': 'fcos_maml',
                'metacrest': 'metasdnet', 'metasdnet': 'metacrest'}


def _small_net(family: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if family == 'metacrest':
        from meta_tracker_ros.core.models.metacrest import (MetaCRESTArgs, MetaCRESTInnerArgs,
                                                            MetaCRESTNet)
        return MetaCRESTNet(MetaCRESTArgs(channels=4, input_size=127),
                            MetaCRESTInnerArgs(lr=1e-2))
    if family == 'metasdnet':
        from meta_tracker_ros.core.models.metasdnet import (MetaSDNetArgs, MetaSDNetInnerArgs,
                                                            MetaSDNetNet)
        return MetaSDNetNet(MetaSDNetArgs(hidden=16, roi=3, input_size=127),
                            MetaSDNetInnerArgs(lr=1e-2))
    from meta_tracker_ros.core.models.maml_detector import (DetectorArgs, InnerArgs,
                                                            MAMLDetectorNet)
    return MAMLDetectorNet(DetectorArgs(head=family.split('_')[0], channels=8, input_size=135),
                           InnerArgs(lr=1e-2))


@pytest.mark.parametrize('family', sorted(OTHER_FAMILY))
def test_meta_learned_tracker_in_the_node(node_and_client, tmp_path, family):
    # A small network the test makes (the committed weights are trained separately): the
    # node runs it over Fast DDS (init, track, lost, re-init) and refuses bad input while
    # keeping its track.
    net = _small_net(family)
    weights = save_weights(tmp_path / f'{family}.safetensors', net.state_dict(),
                           tracker=family, model_args=net.model_args())
    other_family = OTHER_FAMILY[family]
    other = save_weights(tmp_path / 'other.safetensors', net.state_dict(), tracker=other_family,
                         model_args=net.model_args())
    extra = ['-p', f'{family}.min_score:=0.0'] if family.endswith('_maml') else []
    node, client = node_and_client('-p', f'weights:={weights}',
                                   '-p', f'{family}.lost_threshold:=0.0', *extra,
                                   tracker=family)
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 6)
    assert client.wait_until(lambda: len(client.detections) >= 6), node.text()
    assert all(client.by_stamp()[stamp_of(i)].detections for i in range(1, 6))

    client.publish_init(Box(5000, 5000, 30, 30), 5)
    assert node.wait_for_log('outside the'), node.text()
    ok, reason = client.set_param('weights', str(other))
    assert not ok and f"made for tracker '{other_family}'" in reason, reason
    _play(client, scene, 3, start=6)
    assert client.wait_until(lambda: stamp_of(8) in client.by_stamp()), node.text()
    assert client.by_stamp()[stamp_of(8)].detections, 'a refused init must keep the track'

    # Lost: every peak below the floor; the node publishes empty detections.
    ok, reason = client.set_param(f'{family}.lost_threshold', 1.0)
    assert ok, reason
    client.publish_init(scene.box(9), 9)
    client.spin(0.3)
    _play(client, scene, 4, start=9)
    assert client.wait_until(lambda: stamp_of(12) in client.by_stamp()), node.text()
    assert not client.by_stamp()[stamp_of(12)].detections
    assert node.wait_for_log('target lost'), node.text()
    ok, reason = client.set_param(f'{family}.lost_threshold', 0.0)
    assert ok, reason
    client.publish_init(scene.box(13), 13)
    client.spin(0.3)
    _play(client, scene, 3, start=13)
    assert client.wait_until(lambda: stamp_of(15) in client.by_stamp()), node.text()
    assert client.by_stamp()[stamp_of(15)].detections
    assert node.alive()


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA')
def test_cuda_asked_for_and_absent_runs_the_fallback_on_cpu(node_and_client):
    node, client = node_and_client('-p', 'device:=cuda')
    text = node.text()
    assert 'device cuda requested but torch sees no CUDA device' in text, text
    assert 'running the fallback tracker opencv_csrt on cpu' in text, text
    ok, reason = client.set_param('device', 'cuda:0')
    assert not ok and 'no CUDA device' in reason
    ok, reason = client.set_param('device', 'gpu')
    assert not ok and 'cuda:N' in reason
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 8)
    assert client.wait_until(lambda: len(client.detections) >= 8), node.text()
    assert _iou_at(client, scene, 7) > 0.6


def test_trackmlp_masks_through_the_node_and_the_recorder(node_and_client, tmp_path):
    # TrackMLP on a small weights file the test makes: every mask message carries its image's
    # header and size, the rotated box's angle reaches bbox.center.theta, and the masks the
    # recorder writes score the same J against the true masks as the ones published.
    import csv
    import sys

    import cv2
    from meta_tracker_ros.eval.masks import region_similarity
    import numpy as np
    from ros_harness import NodeProcess
    from sensor_msgs.msg import Image
    from tracker_helpers import small_trackmlp_weights
    # mask logits start high: a mask that is not empty
    weights = small_trackmlp_weights(tmp_path / 'trackmlp.safetensors', mask_bias=3.0)
    node, client = node_and_client('-p', f'weights:={weights}', '-p',
                                   'trackmlp.lost_threshold:=0.0', '-p',
                                   'trackmlp.support_size:=4', '-p', 'trackmlp.adapt_steps:=2',
                                   tracker='trackmlp')
    ns = client.ns
    masks = []
    client.node.create_subscription(Image, f'{ns}/mask', masks.append, 100)
    result = tmp_path / 'rec.txt'
    recorder = NodeProcess([sys.executable, '-m', 'meta_tracker_ros.tools.recorder', str(result),
                            '--detections-topic', f'{ns}/detections', '--mask-topic',
                            f'{ns}/mask'],
                           tmp_path / 'recorder.log')
    # The recorder lists a mask only beside its detections: wait until it hears both.
    assert client.wait_until(lambda: min(client.node.count_subscribers(f'{ns}/{t}')
                                         for t in ('mask', 'detections')) >= 2, 30)
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 6)
    # A mask for every tracked frame (the init frame's result is the given box, no mask).
    assert client.wait_until(lambda: len(masks) >= 5, 30), node.text()
    client.spin(1.0)
    assert recorder.stop(signal.SIGINT) == 0, recorder.text()     # writes its files and exits
    got = {conv.stamp_to_ns(m.header.stamp): m for m in masks}
    for i in range(1, 6):
        m = got[conv.stamp_to_ns(client.by_stamp()[stamp_of(i)].header.stamp)]
        assert (m.width, m.height, m.encoding) == (320, 240, 'mono8')
        assert m.header.frame_id == 'camera'
    det = client.by_stamp()[stamp_of(5)].detections[0]
    assert math.isfinite(det.bbox.center.theta)
    rows = list(csv.DictReader(open(result.with_suffix('.csv'))))
    recorded = {int(r['stamp_ns']): r['mask'] for r in rows if r['mask']}
    assert set(recorded) == set(got)
    for stamp, path in recorded.items():
        truth = np.zeros((240, 320), bool)
        i = next(i for i in range(1, 6) if conv.stamp_to_ns(
            client.by_stamp()[stamp_of(i)].header.stamp) == stamp)
        b = scene.box(i)
        truth[int(b.y):int(b.y + b.h), int(b.x):int(b.x + b.w)] = True
        published = np.frombuffer(bytes(got[stamp].data), np.uint8).reshape(240, 320) > 127
        on_disk = cv2.imread(path, cv2.IMREAD_GRAYSCALE) > 127
        assert region_similarity(on_disk, truth) == region_similarity(published, truth)
