#!/usr/bin/python
# -*- coding: utf-8 -*-
# vlanmac.net.topology: declarative VLAN + macvlan topologies (vlanmac).
# Copyright (c) 2026, The vlanmac developers
# Licensed under the MIT License or the Apache License 2.0, at your option
# (see the collection's LICENSE file).
# SPDX-License-Identifier: MIT OR Apache-2.0

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: topology
short_description: Put namespaces and containers on 802.1Q VLANs through macvlan
description:
  - Makes the kernel (and Docker) match a vlanmac topology, checks it, or removes what it created.
  - The topology schema is the vlanmac topology file's (networks, endpoints, lab, host_shim, docker).
  - Idempotent; a second identical run reports C(changed=false). Supports check mode and diff mode.
  - In check mode, O(state=absent) lists what a real run would remove (a dry run of C(vlanmac down)) and changes nothing.
  - Invalid input fails with a message naming the field, before anything is changed.
version_added: "0.1.0"
author: The vlanmac developers (@vlanmac)
options:
  spec:
    description: The topology as a dict (mutually exclusive with I(src)).
    type: dict
  src:
    description: Path of a topology file (YAML or JSON) on the target.
    type: path
  name:
    description: The topology's name when I(spec) has no C(name) (marks what it creates).
    type: str
    default: topology
  state:
    description: C(present) applies the topology; C(absent) removes what it created and nothing else.
    type: str
    choices: [present, absent]
    default: present
  verify:
    description: After applying, run the checks (read-back, pings, hop counts, neighbours); fail the task if any fails.
    type: bool
    default: false
  confirm_timeout:
    description:
      - Apply as C(vlanmac apply --confirm) does, with a checkpoint written first; the change is kept only if confirmed within this many seconds.
      - The module confirms it itself once the O(probes) pass after the change (at once without probes).
      - A probe that passed before the change and fails after it rolls the change back and fails the task,
        so a play with C(serial) and C(max_fail_percentage=0) stops before the next host.
      - If the module dies before it confirms, the change is rolled back at the deadline by the next C(vlanmac) command on the host.
    type: float
  probes:
    description:
      - "Checks that gate the change: C(ping ADDR), C(ping ADDR from NS), C(tcp HOST:PORT), C(gateway), C(verify)."
      - Only probes that pass before the change count; the others are returned in RV(probes_ignored).
      - After the change each counted probe is tried for up to 5 seconds.
    type: list
    elements: str
    default: []
  dhcp_timeout:
    description:
      - "Seconds to wait for the DHCP leases of C(ipv4: dhcp) interfaces, all asked for at once."
      - An interface without a lease by then fails the task; what it made is rolled back.
      - The leases lapse at their end unless C(vlanmac agent) runs on the target to renew them.
    type: float
    default: 10
  docker_host:
    description:
      - The Docker daemon for the topology's Docker networks and containers, as C(unix:///path) or C(tcp://host:port).
      - If not given, the value of the E(DOCKER_HOST) environment variable, else the local socket C(unix:///var/run/docker.sock).
      - Used only when the topology has Docker networks or container endpoints.
    type: str
    aliases: [docker_url]
  tls:
    description:
      - Connect to O(docker_host) over TLS.
      - Unlike community.docker, vlanmac always verifies the daemon's certificate, so O(ca_path) is required; O(tls) and O(tls_verify) behave the same.
    type: bool
    default: false
  tls_verify:
    description:
      - Connect to O(docker_host) over TLS and verify the daemon's certificate against O(ca_path).
    type: bool
    default: false
  ca_path:
    description:
      - The CA certificate (PEM) the Docker daemon's certificate must chain to. Required with O(tls) or O(tls_verify).
    type: path
    aliases: [tls_ca_cert, cacert_path]
  client_cert:
    description:
      - The client certificate (PEM) offered to the Docker daemon; needs O(client_key).
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description:
      - The private key (PEM) of O(client_cert).
    type: path
    aliases: [tls_client_key, key_path]
requirements:
  - the vlanmac Python package on the target (C(pip install vlanmac); the collection's requirements.txt)
  - root (CAP_NET_ADMIN and CAP_SYS_ADMIN)
"""

EXAMPLES = r"""
- name: The seed walkthrough
  vlanmac.net.topology:
    src: /etc/vlanmac/seed.yaml
    verify: true

- name: A namespace on VLAN 10
  vlanmac.net.topology:
    spec:
      name: lab
      networks:
        v10: { parent: eth0, vlan: 10, subnets: [ { subnet: 10.0.10.0/24, gateway: 10.0.10.1 } ] }
      endpoints:
        web: { attach: [ { network: v10, ipv4: 10.0.10.5 } ] }

- name: A namespace on VLAN 20 taking its address by DHCP and SLAAC
  vlanmac.net.topology:
    spec:
      name: office
      networks:
        v20: { parent: eth0, vlan: 20, dhcp: true }
      endpoints:
        desk: { attach: [ { network: v20, ipv4: dhcp, ipv6: slaac } ] }
    dhcp_timeout: 20
  register: office

- name: The leased address
  ansible.builtin.debug:
    msg: "{{ office.addresses | map(attribute='address') | list }}"

# In a play with `serial: 1` and `max_fail_percentage: 0`, a host whose probes
# fail after the change is rolled back and the play stops before the next host.
- name: A probe-gated change
  vlanmac.net.topology:
    src: /etc/vlanmac/lab.yaml
    confirm_timeout: 120
    probes: ["ping 10.0.10.1", "tcp 10.0.0.5:22"]

- name: What would be removed (changes nothing)
  vlanmac.net.topology:
    src: /etc/vlanmac/seed.yaml
    state: absent
  check_mode: true

- name: Remove it again
  vlanmac.net.topology:
    src: /etc/vlanmac/seed.yaml
    state: absent

- name: Containers through a remote Docker daemon over TLS
  vlanmac.net.topology:
    src: /etc/vlanmac/seed-docker.yaml
    docker_host: tcp://docker.example.com:2376
    tls_verify: true
    ca_path: /etc/docker/certs/ca.pem
    client_cert: /etc/docker/certs/cert.pem
    client_key: /etc/docker/certs/key.pem
"""

RETURN = r"""
changed:
  description: Whether anything changed (or would, in check mode).
  type: bool
  returned: always
changes:
  description: The changes made or planned, as the lines C(vlanmac plan) and C(vlanmac apply) print (sign, namespace, object, detail).
  type: list
  elements: str
  returned: always
removed:
  description: What O(state=absent) removed (in check mode, what it would remove).
  type: list
  elements: str
  returned: when state is absent
addresses:
  description:
    - Each endpoint interface's address after the apply (static, IPAM's choice, or the DHCP lease).
    - Dicts with C(endpoint), C(interface), C(address) and C(prefix_len).
  type: list
  elements: dict
  returned: when state is present and not in check mode
leases:
  description:
    - The DHCP leases held after the apply.
    - Dicts with C(netns), C(endpoint), C(interface), C(address) and C(seconds_left).
  type: list
  elements: dict
  returned: when state is present and not in check mode
confirmed:
  description: Whether the change was confirmed (with O(confirm_timeout)).
  type: bool
  returned: when confirm_timeout is set
probes_ignored:
  description: The probes that failed before the change, each with why.
  type: list
  elements: str
  returned: when confirm_timeout is set
failed_probe:
  description: The probe that failed after the change (the change was rolled back).
  type: str
  returned: when a probe failed
verify:
  description: The verify report (checks with kind, from, to, expected, observed, ok).
  type: dict
  returned: when verify is true
"""

import time
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

try:
    import vlanmac

    HAS_VLANMAC = True
    IMPORT_TRACEBACK = None
except ImportError:  # reported through missing_required_lib
    HAS_VLANMAC = False
    IMPORT_TRACEBACK = traceback.format_exc()


def load(module):
    if module.params["src"]:
        return vlanmac.Topology.from_file(module.params["src"])
    return vlanmac.Topology.from_dict(module.params["spec"], module.params["name"])


def docker(module):
    """The Docker adapter the options name, or None for the default
    (E(DOCKER_HOST) or the local socket, opened only if the topology needs it)."""
    p = module.params
    tls = p["tls"] or p["tls_verify"]
    if not tls and not p["docker_host"]:
        return None
    if not tls and (p["ca_path"] or p["client_cert"] or p["client_key"]):
        module.fail_json(msg="invalid input: ca_path, client_cert and client_key need tls or tls_verify", field="tls")
    return vlanmac.DockerAdapter(
        p["docker_host"],
        tls=p["tls"],
        tls_verify=p["tls_verify"],
        ca_path=p["ca_path"],
        client_cert=p["client_cert"],
        client_key=p["client_key"],
    )


def run(module):
    topo = load(module)
    state = module.params["state"]
    result = {"changed": False, "changes": []}
    d = docker(module) if topo.needs_docker else None
    if state == "absent":
        # In check mode, a dry run of down: the same walk, nothing changed.
        down = topo.down(check=module.check_mode, docker=d)
        result["removed"] = down.removed
        result["changes"] = down.lines()
        result["changed"] = down.changed
        if module._diff:
            result["diff"] = {"before": "\n".join(down.removed) + "\n", "after": ""}
        return result
    plan = topo.plan(docker=d)
    if module._diff:
        before = "\n".join("%s %s: %s" % (c["netns"], c["object"], c.get("before") or "absent") for c in plan.changes) + "\n"
        after = "\n".join("%s %s: %s" % (c["netns"], c["object"], c.get("after") or c.get("detail") or "present") for c in plan.changes) + "\n"
        result["diff"] = {"before": before, "after": after}
    if module.check_mode:
        result["changed"] = not plan.is_empty()
        result["changes"] = plan.lines()
        return result
    if module.params["confirm_timeout"] is not None:
        return run_confirmed(module, topo, d, result)
    applied = topo.apply(docker=d, dhcp_timeout=module.params["dhcp_timeout"])
    result["changed"] = applied.changed
    result["changes"] = applied.lines()
    result["addresses"] = applied.addresses
    result["leases"] = applied.leases
    if module.params["verify"]:
        report = topo.verify(docker=d)
        result["verify"] = report.to_dict()
        if not report.passed:
            failed = ["%s %s -> %s: expected %s, observed %s" % (c["kind"], c["from"], c["to"], c["expected"], c["observed"]) for c in report.failures()]
            module.fail_json(msg="verify failed: %d of %d checks: %s" % (len(failed), len(report.checks), "; ".join(failed[:10])), **result)
    return result


def probe_passes(topo, d, spec, timeout):
    """None when the probe passes, else why not."""
    if spec.strip() == "verify":
        report = topo.verify(docker=d)
        return None if report.passed else "%d of %d checks failed" % (len(report.failures()), len(report.checks))
    return vlanmac.check_probe(spec, timeout)


def run_confirmed(module, topo, d, result):
    """Probes before, the confirmed apply, probes after; confirmed or rolled back."""
    counted, ignored = [], []
    for spec in module.params["probes"]:
        why = None if spec.strip() == "verify" else probe_passes(topo, d, spec, 2.0)
        if why is None:
            counted.append(spec)
        else:
            ignored.append("%s: %s" % (spec, why))
    result["probes_ignored"] = ignored
    pending = topo.apply_confirmed(module.params["confirm_timeout"], docker=d, dhcp_timeout=module.params["dhcp_timeout"])
    applied = pending.result
    result["changed"] = applied.changed
    result["changes"] = applied.lines()
    result["addresses"] = applied.addresses
    result["leases"] = applied.leases
    grace = max(1.0, min(5.0, module.params["confirm_timeout"] - 1.0))
    start = time.monotonic()
    for spec in counted:
        while True:
            why = probe_passes(topo, d, spec, 1.0)
            if why is None:
                break
            if time.monotonic() - start >= grace:
                outcome = pending.rollback()
                result["confirmed"] = False
                result["failed_probe"] = spec
                module.fail_json(
                    msg="probe `%s` passed before the change and fails after it (%s): rolled back (%s)" % (spec, why, outcome.get("outcome")),
                    **result
                )
            time.sleep(0.2)
    outcome = pending.confirm()
    result["confirmed"] = outcome.get("outcome") == "confirmed"
    if not result["confirmed"]:
        module.fail_json(msg="the change was not confirmed: %s" % outcome, **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            spec=dict(type="dict"),
            src=dict(type="path"),
            name=dict(type="str", default="topology"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            verify=dict(type="bool", default=False),
            dhcp_timeout=dict(type="float", default=10.0),
            confirm_timeout=dict(type="float"),
            probes=dict(type="list", elements="str", default=[]),
            docker_host=dict(type="str", aliases=["docker_url"], fallback=(env_fallback, ["DOCKER_HOST"])),
            tls=dict(type="bool", default=False),
            tls_verify=dict(type="bool", default=False),
            ca_path=dict(type="path", aliases=["tls_ca_cert", "cacert_path"]),
            client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"]),
            client_key=dict(type="path", aliases=["tls_client_key", "key_path"], no_log=False),
        ),
        mutually_exclusive=[["spec", "src"]],
        required_one_of=[["spec", "src"]],
        required_together=[["client_cert", "client_key"]],
        supports_check_mode=True,
    )
    if not HAS_VLANMAC:
        module.fail_json(msg=missing_required_lib("vlanmac"), exception=IMPORT_TRACEBACK)
    try:
        result = run(module)
    except vlanmac.InvalidSpecError as e:
        module.fail_json(msg=str(e), field=getattr(e, "field", None))
    except vlanmac.DhcpError as e:
        module.fail_json(msg=str(e), error=type(e).__name__, interface=e.interface)
    except vlanmac.Error as e:
        module.fail_json(msg=str(e), error=type(e).__name__)
    except Exception as e:  # never a traceback: report it
        module.fail_json(msg="unexpected error: %s: %s" % (type(e).__name__, e))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
