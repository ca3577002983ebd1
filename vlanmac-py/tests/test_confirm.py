"""Confirmed apply from Python (``Topology.apply_confirmed``, ``Pending``,
``vlanmac.confirm``/``rollback``, ``check_probe``) and from Ansible: an
inventory of 4 hosts emulated locally (each its own topology and
namespaces), ``serial: 1`` and ``max_fail_percentage: 0``, host 2's change
made to fail its probe → host 2 rolled back, the play stops, hosts 3–4
untouched, host 1 kept. Oracle: ``ip -j`` through ``conftest.ip_json``."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import vlanmac
from conftest import flat_spec, ip_json, privileged, spec_namespaces

pytestmark = [privileged]

COLLECTIONS = os.path.join(os.path.dirname(__file__), "..")


def v4(ns, dev="eth0"):
    if not vlanmac.netns_exists(ns):
        return set()
    return {a["local"] for l in ip_json(ns, "-4", "addr", "show", "dev", dev) for a in l["addr_info"]}


def test_apply_confirmed_then_confirm_keeps_it(flat):
    spec = flat("pc")
    topo = vlanmac.Topology.from_dict(spec)
    pending = topo.apply_confirmed(30)
    assert isinstance(pending, vlanmac.Pending) and pending.result.changed
    assert pending.topology == spec["name"] and pending.deadline > 0
    a = list(spec["endpoints"])[0]
    assert v4(a) == {"10.88.0.2"}
    assert pending.confirm() == {"outcome": "confirmed"}
    again = vlanmac.confirm(spec["name"])
    assert again["outcome"] == "already_settled" and again["state"]["state"] == "confirmed", again
    assert v4(a) == {"10.88.0.2"}


def test_apply_confirmed_then_rollback_undoes_it(flat):
    spec = flat("pr")
    topo = vlanmac.Topology.from_dict(spec)
    pending = topo.apply_confirmed(30)
    assert all(vlanmac.netns_exists(ns) for ns in spec_namespaces(spec))
    out = pending.rollback()
    assert out["outcome"] == "rolled_back" and out["failed"] == [], out
    assert not any(vlanmac.netns_exists(ns) for ns in spec_namespaces(spec))


def test_bad_timeouts_and_probes_name_the_field(flat, netns):
    spec = flat("pb")
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_dict(spec).apply_confirmed(0)
    assert e.value.field == "timeout"
    assert not any(vlanmac.netns_exists(ns) for ns in spec_namespaces(spec))
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.check_probe("dns example.org")
    assert e.value.field == "probe"
    # A fresh namespace has no route anywhere: the probe fails, and says why.
    assert "unreachable" in vlanmac.check_probe(f"ping 10.0.0.1 from {netns}", 0.5)


ansible = pytest.mark.skipif(
    shutil.which("ansible-playbook", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")) is None,
    reason="ansible-core is not installed",
)


@ansible
def test_ansible_rolling_change_stops_at_the_host_whose_probe_fails(tmp_path):
    hosts = {f"h{i}": flat_spec(f"r{i}") for i in range(1, 5)}
    for spec in hosts.values():
        vlanmac.Topology.from_dict(spec).apply()  # v1 everywhere
    try:
        v2 = {}
        for h, spec in hosts.items():
            s = json.loads(json.dumps(spec))
            p = s["name"]
            s["endpoints"][f"{p}-c"] = {"attach": [{"network": "lan", "ipv4": "10.88.0.30"}]}
            if h == "h2":  # the change that breaks what the probe reaches
                s["endpoints"][f"{p}-a"]["attach"][0]["ipv4"] = "10.88.0.12"
            v2[h] = s
        inventory = {"all": {"hosts": {h: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                           "spec": v2[h], "probe": f"ping 10.88.0.2 from {v2[h]['name']}-a",
                                           "unreachable": f"ping 10.88.0.99 from {v2[h]['name']}-a"}
                                       for h in hosts}}}
        # The probe pings endpoint a's own address from inside it: it goes
        # when the address does.
        (tmp_path / "inventory.json").write_text(json.dumps(inventory))
        play = [{"hosts": "all", "serial": 1, "max_fail_percentage": 0, "gather_facts": False,
                 "tasks": [{"name": "the change", "vlanmac.net.topology": {
                     "spec": "{{ spec }}", "confirm_timeout": 60, "probes": ["{{ probe }}", "{{ unreachable }}"]}}]}]
        (tmp_path / "play.json").write_text(json.dumps(play))
        env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ANSIBLE_NOCOLOR": "1",
               "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false"}
        exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
        r = subprocess.run([exe, "-i", str(tmp_path / "inventory.json"), str(tmp_path / "play.json")],
                           capture_output=True, text=True, env=env)
        log = r.stdout + r.stderr
        assert r.returncode != 0, log
        assert "passed before the change and fails after it" in log, log
        assert "h3" not in log and "h4" not in log, log  # never reached
        name = {h: s["name"] for h, s in hosts.items()}
        # h1 kept: the new endpoint exists, its change confirmed.
        assert v4(f"{name['h1']}-c") == {"10.88.0.30"}
        assert vlanmac.confirm(name["h1"])["state"]["state"] == "confirmed"
        # h2 rolled back to v1: a has its address, no endpoint c.
        assert v4(f"{name['h2']}-a") == {"10.88.0.2"} and not vlanmac.netns_exists(f"{name['h2']}-c")
        assert vlanmac.confirm(name["h2"])["state"]["state"] == "rolled_back"
        # h3, h4 untouched: v1, no checkpoint.
        for h in ("h3", "h4"):
            assert not vlanmac.netns_exists(f"{name[h]}-c") and v4(f"{name[h]}-a") == {"10.88.0.2"}
            assert vlanmac.confirm(name[h]) == {"outcome": "already_settled", "state": None}
    finally:
        for h, spec in hosts.items():
            bigger = json.loads(json.dumps(spec))
            bigger["endpoints"][f"{spec['name']}-c"] = {"attach": [{"network": "lan", "ipv4": "10.88.0.30"}]}
            vlanmac.Topology.from_dict(bigger).down()
            for ns in spec_namespaces(bigger):
                if vlanmac.netns_exists(ns):
                    vlanmac.delete_netns(ns)
