# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Launch tracker_node with a tracker, its weights and a parameters file.

For instance, with a ROS 2 distribution sourced:
  ros2 launch meta_tracker_ros tracker.launch.py image:=/camera/image_raw tracker:=mlt
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    share = FindPackageShare('meta_tracker_ros')
    return LaunchDescription([
        DeclareLaunchArgument('tracker', default_value='mlt',
                              description='tracker registry name (mlt, mlt_mt, mlt_mt_ft, '
                                          'fcos_maml, retina_maml, opencv_csrt, ...)'),
        DeclareLaunchArgument('weights', default_value='',
                              description="weights file; empty = the tracker's default file"),
        DeclareLaunchArgument('params_file',
                              default_value=PathJoinSubstitution([share, 'config', 'mlt.yaml']),
                              description='parameters YAML (top key /**)'),
        DeclareLaunchArgument('image', default_value='/camera/image_raw',
                              description='input image topic'),
        DeclareLaunchArgument('camera_info', default_value='/camera/camera_info',
                              description='camera info topic (for target/bearing)'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='configure and activate the lifecycle node at '
                                          'startup (false: a lifecycle manager does it)'),
        DeclareLaunchArgument('device', default_value='cpu', description='cpu, cuda or auto'),
        DeclareLaunchArgument('image_qos', default_value='sensor_data',
                              description='sensor_data (live camera) or reliable (bags)'),
        Node(
            package='meta_tracker_ros',
            executable='tracker_node',
            name='tracker_node',
            output='screen',
            parameters=[LaunchConfiguration('params_file'), {
                'tracker': LaunchConfiguration('tracker'),
                'weights': LaunchConfiguration('weights'),
                'device': LaunchConfiguration('device'),
                'autostart': LaunchConfiguration('autostart'),
                'image_qos': LaunchConfiguration('image_qos'),
            }],
            remappings=[('image', LaunchConfiguration('image')),
                        ('camera_info', LaunchConfiguration('camera_info'))],
        ),
    ])
