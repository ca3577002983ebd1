"""``Topology.down(check=True)`` and the Ansible module's ``state: absent``
in check mode: a dry run of down lists exactly what the real down then
removes, and changes nothing (checked with ``ip``, not vlanmac's reads).
Three shapes: a topology with no endpoints, a half-applied one, an absent one."""

import json
import subprocess

import pytest

import vlanmac
from conftest import privileged
from test_ansible import playbook

pytestmark = [privileged]


def kernel_state(spec):
    """What ``ip`` sees of the topology: its namespaces and, in each, the
    links with their addresses."""
    listed = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True, check=True).stdout
    names = {n["name"] for n in json.loads(listed or "[]")}
    prefix = spec["name"]
    out = {}
    for ns in sorted(n for n in names if n.startswith(prefix)):
        links = subprocess.run(["ip", "-j", "-n", ns, "addr"], capture_output=True, text=True, check=True).stdout
        # Link-local IPv6 addresses come and go with DAD on their own.
        addrs = lambda l: tuple(sorted(a["local"] for a in l.get("addr_info", []) if a.get("scope") != "link"))
        out[ns] = sorted((l["ifname"], "UP" in l.get("flags", []), addrs(l)) for l in json.loads(links))
    return out


@pytest.fixture
def endpointless(flat):
    spec = flat("nep")
    spec["endpoints"] = {}
    return spec


def test_endpointless_topology(tmp_path, endpointless):
    topo = vlanmac.Topology.from_dict(endpointless)
    # Absent: nothing to remove, not "changed".
    dry = topo.down(check=True)
    assert dry.dry_run and dry.removed == [] and not dry.changed, str(dry)
    assert str(dry).endswith("nothing to remove (check: nothing changed)\n")
    code, res, log = playbook(tmp_path, {"spec": endpointless, "state": "absent"}, "--check")
    assert code == 0 and res["changed"] is False and res["removed"] == [], log

    topo.apply()
    before = kernel_state(endpointless)
    assert endpointless["namespace"] in before and endpointless["lab"]["router"] in before
    dry = topo.down(check=True)
    code, res, log = playbook(tmp_path, {"spec": endpointless, "state": "absent"}, "--check")
    assert kernel_state(endpointless) == before, "a dry run changed something"
    assert dry.changed and res["changed"] is True, (str(dry), log)
    assert res["removed"] == dry.removed
    assert f"netns {endpointless['lab']['router']}" in dry.removed and f"netns {endpointless['namespace']}" in dry.removed
    real = topo.down()
    assert not real.dry_run and real.removed == dry.removed
    assert kernel_state(endpointless) == {}


def test_half_applied_topology(tmp_path, flat):
    spec = flat("half")
    topo = vlanmac.Topology.from_dict(spec)
    topo.apply()
    gone = next(iter(spec["endpoints"]))
    subprocess.run(["ip", "netns", "del", gone], check=True)
    before = kernel_state(spec)
    assert gone not in before and len(before) == 3, before
    dry = topo.down(check=True)
    code, res, log = playbook(tmp_path, {"spec": spec, "state": "absent"}, "--check")
    assert kernel_state(spec) == before, "a dry run changed something"
    assert code == 0 and res["changed"] is True and res["removed"] == dry.removed, log
    assert not any(gone + " " in r or r.endswith(gone) for r in dry.removed), dry.removed
    real = topo.down()
    assert real.removed == dry.removed
    assert kernel_state(spec) == {}
    # Taken down: the dry run now finds nothing.
    code, res, log = playbook(tmp_path, {"spec": spec, "state": "absent"}, "--check")
    assert code == 0 and res["changed"] is False and res["removed"] == [], log


def test_absent_topology_with_other_namespaces_around(tmp_path, flat, netns):
    spec = flat("abs")
    dry = vlanmac.Topology.from_dict(spec).down(check=True)
    assert dry.removed == [] and not dry.changed and dry.to_dict()["dry_run"] is True
    assert repr(dry) == f"DownResult(topology={spec['name']!r}, removed=0, dry_run=True)"
    assert vlanmac.netns_exists(netns)
