# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Tests of our vision_msgs build: upstream fields, type hashes, serialization, build script.

Needs vision_msgs built first (``.venv/bin/python scripts/build_vision_msgs.py``) or a ROS 2
distribution's vision_msgs; without either, these tests fail on purpose.
"""

import importlib.util
import json
import os
from pathlib import Path
import subprocess
import sys

from ament_index_python.packages import get_package_share_directory
import pytest
import rclpy
from rclpy.context import Context
from rclpy.serialization import deserialize_message, serialize_message
from rosbags.typesys import get_types_from_msg, get_typestore, Stores

REPO = Path(__file__).resolve().parents[1]
MSG_DIR = REPO / 'interfaces' / 'vision_msgs' / 'msg'
BUILD_SCRIPT = REPO / 'scripts' / 'build_vision_msgs.py'

# Every message of upstream vision_msgs 4.x (ros-perception/vision_msgs, branch ros2) with its
# fields in upstream's order, as rosidl_generator_py reports them.
UPSTREAM_FIELDS = {
    'BoundingBox2D': {'center': 'vision_msgs/Pose2D', 'size_x': 'double', 'size_y': 'double'},
    'BoundingBox2DArray': {
        'header': 'std_msgs/Header', 'boxes': 'sequence<vision_msgs/BoundingBox2D>'},
    'BoundingBox3D': {'center': 'geometry_msgs/Pose', 'size': 'geometry_msgs/Vector3'},
    'BoundingBox3DArray': {
        'header': 'std_msgs/Header', 'boxes': 'sequence<vision_msgs/BoundingBox3D>'},
    'Classification': {
        'header': 'std_msgs/Header', 'results': 'sequence<vision_msgs/ObjectHypothesis>'},
    'Detection2D': {
        'header': 'std_msgs/Header',
        'results': 'sequence<vision_msgs/ObjectHypothesisWithPose>',
        'bbox': 'vision_msgs/BoundingBox2D', 'id': 'string'},
    'Detection2DArray': {
        'header': 'std_msgs/Header', 'detections': 'sequence<vision_msgs/Detection2D>'},
    'Detection3D': {
        'header': 'std_msgs/Header',
        'results': 'sequence<vision_msgs/ObjectHypothesisWithPose>',
        'bbox': 'vision_msgs/BoundingBox3D', 'id': 'string'},
    'Detection3DArray': {
        'header': 'std_msgs/Header', 'detections': 'sequence<vision_msgs/Detection3D>'},
    'LabelInfo': {
        'header': 'std_msgs/Header', 'class_map': 'sequence<vision_msgs/VisionClass>',
        'threshold': 'float'},
    'ObjectHypothesis': {'class_id': 'string', 'score': 'double'},
    'ObjectHypothesisWithPose': {
        'hypothesis': 'vision_msgs/ObjectHypothesis', 'pose': 'geometry_msgs/PoseWithCovariance'},
    'Point2D': {'x': 'double', 'y': 'double'},
    'Pose2D': {'position': 'vision_msgs/Point2D', 'theta': 'double'},
    'VisionClass': {'class_id': 'uint16', 'class_name': 'string'},
    'VisionInfo': {
        'header': 'std_msgs/Header', 'method': 'string', 'database_location': 'string',
        'database_version': 'int32'},
}

# Type hashes from a real ROS 2 (colcon) build of upstream vision_msgs 4.x: the values its
# rosidl_generator_c wrote into vision_msgs/msg/detail/*__description.c. No such file was found
# for BoundingBox3DArray, so it is checked against rosbags only.
REAL_ROS2_HASHES = {
    'BoundingBox2D': 'RIHS01_008eacbb0cf8f26e83795547bed013eec3675485ef386ec056d80eaaf1c1ce2f',
    'BoundingBox2DArray':
        'RIHS01_2464e82838009386d371b523211c21c91d74d313fcdd6788223c531d621cf691',
    'BoundingBox3D': 'RIHS01_bbb73a65c163d7f9bb29009c7bde9f7faa576bd2d23299c4511d19230dab4698',
    'Classification': 'RIHS01_f74db28d0eaef3afb78f48bf2161cd709a1383a0309d3454383b25be11345143',
    'Detection2D': 'RIHS01_0d12b69df5c593b3455b7346fac8205437a7d4bcb09b9e0e0b2dde787ded38ea',
    'Detection2DArray': 'RIHS01_214274120007f4a683866481336b70310268cfa107aebe9d594a6acf75bda968',
    'Detection3D': 'RIHS01_ddd703be132ab0b69d33121f1bb034132bfbb3b0ac5f9fb1516005ba1c8a265b',
    'Detection3DArray': 'RIHS01_793f5eab9595ac1c0da07873cc859db42eae51f0ee76056db8562515d830e018',
    'LabelInfo': 'RIHS01_3d37df4015cdf660cc851c51897f2acd957e1ca6205ba0a99aebffb9406b0783',
    'ObjectHypothesis': 'RIHS01_51da43cec11c01957a64d1e05a24acd18aae7745ec30b74348ad5f6d634f7f90',
    'ObjectHypothesisWithPose':
        'RIHS01_41c12344c0396c48b81df12467c192d99b2a0eb1463c5c37194e4223251c80bc',
    'Point2D': 'RIHS01_eab0e83f44ab4de92ceaf76dd7d0e7638f2bdd1d16ffbe16c7a136c48e407247',
    'Pose2D': 'RIHS01_b0b5d1d7b4c20dd4fcde3ed1d4b289a919290572007d67a97043814db25d3648',
    'VisionClass': 'RIHS01_1e4a11f0fed50b5623cb8ff26ca0e37952a48a9c074d16f804b44e9164c2037a',
    'VisionInfo': 'RIHS01_95d3116a17484ad91c9a2686e1d54890bbfc3ff6c6a2de137738c4950d45d284',
}

HASH_CHECKED = ('Detection2DArray', 'Detection2D', 'BoundingBox2D')


@pytest.fixture(scope='module')
def vision_msgs_msg():
    """Return the vision_msgs.msg module, failing with the build command if it is missing."""
    try:
        import vision_msgs.msg
    except ImportError as err:
        pytest.fail(f'vision_msgs is not built ({err}); run: '
                    f'{sys.executable} scripts/build_vision_msgs.py')
    return vision_msgs.msg


@pytest.fixture(scope='module')
def rosbags_hashes():
    """Return the RIHS01 hash that rosbags computes for every .msg in interfaces/."""
    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for path in sorted(MSG_DIR.glob('*.msg')):
        types.update(get_types_from_msg(path.read_text(), f'vision_msgs/msg/{path.stem}'))
    store.register(types)
    return {name: store.hash_rihs01(f'vision_msgs/msg/{name}') for name in UPSTREAM_FIELDS}


@pytest.fixture(scope='module')
def build_script():
    """Import scripts/build_vision_msgs.py as a module."""
    spec = importlib.util.spec_from_file_location('build_vision_msgs', BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_interface_package_has_exactly_the_upstream_messages():
    assert sorted(p.stem for p in MSG_DIR.glob('*.msg')) == sorted(UPSTREAM_FIELDS)
    assert (REPO / 'interfaces' / 'COLCON_IGNORE').is_file()


def test_every_upstream_message_imports_with_upstream_fields(vision_msgs_msg):
    from rclpy.type_support import check_is_valid_msg_type

    for name, fields in UPSTREAM_FIELDS.items():
        msg_type = getattr(vision_msgs_msg, name)
        check_is_valid_msg_type(msg_type)
        assert msg_type.get_fields_and_field_types() == fields, name


def vision_msgs_share() -> Path:
    """Return the installed share directory of vision_msgs (ament index, else the venv)."""
    if os.environ.get('AMENT_PREFIX_PATH'):
        return Path(get_package_share_directory('vision_msgs'))
    # The pip ros-* wheels set no AMENT_PREFIX_PATH; our build installs into sys.prefix.
    return Path(sys.prefix) / 'share' / 'vision_msgs'


def test_installed_hashes_equal_rosbags_and_real_ros2(vision_msgs_msg, rosbags_hashes):
    share = vision_msgs_share() / 'msg'
    for name in UPSTREAM_FIELDS:
        description = json.loads((share / f'{name}.json').read_text())
        own = description['type_hashes'][0]
        assert own['type_name'] == f'vision_msgs/msg/{name}'
        assert own['hash_string'] == rosbags_hashes[name], name
        if name in REAL_ROS2_HASHES:
            assert own['hash_string'] == REAL_ROS2_HASHES[name], name


def test_middleware_advertises_the_real_ros2_hash(vision_msgs_msg, rosbags_hashes, tmp_path,
                                                  monkeypatch):
    monkeypatch.setenv('ROS_DOMAIN_ID', os.environ.get('ROS_DOMAIN_ID', str(os.getpid() % 100)))
    monkeypatch.setenv('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    monkeypatch.setenv('ROS_LOG_DIR', str(tmp_path))
    context = Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node(f'vision_msgs_hash_probe_{os.getpid()}', context=context)
        advertised = {}
        for name in HASH_CHECKED:
            topic = f'/vision_msgs_hash_probe_{os.getpid()}/{name.lower()}'
            node.create_publisher(getattr(vision_msgs_msg, name), topic, 1)
            infos = [info for info in node.get_publishers_info_by_topic(topic)
                     if info.node_name == node.get_name()]
            assert len(infos) == 1, (name, infos)
            assert infos[0].topic_type == f'vision_msgs/msg/{name}'
            advertised[name] = str(infos[0].topic_type_hash)
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    assert advertised == {name: REAL_ROS2_HASHES[name] for name in HASH_CHECKED}
    assert advertised == {name: rosbags_hashes[name] for name in HASH_CHECKED}


def test_detection2d_array_round_trips_with_all_fields_set(vision_msgs_msg):
    from geometry_msgs.msg import PoseWithCovariance

    m = vision_msgs_msg
    detections = []
    for i in range(2):
        results = []
        for j in range(2):
            pose = PoseWithCovariance()
            # float() matters: an int in a float64 field serializes as garbage (5e-324).
            pose.pose.position.x, pose.pose.position.y = float(i), float(j)
            pose.pose.position.z = 0.5
            pose.pose.orientation.x, pose.pose.orientation.w = 0.6, 0.8
            pose.covariance = [float(k + i + j) for k in range(36)]
            results.append(m.ObjectHypothesisWithPose(
                hypothesis=m.ObjectHypothesis(class_id=f'class_{i}_{j}', score=0.25 + 0.5 * j),
                pose=pose))
        bbox = m.BoundingBox2D(
            center=m.Pose2D(position=m.Point2D(x=10.5 + i, y=20.25), theta=0.125 * i),
            size_x=30.0, size_y=40.5)
        detection = m.Detection2D(results=results, bbox=bbox, id=f'track_{i}')
        detection.header.frame_id = f'camera_{i}'
        detection.header.stamp.sec, detection.header.stamp.nanosec = 7, 123456789 + i
        detections.append(detection)
    msg = m.Detection2DArray(detections=detections)
    msg.header.frame_id = 'camera'
    msg.header.stamp.sec, msg.header.stamp.nanosec = 7, 123456789

    data = serialize_message(msg)
    back = deserialize_message(data, m.Detection2DArray)
    assert back == msg
    assert back.detections[1].results[1].pose.covariance[35] == 37.0
    assert back.detections[1].bbox.center.theta == 0.125
    assert back.detections[0].results[1].hypothesis.class_id == 'class_0_1'


def test_build_script_is_a_fast_no_op_when_vision_msgs_imports(vision_msgs_msg):
    result = subprocess.run([sys.executable, str(BUILD_SCRIPT)], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert 'nothing to do' in result.stdout


def test_include_path_rewrite_is_idempotent(build_script, tmp_path):
    import sysconfig

    import numpy

    cmake = tmp_path / 'share' / 'pkg' / 'cmake' / 'export_pkgExport.cmake'
    cmake.parent.mkdir(parents=True)
    cmake.write_text(
        'INTERFACE_INCLUDE_DIRECTORIES "/opt/python/cp311-cp311/include/python3.11;'
        '/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include"\n')
    untouched = tmp_path / 'share' / 'pkg' / 'cmake' / 'other.cmake'
    untouched.write_text('set(x 1)\n')

    assert build_script.rewrite_cmake_include_paths(tmp_path) == 1
    expected = (f'INTERFACE_INCLUDE_DIRECTORIES "{sysconfig.get_paths()["include"]};'
                f'{numpy.get_include()}"\n')
    assert cmake.read_text() == expected
    assert build_script.rewrite_cmake_include_paths(tmp_path) == 0
    assert cmake.read_text() == expected
    assert untouched.read_text() == 'set(x 1)\n'


def test_missing_build_package_is_named(build_script, monkeypatch):
    monkeypatch.setattr(build_script, 'BUILD_DISTRIBUTIONS',
                        build_script.BUILD_DISTRIBUTIONS + ('ros-no-such-package',))
    with pytest.raises(build_script.BuildError, match='ros-no-such-package'):
        build_script.check_distributions(Path(sys.prefix))
