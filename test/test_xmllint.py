# Copyright 2026 The meta_tracker_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
package.xml: well-formed XML and a valid format-3 manifest.

ament_xmllint validates against the XSD at download.ros.org, which this offline machine cannot
fetch, and is not published as a wheel; catkin_pkg's parser performs the manifest validation
(required tags, format 3 rules, dependency names) that the schema expresses.
"""

from pathlib import Path
import xml.dom.minidom

from catkin_pkg.package import parse_package
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.linter
@pytest.mark.xmllint
def test_package_xml_valid():
    xml.dom.minidom.parse(str(ROOT / 'package.xml'))
    pkg = parse_package(str(ROOT / 'package.xml'))
    pkg.validate()
    assert pkg.package_format == 3
    assert pkg.name == 'meta_tracker_ros'
    assert pkg.get_build_type() == 'ament_python'
    deps = {d.name for d in pkg.exec_depends}
    for needed in ('rclpy', 'sensor_msgs', 'vision_msgs', 'std_srvs', 'diagnostic_msgs',
                   'geometry_msgs'):
        assert needed in deps


@pytest.mark.linter
@pytest.mark.xmllint
def test_interfaces_package_xml_valid():
    path = ROOT / 'interfaces' / 'vision_msgs' / 'package.xml'
    xml.dom.minidom.parse(str(path))
    parse_package(str(path)).validate()
