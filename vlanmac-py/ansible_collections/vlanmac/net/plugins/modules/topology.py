#!/usr/bin/python
# -*- coding: utf-8 -*-
# vlanmac.net.topology: declarative VLAN + macvlan topologies (vlanmac).

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
  - Invalid input fails with a message naming the field, before anything is changed.
version_added: "0.1.0"
author: vlanmac developers
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
requirements:
  - the vlanmac Python package on the target
  - root (CAP_NET_ADMIN)
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

- name: Remove it again
  vlanmac.net.topology:
    src: /etc/vlanmac/seed.yaml
    state: absent
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
  description: What C(state=absent) removed.
  type: list
  elements: str
  returned: when state is absent
verify:
  description: The verify report (checks with kind, from, to, expected, observed, ok).
  type: dict
  returned: when verify is true
"""

from ansible.module_utils.basic import AnsibleModule

try:
    import vlanmac

    HAS_VLANMAC = True
    IMPORT_ERROR = None
except Exception as e:  # pragma: no cover - reported through fail_json
    HAS_VLANMAC = False
    IMPORT_ERROR = str(e)


def load(module):
    if module.params["src"]:
        return vlanmac.Topology.from_file(module.params["src"])
    return vlanmac.Topology.from_dict(module.params["spec"], module.params["name"])


def run(module):
    topo = load(module)
    state = module.params["state"]
    result = {"changed": False, "changes": []}
    if state == "absent":
        if module.check_mode:
            # down would remove something unless nothing of the topology is
            # there: then the plan creates every namespace it names.
            plan = topo.plan()
            creates_all = any(c["object"] == "netns" and c["sign"] == "+" for c in plan.changes)
            result["changed"] = plan.is_empty() or not creates_all
            return result
        down = topo.down()
        result["removed"] = down.removed
        result["changes"] = down.lines()
        result["changed"] = down.changed
        if module._diff:
            result["diff"] = {"before": "\n".join(down.removed) + "\n", "after": ""}
        return result
    plan = topo.plan()
    if module._diff:
        before = "\n".join("%s %s: %s" % (c["netns"], c["object"], c.get("before") or "absent") for c in plan.changes) + "\n"
        after = "\n".join("%s %s: %s" % (c["netns"], c["object"], c.get("after") or c.get("detail") or "present") for c in plan.changes) + "\n"
        result["diff"] = {"before": before, "after": after}
    if module.check_mode:
        result["changed"] = not plan.is_empty()
        result["changes"] = plan.lines()
        return result
    applied = topo.apply()
    result["changed"] = applied.changed
    result["changes"] = applied.lines()
    if module.params["verify"]:
        report = topo.verify()
        result["verify"] = report.to_dict()
        if not report.passed:
            failed = ["%s %s -> %s: expected %s, observed %s" % (c["kind"], c["from"], c["to"], c["expected"], c["observed"]) for c in report.failures()]
            module.fail_json(msg="verify failed: %d of %d checks: %s" % (len(failed), len(report.checks), "; ".join(failed[:10])), **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            spec=dict(type="dict"),
            src=dict(type="path"),
            name=dict(type="str", default="topology"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            verify=dict(type="bool", default=False),
        ),
        mutually_exclusive=[["spec", "src"]],
        required_one_of=[["spec", "src"]],
        supports_check_mode=True,
    )
    if not HAS_VLANMAC:
        module.fail_json(msg="the vlanmac Python package is required on the target: %s" % IMPORT_ERROR)
    try:
        result = run(module)
    except vlanmac.InvalidSpecError as e:
        module.fail_json(msg=str(e), field=getattr(e, "field", None))
    except vlanmac.Error as e:
        module.fail_json(msg=str(e), error=type(e).__name__)
    except Exception as e:  # never a traceback: report it
        module.fail_json(msg="unexpected error: %s: %s" % (type(e).__name__, e))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
