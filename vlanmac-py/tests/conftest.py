"""Fixtures: tiers (unit needs nothing; privileged needs root and works in
fresh namespaces; docker needs the private engine scripts/test starts)."""

import json
import os
import subprocess
import uuid

import pytest

import vlanmac


def is_root() -> bool:
    return os.geteuid() == 0


privileged = pytest.mark.skipif(not is_root(), reason="needs root (creates namespaces)")
docker = pytest.mark.skipif(not os.environ.get("VLANMAC_DOCKER_HOST"), reason="no private Docker engine (VLANMAC_DOCKER_HOST)")


def ip_json(ns, *args):
    out = subprocess.run(["ip", "-j", "-n", ns, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out) if out.strip() else []


@pytest.fixture
def netns():
    """A fresh named namespace, deleted afterwards even if the test fails."""
    name = f"vpt-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    vlanmac.create_netns(name)
    yield name
    if vlanmac.netns_exists(name):
        vlanmac.delete_netns(name)


def flat_spec(tag: str) -> dict:
    """An untagged lab topology (runs on a kernel without 802.1Q) with unique names."""
    p = f"vp{uuid.uuid4().hex[:6]}{tag}"
    return {
        "name": p,
        "namespace": f"{p}-host",
        "lab": {"trunk": "eth0", "router": f"{p}-rtr"},
        "networks": {
            "lan": {
                "parent": "eth0",
                "subnets": [
                    {"subnet": "10.88.0.0/24", "gateway": "10.88.0.1"},
                    {"subnet": "2001:db8:88::/64", "gateway": "2001:db8:88::1"},
                ],
            }
        },
        "endpoints": {
            f"{p}-a": {"attach": [{"network": "lan", "ipv4": "10.88.0.2"}]},
            f"{p}-b": {"attach": [{"network": "lan"}]},
        },
    }


def spec_namespaces(spec: dict):
    names = [spec["namespace"]] + ([spec["lab"]["router"]] if spec.get("lab") else [])
    names += [e.get("netns", k) for k, e in spec["endpoints"].items()]
    return names


@pytest.fixture
def flat():
    """A flat topology spec whose namespaces are taken down afterwards."""
    made = []

    def make(tag):
        spec = flat_spec(tag)
        made.append(spec)
        return spec

    yield make
    for spec in made:
        try:
            vlanmac.Topology.from_dict(spec).down()
        except Exception:  # the test may have broken the spec on purpose
            pass
        for ns in spec_namespaces(spec):
            if vlanmac.netns_exists(ns):
                vlanmac.delete_netns(ns)
