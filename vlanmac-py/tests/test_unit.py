"""Unit tier: no root, no kernel changes."""

import pytest

import vlanmac


def test_exceptions_mirror_the_rust_errors():
    assert issubclass(vlanmac.InvalidSpecError, vlanmac.Error)
    assert issubclass(vlanmac.InvalidSpecError, ValueError)
    assert issubclass(vlanmac.NotFoundError, LookupError)
    assert issubclass(vlanmac.PermissionDeniedError, PermissionError)
    for cls in (vlanmac.AlreadyExistsError, vlanmac.ConflictError, vlanmac.KernelUnsupportedError, vlanmac.DockerError):
        assert issubclass(cls, vlanmac.Error)
    assert issubclass(vlanmac.Error, Exception)


def test_invalid_values_name_the_field():
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_dict({"networks": {"lan": {"parent": "eth0", "vlan": 4095}}})
    assert str(e.value) == "invalid input: networks.lan.vlan: 4095 is outside 1-4094"
    assert (e.value.field, e.value.value, e.value.rule) == ("networks.lan.vlan", "4095", "is outside 1-4094")
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_dict({"networks": {"lan": {"parent": "eth0", "colour": "red"}}})
    assert "networks.lan" in str(e.value) and "colour" in str(e.value)
    with pytest.raises(vlanmac.InvalidSpecError):
        vlanmac.Topology.from_dict(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(vlanmac.InvalidSpecError):
        vlanmac.Topology.from_dict({"networks": {"lan": {"parent": b"bytes"}}})
    with pytest.raises(vlanmac.InvalidSpecError) as e:
        vlanmac.Topology.from_yaml("networks: {lan: {parent: eth0, subnets: [{subnet: 10.0.0.0/24, gateway: 10.1.0.1}]}}")
    assert e.value.field == "networks.lan.subnets[0].gateway"


def test_from_yaml_file_and_dict_agree(tmp_path):
    text = "name: t\nnetworks:\n  lan: { parent: eth0, subnets: [ { subnet: 10.9.0.0/24 } ] }\n"
    f = tmp_path / "t.yaml"
    f.write_text(text)
    a = vlanmac.Topology.from_yaml(text)
    b = vlanmac.Topology.from_file(f)
    c = vlanmac.Topology.from_dict({"name": "t", "networks": {"lan": {"parent": "eth0", "subnets": [{"subnet": "10.9.0.0/24"}]}}})
    assert a.to_dict() == b.to_dict() == c.to_dict()
    assert a.name == "t" and repr(a) == "Topology('t')"


def test_a_rust_panic_is_never_a_panic_exception():
    for blocking in (True, False):
        with pytest.raises(vlanmac.Error) as e:
            vlanmac._vlanmac._panic_for_tests(blocking)
        assert "panic" in str(e.value)
        assert type(e.value).__name__ != "PanicException"
        # An Ansible-style `except Exception` catches it.
        assert isinstance(e.value, Exception)


def test_bad_argument_values_are_invalid_spec_errors():
    with pytest.raises(vlanmac.InvalidSpecError):
        vlanmac.Netlink(netns="../etc")
    with pytest.raises(vlanmac.InvalidSpecError):
        vlanmac.create_netns("a/b")
    with pytest.raises(vlanmac.InvalidSpecError):
        vlanmac.Netlink(netns="x", pid=1)


def test_results_render_as_tables():
    plan = vlanmac.Plan({"topology": "t", "changes": [{"sign": "+", "netns": "n", "object": "link eth0", "detail": "veth"}]})
    assert "<table>" in plan._repr_html_() and "link eth0" in plan._repr_html_()
    assert plan.to_dict()["changes"][0]["sign"] == "+"
    report = vlanmac.VerifyReport({"topology": "t", "checks": [{"kind": "ping", "from": "a", "to": "b", "expected": "reply", "observed": "no reply", "ok": False}]})
    assert not report.passed and len(report.failures()) == 1
    assert "FAIL" in report._repr_html_()


def test_errors_pickle_with_their_fields_and_typos_raise():
    import pickle

    with pytest.raises(vlanmac.InvalidSpecError) as info:
        vlanmac.Topology.from_dict({"networks": {"lan": {"parent": "eth0", "vlan": 4095}}})
    e = info.value
    assert e.field == "networks.lan.vlan" and e.errno is None
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is vlanmac.InvalidSpecError and str(again) == str(e)
    assert (again.field, again.value, again.rule) == (e.field, e.value, e.rule)
    with pytest.raises(AttributeError):
        e.feild  # a typo is an error, not None


def test_aio_twins_follow_the_sync_api():
    import inspect

    # A twin is bound to an object holding the sync one; no I/O until awaited.
    nl = object.__new__(vlanmac.aio.Netlink)
    for name in ("add_vlan", "add_route", "links"):
        twin = getattr(nl, name)
        assert inspect.iscoroutinefunction(twin), name
        assert twin.__doc__ == getattr(vlanmac.Netlink, name).__doc__
    sync_sig = inspect.signature(vlanmac.Netlink.add_route)
    assert list(inspect.signature(nl.add_route).parameters) == list(sync_sig.parameters)[1:]
    topo = object.__new__(vlanmac.aio.Topology)
    for name in ("plan", "apply", "verify", "down"):
        assert inspect.iscoroutinefunction(getattr(topo, name)), name
    assert inspect.iscoroutinefunction(vlanmac.aio.list_netns)


# The change operations, defined once (vlanmac-py/src/ops.rs) for both.
CHANGE_OPERATIONS = (
    "add_vlan", "add_macvlan", "add_ipvlan", "add_veth", "set_link", "delete_link",
    "add_address", "replace_address", "delete_address", "add_route", "replace_route", "delete_route",
)


def test_netlink_and_batch_take_the_same_arguments():
    import inspect

    for name in CHANGE_OPERATIONS:
        on_netlink = inspect.signature(getattr(vlanmac.Netlink, name))
        on_batch = inspect.signature(getattr(vlanmac.Batch, name))
        assert on_netlink == on_batch, f"{name}: Netlink{on_netlink} but Batch{on_batch}"
        assert getattr(vlanmac.Netlink, name).__doc__ == getattr(vlanmac.Batch, name).__doc__, name
    assert "ipv6_addrgen" in inspect.signature(vlanmac.Netlink.add_macvlan).parameters
    # Every change operation of one is on the other, and on the asyncio twins.
    def changes(cls):
        return {n for n in dir(cls) if n.startswith(("add_", "set_", "delete_", "replace_"))}

    assert changes(vlanmac.Netlink) == changes(vlanmac.Batch) == set(CHANGE_OPERATIONS)
    assert changes(vlanmac.aio.Netlink) == changes(vlanmac.aio.Batch) == set(CHANGE_OPERATIONS)


def test_link_is_the_core_summary():
    # Python's Link reads every field of vlanmac-core's LinkSummary, and to_dict has them all.
    fields = ["index", "name", "kind", "vlan_id", "vlan_protocol", "mode", "parent", "mac", "mtu", "up", "state",
              "alias", "addresses"]
    for f in fields:
        assert isinstance(getattr(vlanmac.Link, f), property) or hasattr(vlanmac.Link, f), f
