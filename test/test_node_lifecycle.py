# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
tracker_node as a managed (lifecycle) node, in its own process over real rclpy + Fast DDS.

The transitions are requested through the node's change_state and get_state services, as a
lifecycle manager (nav2's, launch_ros's LifecycleNode) requests them.
"""


import pytest
from ros_harness import det_box, NodeFactory, Scene, stamp_of


pytestmark = pytest.mark.usefixtures('ros_context')


@pytest.fixture
def start(tmp_path):
    nodes = NodeFactory(tmp_path)
    yield lambda *extra: nodes.start(*extra, wait=False)[:2]
    nodes.close()


def _subscribed(client) -> bool:
    return client.image_pub.get_subscription_count() > 0


def _play(client, scene, frames, start):
    for i in range(start, start + frames):
        client.publish_frame(scene.frame(i), i)
        client.spin(0.02)


def _track_ids(client, first, last):
    out = set()
    for i in range(first, last + 1):
        arr = client.by_stamp().get(stamp_of(i))
        if arr is not None and arr.detections:
            out.add(arr.detections[0].id)
    return out


def test_transitions_pause_keep_and_free_the_track(start):
    node, client = start('-p', 'autostart:=false')
    assert client.lifecycle_state() == 'unconfigured'
    client.spin(0.5)
    assert not _subscribed(client), 'an unconfigured node must not subscribe'

    assert client.change_state('configure'), node.text()
    assert client.lifecycle_state() == 'inactive'
    assert 'configured: tracker opencv_csrt' in node.text()
    client.spin(0.5)
    assert not _subscribed(client), 'an inactive node must not subscribe'

    assert client.change_state('activate'), node.text()
    assert client.lifecycle_state() == 'active'
    client.wait_connected()
    scene = Scene(speed=2.0)
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 10, 0)
    assert client.wait_until(lambda: stamp_of(9) in client.by_stamp()), node.text()
    first_ids = _track_ids(client, 0, 9)
    assert len(first_ids) == 1 and '' not in first_ids

    # Deactivated: frames are not taken, nothing is published, the track is kept.
    assert client.change_state('deactivate'), node.text()
    assert client.lifecycle_state() == 'inactive'
    assert client.wait_until(lambda: not _subscribed(client), 10)
    count = len(client.detections)
    _play(client, scene, 5, 10)
    client.spin(1.0)
    assert len(client.detections) == count, 'an inactive node published detections'

    assert client.change_state('activate'), node.text()
    client.wait_connected()
    _play(client, scene, 10, 15)
    assert client.wait_until(lambda: stamp_of(24) in client.by_stamp()), node.text()
    assert _track_ids(client, 15, 24) == first_ids, 'the track was not kept across deactivate'
    box = det_box(client.by_stamp()[stamp_of(24)])
    assert box is not None and box.iou(scene.box(24)) > 0.5

    # Cleanup frees the tracker: configure and activate again need a new init.
    assert client.change_state('deactivate') and client.change_state('cleanup'), node.text()
    assert client.lifecycle_state() == 'unconfigured'
    assert 'cleaned up: tracker freed' in node.text()
    assert client.wait_until(lambda: client.node.count_publishers(
        client.detections_topic()) == 0, 10), 'cleanup left the detections publisher'
    assert client.change_state('configure') and client.change_state('activate'), node.text()
    client.wait_connected()
    _play(client, scene, 3, 25)
    assert client.wait_until(lambda: stamp_of(27) in client.by_stamp())
    assert not client.by_stamp()[stamp_of(27)].detections, 'a cleaned-up node kept its track'
    client.publish_init(scene.box(27), 27)
    _play(client, scene, 5, 28)
    assert client.wait_until(lambda: stamp_of(32) in client.by_stamp()
                             and client.by_stamp()[stamp_of(32)].detections), node.text()
    assert _track_ids(client, 28, 32).isdisjoint(first_ids), 'a new init needs a new track id'

    assert client.change_state('active_shutdown'), node.text()
    assert client.lifecycle_state() == 'finalized'


def test_failed_autostart_retries_when_the_parameters_are_fixed(start):
    node, client = start('-p', 'weights:=no_such.safetensors', '-p', "fallback_tracker:=''")
    assert client.lifecycle_state() == 'unconfigured'
    assert 'autostart: configure failed' in node.text(), node.text()
    # Unconfigured: a bad change is still refused with its reason...
    ok, reason = client.set_param('num_threads', 0)
    assert not ok and 'num_threads' in reason
    # ...and fixing the weights makes the node configure and activate itself.
    ok, reason = client.set_param('weights', '')
    assert ok, reason
    assert client.wait_until(lambda: client.lifecycle_state() == 'active', 30), node.text()
    client.wait_connected()
    scene = Scene()
    client.publish_init(scene.box(0), 0)
    _play(client, scene, 8, 0)
    assert client.wait_until(lambda: stamp_of(7) in client.by_stamp()), node.text()
    box = det_box(client.by_stamp()[stamp_of(7)])
    assert box is not None and box.iou(scene.box(7)) > 0.6
