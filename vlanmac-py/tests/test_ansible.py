"""The Ansible collection vlanmac.net, run with ansible-playbook on
localhost (connection local) with this interpreter."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import vlanmac
from conftest import flat_spec, privileged, spec_namespaces

pytestmark = [
    privileged,
    pytest.mark.skipif(shutil.which("ansible-playbook", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")) is None, reason="ansible-core is not installed"),
]

COLLECTIONS = os.path.join(os.path.dirname(__file__), "..")


def playbook_many(tmp_path, tasks: list, *flags: str, netns=None, interpreter=None):
    """Runs the tasks in one play; returns (returncode, each task's registered
    result, output). Tasks run with ignore_errors so every result is written
    out. With ``netns``, ansible-playbook runs in that namespace (``ip netns
    exec``); ``interpreter`` is the target's Python (default: this one)."""
    result_file = tmp_path / "result.json"
    if result_file.exists():
        result_file.unlink()
    steps = [{"name": f"topology {i}", "vlanmac.net.topology": t, "register": f"out{i}", "ignore_errors": True}
             for i, t in enumerate(tasks)]
    everything = "[" + ", ".join("{{ out%d | to_json }}" % i for i in range(len(tasks))) + "]"
    book = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": interpreter or sys.executable},
             "tasks": steps + [{"name": "save", "copy": {"content": everything, "dest": str(result_file)}, "check_mode": False, "diff": False}]}]
    path = tmp_path / "play.yml"
    path.write_text(json.dumps(book))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ANSIBLE_LOCALHOST_WARNING": "false",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false", "ANSIBLE_NOCOLOR": "1"}
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    prefix = ["ip", "netns", "exec", netns] if netns else []
    r = subprocess.run([*prefix, exe, "-i", "localhost,", str(path), *flags], capture_output=True, text=True, env=env)
    results = json.loads(result_file.read_text()) if result_file.exists() else [{} for _ in tasks]
    return r.returncode, results, r.stdout + r.stderr


def playbook(tmp_path, task: dict, *flags: str, netns=None, interpreter=None):
    """Runs one task; returns (returncode, the task's registered result, output)."""
    code, results, log = playbook_many(tmp_path, [task], *flags, netns=netns, interpreter=interpreter)
    return code, results[0], log


# Bad module arguments: each task fails with a msg naming the field.
BAD_ARGS = [
    ({"spec": {}, "state": "bogus"}, "state"),
    ({"state": "present"}, "spec"),
    ({"spec": {}, "src": "/tmp/x.yaml"}, "src"),
    ({"spec": "not a dict"}, "spec"),
    ({"spec": {}, "verify": "maybe"}, "verify"),
    ({"spec": {}, "colour": "red"}, "colour"),
    ({"spec": {"networks": {"lan": {"parent": "eth0", "vlan": 4095}}}}, "networks.lan.vlan"),
    ({"spec": {"networks": {"lan": {"parent": "eth0", "subnets": [{"subnet": "10.0.0.0/33"}]}}}}, "networks.lan.subnets[0].subnet"),
    ({"spec": {"networks": {"lan": {"parent": "eth0"}}, "endpoints": {"e": {"attach": [{"network": "wan"}]}}}}, "endpoints.e.attach[0].network"),
    ({"spec": {"namespace": "../x"}}, "namespace"),
    ({"spec": {"networks": {"lan": {"parent": "eth0", "colour": "red"}}}}, "colour"),
    ({"src": "/nonexistent/topology.yaml"}, "file"),
    ({"spec": {"networks": {"lan": {"parent": "eth0", "mode": "bridged"}}}}, "networks.lan.mode"),
    ({"spec": {"endpoints": {"e": {"netns": "/etc", "attach": []}}}}, "endpoints.e.netns"),
]


def test_bad_arguments_fail_naming_the_field_and_touch_nothing(tmp_path):
    before = sorted(vlanmac.list_netns())
    code, results, log = playbook_many(tmp_path, [task for task, _ in BAD_ARGS])
    assert len(results) == len(BAD_ARGS), log
    for (task, field), res in zip(BAD_ARGS, results):
        assert res.get("failed") is True, (task, res, log)
        assert field in res.get("msg", ""), (task, res.get("msg"))
        assert not res.get("changed"), (task, res)
    assert sorted(vlanmac.list_netns()) == before


def state(spec):
    """The kernel state that matters: which namespaces exist and their links and addresses."""
    out = {}
    for ns in spec_namespaces(spec):
        if vlanmac.netns_exists(ns):
            with vlanmac.Netlink(netns=ns) as nl:
                out[ns] = sorted((l.name, l.kind, l.up, tuple(sorted(l.addresses))) for l in nl.links())
    return out


@pytest.fixture
def spec(flat):
    return flat("ans")


def test_present_twice_then_absent(tmp_path, spec):
    code, res, log = playbook(tmp_path, {"spec": spec, "state": "present"})
    assert code == 0 and res["changed"] is True and not res.get("failed"), log
    code, res, log = playbook(tmp_path, {"spec": spec, "state": "present"})
    assert code == 0 and res["changed"] is False, log
    code, res, log = playbook(tmp_path, {"spec": spec, "state": "absent"})
    assert code == 0 and res["changed"] is True and res["removed"], log
    assert state(spec) == {}


def test_check_mode_changes_nothing_and_diff_shows_before_after(tmp_path, spec):
    before = state(spec)
    code, res, log = playbook(tmp_path, {"spec": spec}, "--check", "--diff")
    assert code == 0 and res["changed"] is True, log
    assert state(spec) == before
    diff = res["diff"]
    assert "absent" in diff["before"] and "netns" in diff["after"], diff
    assert "netns" in log  # --diff prints before/after


def test_bad_spec_fails_naming_the_field_without_traceback(tmp_path, spec):
    spec["networks"]["lan"]["vlan"] = 4095
    code, res, log = playbook(tmp_path, {"spec": spec})
    assert res["failed"] is True, log
    assert res["msg"] == "invalid input: networks.lan.vlan: 4095 is outside 1-4094", res
    assert "Traceback" not in log and "module_stderr" not in res


def test_verify_true_fails_the_task_when_a_check_fails(tmp_path, spec):
    # The trunk's far end is down (no carrier, no router): apply works,
    # verify cannot pass.
    spec.pop("lab")
    vlanmac.create_netns(spec["namespace"])
    with vlanmac.Netlink(netns=spec["namespace"]) as nl:
        nl.add_veth("eth0", "eth0p")
        nl.set_link("eth0", up=True)
    code, res, log = playbook(tmp_path, {"spec": spec, "verify": True})
    assert res.get("failed") is True, log
    assert res["msg"].startswith("verify failed:"), res
    assert "Traceback" not in log
    code, res, log = playbook(tmp_path, {"spec": spec, "state": "absent"})
    assert code == 0, log


def test_without_the_package_the_task_fails_with_missing_required_lib(tmp_path, spec):
    """A target interpreter without vlanmac: Ansible's own message, naming
    the library and the interpreter, not a traceback."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    code, res, log = playbook(tmp_path, {"spec": spec}, interpreter=str(bare / "bin" / "python"))
    assert res.get("failed") is True, log
    assert res["msg"].startswith("Failed to import the required Python library (vlanmac) on "), res["msg"]
    assert "Traceback" not in res["msg"] and "module_stderr" not in res, res
    assert state(spec) == {}
