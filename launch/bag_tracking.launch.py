# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Track in a recorded bag: tracker_node plus `ros2 bag play`, with reliable image QoS.

For instance, with a ROS 2 distribution sourced:
  ros2 launch meta_tracker_ros bag_tracking.launch.py bag:=/data/car1_bag tracker:=mlt
Send the initial box on /tracker_node/... target/init (see README), or use meta-tracker-demo.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    share = FindPackageShare('meta_tracker_ros')
    return LaunchDescription([
        DeclareLaunchArgument('bag', description='rosbag2 folder to play'),
        DeclareLaunchArgument('rate', default_value='1.0', description='playback rate'),
        DeclareLaunchArgument('tracker', default_value='mlt',
                              description='tracker registry name'),
        DeclareLaunchArgument('weights', default_value='',
                              description="weights file; empty = the tracker's default file"),
        DeclareLaunchArgument('params_file',
                              default_value=PathJoinSubstitution([share, 'config', 'mlt.yaml']),
                              description='parameters YAML (top key /**)'),
        DeclareLaunchArgument('image', default_value='/camera/image_raw',
                              description='image topic in the bag'),
        DeclareLaunchArgument('autostart', default_value='true',
                              description='configure and activate the lifecycle node at '
                                          'startup (false: a lifecycle manager does it)'),
        DeclareLaunchArgument('device', default_value='cpu', description='cpu, cuda or auto'),
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
                'image_qos': 'reliable',
                'process_every_frame': True,
            }],
            remappings=[('image', LaunchConfiguration('image')),
                        ('camera_info', '/camera/camera_info')],
        ),
        ExecuteProcess(
            cmd=['ros2', 'bag', 'play', LaunchConfiguration('bag'),
                 '--rate', LaunchConfiguration('rate')],
            output='screen',
        ),
    ])
