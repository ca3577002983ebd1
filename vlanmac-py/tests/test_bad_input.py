"""The bad-input corpus through Python: every topology file of
tests/corpus/topology (its first line names the field), Python values
handed to the API, and Ansible arguments. Each raises InvalidSpecError (or
fails the task) naming the field, and nothing reaches the kernel."""

import glob
import os

import pytest

import vlanmac
from conftest import privileged

CORPUS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "tests", "corpus", "topology", "*.yaml")))


def field_of(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    return first.split("# field:", 1)[1].strip() if "# field:" in first else ""


def test_the_corpus_is_there():
    assert len(CORPUS) >= 100


@pytest.mark.parametrize("path", CORPUS, ids=[os.path.basename(p) for p in CORPUS])
def test_corpus_topology_raises_invalid_spec_naming_the_field(path):
    field = field_of(path)
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_yaml(text)
    assert field in str(e.value)
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_file(path)
    assert field in str(e.value)


BAD_DICTS = [
    ("not a dict", "topology"),
    ({"networks": {"lan": {"parent": "eth0", "vlan": "ten"}}}, "networks.lan.vlan"),
    ({"networks": {"lan": {"parent": "eth0", "vlan": 4095}}}, "networks.lan.vlan"),
    ({"networks": {"lan": {"parent": "eth0", "subnets": [{"subnet": object()}]}}}, "topology"),
    ({"networks": {"lan": {"parent": "x" * 20}}}, "networks.lan.parent"),
    ({"networks": {"lan": {"parent": "eth0"}}, "endpoints": {"e": {"attach": [{"network": "wan"}]}}}, "endpoints.e.attach[0].network"),
    ({"namespace": "../x"}, "namespace"),
    ({"networks": [1, 2]}, "networks"),
]


@pytest.mark.parametrize("spec,field", BAD_DICTS, ids=[f for _, f in BAD_DICTS])
def test_bad_dicts_raise_invalid_spec_naming_the_field(spec, field):
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_dict(spec)
    assert field in str(e.value)


@pytest.mark.parametrize("name", ["../x", "/etc", "a/b", "", ".", "x" * 300])
def test_namespace_names_cannot_escape(name):
    for call in (lambda: vlanmac.Netlink(netns=name), lambda: vlanmac.create_netns(name), lambda: vlanmac.delete_netns(name)):
        with pytest.raises(vlanmac.InvalidSpecError) as e:
            call()
        assert "netns" in str(e.value)
    assert not any(n in ("x", "etc", "b") for n in vlanmac.list_netns() if n == name.rsplit("/", 1)[-1])


BAD_CALLS = [
    ("add_vlan", ("lo", 0), {}, "vlan"),
    ("add_vlan", ("lo", 4095), {}, "vlan"),
    ("add_vlan", ("x" * 16, 10), {}, "parent"),
    ("add_vlan", ("lo", 10), {"protocol": "802.1x"}, "protocol"),
    ("add_vlan", ("lo", 10), {"mtu": 10}, "mtu"),
    ("add_macvlan", ("lo", "mv0"), {"mode": "bogus"}, "mode"),
    ("add_macvlan", ("lo", "mv 0"), {}, "name"),
    ("add_macvlan", ("lo", "mv0"), {"mac": "zz:00:00:00:00:00"}, "mac"),
    ("add_ipvlan", ("lo", "ipv0"), {"mode": "l4"}, "mode"),
    ("add_ipvlan", ("lo", "ipv0"), {"flags": "public"}, "flags"),
    ("add_veth", ("a/b", "p0"), {}, "name"),
    ("add_veth", ("v0", "p" * 16), {}, "peer"),
    ("set_link", ("lo",), {"mtu": 10}, "mtu"),
    ("set_link", ("lo",), {"mac": "01:00:5e:00:00:01"}, "mac"),
    ("set_link", ("lo",), {"new_name": "a b"}, "name"),
    ("set_link", ("lo",), {"netns": "../x"}, "netns"),
    ("add_address", ("lo", "10.0.0.1/33"), {}, "address"),
    ("add_address", ("lo", "ten"), {}, "address"),
    ("add_address", ("lo", "10.0.0.1"), {}, "address"),
    ("delete_address", ("lo", "::1/129"), {}, "address"),
    ("add_route", (), {"dst": "nonsense"}, "dst"),
    ("add_route", (), {"gateway": "gw"}, "gateway"),
    ("add_route", (), {"dst": "10.0.0.0/8", "gateway": "2001:db8::1"}, "gateway"),
    ("add_route", (), {"dev": "d" * 16}, "dev"),
    ("delete_link", ("",), {}, "name"),
    ("link", ("x" * 16,), {}, "name"),
]


@privileged
@pytest.mark.parametrize("method,args,kwargs,field", BAD_CALLS, ids=[f"{m}-{f}-{i}" for i, (m, _, _, f) in enumerate(BAD_CALLS)])
def test_bad_values_raise_invalid_spec_before_the_kernel(netns, method, args, kwargs, field):
    with vlanmac.Netlink(netns=netns) as nl:
        before = sorted((l.name, l.up, tuple(l.addresses)) for l in nl.links())
        with pytest.raises(vlanmac.InvalidSpecError) as e:
            getattr(nl, method)(*args, **kwargs)
        assert field in str(e.value), str(e.value)
        assert sorted((l.name, l.up, tuple(l.addresses)) for l in nl.links()) == before
