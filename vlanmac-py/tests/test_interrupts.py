"""Ctrl-C and missing privileges: ``KeyboardInterrupt`` during
``Topology.apply`` rolls back what the apply made before it is raised, and
a caller without root gets ``PermissionDeniedError`` saying so before
anything is touched (the Python API and the Ansible module)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

import vlanmac
from conftest import privileged, spec_namespaces

pytestmark = privileged

NEEDS_ROOT = "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)"


def big_spec(n: int) -> dict:
    """A flat lab with `n` endpoints from IPAM: long enough to interrupt."""
    p = f"vk{uuid.uuid4().hex[:6]}"
    return {
        "name": p,
        "namespace": f"{p}-host",
        "lab": {"trunk": "eth0", "router": f"{p}-rtr"},
        "networks": {"lan": {"parent": "eth0", "subnets": [{"subnet": "10.66.0.0/22", "gateway": "10.66.0.1"}]}},
        "endpoints": {f"{p}-e{i}": {"attach": [{"network": "lan"}]} for i in range(n)},
    }


def present(spec: dict):
    names = set(vlanmac.list_netns())
    return sorted(n for n in spec_namespaces(spec) if n in names)


def lock_files(spec: dict):
    return sorted(f for f in os.listdir("/run/vlanmac") if f.startswith(spec["name"])) if os.path.isdir("/run/vlanmac") else []


@pytest.fixture
def ctrl_c():
    """Python's own SIGINT handler (``KeyboardInterrupt``), as an interactive
    session has it, also when the test run inherited SIGINT ignored (a job
    started in the background by a shell without job control)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_keyboard_interrupt_during_apply_rolls_back(ctrl_c):
    spec = big_spec(120)
    topo = vlanmac.Topology.from_dict(spec)
    try:
        t0 = time.monotonic()
        topo.apply()
        took = time.monotonic() - t0
        topo.down()
        assert present(spec) == []
        rolled_back = 0
        tries = []
        for attempt in range(10):
            # Aimed at the first half of an apply, earlier each time, by
            # the length of the last apply that ran to its end.
            delay = took * max(0.5 - attempt * 0.05, 0.05)
            timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT))
            finished = False
            t0 = time.monotonic()
            timer.start()
            try:
                topo.apply()
                finished, took = True, time.monotonic() - t0
                # Finished first: the signal arrives right after; wait for it.
                time.sleep(delay + 0.2)
            except KeyboardInterrupt:
                timer.join()
                if present(spec):
                    # It landed after the apply had finished (or was raised on return).
                    tries.append((round(delay, 3), "after" if finished else "raised on return", round(took, 3)))
                    topo.down()
                    continue
                assert lock_files(spec) == []
                rolled_back += 1
                break
            finally:
                timer.cancel()
            topo.down()
        assert rolled_back == 1, f"Ctrl-C never landed during an apply: (delay, when, apply took) {tries}"
        # And the next apply converges.
        topo.apply()
        assert topo.plan().is_empty()
    finally:
        topo.down()
    assert present(spec) == []


def as_nobody(*cmd, env=None):
    """Runs cmd as user nobody (65534) with no capabilities (util-linux setpriv)."""
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", *cmd],
                          capture_output=True, text=True, cwd="/", env=env)


NON_ROOT_SCRIPT = """
import json, sys, vlanmac
spec = json.loads(sys.argv[1])
out = {}
topo = vlanmac.Topology.from_dict(spec)
for verb in ("plan", "apply", "verify", "down"):
    try:
        getattr(topo, verb)()
        out[verb] = "no error"
    except vlanmac.Error as e:
        out[verb] = [type(e).__name__, isinstance(e, PermissionError), str(e)]
print(json.dumps(out))
"""


def test_without_root_python_raises_permission_denied_first():
    spec = big_spec(2)
    r = as_nobody(sys.executable, "-c", NON_ROOT_SCRIPT, json.dumps(spec))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for verb in ("plan", "apply", "verify", "down"):
        cls, is_permission_error, msg = out[verb]
        assert cls == "PermissionDeniedError" and is_permission_error, out
        assert NEEDS_ROOT in msg and verb.split()[0] in msg, msg
    assert present(spec) == [] and lock_files(spec) == []


@pytest.mark.skipif(shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) is None, reason="ansible-core is not installed")
def test_without_root_the_ansible_module_fails_with_the_reason(tmp_path):
    """The controller runs as root; the module runs as nobody with no
    capabilities (its interpreter is started through setpriv; pipelining
    feeds it the module on stdin)."""
    spec = big_spec(2)
    interpreter = tmp_path / "python-as-nobody"
    interpreter.write_text(f"#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups -- {sys.executable} \"$@\"\n")
    interpreter.chmod(0o755)
    book = [{"hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"ansible_python_interpreter": str(interpreter)},
             "tasks": [{"name": "topology", "vlanmac.net.topology": {"spec": spec}}]}]
    play = tmp_path / "play.yml"
    play.write_text(json.dumps(book))
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": os.path.join(os.path.dirname(__file__), ".."),
           "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false", "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_PIPELINING": "true"}
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    r = subprocess.run([exe, "-i", "localhost,", str(play)], capture_output=True, text=True, env=env)
    log = r.stdout + r.stderr
    assert r.returncode != 0, log
    assert NEEDS_ROOT in log and "PermissionDeniedError" in log, log
    assert "Traceback" not in log, log
    assert present(spec) == [] and lock_files(spec) == []
