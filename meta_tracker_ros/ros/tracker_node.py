# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
tracker_node: images and a stamped target box in; detections, mask, bearing, diagnostics out.

Thin by design: parameters become typed configs, callbacks hand frames to a core Tracker, results
become messages. The image callback only converts and buffers (well under a millisecond); one
worker thread runs the tracker on the newest frame, so a slow tracker drops frames instead of
lagging behind the camera.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
import gc
import math
import threading
import time
from typing import Any
import uuid

import cv2
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Vector3Stamped
from lifecycle_msgs.msg import State
from meta_tracker_ros import __version__
from meta_tracker_ros.core.config import ConfigError, TrackerConfig
from meta_tracker_ros.core.registry import available_trackers, build_tracker, get_entry
from meta_tracker_ros.core.tracker import Tracker
from meta_tracker_ros.core.types import Box, BoxError, TrackResult, TrackState
from meta_tracker_ros.core.weights import WeightsError
from meta_tracker_ros.ros import conversions as conv
from meta_tracker_ros.ros.params import NodeParams, READ_ONLY, REBUILD
import numpy as np
from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from std_srvs.srv import Trigger
from vision_msgs.msg import Detection2D, Detection2DArray


EVERY_FRAME_QUEUE = 3000


@dataclass
class Frame:
    seq: int
    stamp_ns: int
    header: Header
    rgb: np.ndarray
    received: float        # monotonic time of arrival, for the latency figure


@dataclass
class InitRequest:
    stamp_ns: int          # 0 = the newest frame
    box: Box | None        # None = stop tracking
    received: float        # monotonic time, for init_wait


def _share_dirs() -> list[str]:
    """Return the installed package's share folders when ament_index knows the package."""
    try:
        from ament_index_python.packages import get_package_share_directory
        share = get_package_share_directory('meta_tracker_ros')
    except (ImportError, LookupError, ValueError, OSError):
        return []
    return [share, share + '/weights']


def _descriptor(info: Any, read_only: bool = False) -> ParameterDescriptor:
    d = ParameterDescriptor(description=info.description, read_only=read_only,
                            dynamic_typing=True)
    if info.kind is int and info.low is not None and info.high is not None:
        d.integer_range = [IntegerRange(from_value=int(info.low), to_value=int(info.high))]
    elif info.kind is float and info.low is not None and info.high is not None:
        d.floating_point_range = [FloatingPointRange(from_value=float(info.low),
                                                     to_value=float(info.high))]
    if info.choices:
        d.additional_constraints = 'one of: ' + ', '.join(map(str, info.choices))
    return d


class TrackerNode(LifecycleNode):
    """
    The single-object tracking node (see README for topics, parameters and services).

    A managed (lifecycle) node. configure: parameters validated, the tracker built and its
    weights loaded, publishers, the reset service and the worker made; activate: the
    subscriptions open and the publishers publish; deactivate: the subscriptions close, the
    tracker and its track are kept (activate again and tracking goes on); cleanup: the tracker
    and everything configure made are freed; shutdown: the same from any state. With
    `autostart` (the default) the node configures and activates itself at startup, so
    `ros2 run` and the launch files work without a lifecycle manager.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__('tracker_node', **kwargs)
        self._lock = threading.Condition()
        self._params = self._declare_config('', NodeParams)
        self._tracker: Tracker | None = None
        self._tracker_name = ''
        self._tracker_cfg: TrackerConfig | None = None
        self._configuring = False
        self._active = False
        self._entities: dict[str, Any] = {}
        self._worker: threading.Thread | None = None
        self._retry_timer = None
        self._reset_state()
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.get_logger().info(
            f'meta_tracker_ros {__version__}: lifecycle node '
            f'{self.get_fully_qualified_name()} ' +
            ('starting (autostart)' if self._params.autostart else
             'unconfigured; waiting for change_state (autostart is false)'))
        if self._params.autostart:
            self._autostart()

    def _reset_state(self) -> None:
        """Fresh buffers, counters and track (init and cleanup)."""
        p = self._params
        self._frames: collections.deque[Frame] = collections.deque(maxlen=p.init_buffer_size)
        # process_every_frame: frames waiting for the tracker, in order (bounded: a tracker
        # slower than the camera for a long time drops the oldest and counts them).
        self._queue: collections.deque[Frame] = collections.deque(maxlen=EVERY_FRAME_QUEUE)
        self._seq = 0
        self._processed_seq = 0
        self._published_seq = 0
        self._pending_init: InitRequest | None = None
        self._state = TrackState.IDLE
        self._track_id = ''
        self._last: TrackResult | None = None
        self._camera_info: CameraInfo | None = None
        self._stats = {'received': 0, 'processed': 0, 'dropped': 0, 'bad_images': 0,
                       'stamps_backwards': 0, 'stamps_duplicate': 0, 'size_changes': 0,
                       'update_ms': 0.0, 'latency_ms': 0.0, 'fps': 0.0}
        self._encoding = ''
        self._track_shape: tuple[int, ...] | None = None
        self._fps_times: collections.deque[float] = collections.deque(maxlen=30)
        self._catchup_until = 0
        self._last_logged: dict[str, float] = {}
        self._stop = False

    def _autostart(self) -> None:
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            self.get_logger().error(
                'autostart: configure failed; fix the parameters tracker/weights (the node '
                'configures and activates itself once they build) or call change_state')
            return
        self.trigger_activate()

    # ---------------------------------------------------------------- lifecycle
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._configuring = True
            try:
                built = self._build_initial_tracker()
            finally:
                self._configuring = False
            if not built:
                return TransitionCallbackReturn.FAILURE
            with self._lock:
                self._reset_state()
            e = self._entities
            e['det'] = self.create_lifecycle_publisher(Detection2DArray, 'detections', 10)
            e['mask'] = self.create_lifecycle_publisher(Image, 'mask', 10)
            e['debug'] = self.create_lifecycle_publisher(Image, 'debug_image', 10)
            e['bearing'] = self.create_lifecycle_publisher(Vector3Stamped, 'target/bearing', 10)
            e['diag'] = self.create_lifecycle_publisher(DiagnosticArray, '/diagnostics', 10)
            # Per-frame timing in ms, for profiling: x = tracker update, y = wait from the
            # image's receipt until the worker took it (a busy tracker makes this grow), z =
            # receipt to publication of the detections.
            e['timing'] = self.create_lifecycle_publisher(Vector3Stamped, '~/timing', 10)
            e['reset'] = self.create_service(Trigger, '~/reset', self._on_reset)
            e['diag_timer'] = self.create_timer(1.0, self._publish_diagnostics)
            self._worker = threading.Thread(target=self._work, name='tracker_worker',
                                            daemon=True)
            self._worker.start()
        except Exception as exc:  # noqa: B902 - report any failure as the transition's
            self.get_logger().error(f'configure failed: {exc}')
            self._release()
            return TransitionCallbackReturn.FAILURE
        self.get_logger().info(f'configured: tracker {self._tracker_name} on '
                               f'{self._params.device}')
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self._params
        if p.image_qos == 'reliable':
            image_qos = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                                   history=HistoryPolicy.KEEP_ALL)
        else:
            image_qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT,
                                   history=HistoryPolicy.KEEP_LAST)
        e = self._entities
        # Raw: the serialized image is parsed in place (conv.image_from_cdr), which saves the
        # two copies of rclpy's deserialisation (0.4 ms of a 640x480 rgb8 frame).
        e['image_sub'] = self.create_subscription(Image, 'image', self._on_image_raw,
                                                  image_qos, raw=True)
        e['init_sub'] = self.create_subscription(Detection2D, 'target/init', self._on_init, 10)
        e['info_sub'] = self.create_subscription(CameraInfo, 'camera_info',
                                                 self._on_camera_info, image_qos)
        ret = super().on_activate(state)
        self._active = True
        self.get_logger().info(
            f'active: tracker {self._tracker_name or "(none)"} on {p.device}, image QoS '
            f'{p.image_qos}; waiting for images on {self.resolve_topic_name("image")} and a '
            f'box on {self.resolve_topic_name("target/init")}')
        return ret

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        for key in ('image_sub', 'init_sub', 'info_sub'):
            sub = self._entities.pop(key, None)
            if sub is not None:
                self.destroy_subscription(sub)
        with self._lock:
            what = self._state.value
        self.get_logger().info(f'inactive: subscriptions closed, the track is kept ({what}); '
                               'activate to go on')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self.get_logger().info('cleaned up: tracker freed; configure to build it again')
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self.get_logger().info('shut down')
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f'error in a transition from {state.label}: resources freed')
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        """Stop the worker, free the tracker and destroy what configure and activate made."""
        self._active = False
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=5.0)
            self._worker = None
        for key, entity in list(self._entities.items()):
            if key.endswith('_sub'):
                self.destroy_subscription(entity)
            elif key == 'reset':
                self.destroy_service(entity)
            elif key.endswith('_timer'):
                self.destroy_timer(entity)
            else:
                self.destroy_lifecycle_publisher(entity)
        self._entities.clear()
        with self._lock:
            self._tracker, self._tracker_name, self._tracker_cfg = None, '', None
            self._reset_state()
        gc.collect()
        import torch
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _lifecycle_id(self) -> int:
        return self._state_machine.current_state[0]

    def _configured(self) -> bool:
        return self._lifecycle_id() in (State.PRIMARY_STATE_INACTIVE,
                                        State.PRIMARY_STATE_ACTIVE)

    # ---------------------------------------------------------------- parameters
    def _declare_config(self, prefix: str, cls: type[TrackerConfig]) -> TrackerConfig:
        """
        Declare every field of cls as `<prefix><name>`; a bad override falls back to default.

        Overrides (params file, -p) are checked by the typed config before declaring, so a bad
        value is logged with its reason and replaced by the default instead of raising in
        declare_parameter and killing the node at startup.
        """
        values = {}
        for info in cls.fields():
            name = prefix + info.name
            if self.has_parameter(name):
                values[info.name] = self.get_parameter(name).value
                continue
            default = list(info.default) if isinstance(info.default, tuple) else info.default
            descriptor = _descriptor(info, read_only=not prefix and info.name in READ_ONLY)
            override = self._parameter_overrides.get(name)
            use_override = override is not None
            if use_override:
                try:
                    cls.from_dict({info.name: override.value})
                except ConfigError as exc:
                    self.get_logger().error(f'parameter {name} rejected: {exc}; using the '
                                            f'default {default!r}')
                    use_override = False
            self.declare_parameter(name, default, descriptor, ignore_override=not use_override)
            values[info.name] = self.get_parameter(name).value
        return cls.from_dict(values)

    def _tracker_values(self, name: str, overrides: dict[str, Any]) -> dict[str, Any]:
        prefix = name + '.'
        values = {k: v.value for k, v in self.get_parameters_by_prefix(name).items()}
        values.update({k[len(prefix):]: v for k, v in overrides.items() if k.startswith(prefix)})
        return values

    def _make_tracker(self, p: NodeParams, cfg: TrackerConfig) -> Tracker:
        device = resolve_device(p.device)
        import torch
        torch.set_num_threads(p.num_threads)
        cv2.setNumThreads(p.num_threads)
        return build_tracker(p.tracker, cfg, p.weights or None, device,
                             weights_dirs=_share_dirs())

    def _build_initial_tracker(self) -> bool:
        p = self._params
        names = [p.tracker] + ([p.fallback_tracker] if p.fallback_tracker else [])
        for fallback, name in enumerate(names):
            try:
                cfg = self._declare_config(name + '.', get_entry(name).config_cls)
                params = p.replace(tracker=name, weights='') if fallback else p
                if fallback and not device_available(p.device):
                    params = params.replace(device='cpu')
                self._tracker = self._make_tracker(params, cfg)
                self._tracker_name, self._tracker_cfg = name, cfg
                if fallback:
                    self.get_logger().warning(f'running the fallback tracker {name} on '
                                              f'{params.device}')
                    self._params = params
                    self.set_parameters([Parameter('tracker', value=name),
                                         Parameter('weights', value=''),
                                         Parameter('device', value=params.device)])
                return True
            except (ConfigError, WeightsError, OSError, RuntimeError, KeyError) as exc:
                self.get_logger().error(f'cannot build tracker {name!r}: {exc}')
        self.get_logger().error('no tracker could be built: configure fails until the '
                                'parameters tracker/weights are fixed')
        return False

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        changes = {p.name: p.value for p in params}
        node_keys = {f.name for f in NodeParams.fields()}
        own = {k: v for k, v in changes.items() if k in node_keys}
        if self._configuring:  # configure itself records the fallback tracker
            return SetParametersResult(successful=True)
        configured = self._configured()
        try:
            new_params = self._params.replace(**own)
            if new_params.tracker not in available_trackers():
                raise ConfigError(f'unknown tracker {new_params.tracker!r}; available: '
                                  f'{", ".join(available_trackers())}')
            entry = get_entry(new_params.tracker)
            if new_params.tracker != self._tracker_name:
                self._declare_missing(new_params.tracker, entry.config_cls)
            for name in {k.split('.', 1)[0] for k in changes if '.' in k}:
                if name not in available_trackers():
                    raise ConfigError(f'unknown parameter(s) under {name!r}: no such tracker')
                get_entry(name).config_cls.from_dict(self._tracker_values(name, changes))
            cfg = entry.config_cls.from_dict(self._tracker_values(new_params.tracker, changes))
            tracker = None
            if configured and (REBUILD & set(own) or new_params.tracker != self._tracker_name
                               or cfg != self._tracker_cfg):
                tracker = self._make_tracker(new_params, cfg)
        except (ConfigError, WeightsError, OSError, RuntimeError, TypeError) as exc:
            self.get_logger().error(f'parameter change rejected: {exc}')
            return SetParametersResult(successful=False, reason=str(exc))
        with self._lock:
            self._params = new_params
        if not configured:
            # Unconfigured: configure builds the tracker. With autostart, a failed start is
            # retried once the parameters that broke it change.
            if (new_params.autostart and REBUILD & set(own)
                    and self._lifecycle_id() == State.PRIMARY_STATE_UNCONFIGURED
                    and self._retry_timer is None):
                self._retry_timer = self.create_timer(0.0, self._retry_autostart)
            return SetParametersResult(successful=True)
        with self._lock:
            was_tracking = self._state != TrackState.IDLE
            if tracker is not None:
                self._tracker, self._tracker_name, self._tracker_cfg = (
                    tracker, new_params.tracker, cfg)
                self._state, self._last, self._track_id = TrackState.IDLE, None, ''
        if tracker is not None:
            self.get_logger().info(f'tracker {new_params.tracker} rebuilt' + (
                '; tracking stopped: send a new target/init' if was_tracking else ''))
        return SetParametersResult(successful=True)

    def _retry_autostart(self) -> None:
        if self._retry_timer is not None:
            self.destroy_timer(self._retry_timer)
            self._retry_timer = None
        if self._lifecycle_id() == State.PRIMARY_STATE_UNCONFIGURED:
            self._autostart()

    def _declare_missing(self, name: str, cls: type[TrackerConfig]) -> None:
        for info in cls.fields():
            full = f'{name}.{info.name}'
            if not self.has_parameter(full):
                default = list(info.default) if isinstance(info.default, tuple) else info.default
                self.declare_parameter(full, default, _descriptor(info))

    # ---------------------------------------------------------------- callbacks
    def _on_image_raw(self, data: bytes) -> None:
        try:
            msg: Image | conv.CdrImage = conv.image_from_cdr(data)
        except conv.ImageConversionError:
            try:  # not plain CDR (another middleware's encoding): let rclpy read it
                msg = deserialize_message(data, Image)
            except Exception as exc:  # noqa: B902 - whatever the middleware's decoder raises
                self._stats['bad_images'] += 1
                self._error_throttled(f'image dropped: cannot deserialize it: {exc}')
                return
        self._on_image(msg)

    def _on_image(self, msg: Image | conv.CdrImage) -> None:
        if not self._active:
            return
        try:
            rgb = conv.image_to_rgb(msg)
        except conv.ImageConversionError as exc:
            self._stats['bad_images'] += 1
            self._error_throttled(f'image dropped: {exc}')
            return
        stamp = conv.stamp_to_ns(msg.header.stamp)
        with self._lock:
            self._seq += 1
            self._stats['received'] += 1
            self._check_stream(stamp, msg.encoding, rgb.shape[:2])
            frame = Frame(self._seq, stamp, msg.header, rgb, time.monotonic())
            self._frames.append(frame)
            if self._params.process_every_frame:
                self._queue.append(frame)
            self._lock.notify()

    def _error_throttled(self, text: str, period: float = 2.0, warn: bool = False) -> None:
        """Log an error at most once per period for each kind (its text up to the first ':')."""
        kind = text.split(':', 2)[:2]
        key = ':'.join(kind)
        now = time.monotonic()
        if now - self._last_logged.get(key, -math.inf) >= period:
            self._last_logged[key] = now
            (self.get_logger().warning if warn else self.get_logger().error)(text)

    def _check_stream(self, stamp: int, encoding: str, shape: tuple[int, ...]) -> None:
        """
        Say when the stream changes under the node (called with the lock held).

        Stamps that go backwards (a looping bag, a camera restarted with another clock) start a
        new timeline: the buffered frames belong to the old one, so they are dropped and inits
        match the new stamps only; tracking goes on. A duplicate stamp is said (an init naming
        it takes the newest such frame). A new encoding is said; a new size is handled by the
        worker (the track cannot go on across it).
        """
        if self._frames:
            last = self._frames[-1]
            if stamp < last.stamp_ns:
                self._error_throttled(
                    f'image stamps went backwards: {last.stamp_ns * 1e-9:.6f} -> '
                    f'{stamp * 1e-9:.6f} s (a looping bag or a restarted camera?); tracking '
                    'goes on, inits now match the new stamps only', warn=True)
                self._frames.clear()
                self._stats['stamps_backwards'] += 1
            elif stamp == last.stamp_ns and stamp != 0:
                self._error_throttled(f'duplicate image stamp: {stamp * 1e-9:.6f} s; an init '
                                      'naming it takes the newest such frame', warn=True)
                self._stats['stamps_duplicate'] += 1
        if self._encoding and encoding != self._encoding:
            self.get_logger().warning(f'image encoding changed from {self._encoding} to '
                                      f'{encoding}; converted as before')
        self._encoding = encoding

    def _on_init(self, msg: Detection2D) -> None:
        if not self._active:
            return
        box = conv.detection_to_box(msg)
        stop = box.w == 0 and box.h == 0
        if not stop and not box.is_finite():
            self.get_logger().error(f'target/init rejected: box has non-finite values {box}')
            return
        if not stop and (box.w <= 0 or box.h <= 0):
            self.get_logger().error(f'target/init rejected: box size {box.w}x{box.h} is not '
                                    'positive (send size 0x0 to stop tracking)')
            return
        with self._lock:
            if not stop and msg.header.stamp.sec == 0 and msg.header.stamp.nanosec == 0 \
                    and not self._frames:
                self.get_logger().error('target/init rejected: no image received yet on '
                                        f'{self.resolve_topic_name("image")}; send the box '
                                        'once images arrive, or stamp it with its image')
                return
            self._pending_init = InitRequest(conv.stamp_to_ns(msg.header.stamp),
                                             None if stop else box, time.monotonic())
            self._lock.notify()

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera_info = msg

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Any:
        with self._lock:
            was = self._state
            self._stop_tracking()
        response.success = True
        response.message = f'tracking stopped (was {was.value})'
        self.get_logger().info(response.message)
        return response

    def _stop_tracking(self) -> None:
        if self._tracker is not None:
            self._tracker.reset()
        self._state, self._last, self._track_id = TrackState.IDLE, None, ''

    # ---------------------------------------------------------------- worker
    def _work(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._stop or self._pending_init is not None
                                    or (self._frames and self._frames[-1].seq
                                        > self._processed_seq), timeout=0.2)
                if self._stop:
                    return
                init = self._take_init()
                frame = None if init else self._next_frame()
            if init is not None:
                self._initialize(*init)
            elif frame is not None:
                self._process(frame)

    def _take_init(self) -> tuple[InitRequest, Frame | None] | None:
        """Resolve the pending init against the ring buffer (called with the lock held)."""
        req = self._pending_init
        if req is None:
            return None
        if req.box is None or req.stamp_ns == 0:
            self._pending_init = None
            return req, (self._frames[-1] if self._frames else None)
        for f in reversed(self._frames):
            if f.stamp_ns == req.stamp_ns:
                self._pending_init = None
                return req, f
        newest = self._frames[-1].stamp_ns if self._frames else None
        waited = time.monotonic() - req.received
        if (newest is None or req.stamp_ns > newest) and waited < self._params.init_wait:
            return None  # its frame has not arrived yet: keep waiting
        self._pending_init = None
        if newest is None:
            reason = f'no image arrived within init_wait={self._params.init_wait} s'
        elif req.stamp_ns > newest:
            reason = (f'its frame did not arrive within init_wait={self._params.init_wait} s '
                      f'(newest frame {newest * 1e-9:.6f})')
        else:
            oldest = self._frames[0].stamp_ns
            reason = (f'no buffered frame has that stamp (buffer holds {len(self._frames)} '
                      f'frames from {oldest * 1e-9:.6f} to {newest * 1e-9:.6f}; raise '
                      'init_buffer_size if the frame has left the buffer)')
        self.get_logger().error(f'target/init for stamp {req.stamp_ns * 1e-9:.6f} rejected: '
                                f'{reason}')
        return None

    def _next_frame(self) -> Frame | None:
        """Newest frame, or the next in order with process_every_frame (lock held)."""
        if not self._frames or self._frames[-1].seq <= self._processed_seq:
            return None
        while self._queue and self._queue[0].seq <= self._processed_seq:
            self._queue.popleft()
        if self._catchup_pending():  # frames after a past init frame, from the ring buffer
            frame = next(f for f in self._frames if f.seq > self._processed_seq)
        elif self._params.process_every_frame and self._queue:
            frame = self._queue.popleft()
        else:
            frame = self._frames[-1]
        if self._state != TrackState.IDLE:
            self._stats['dropped'] += max(0, frame.seq - self._processed_seq - 1)
        self._processed_seq = frame.seq
        return frame

    def _catchup_pending(self) -> bool:
        return self._state != TrackState.IDLE and self._processed_seq < self._catchup_until

    def _initialize(self, req: InitRequest, frame: Frame | None) -> None:
        if req.box is None:
            with self._lock:
                self._stop_tracking()
            self.get_logger().info('target/init with an empty box: tracking stopped')
            return
        tracker = self._tracker
        if tracker is None or frame is None:
            self.get_logger().error('target/init ignored: ' + (
                'no tracker is loaded (fix the tracker/weights parameters)' if tracker is None
                else 'no image received yet'))
            return
        h, w = frame.rgb.shape[:2]
        try:
            box = req.box.validate_init(w, h)
            tracker.initialize(frame.rgb, box)
        except (BoxError, ValueError) as exc:
            self.get_logger().error(f'target/init rejected: {exc}; the previous state is kept')
            return
        with self._lock:
            self._track_id = uuid.uuid4().hex[:12]
            self._track_shape = frame.rgb.shape[:2]
            self._state = TrackState.TRACKING
            self._last = TrackResult(box, 1.0, None, TrackState.TRACKING)
            # Track on from the init frame through the buffered frames after it; frames that
            # were already published (as idle) are tracked but not published twice.
            publish_init_frame = frame.seq > self._published_seq
            self._processed_seq = frame.seq
            # Catch up through the frames buffered after the init frame, in order.
            self._catchup_until = self._frames[-1].seq if self._frames else frame.seq
        self.get_logger().info(f'tracking track {self._track_id} from {box} on the frame '
                               f'stamped {frame.stamp_ns * 1e-9:.6f}')
        if publish_init_frame:
            self._publish(frame, self._last, TrackState.TRACKING, self._track_id, self._last)

    def _process(self, frame: Frame) -> None:
        tracker = self._tracker
        shape = frame.rgb.shape[:2]
        if self._state != TrackState.IDLE and shape != self._track_shape:
            old = self._track_shape
            with self._lock:
                self._stop_tracking()
                self._stats['size_changes'] += 1
            self.get_logger().error(
                f'image size changed from {old[1]}x{old[0]} to {shape[1]}x{shape[0]} while '
                'tracking: tracking stopped; send a new target/init for the new stream')
        result = None
        update_ms = 0.0
        wait_ms = (time.monotonic() - frame.received) * 1e3
        if self._state != TrackState.IDLE and tracker is not None:
            t0 = time.perf_counter()
            try:
                result = tracker.update(frame.rgb)
                if not (result.box.is_finite() and np.isfinite(result.score)):
                    raise ValueError(f'tracker returned a non-finite result {result}')
            except Exception as exc:  # keep the node alive whatever the tracker raises
                self._error_throttled(f'tracker update failed: {exc}')
                result = None
            update_ms = (time.perf_counter() - t0) * 1e3
            if result is None:
                result = TrackResult(self._last.box if self._last else Box(0, 0, 0, 0), 0.0,
                                     None, TrackState.LOST)
            elif result.score < self._params.lost_score_threshold:
                result = TrackResult(result.box, result.score, result.mask, TrackState.LOST)
        with self._lock:
            before = self._state
            if self._state != TrackState.IDLE and result is not None:
                self._state, self._last = result.state, result
            state, track_id = self._state, self._track_id
        if before != state and TrackState.IDLE not in (before, state):
            # The transitions a user watching the log wants to see (each one, not per frame).
            what = 'lost' if state == TrackState.LOST else 'found again'
            self.get_logger().info(f'track {track_id}: target {what} at stamp '
                                   f'{frame.stamp_ns / 1e9:.3f} s (score {result.score:.3f})')
        if result is not None:  # the tracker ran on this frame
            with self._lock:
                self._stats['processed'] += 1
                self._stats['update_ms'] = update_ms
                self._fps_times.append(time.monotonic())
        if frame.seq > self._published_seq:
            self._publish(frame, result if state == TrackState.TRACKING else None, state,
                          track_id, result, update_ms, wait_ms)

    def _publish(self, frame: Frame, tracked: TrackResult | None, state: TrackState,
                 track_id: str, result: TrackResult | None, update_ms: float = 0.0,
                 wait_ms: float = 0.0) -> None:
        self._published_seq = frame.seq
        header = frame.header
        dets = []
        if tracked is not None:
            dets.append(conv.result_to_detection(tracked, header, track_id, self._params.label))
        self._entities['det'].publish(conv.detection_array(header, dets))
        timing = Vector3Stamped(header=header)
        timing.vector.x = update_ms
        timing.vector.y = wait_ms
        timing.vector.z = (time.monotonic() - frame.received) * 1e3
        self._entities['timing'].publish(timing)
        p = self._params
        if p.publish_mask and result is not None and result.mask is not None:
            mask = result.mask if tracked is not None else np.zeros_like(result.mask)
            self._entities['mask'].publish(conv.mask_to_image(mask, header))
        if tracked is not None and self._camera_info is not None:
            try:
                ray = conv.bearing_from_pixel(tracked.box.cx, tracked.box.cy, self._camera_info)
            except ValueError as exc:
                self.get_logger().warning(f'no bearing: {exc}', throttle_duration_sec=5.0)
            else:
                msg = Vector3Stamped()
                msg.header = header
                if self._camera_info.header.frame_id:
                    msg.header.frame_id = self._camera_info.header.frame_id
                msg.vector.x, msg.vector.y, msg.vector.z = map(float, ray)
                self._entities['bearing'].publish(msg)
        if p.publish_debug_image:
            self._entities['debug'].publish(conv.rgb_to_image(
                draw_debug(frame.rgb, result, state), 'bgr8', header))
        self._stats['latency_ms'] = timing.vector.z

    def _publish_diagnostics(self) -> None:
        if not self._active:
            return
        with self._lock:
            state, last, stats = self._state, self._last, dict(self._stats)
            times = list(self._fps_times)
        fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and \
            times[-1] > times[0] else 0.0
        if self._tracker is None:
            level, message = DiagnosticStatus.ERROR, 'no tracker loaded'
        elif state == TrackState.LOST:
            level, message = DiagnosticStatus.WARN, 'lost'
        else:
            level, message = DiagnosticStatus.OK, state.value
        header = Header()
        header.stamp = self.get_clock().now().to_msg()
        values = {'state': state.value, 'tracker': self._tracker_name, 'track_id': self._track_id,
                  'score': last.score if last else float('nan'), 'fps': fps,
                  'update_ms': stats['update_ms'], 'latency_ms': stats['latency_ms'],
                  'frames_received': stats['received'], 'frames_processed': stats['processed'],
                  'frames_dropped': stats['dropped'], 'bad_images': stats['bad_images'],
                  'stamps_backwards': stats['stamps_backwards'],
                  'stamps_duplicate': stats['stamps_duplicate'],
                  'size_changes': stats['size_changes'],
                  'device': self._params.device}
        self._entities['diag'].publish(conv.diagnostics_msg(
            header, f'{self.get_fully_qualified_name()}: tracking', self._tracker_name, level[0],
            message, values))

    def destroy_node(self) -> None:
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=2.0)
        super().destroy_node()


def resolve_device(device: str) -> str:
    """Return the torch device for the device parameter; ConfigError when CUDA is absent."""
    import torch
    if device == 'auto':
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if device.startswith('cuda'):
        if not torch.cuda.is_available():
            raise ConfigError(f'device {device} requested but torch sees no CUDA device '
                              f'(torch {torch.__version__}, built for CUDA '
                              f'{torch.version.cuda or "none"})')
        index = int(device.split(':', 1)[1]) if ':' in device else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f'device {device} requested but torch sees '
                              f'{torch.cuda.device_count()} CUDA device(s)')
    return device


def device_available(device: str) -> bool:
    """Whether resolve_device accepts this device parameter on this machine."""
    try:
        resolve_device(device)
    except ConfigError:
        return False
    return True


def draw_debug(rgb: np.ndarray, result: TrackResult | None, state: TrackState) -> np.ndarray:
    """RGB frame with the box, score and state drawn (for debug_image)."""
    out = rgb.copy()
    colour = {TrackState.TRACKING: (0, 255, 0), TrackState.LOST: (255, 64, 0),
              TrackState.IDLE: (160, 160, 160)}[state]
    if result is not None and state != TrackState.IDLE and result.box.is_finite():
        x1, y1, x2, y2 = (int(round(v)) for v in result.box.as_xyxy())
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 2)
        if result.mask is not None and state == TrackState.TRACKING:
            out[result.mask > 0] = (out[result.mask > 0] * 0.6 + np.array(colour) * 0.4
                                    ).astype(np.uint8)
    text = state.value + (f' {result.score:.2f}' if result is not None else '')
    cv2.putText(out, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2)
    return out


def main(args: list[str] | None = None) -> None:
    try:
        with rclpy.init(args=args):
            node = TrackerNode()
            try:
                # A SIGINT or SIGTERM during the tracker's build has already shut the
                # context down: there is nothing to spin, and exiting is what was asked.
                if rclpy.ok():
                    rclpy.spin(node)
            finally:
                node.destroy_node()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == '__main__':
    main()
