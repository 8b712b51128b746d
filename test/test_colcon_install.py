# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Build the package with colcon and run what `ros2 launch` / `ros2 run` would run.

colcon (colcon-common-extensions from PyPI) builds the ament_python package against the ros-*
wheels in a temporary workspace. The installed lib/meta_tracker_ros/tracker_node is started
with the command line that launch/tracker.launch.py describes, with its files found through
the ament index, outside the source tree, and must track.
"""

import os
from pathlib import Path
import subprocess
import sys

from launch_emulation import LaunchFile
import pytest
import rclpy
from ros_harness import Client, det_box, NodeProcess, Scene, stamp_of

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope='module')
def install(tmp_path_factory):
    ws = tmp_path_factory.mktemp('colcon_ws')
    env = {**os.environ, 'PATH': f'{VENV_BIN}:{os.environ["PATH"]}'}
    proc = subprocess.run(
        [str(VENV_BIN / 'colcon'), 'build', '--paths', str(ROOT), '--build-base',
         str(ws / 'build'), '--install-base', str(ws / 'install'), '--event-handlers',
         'console_direct-'], cwd=ws, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    prefix = ws / 'install' / 'meta_tracker_ros'
    site = next(prefix.glob('lib/python3*/site-packages'))
    run_env = {'AMENT_PREFIX_PATH': f'{prefix}:{sys.prefix}',
               'PYTHONPATH': f'{site}:{os.environ.get("PYTHONPATH", "")}'.rstrip(':')}
    return ws, prefix, run_env


def _share_via_ament_index(env, cwd):
    code = ('from ament_index_python.packages import get_package_share_directory as g; '
            "import meta_tracker_ros; print(g('meta_tracker_ros')); "
            'print(meta_tracker_ros.__file__)')
    out = subprocess.run([sys.executable, '-c', code], env={**os.environ, **env}, cwd=cwd,
                         capture_output=True, text=True, check=True).stdout.split()
    return Path(out[0]), Path(out[1])


def test_install_layout(install):
    ws, prefix, env = install
    assert os.access(prefix / 'lib' / 'meta_tracker_ros' / 'tracker_node', os.X_OK)
    share, module = _share_via_ament_index(env, ws)
    assert share == prefix / 'share' / 'meta_tracker_ros'
    assert str(module).startswith(str(prefix)), 'the installed package must be the one imported'
    for rel in ('package.xml', 'launch/tracker.launch.py', 'launch/bag_tracking.launch.py',
                'config/opencv_csrt.yaml'):
        assert (share / rel).is_file(), rel
    assert (ws / 'install' / 'meta_tracker_ros' / 'share' / 'ament_index' / 'resource_index'
            / 'packages' / 'meta_tracker_ros').is_file()


def test_installed_node_tracks_with_launch_command_line(install, tmp_path):
    ws, prefix, env = install
    share, _ = _share_via_ament_index(env, ws)
    launch = LaunchFile(share / 'launch' / 'tracker.launch.py')
    cmd = launch.command(share, prefix / 'lib' / 'meta_tracker_ros', {
        'tracker': 'opencv_csrt', 'image_qos': 'reliable',
        'params_file': str(share / 'config' / 'opencv_csrt.yaml'),
        'image': '/cam_colcon/image_raw'}, tmp_path)
    assert cmd[0].endswith('lib/meta_tracker_ros/tracker_node')
    node = NodeProcess(cmd, tmp_path / 'node.log', env=env, cwd=tmp_path)
    rclpy.init()
    client = Client('colcon_client', '', image_topic='/cam_colcon/image_raw')
    try:
        client.wait_connected()
        scene = Scene()
        client.publish_init(scene.box(0), 0)
        for i in range(12):
            client.publish_frame(scene.frame(i), i)
            client.spin(0.05)
        assert client.wait_until(lambda: stamp_of(11) in client.by_stamp()), node.text()
        box = det_box(client.by_stamp()[stamp_of(11)])
        assert box is not None and box.iou(scene.box(11)) > 0.6
    finally:
        client.destroy()
        rclpy.try_shutdown()
        assert node.stop() == 0, node.text()
