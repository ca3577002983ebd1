"""The README's Python and Ansible snippets, run as written — only the seed
file is swapped for an untagged topology (this kernel may lack 802.1Q) and
`container0` for a fresh namespace."""

import asyncio
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

import vlanmac
from conftest import flat_spec, privileged, spec_namespaces

pytestmark = privileged

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def block(section: str, lang: str) -> str:
    text = README.read_text()
    part = text[text.index(f"## {section}\n"):]
    m = re.search(rf"```{lang}\n(.*?)```", part, re.S)
    assert m, f"no {lang} block in {section}"
    return m.group(1)


@pytest.fixture
def topo_file(tmp_path, flat):
    spec = flat("rd")
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(spec))
    return spec, path


def test_python_snippet(topo_file, netns):
    spec, path = topo_file
    code = block("Python", "python").replace("examples/seed.yaml", str(path)).replace('"container0"', repr(netns))
    # The last line awaits at top level (as in a notebook): run it in a coroutine.
    sync, _, last = code.rpartition("\n\nnl = await ")
    scope = {}
    exec(compile(sync, "README.md", "exec"), scope)
    async def tail():
        nl = await eval("vlanmac.aio.Netlink.open(netns=%r)" % netns, scope)
        nl.close()
    asyncio.run(tail())
    assert last.startswith("vlanmac.aio.Netlink.open(")
    assert all(not vlanmac.netns_exists(ns) for ns in spec_namespaces(spec)), "the snippet's down() left namespaces"


def test_ansible_snippet(topo_file, tmp_path):
    spec, path = topo_file
    play = block("Ansible", "yaml").replace("examples/seed.yaml", str(path))
    (tmp_path / "play.yml").write_text(play)
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(README.parent / "vlanmac-py"), "ANSIBLE_LOCALHOST_WARNING": "false",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false", "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    r = subprocess.run([exe, "-i", "localhost,", str(tmp_path / "play.yml")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "changed=1" in r.stdout, r.stdout
    r2 = subprocess.run([exe, "-i", "localhost,", str(tmp_path / "play.yml")], capture_output=True, text=True, env=env)
    assert r2.returncode == 0 and "changed=0" in r2.stdout, r2.stdout
