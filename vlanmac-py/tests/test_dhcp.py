"""DHCP from Python and Ansible: ``ipv4: dhcp`` on a ``dhcp: true`` network
of a lab topology (the lab's dnsmasq serves it), the lease in
``ApplyResult.addresses`` and ``ApplyResult.leases`` and in the Ansible
module's result; no server → :class:`vlanmac.DhcpError` naming the
interface, rolled back. Oracles: ``ip -j addr`` and dnsmasq's lease file."""

import copy
import ipaddress
import os
import shutil
import subprocess
import uuid

import pytest

import vlanmac
from conftest import ip_json, privileged
from test_ansible import playbook

pytestmark = [
    privileged,
    pytest.mark.skipif(shutil.which("dnsmasq", path=os.environ.get("PATH", "") + ":/usr/sbin") is None, reason="dnsmasq (dnsmasq-base) is not installed"),
]


def dhcp_spec(flat, tag):
    """The flat lab topology with its network DHCP-served: endpoint a by
    DHCP (the default there), endpoint b static."""
    spec = flat(tag)
    spec["networks"]["lan"] = {"parent": "eth0", "dhcp": True, "subnets": [{"subnet": "10.88.0.0/24", "gateway": "10.88.0.1"}]}
    a, b = list(spec["endpoints"])
    spec["endpoints"][a] = {"attach": [{"network": "lan"}]}
    spec["endpoints"][b] = {"attach": [{"network": "lan", "ipv4": "10.88.0.2"}]}
    return spec, a, b


def held(ns, dev="eth0"):
    return {a["local"] for l in ip_json(ns, "-4", "addr", "show", "dev", dev) for a in l["addr_info"] if a.get("scope") == "global"}


def server_leases(name):
    try:
        with open(f"/run/vlanmac/{name}/lab-dnsmasq.leases") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_apply_reports_the_lease(flat):
    spec, a, b = dhcp_spec(flat, "dh")
    topo = vlanmac.Topology.from_dict(spec)
    result = topo.apply(dhcp_timeout=20)
    assert len(result.leases) == 1, result.leases
    lease = result.leases[0]
    assert (lease["endpoint"], lease["interface"]) == (a, "eth0") and lease["seconds_left"] > 0
    addr = lease["address"]
    assert ipaddress.ip_address(addr) in ipaddress.ip_network("10.88.0.0/24") and addr != "10.88.0.2"
    reported = {x["address"] for x in result.addresses if x["endpoint"] == a}
    assert reported == {addr} == held(a), (reported, held(a))
    assert {x["address"] for x in result.addresses if x["endpoint"] == b} == {"10.88.0.2"}
    assert addr in server_leases(spec["name"])
    assert topo.verify().passed
    topo.down()
    assert not vlanmac.netns_exists(a) and not os.path.exists(f"/run/vlanmac/{spec['name']}")


@pytest.mark.parametrize("bad", [0, -1, float("nan"), 1e9])
def test_a_bad_dhcp_timeout_names_the_field(flat, bad):
    spec, a, _ = dhcp_spec(flat, "bt")
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_dict(spec).apply(dhcp_timeout=bad)
    assert e.value.field == "dhcp_timeout"
    assert not vlanmac.netns_exists(a)


def test_no_server_is_a_dhcp_error_naming_the_interface_and_rolled_back():
    """No lab: the network says it is served, nobody answers."""
    p = f"vpd{uuid.uuid4().hex[:6]}"
    host = f"{p}-host"
    spec = {
        "name": p,
        "namespace": host,
        "networks": {"lan": {"parent": "eth0", "dhcp": True}},
        "endpoints": {f"{p}-a": {"attach": [{"network": "lan"}]}},
    }
    vlanmac.create_netns(host)
    try:
        subprocess.run(["ip", "-n", host, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"], check=True)
        for dev in ("eth0", "eth0p"):
            subprocess.run(["ip", "-n", host, "link", "set", dev, "up"], check=True)
        with pytest.raises(vlanmac.DhcpError) as e:
            vlanmac.Topology.from_dict(spec).apply(dhcp_timeout=1.5)
        assert f"{p}-a" in e.value.interface and "lan" in e.value.interface, e.value.interface
        assert e.value.reason and f"{p}-a" in str(e.value)
        assert not vlanmac.netns_exists(f"{p}-a")
        assert [l["ifname"] for l in ip_json(host, "link", "show")] == ["lo", "eth0p", "eth0"]
    finally:
        vlanmac.delete_netns(host)


def test_the_ansible_module_returns_the_leased_address(tmp_path, flat):
    spec, a, _ = dhcp_spec(flat, "an")
    code, res, log = playbook(tmp_path, {"spec": copy.deepcopy(spec), "dhcp_timeout": 20})
    assert code == 0 and res["changed"] is True and not res.get("failed"), log
    assert len(res["leases"]) == 1 and res["leases"][0]["endpoint"] == a, res
    addr = res["leases"][0]["address"]
    assert {x["address"] for x in res["addresses"] if x["endpoint"] == a} == {addr} == held(a)
    code, res, log = playbook(tmp_path, {"spec": copy.deepcopy(spec), "dhcp_timeout": "soon"})
    assert res.get("failed") and "dhcp_timeout" in res.get("msg", ""), res
    code, res, log = playbook(tmp_path, {"spec": copy.deepcopy(spec), "state": "absent"})
    assert code == 0 and res["changed"] is True, log
    assert not vlanmac.netns_exists(a) and not os.path.exists(f"/run/vlanmac/{spec['name']}")
