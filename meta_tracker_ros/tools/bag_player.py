# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
bag_player: play a rosbag2 (mcap or sqlite3) over rclpy, keeping its timing.

The bag's CDR payloads are published as they are (Publisher.publish accepts serialized bytes),
so nothing is deserialized: a 640x480 rgb8 frame costs a fraction of a millisecond. Message i
is published at start + (t_i - t_0) / rate, t being the bag's receive times; --rate 0 publishes
as fast as the middleware takes them. Header stamps are left as recorded.

For evaluation, play with --qos reliable (keep all, reliable: no frame is lost when the
subscriber also uses reliable) and --wait-subscribers 1 (nothing is published before the
subscriber of every image topic has matched). Before exiting, the player waits until reliable
subscribers have acknowledged every message (--ack-timeout). SIGINT/SIGTERM stop it cleanly
(exit 0, with the summary).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
import sys
import time

from meta_tracker_ros.tools.common import (message_class, parse_args, QOS_CHOICES, qos_profile,
                                           StopSignals)
import rclpy
from rclpy.duration import Duration
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rosbags.rosbag2 import Reader
from rosgraph_msgs.msg import Clock

IMAGE_TYPE = 'sensor_msgs/msg/Image'


@dataclass
class PlayStats:
    """What a play run did: messages per topic, wall time, time spent inside publish()."""

    messages: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    publish_s: float = 0.0
    passes: int = 0
    interrupted: bool = False

    @property
    def total(self) -> int:
        return sum(self.messages.values())


class PublishError(RuntimeError):
    """A publish that kept failing (a reliable subscriber stopped acknowledging)."""


def parse_remaps(items: list[str]) -> dict[str, str]:
    """['old:=new', ...] -> {old: new}; both must be absolute topic names."""
    remaps = {}
    for item in items:
        old, sep, new = item.partition(':=')
        if not sep or not old.startswith('/') or not new.startswith('/'):
            raise ValueError(f'bad remap {item!r}: expected /old/topic:=/new/topic')
        remaps[old] = new
    return remaps


class BagPlayer:
    """
    Publishers for a bag's (selected) topics and the timed publishing loop.

    stop: anything whose truth value says "stop now" (StopSignals in the console script);
    every wait and the playing loop poll it. block_timeout: seconds a publish may keep failing
    before PublishError (see _publish).
    """

    def __init__(self, node: Node, bag: Path, *, qos: str = 'reliable',
                 topics: list[str] | None = None, remaps: dict[str, str] | None = None,
                 clock_hz: float | None = None, stop: object = False,
                 block_timeout: float = 10.0) -> None:
        self.node = node
        self.stop = stop
        self.block_timeout = block_timeout
        self.reader = Reader(bag)
        self.reader.open()
        available = {c.topic: c.msgtype for c in self.reader.connections}
        unknown = sorted(set(topics or []) - set(available))
        if unknown:
            raise ValueError(f'topics not in {bag}: {", ".join(unknown)}; the bag has '
                             f'{", ".join(sorted(available))}')
        unused = sorted(set(remaps or {}) - set(available))
        if unused:
            raise ValueError(f'remapped topics not in {bag}: {", ".join(unused)}')
        selected = set(topics) if topics else set(available)
        self.connections = [c for c in self.reader.connections if c.topic in selected]
        if not self.connections:
            raise ValueError(f'{bag} has no messages to play')
        profile = qos_profile(qos)
        remaps = remaps or {}
        # One publisher per topic; several connections may share it.
        self.publishers = {}
        self.out_topic = {}
        for topic in sorted(selected):
            self.out_topic[topic] = remaps.get(topic, topic)
            self.publishers[topic] = node.create_publisher(
                message_class(available[topic]), self.out_topic[topic], profile)
        self.image_topics = [t for t in sorted(selected) if available[t] == IMAGE_TYPE]
        self.clock_period_ns = round(1e9 / clock_hz) if clock_hz else None
        self.clock_pub = (node.create_publisher(
            Clock, '/clock', QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
            if clock_hz else None)

    def close(self) -> None:
        self.reader.close()

    def wait_for_subscribers(self, count: int, timeout: float) -> bool:
        """Wait until every image topic (all topics if none) has `count` matched subscribers."""
        topics = self.image_topics or list(self.publishers)
        deadline = time.monotonic() + timeout
        while not self.stop:
            if all(self.publishers[t].get_subscription_count() >= count for t in topics):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return False

    def _publish(self, publisher: Publisher, msg: bytes | Clock) -> None:
        """
        Publish, retrying while the middleware refuses the message.

        With keep-all reliable QoS, Fast DDS refuses a message once the history is full of
        messages a subscriber has not acknowledged: a slow subscriber, or one killed without
        unregistering until its lease expires (a SIGKILLed recorder did this).
        """
        deadline = time.monotonic() + self.block_timeout
        while True:
            try:
                publisher.publish(msg)
                return
            except _rclpy.RCLError as exc:
                if self.stop:
                    return
                if time.monotonic() > deadline:
                    raise PublishError(
                        f'cannot publish on {publisher.topic_name} for {self.block_timeout:g} s: '
                        f'a reliable subscriber stopped acknowledging ({exc})') from exc

    def _publish_clock(self, bag_ns: int) -> None:
        msg = Clock()
        msg.clock.sec, msg.clock.nanosec = divmod(bag_ns, 1_000_000_000)
        self._publish(self.clock_pub, msg)

    def sleep_until(self, deadline_ns: int, clock_from: tuple[int, int, float] | None = None
                    ) -> None:
        """
        Sleep until deadline (time.monotonic_ns) or a stop request.

        clock_from: (wall0_ns, bag0_ns, rate) to publish the bag time on /clock meanwhile.
        """
        while not self.stop:
            now = time.monotonic_ns()
            if now >= deadline_ns:
                return
            step = 100_000_000
            if self.clock_pub is not None and clock_from is not None:
                wall0, bag0, rate = clock_from
                self._publish_clock(bag0 + round((now - wall0) * rate))
                step = self.clock_period_ns
            time.sleep(min(deadline_ns - now, step) / 1e9)

    def play(self, rate: float = 1.0, loop: bool = False) -> PlayStats:
        """Publish every selected message at its recorded time scaled by 1/rate (0 = no wait)."""
        stats = PlayStats(messages={self.out_topic[t]: 0 for t in self.publishers})
        start = time.monotonic_ns()
        while not self.stop:
            wall0, bag0 = time.monotonic_ns(), None
            for conn, t_ns, raw in self.reader.messages(connections=self.connections):
                if bag0 is None:
                    bag0 = t_ns
                if rate > 0:
                    self.sleep_until(wall0 + round((t_ns - bag0) / rate), (wall0, bag0, rate))
                if self.stop:
                    break
                if self.clock_pub is not None:
                    self._publish_clock(t_ns)
                t0 = time.perf_counter()
                self._publish(self.publishers[conn.topic], bytes(raw))
                stats.publish_s += time.perf_counter() - t0
                stats.messages[self.out_topic[conn.topic]] += 1
            else:
                stats.passes += 1
            if not loop or bag0 is None:
                break
        stats.wall_s = (time.monotonic_ns() - start) / 1e9
        stats.interrupted = bool(self.stop)
        return stats

    def wait_for_acks(self, timeout: float) -> bool:
        """Wait until reliable subscribers have acknowledged everything published."""
        deadline = time.monotonic() + timeout
        for pub in self.publishers.values():
            left = max(deadline - time.monotonic(), 0.0)
            if not pub.wait_for_all_acked(Duration(seconds=left)):
                return False
        return True


def main(args: list[str] | None = None) -> int:
    """Console script bag_player."""
    parser = argparse.ArgumentParser(
        prog='bag_player', description=__doc__.strip().split('\n\n', 1)[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('bag', type=Path, help='bag directory (or .mcap / .db3 file)')
    parser.add_argument('--rate', type=float, default=1.0,
                        help='speed factor on the recorded timing; 0 = as fast as possible')
    parser.add_argument('--loop', action='store_true', help='play again until interrupted')
    parser.add_argument('--qos', choices=QOS_CHOICES, default='reliable',
                        help='reliable = keep all, reliable (bag evaluation); sensor_data = '
                             'best effort, keep last 5')
    parser.add_argument('--topics', nargs='+', metavar='TOPIC', help='play only these topics')
    parser.add_argument('--remap', nargs='+', action='extend', default=[], metavar='OLD:=NEW',
                        help='publish topic OLD as NEW')
    parser.add_argument('--start-delay', type=float, default=0.0,
                        help='seconds to wait before playing (after --wait-subscribers)')
    parser.add_argument('--wait-subscribers', type=int, default=0, metavar='N',
                        help='wait until every image topic (all topics when the bag has no '
                             'image) has N matched subscribers')
    parser.add_argument('--wait-timeout', type=float, default=60.0,
                        help='give up (exit 1) when --wait-subscribers is not met in time')
    parser.add_argument('--ack-timeout', type=float, default=10.0,
                        help='seconds to wait for reliable subscribers to acknowledge: at the '
                             'end, and while one stalls (then exit 1)')
    parser.add_argument('--clock', type=float, nargs='?', const=40.0, metavar='HZ',
                        help='publish the bag time on /clock (default 40 Hz between messages)')
    parser.add_argument('--quiet', action='store_true', help='no summary line')
    opts, argv = parse_args(parser, args)
    if opts.rate < 0:
        parser.error('--rate must be >= 0')
    if opts.clock is not None and opts.clock <= 0:
        parser.error('--clock rate must be positive')
    if opts.start_delay < 0 or opts.wait_subscribers < 0:
        parser.error('--start-delay and --wait-subscribers must be >= 0')
    if not opts.bag.exists():
        parser.error(f'bag {opts.bag} does not exist')
    stop = StopSignals()
    with rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO):
        node = Node('bag_player')
        try:
            player = BagPlayer(node, opts.bag, qos=opts.qos, topics=opts.topics,
                               remaps=parse_remaps(opts.remap), clock_hz=opts.clock, stop=stop,
                               block_timeout=opts.ack_timeout)
        except ValueError as exc:
            print(f'bag_player: error: {exc}', file=sys.stderr)
            return 2
        try:
            if opts.wait_subscribers and not player.wait_for_subscribers(
                    opts.wait_subscribers, opts.wait_timeout):
                if stop:
                    return 0
                print(f'bag_player: error: fewer than {opts.wait_subscribers} subscriber(s) on '
                      f'{", ".join(player.image_topics or player.publishers)} after '
                      f'{opts.wait_timeout:g} s', file=sys.stderr)
                return 1
            player.sleep_until(time.monotonic_ns() + round(opts.start_delay * 1e9))
            try:
                stats = player.play(rate=opts.rate, loop=opts.loop)
            except PublishError as exc:
                print(f'bag_player: error: {exc}', file=sys.stderr)
                return 1
            acked = bool(stop) or opts.qos != 'reliable' or player.wait_for_acks(opts.ack_timeout)
        finally:
            player.close()
    if not opts.quiet:
        print(('stopped by ' + stop.received + ': ' if stop else '')
              + f'played {stats.total} messages in {stats.wall_s:.2f} s '
              f'({stats.total / max(stats.wall_s, 1e-9):.1f} msg/s, publish '
              f'{1e3 * stats.publish_s / max(stats.total, 1):.3f} ms/msg): '
              + ', '.join(f'{t} {n}' for t, n in stats.messages.items()))
    if not acked:
        print(f'bag_player: warning: not every message was acknowledged within '
              f'{opts.ack_timeout:g} s', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
