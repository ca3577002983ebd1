"""Privileged tier: root, fresh namespaces, cross-checked with `ip -j`."""

import asyncio
import json
import subprocess
import sys
import threading
import time

import pytest

import vlanmac
from conftest import ip_json, privileged, spec_namespaces

pytestmark = privileged


def test_netlink_links_addresses_routes(netns):
    with vlanmac.Netlink(netns=netns) as nl:
        nl.add_veth("t0", "t1")
        nl.add_macvlan("t0", "mv0", mode="private", mac="02:42:0a:00:0a:02", mtu=1400)
        nl.set_link("t0", up=True)
        nl.set_link("t1", up=True)
        nl.set_link("mv0", up=True, alias="vlanmac:py")
        nl.add_address("mv0", "10.0.10.2/24")
        nl.add_address("mv0", "2001:db8:babe:10::2/64")
        nl.add_route(gateway="10.0.10.1", dev="mv0")
        j = ip_json(netns, "-d", "link", "show", "dev", "mv0")[0]
        assert j["linkinfo"]["info_data"]["mode"] == "private"
        assert (j["address"], j["mtu"], j["ifalias"]) == ("02:42:0a:00:0a:02", 1400, "vlanmac:py")
        link = nl.link("mv0")
        assert (link.kind, link.mode, link.parent, link.mac, link.mtu, link.up) == ("macvlan", "private", "t0", "02:42:0a:00:0a:02", 1400, True)
        assert "10.0.10.2/24" in link.addresses or "10.0.10.2/24" in [a for _, a in nl.addresses("mv0")]
        assert "mv0" in repr(link) and "macvlan" in repr(link)
        assert link.to_dict()["mode"] == "private"
        names = {l.name for l in nl.links()}
        assert {"lo", "t0", "t1", "mv0"} <= names
        default = [r for r in nl.routes() if r.dst == "0.0.0.0/0"]
        assert default and default[0].gateway == "10.0.10.1" and default[0].dev == "mv0"
        with pytest.raises(vlanmac.AlreadyExistsError) as e:
            nl.add_address("mv0", "10.0.10.2/24")
        assert e.value.errno == 17 and "mv0" in e.value.op
        with pytest.raises(vlanmac.NotFoundError):
            nl.delete_link("nope0")
        nl.delete_link("mv0")
        assert "mv0" not in {l.name for l in nl.links()}


def test_kernel_unsupported_or_vlan(netns):
    with vlanmac.Netlink(netns=netns) as nl:
        nl.add_veth("t0", "t1")
        try:
            name = nl.add_vlan("t0", 10)
        except vlanmac.KernelUnsupportedError as e:
            assert "802.1Q" in str(e) and e.extack == "Unknown device type"
        else:
            assert name == "t0.10"
            assert ip_json(netns, "-d", "link", "show", "dev", "t0.10")[0]["linkinfo"]["info_data"]["id"] == 10


def test_asyncio_twin(netns):
    async def main():
        async with await vlanmac.aio.Netlink.open(netns) as nl:
            await nl.add_veth("a0", "a1")
            await nl.add_address("a0", "10.1.0.1/24")
            return [l.name for l in await nl.links()], await nl.addresses("a0")

    names, addrs = asyncio.run(main())
    assert "a0" in names and ("a0", "10.1.0.1/24") in addrs
    assert netns in asyncio.run(vlanmac.aio.list_netns())


def test_topology_plan_apply_verify_down(flat):
    spec = flat("cyc")
    topo = vlanmac.Topology.from_dict(spec)
    plan = topo.plan()
    assert len(plan) > 10 and "<table>" in plan._repr_html_()
    # str() is the text the CLI prints: one line per change, then the summary.
    assert len(plan.lines()) == len(plan) and str(plan).endswith("to remove\n")
    assert plan.lines()[0].startswith("+ ")
    result = topo.apply()
    assert result.changed and result.writes > 0
    assert "applied" in result._repr_html_() and "netlink writes" in str(result)
    # The addresses it reports (endpoint b's from IPAM) are those the kernel holds.
    for name, e in spec["endpoints"].items():
        held = sorted(f"{a['local']}/{a['prefixlen']}" for a in ip_json(e.get("netns", name), "addr", "show", "dev", "eth0")[0]["addr_info"] if a["scope"] == "global")
        reported = sorted(f"{a['address']}/{a['prefix_len']}" for a in result.addresses if a["endpoint"] == name and a["interface"] == "eth0")
        assert len(reported) == 2 and reported == held, (name, reported, held)
    again = topo.apply()
    assert not again.changed and again.writes == 0
    report = topo.verify()
    assert report.passed, str(report)
    assert len(report.lines()) == len(report.checks) and "0 failed" in str(report)
    assert report.plan == "linear" and str(report).startswith(f"verify {spec['name']}: linear check plan, {len(report.checks)} checks\n")
    assert any(c["kind"] == "hops" for c in report.checks)
    assert "<table>" in report._repr_html_()
    mesh = topo.verify(mesh=True)
    assert mesh.passed and mesh.plan == "mesh" and repr(mesh).startswith("VerifyReport(") and "plan='mesh'" in repr(mesh)
    # A namespace deleted by hand: a full report, its checks failed, no exception.
    gone = spec_namespaces(spec)[-1]
    subprocess.run(["ip", "netns", "del", gone], check=True)
    broken = topo.verify()
    assert not broken.passed and len(broken.checks) == len(report.checks)
    assert any(c["from"] == gone and c["to"] == "namespace" and c["stage"] == "missing" for c in broken.failures())
    topo.apply()
    down = topo.down()
    assert down.changed and str(down).endswith(": down\n") and all(l.startswith("- ") for l in down.lines())
    for ns in spec_namespaces(spec):
        assert not vlanmac.netns_exists(ns)


def test_the_gil_is_released_while_applying(flat):
    spec = flat("gil")
    topo = vlanmac.Topology.from_dict(spec)
    counter = {"n": 0, "stop": False}

    def count():
        while not counter["stop"]:
            counter["n"] += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        time.sleep(0.05)
        before = counter["n"]
        start = time.monotonic()
        topo.apply()
        elapsed = time.monotonic() - start
        during = counter["n"] - before
    finally:
        counter["stop"] = True
        t.join()
    # The counting thread kept running while apply waited on the kernel.
    assert elapsed > 0 and during > 1000, (during, elapsed)


def test_async_topology(flat):
    spec = flat("aio")

    async def main():
        topo = vlanmac.aio.Topology.from_dict(spec)
        await topo.apply()
        report = await topo.verify()
        down = await topo.down()
        return report, down

    report, down = asyncio.run(main())
    assert report.passed and down.changed


def test_the_package_starts_no_process(flat):
    """the diagram, apply, verify and down from Python with a PATH that has
    no ip, sh, dot or docker and an otherwise empty environment: the library
    never starts a process."""
    spec = flat("nopath")
    code = (
        "import json, sys, vlanmac\n"
        "t = vlanmac.Topology.from_dict(json.loads(sys.argv[1]))\n"
        "assert t._repr_svg_().startswith('<?xml')\n"
        "assert t.apply().changed\n"
        "assert t.verify().passed, 'verify failed'\n"
        "t.down()\n"
    )
    r = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], env={"PATH": "/nonexistent-vlanmac-path"},
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    for ns in spec_namespaces(spec):
        assert not vlanmac.netns_exists(ns), ns


def test_batch_sends_many_changes_together(netns):
    with vlanmac.Netlink(netns=netns) as nl:
        nl.add_veth("t0", "t1")
        nl.set_link("t0", up=True)
        nl.set_link("t1", up=True)
        with nl.batch() as b:
            for i in range(50):
                b.add_macvlan("t0", f"mv{i}", ipv6_addrgen=False)
                b.add_address(f"mv{i}", f"10.5.0.{i + 1}/32")
                b.set_link(f"mv{i}", up=True)
            assert len(b) == 150
        links = {l["ifname"]: l for l in ip_json(netns, "-d", "link", "show")}
        addrs = {l["ifname"]: l for l in ip_json(netns, "addr", "show")}
        for i in range(50):
            l = links[f"mv{i}"]
            assert l["linkinfo"]["info_kind"] == "macvlan" and "UP" in l["flags"]
            assert l["linkinfo"]["info_data"]["mode"] == "bridge"
            infos = addrs[f"mv{i}"]["addr_info"]
            assert [a["local"] for a in infos] == [f"10.5.0.{i + 1}"], infos  # no IPv6 link-local
        # A bad value is refused when recorded, before the kernel.
        b = nl.batch()
        with pytest.raises(vlanmac.InvalidSpecError, match="mode"):
            b.add_macvlan("t0", "x0", mode="bogus")
        # A failing change raises its typed error; the batch stops there.
        b.add_macvlan("t0", "mv0")
        with pytest.raises(vlanmac.AlreadyExistsError):
            b.run()


def test_aio_batch(netns):
    async def go():
        nl = await vlanmac.aio.Netlink.open(netns=netns)
        await nl.add_veth("t0", "t1")
        async with nl.batch() as b:
            b.add_macvlan("t0", "mv0", ipv6_addrgen=False)
            b.add_address("mv0", "10.6.0.1/24")
        return await nl.link("mv0"), await nl.addresses("mv0")

    link, addrs = asyncio.run(go())
    assert link.kind == "macvlan"
    assert addrs == [("mv0", "10.6.0.1/24")]  # and no IPv6 link-local


def test_netlink_and_batch_do_the_same(netns):
    # ipv6_addrgen on Netlink (it was on Batch only); add_veth, set_link(netns=),
    # replace_address and replace_route on Batch (they were on Netlink only).
    other = f"{netns}-o"
    vlanmac.create_netns(other)
    try:
        with vlanmac.Netlink(netns=netns) as nl:
            nl.add_veth("t0", "t1")
            nl.add_macvlan("t0", "a0", ipv6_addrgen=False)
            with nl.batch() as b:
                b.add_veth("p0", "p1", peer_netns=other)
                b.add_macvlan("t0", "m0", ipv6_addrgen=False)
                b.add_macvlan("t0", "m1", ipv6_addrgen=False)
                b.set_link("m0", netns=other)
                b.set_link("a0", up=True)
                b.add_address("a0", "10.7.0.1/24")
                b.replace_address("a0", "10.7.0.1/24", nodad=True)
                b.replace_route("10.8.0.0/16", dev="a0")
            links = {l["ifname"]: l for l in ip_json(netns, "-d", "link", "show")}
            assert links["a0"]["inet6_addr_gen_mode"] == "none", links["a0"]
            assert links["m1"]["inet6_addr_gen_mode"] == "none", links["m1"]
            # (A move to another namespace resets the link's IPv6 settings: the kernel's doing.)
            moved = {l["ifname"]: l for l in ip_json(other, "-d", "link", "show")}
            assert "p1" in moved and "m0" in moved and "m0" not in links, moved
            routes = ip_json(netns, "route", "show", "10.8.0.0/16")
            assert [r["dev"] for r in routes] == ["a0"], routes
    finally:
        vlanmac.delete_netns(other)
