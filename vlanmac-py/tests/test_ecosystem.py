"""What the Python ecosystem sees of the package: its metadata and version
(one, from Cargo), its renderings and Jupyter diagram, its log records on
the ``vlanmac`` logger, and what cancelling an asyncio call does."""

import asyncio
import logging
import os
import re
from importlib import metadata

import pytest

import vlanmac
from conftest import privileged

SEED = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "seed.yaml")
WORKSPACE = os.path.join(os.path.dirname(__file__), "..", "..", "Cargo.toml")


def test_one_version_from_cargo():
    assert vlanmac.__version__ == metadata.version("vlanmac")
    if os.path.exists(WORKSPACE):  # in the repository (not an unpacked sdist)
        with open(WORKSPACE) as f:
            cargo = re.search(r'\[workspace\.package\][^\[]*?\nversion = "([^"]+)"', f.read())
        assert cargo and cargo.group(1) == vlanmac.__version__


def test_metadata_is_complete():
    m = metadata.metadata("vlanmac")
    assert m["License-Expression"] == "MIT OR Apache-2.0"
    assert set(m.get_all("License-File") or []) == {"LICENSE-MIT", "LICENSE-APACHE"}
    classifiers = m.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Operating System :: POSIX :: Linux" in classifiers
    assert m["Author"] and m["Requires-Python"] == ">=3.9"
    assert any(u.startswith("Documentation, https://") for u in m.get_all("Project-URL") or [])
    assert m["Description-Content-Type"].startswith("text/markdown")
    assert "vlanmac.aio" in (m.get_payload() or m["Description"] or "")
    files = [str(f) for f in metadata.files("vlanmac") or []]
    assert any(f.endswith("vlanmac/py.typed") for f in files) and any(f.endswith("_vlanmac.pyi") for f in files)


def test_render_formats_and_the_jupyter_diagram():
    topo = vlanmac.Topology.from_file(SEED)
    assert "    eth0.10:\n      id: 10\n      link: eth0\n" in topo.render("netplan")
    assert "[vlan]\nflags=1\nid=20\nparent=eth0\n" in topo.render("networkmanager")
    assert topo.render("json").startswith("{")
    svg = topo._repr_svg_()
    assert svg.startswith("<?xml") and "<svg" in svg and "container1" in svg
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        topo.render("graphviz")
    assert e.value.field == "format" and "netplan" in str(e.value)


@privileged
def test_apply_and_down_are_logged(flat, caplog):
    spec = flat("log")
    topo = vlanmac.Topology.from_dict(spec)
    with caplog.at_level(logging.DEBUG, logger="vlanmac"):
        topo.plan()
        topo.apply()
        topo.down(check=True)
        topo.down()
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "vlanmac"]
    name = spec["name"]
    assert (logging.DEBUG, f"plan {name}: + {spec['namespace']} netns") in [(lv, m[: len(f"plan {name}: + {spec['namespace']} netns")]) for lv, m in records]
    applied = [m for lv, m in records if lv == logging.INFO and m.startswith(f"apply {name}: ")]
    assert len(applied) > 5 and any(m.endswith("netns") or "netns" in m for m in applied), records
    assert (logging.INFO, f"down {name}: - netns {spec['namespace']}") in records, records
    assert any(lv == logging.DEBUG and m.startswith(f"down --check {name}: - netns") for lv, m in records), records
    assert any(lv == logging.INFO and m == f"topology {name}: down" for lv, m in records), records


@privileged
def test_cancelling_an_asyncio_apply_lets_it_finish(flat):
    """As vlanmac.aio documents: cancelling the await does not stop the
    work; the apply finishes in its thread and the topology is applied."""
    spec = flat("cancel")

    async def main():
        topo = vlanmac.aio.Topology.from_dict(spec)
        task = asyncio.ensure_future(topo.apply())
        await asyncio.sleep(0)  # the task starts: the apply is in its thread
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())  # returns once the worker thread is done
    assert vlanmac.Topology.from_dict(spec).plan().is_empty()
    assert all(vlanmac.netns_exists(e.get("netns", k)) for k, e in spec["endpoints"].items())


def test_the_collections_license_holds_both_texts():
    top = os.path.join(os.path.dirname(__file__), "..", "..")
    collection = os.path.join(top, "vlanmac-py", "ansible_collections", "vlanmac", "net", "LICENSE")
    if not os.path.exists(os.path.join(top, "LICENSE-MIT")):
        pytest.skip("not in the repository")
    text = open(collection).read()
    for name in ("LICENSE-MIT", "LICENSE-APACHE"):
        assert open(os.path.join(top, name)).read() in text, name


def test_asyncio_openers_carry_the_constructors_types(tmp_path):
    """``await vlanmac.aio.DockerAdapter.open(...)`` is typed from the sync
    constructor (its keyword arguments) and returns the asyncio class."""
    api = pytest.importorskip("mypy.api")
    snippet = tmp_path / "typed.py"
    snippet.write_text(
        "import vlanmac\n"
        "async def f() -> None:\n"
        "    d = await vlanmac.aio.DockerAdapter.open('tcp://h:2376', tls_verify=True, ca_path='ca.pem')\n"
        "    reveal_type(d)\n"
        "    n = await vlanmac.aio.Netlink.open(netns='x')\n"
        "    reveal_type(n)\n"
        "    await vlanmac.aio.DockerAdapter.open(tls='yes')\n"
    )
    out, _, _ = api.run([str(snippet), "--no-incremental", "--cache-dir", str(tmp_path / ".mypy")])
    assert 'Revealed type is "vlanmac.aio.DockerAdapter"' in out, out
    assert 'Revealed type is "vlanmac.aio.Netlink"' in out, out
    assert 'typed.py:7: error: Argument "tls" has incompatible type "str"; expected "bool"' in out, out
