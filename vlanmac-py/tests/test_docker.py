"""Docker tier: against the private engine scripts/test starts."""

import os
import subprocess
import uuid

import pytest

import vlanmac
from conftest import docker, privileged

pytestmark = [privileged, docker]


def cli(*args):
    return subprocess.run(["/usr/bin/docker", *args], capture_output=True, text=True, env={**os.environ, "DOCKER_HOST": os.environ["VLANMAC_DOCKER_HOST"]})


@pytest.fixture
def container():
    name = f"vpt{uuid.uuid4().hex[:8]}"
    r = cli("run", "-d", "--name", name, "--net", "none", os.environ.get("VLANMAC_DOCKER_IMAGE", "vlanmac-test:busybox"))
    assert r.returncode == 0, r.stderr
    yield name
    cli("rm", "-f", name)


def test_docker_adapter(container):
    ns = os.environ["VLANMAC_DOCKER_NETNS"]
    parent = f"vp{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "-n", ns, "link", "add", parent, "type", "veth", "peer", "name", parent + "p"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", parent, "up"], check=True)
    net = f"n{uuid.uuid4().hex[:8]}"
    topo = vlanmac.Topology.from_dict({"name": "py", "networks": {net: {"parent": parent, "docker": True, "subnets": [{"subnet": "10.130.0.0/24", "gateway": "10.130.0.1"}]}}})
    d = vlanmac.DockerAdapter(os.environ["VLANMAC_DOCKER_HOST"])
    try:
        assert d.ensure_network(topo._native, net) == "created"
        assert d.ensure_network(topo._native, net) == "unchanged"
        with pytest.raises(vlanmac.InvalidSpecError) as e:
            d.connect(net, container, ipv4="10.131.0.5")
        assert e.value.field == "ipv4"
        assert d.connect(net, container, ipv4="10.130.0.5") is True
        assert d.connect(net, container, ipv4="10.130.0.5") is False
        view = d.inspect(container)
        assert view["networks"][net]["IPAddress"] == "10.130.0.5"
        assert view["networks"][net]["MacAddress"] == "02:42:0a:82:00:05"
        with pytest.raises(vlanmac.ConflictError):
            d.connect(net, container, ipv4="10.130.0.6")
        with pytest.raises(vlanmac.NotFoundError):
            d.inspect("vlanmac-no-such-container")
        assert d.disconnect(net, container) is True
    finally:
        cli("network", "rm", net)
        subprocess.run(["ip", "-n", ns, "link", "del", parent])
    with pytest.raises(vlanmac.DockerError) as e:
        vlanmac.DockerAdapter("unix:///run/vlanmac-no-such.sock")
    assert e.value.socket == "unix:///run/vlanmac-no-such.sock"


def test_docker_adapter_asyncio_twin(container):
    import asyncio

    async def main():
        d = await vlanmac.aio.DockerAdapter.open(os.environ["VLANMAC_DOCKER_HOST"])
        view = await d.inspect(container)
        with pytest.raises(vlanmac.NotFoundError):
            await d.inspect("vlanmac-no-such-container")
        return view

    view = asyncio.run(main())
    assert view["name"] == container and "none" in view["networks"]
