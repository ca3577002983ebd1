"""Docker tier: against the private engine scripts/test starts."""

import json
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


tls = pytest.mark.skipif(not os.environ.get("VLANMAC_DOCKER_TLS_HOST"), reason="the private engine has no TLS listener (openssl missing)")


def in_docker_netns(code: str) -> subprocess.CompletedProcess:
    """Runs Python code in the engine's namespace, where its TLS listener
    (127.0.0.1:2376) is."""
    import sys

    ns = os.environ["VLANMAC_DOCKER_NETNS"]
    return subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], capture_output=True, text=True)


@tls
def test_docker_adapter_over_tls(container, tmp_path):
    host, d = os.environ["VLANMAC_DOCKER_TLS_HOST"], os.environ["VLANMAC_DOCKER_TLS_DIR"]
    # A CA the daemon's certificate does not chain to.
    other = tmp_path / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(other)], check=True, capture_output=True)
    code = f"""
import json, vlanmac
d = vlanmac.DockerAdapter({host!r}, tls_verify=True, ca_path={d!r} + "/ca.pem", client_cert={d!r} + "/cert.pem", client_key={d!r} + "/key.pem")
print(json.dumps(sorted(d.inspect({container!r})["networks"])))
try:
    vlanmac.DockerAdapter({host!r}, tls=True, ca_path={str(other)!r}, client_cert={d!r} + "/cert.pem", client_key={d!r} + "/key.pem")
except vlanmac.DockerError as e:
    print("untrusted:", e.socket)
try:
    vlanmac.DockerAdapter({host!r}, tls=True)
except vlanmac.InvalidSpecError as e:
    print("missing:", e.field)
try:
    vlanmac.DockerAdapter({host!r}, tls=True, ca_path={d!r} + "/ca.pem", client_cert={d!r} + "/cert.pem")
except vlanmac.InvalidSpecError as e:
    print("half:", e.field)
"""
    r = in_docker_netns(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ['["none"]', f"untrusted: {host}", "missing: ca_path", "half: client_key"], r.stdout


@tls
def test_ansible_docker_topology_over_tls(container, tmp_path):
    """The module's docker_host / tls_verify / ca_path / client_cert /
    client_key reach the Docker adapter: apply, check-mode absent, absent."""
    from test_ansible import playbook

    ns = os.environ["VLANMAC_DOCKER_NETNS"]
    parent = f"vp{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "-n", ns, "link", "add", parent, "type", "veth", "peer", "name", parent + "p"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", parent, "up"], check=True)
    net = f"n{uuid.uuid4().hex[:8]}"
    d = os.environ["VLANMAC_DOCKER_TLS_DIR"]
    conn = {"docker_host": os.environ["VLANMAC_DOCKER_TLS_HOST"], "tls_verify": True, "ca_path": f"{d}/ca.pem",
            "client_cert": f"{d}/cert.pem", "client_key": f"{d}/key.pem"}
    spec = {"name": net, "networks": {net: {"parent": parent, "docker": True, "subnets": [{"subnet": "10.132.0.0/24", "gateway": "10.132.0.1"}]}},
            "endpoints": {container: {"container": container, "attach": [{"network": net, "ipv4": "10.132.0.7"}]}}}
    try:
        code, res, log = playbook(tmp_path, {"spec": spec, **conn}, netns=ns)
        assert code == 0 and res["changed"] is True, log
        r = cli("inspect", "-f", "{{json .NetworkSettings.Networks}}", container)
        assert json.loads(r.stdout)[net]["IPAddress"] == "10.132.0.7", r.stdout
        code, res, log = playbook(tmp_path, {"spec": spec, "state": "absent", **conn}, "--check", netns=ns)
        assert code == 0 and res["changed"] is True and f"docker network rm {net}" in res["removed"], log
        assert net in json.loads(cli("inspect", "-f", "{{json .NetworkSettings.Networks}}", container).stdout)
        # The CA files are required with TLS: the task fails naming the field.
        bad = {k: v for k, v in conn.items() if k != "ca_path"}
        code, res, log = playbook(tmp_path, {"spec": spec, "state": "absent", **bad}, netns=ns)
        assert res.get("failed") is True and "ca_path" in res["msg"], log
        code, res, log = playbook(tmp_path, {"spec": spec, "state": "absent", **conn}, netns=ns)
        assert code == 0 and f"docker network rm {net}" in res["removed"], log
        assert cli("network", "inspect", net).returncode != 0
    finally:
        cli("network", "disconnect", "-f", net, container)
        cli("network", "rm", net)
        subprocess.run(["ip", "-n", ns, "link", "del", parent])
