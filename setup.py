# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ament_python package setup; also installs into a plain venv with pip."""

from glob import glob

from setuptools import find_packages, setup

package_name = 'meta_tracker_ros'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(include=['meta_tracker_ros', 'meta_tracker_ros.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml')),
        ('share/' + package_name + '/weights', glob('weights/*.safetensors')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='meta_tracker_ros maintainers',
    maintainer_email='maintainers@meta-tracker-ros.invalid',
    description='Meta-learned single-object trackers as a ROS 2 node',
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'tracker_node = meta_tracker_ros.ros.tracker_node:main',
            'seq_to_bag = meta_tracker_ros.tools.bag_writer:main',
            'bag_player = meta_tracker_ros.tools.bag_player:main',
            'result_recorder = meta_tracker_ros.tools.recorder:main',
            'meta-tracker-eval = meta_tracker_ros.eval.cli:main',
            'meta-tracker-gen = meta_tracker_ros.data.cli:main',
            'meta-tracker-demo = meta_tracker_ros.tools.demo:main',
        ],
    },
)
