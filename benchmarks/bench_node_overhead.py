# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Node overhead at 640x480, 30 Hz: publish -> detections receipt, minus the tracker's own update.

Starts tracker_node in its own process (default: opencv_csrt, the image QoS a live camera
uses), publishes a moving textured target at 30 Hz from this process, and for every frame that
comes back measures
  end-to-end = detections receipt - image publish   (both CLOCK_MONOTONIC, one machine)
  update     = the tracker's update time, which the node reports per frame on ~/timing
  overhead   = end-to-end - update   (DDS transport both ways, image conversion, message
               building, executor wake-ups, and waiting while the tracker is busy with the
               previous frame, which the node also reports so it can be taken out)
and prints median and p95 of each; writes a JSON report with versions and settings.

For scale it first measures the middleware alone: the same images at the same rate to an echo
node (another process that republishes each image's header), publish -> echo receipt. That
round trip is the floor any rclpy node's overhead stands on; overhead minus it is the node's
own share (conversion, buffering, hand-off to the worker, building and publishing messages).

  .venv/bin/python benchmarks/bench_node_overhead.py [--frames 600] [--tracker opencv_csrt]
"""

import argparse
import json
import os
from pathlib import Path
import platform
import subprocess
import sys
import time

import cv2
from geometry_msgs.msg import Vector3Stamped
import meta_tracker_ros
from meta_tracker_ros.core.types import Box
from meta_tracker_ros.ros import conversions as conv
import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2D, Detection2DArray


def scene(width, height, seed=0):
    rng = np.random.default_rng(seed)
    bg = cv2.resize(rng.integers(0, 160, (height // 8, width // 8, 3), dtype=np.uint8),
                    (width, height), interpolation=cv2.INTER_LINEAR)
    patch = cv2.resize(rng.integers(60, 255, (6, 6, 3), dtype=np.uint8), (80, 80),
                       interpolation=cv2.INTER_NEAREST)

    def frame(i):
        img = bg.copy()
        x = int(200 + 120 * np.sin(i / 40))
        y = int(180 + 60 * np.cos(i / 55))
        img[y:y + 80, x:x + 80] = patch
        return img, Box(x, y, 80, 80)
    return frame


def echo_main():
    """Republish every image's header on /bench_echo/out (the middleware-only baseline)."""
    from std_msgs.msg import Header
    rclpy.init()
    node = Node('bench_echo')
    pub = node.create_publisher(Header, '/bench_echo/out', 100)
    node.create_subscription(Image, '/bench_echo/image', lambda m: pub.publish(m.header),
                             qos_profile_sensor_data)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    return 0


def echo_round_trip(frame, frames, rate, width, height):
    """Median and p95 (ms) of image publish -> echoed header receipt."""
    from std_msgs.msg import Header
    proc = subprocess.Popen([sys.executable, __file__, '--echo'])
    node = Node('bench_echo_client')
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    pub = node.create_publisher(Image, '/bench_echo/image', qos_profile_sensor_data)
    sent, lat, lat_dds = {}, [], []

    def on_header(h, info):
        k = conv.stamp_to_ns(h.stamp)
        if k in sent:
            lat.append((time.monotonic_ns() - sent[k][0]) * 1e-6)
            if info.get('received_timestamp'):
                lat_dds.append((info['received_timestamp'] - sent[k][1]) * 1e-6)

    node.create_subscription(Header, '/bench_echo/out', on_header, 100)
    end = time.monotonic() + 60
    while (pub.get_subscription_count() == 0 or node.count_publishers('/bench_echo/out') == 0) \
            and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    t_next = time.monotonic()
    for i in range(frames):
        msg = conv.rgb_to_image(frame(i)[0], 'rgb8')
        msg.header.stamp.sec, msg.header.stamp.nanosec = 7, i + 1
        sent[7_000_000_000 + i + 1] = (time.monotonic_ns(), time.time_ns())
        pub.publish(msg)
        t_next += 1.0 / rate
        while time.monotonic() < t_next:
            executor.spin_once(timeout_sec=max(0.0, t_next - time.monotonic()))
    executor.remove_node(node)
    node.destroy_node()
    proc.terminate()
    proc.wait(timeout=15)
    lat, lat_dds = np.array(lat[5:]), np.array(lat_dds[5:])
    if not len(lat):
        return {}
    out = {'median': float(np.median(lat)), 'p95': float(np.percentile(lat, 95)),
           'mean': float(lat.mean()), 'frames': len(lat)}
    if len(lat_dds):
        out['middleware_receipt'] = {'median': float(np.median(lat_dds)),
                                     'p95': float(np.percentile(lat_dds, 95))}
    return out


def main(argv=None):
    if argv is None and sys.argv[1:] == ['--echo']:
        return echo_main()
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--tracker', default='opencv_csrt')
    ap.add_argument('--frames', type=int, default=600)
    ap.add_argument('--rate', type=float, default=30.0)
    ap.add_argument('--width', type=int, default=640)
    ap.add_argument('--height', type=int, default=480)
    ap.add_argument('--qos', choices=('sensor_data', 'reliable'), default='sensor_data')
    ap.add_argument('--fastdds-profile', type=Path, default=None, metavar='XML',
                    help='Fast DDS profiles file for every process of the benchmark, e.g. '
                         'config/fastdds_large_images.xml (default: Fast DDS defaults, or '
                         'FASTDDS_DEFAULT_PROFILES_FILE if set)')
    ap.add_argument('--out', type=Path, default=Path('out/bench_node_overhead.json'))
    args = ap.parse_args(argv)
    if args.fastdds_profile is not None:
        if not args.fastdds_profile.is_file():
            ap.error(f'{args.fastdds_profile}: no such file')
        os.environ['FASTDDS_DEFAULT_PROFILES_FILE'] = str(args.fastdds_profile.resolve())

    os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    node_log = open(args.out.with_suffix('.node.log'), 'w')
    node_proc = subprocess.Popen(
        [sys.executable, '-m', 'meta_tracker_ros.ros.tracker_node', '--ros-args', '-r',
         '__ns:=/bench', '-p', f'tracker:={args.tracker}', '-p', f'image_qos:={args.qos}',
         '-p', 'num_threads:=1'], stdout=node_log, stderr=subprocess.STDOUT)
    rclpy.init()
    node = Node('bench_client')
    # One executor for the whole run: rclpy.spin_once(node) adds and removes the node on every
    # call, which rebuilds the wait set and delays every receipt by the client's own work.
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    qos = qos_profile_sensor_data if args.qos == 'sensor_data' else QoSProfile(
        depth=100, reliability=ReliabilityPolicy.RELIABLE)
    pub = node.create_publisher(Image, '/bench/image', qos)
    init_pub = node.create_publisher(Detection2D, '/bench/target/init', 10)
    sent, received, update, wait, boxes, idle = {}, {}, {}, {}, {}, []
    sent_rt, received_dds = {}, {}

    def on_det(msg, info):
        if msg.detections:
            received[conv.stamp_to_ns(msg.header.stamp)] = time.monotonic_ns()
            if info.get('received_timestamp'):
                received_dds[conv.stamp_to_ns(msg.header.stamp)] = info['received_timestamp']
        else:
            idle.append(conv.stamp_to_ns(msg.header.stamp))

    def on_timing(msg):
        update[conv.stamp_to_ns(msg.header.stamp)] = msg.vector.x
        wait[conv.stamp_to_ns(msg.header.stamp)] = msg.vector.y

    node.create_subscription(Detection2DArray, '/bench/detections', on_det, 100)
    node.create_subscription(Vector3Stamped, '/bench/tracker_node/timing', on_timing, 100)
    end = time.monotonic() + 60
    while (pub.get_subscription_count() == 0 or init_pub.get_subscription_count() == 0
           or node.count_publishers('/bench/detections') == 0) and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    frame = scene(args.width, args.height)
    period = 1.0 / args.rate
    t_next = time.monotonic()
    first_stamp = 1_000_000_000_000
    init_sent = False
    for i in range(args.frames):
        img, boxes[first_stamp + i * round(period * 1e9)] = frame(i)
        msg = conv.rgb_to_image(img, 'rgb8')
        stamp = first_stamp + i * round(period * 1e9)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        if not init_sent and idle:
            # Best effort may lose the first frames: draw the box on a frame the node has
            # answered (so it holds it) and stamp the init with that frame.
            box = boxes[idle[-1]]
            init = Detection2D()
            init.header.stamp.sec, init.header.stamp.nanosec = divmod(idle[-1], 1_000_000_000)
            init.bbox.center.position.x, init.bbox.center.position.y = box.cx, box.cy
            init.bbox.size_x, init.bbox.size_y = box.w, box.h
            init_pub.publish(init)
            init_sent = True
        sent[stamp], sent_rt[stamp] = time.monotonic_ns(), time.time_ns()
        pub.publish(msg)
        t_next += period
        while time.monotonic() < t_next:
            executor.spin_once(timeout_sec=max(0.0, t_next - time.monotonic()))
    end = time.monotonic() + 2
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    executor.remove_node(node)
    node.destroy_node()
    node_proc.terminate()
    echo = echo_round_trip(frame, min(args.frames, 300), args.rate, args.width, args.height)
    rclpy.try_shutdown()
    node_proc.wait(timeout=15)

    node_log.close()
    keys = sorted(set(sent) & set(received) & set(update))[5:]  # skip warm-up frames
    if not keys:
        print(f'no frame came back; see {node_log.name}', file=sys.stderr)
        return 1
    e2e = np.array([(received[k] - sent[k]) * 1e-6 for k in keys])
    upd = np.array([update[k] for k in keys])
    over = e2e - upd
    waited = np.array([wait[k] for k in keys])
    # The same, with receipt = when the client's middleware received the detections (its
    # reception timestamp, CLOCK_REALTIME like the publish time taken beside it): without
    # the client's own executor wake-up.
    dds_keys = [k for k in keys if k in received_dds]
    over_dds = np.array([(received_dds[k] - sent_rt[k]) * 1e-6 - update[k] - wait[k]
                         for k in dds_keys])

    def stats(a):
        return {'median': float(np.median(a)), 'p95': float(np.percentile(a, 95)),
                'mean': float(a.mean())} if len(a) else {}
    report = {
        'tracker': args.tracker, 'frames_sent': args.frames, 'frames_measured': len(keys),
        'rate_hz': args.rate, 'size': [args.width, args.height], 'image_qos': args.qos,
        'end_to_end_ms': stats(e2e), 'tracker_update_ms': stats(upd),
        'overhead_ms': stats(over), 'waiting_for_busy_tracker_ms': stats(waited),
        'overhead_without_waiting_ms': stats(over - waited),
        'overhead_without_waiting_to_middleware_receipt_ms': stats(over_dds),
        'middleware_round_trip_ms': echo,
        'versions': {'meta_tracker_ros': meta_tracker_ros.__version__,
                     'python': platform.python_version(), 'opencv': cv2.__version__,
                     'rmw': os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp (default)'),
                     'fastdds_profiles_file': os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE')},
        'machine': {'cpus': os.cpu_count(), 'load_avg_1m': os.getloadavg()[0]},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    profile = os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE') or 'Fast DDS defaults'
    print(f'{args.tracker} at {args.width}x{args.height}, {args.rate:g} Hz, {args.qos}, '
          f'{profile}: {len(keys)}/{args.frames} frames measured')
    for name in ('end_to_end_ms', 'tracker_update_ms', 'overhead_ms',
                 'waiting_for_busy_tracker_ms', 'overhead_without_waiting_ms',
                 'overhead_without_waiting_to_middleware_receipt_ms'):
        s = report[name]
        if s:
            print(f'  {name:28s} median {s["median"]:7.2f}  p95 {s["p95"]:7.2f}  mean '
                  f'{s["mean"]:7.2f}')
    if echo:
        print(f'  {"middleware_round_trip_ms":28s} median {echo["median"]:7.2f}  p95 '
              f'{echo["p95"]:7.2f}  (image to an echo node and its header back)')
        if 'middleware_receipt' in echo:
            m = echo['middleware_receipt']
            print(f'  {"  to middleware receipt":28s} median {m["median"]:7.2f}  p95 '
                  f'{m["p95"]:7.2f}')
        print(f'  node share of the overhead (median): '
              f'{report["overhead_ms"]["median"] - echo["median"]:.2f} ms with waiting, '
              f'{report["overhead_without_waiting_ms"]["median"] - echo["median"]:.2f} ms '
              'without')
    print(f'report: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
