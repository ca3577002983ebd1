"""``vlanmac.Topology`` and its results: plain objects that convert to dicts,
print as the CLI prints them (``str()``: the text vlanmac-core renders) and
render as tables in Jupyter (``_repr_html_``)."""

import html
import json
import logging
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Union

from . import _vlanmac

if TYPE_CHECKING:
    from ._vlanmac import _RenderFormat

#: The package's logger: what ``apply`` and ``down`` did at INFO (one record
#: per change, then the summary), what ``plan`` and ``verify`` found at DEBUG.
#: Records are emitted when the call returns.
log = logging.getLogger("vlanmac")


def _native_docker(docker: Any) -> Optional["_vlanmac.DockerAdapter"]:
    """The native adapter of a ``DockerAdapter`` or its asyncio twin."""
    if docker is None or isinstance(docker, _vlanmac.DockerAdapter):
        return docker
    sync = getattr(docker, "_sync", None)
    if isinstance(sync, _vlanmac.DockerAdapter):
        return sync
    raise TypeError(f"docker: expected a vlanmac.DockerAdapter, got {type(docker).__name__}")


def _log(level: int, verb: str, topology: str, text: str) -> None:
    if not log.isEnabledFor(level):
        return
    lines = text.splitlines()
    for line in lines[:-1]:
        log.log(level, "%s %s: %s", verb, topology, line)
    if lines:
        log.log(level, "%s", lines[-1])


def _table(headers: List[str], rows: List[List[Any]], caption: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Result:
    """Common behaviour: ``to_dict()``, ``repr``, Jupyter tables."""

    def __init__(self, data: Dict[str, Any], text: str = "") -> None:
        self._data = data
        self._text = text

    def __str__(self) -> str:
        """The text ``vlanmac`` prints for this result."""
        return self._text

    def lines(self) -> List[str]:
        """The text without its summary line: one line per change, removal or check."""
        return self._text.splitlines()[:-1]

    def to_dict(self) -> Dict[str, Any]:
        """The result as plain data (what ``vlanmac ... --json`` prints)."""
        return json.loads(json.dumps(self._data))

    @property
    def topology(self) -> str:
        """The topology's name."""
        return str(self._data.get("topology", ""))


class Plan(_Result):
    """The changes ``apply`` would make (``+`` create, ``~`` change, ``-`` remove)."""

    @property
    def changes(self) -> List[Dict[str, Any]]:
        """The changes, in order (Docker's networks and connections are rows with ``netns`` ``"docker"``)."""
        return list(self._data.get("changes", []))

    def is_empty(self) -> bool:
        """Whether applying would change nothing."""
        return not self.changes

    def __len__(self) -> int:
        return len(self.changes)

    def __repr__(self) -> str:
        return f"Plan(topology={self.topology!r}, changes={len(self)})"

    def _repr_html_(self) -> str:
        rows = [[c["sign"], c["netns"], c["object"], c.get("detail", ""), c.get("before", ""), c.get("after", "")] for c in self.changes]
        return _table(["", "netns", "object", "detail", "before", "after"], rows, f"plan of {self.topology}: {len(self)} changes")


class ApplyResult(_Result):
    """What ``apply`` did."""

    @property
    def changed(self) -> bool:
        """Whether anything changed."""
        return bool(self._data.get("changed"))

    @property
    def changes(self) -> List[Dict[str, Any]]:
        """The changes made, in order."""
        return list(self._data.get("changes", []))

    @property
    def writes(self) -> int:
        """Netlink write requests sent (0 for a no-op apply)."""
        return int(self._data.get("writes", 0))

    @property
    def addresses(self) -> List[Dict[str, Any]]:
        """Each endpoint interface's address after the apply, IPAM's choices included (Docker
        attachments too): dicts with ``endpoint``, ``interface``, ``address`` and ``prefix_len``."""
        return list(self._data.get("addresses", []))

    @property
    def leases(self) -> List[Dict[str, Any]]:
        """The DHCP leases the endpoints hold after the apply (their addresses are in
        :attr:`addresses` too): dicts with ``netns``, ``endpoint``, ``interface``,
        ``address`` and ``seconds_left``. Without ``vlanmac agent`` to renew
        them they lapse at their end, and the kernel drops the addresses."""
        return list(self._data.get("leases", []))

    def __repr__(self) -> str:
        return f"ApplyResult(topology={self.topology!r}, changed={self.changed}, changes={len(self.changes)}, writes={self.writes})"

    def _repr_html_(self) -> str:
        rows = [[c["sign"], c["netns"], c["object"], c.get("detail", "")] for c in self.changes]
        return _table(["", "netns", "object", "detail"], rows, f"applied {self.topology}: {len(rows)} changes, {self.writes} netlink writes")


class VerifyReport(_Result):
    """Every check ``verify`` made: read-back, pings, hop counts, neighbours."""

    @property
    def plan(self) -> str:
        """Which probes were sent: ``"linear"`` or ``"mesh"``."""
        return str(self._data.get("plan", ""))

    @property
    def checks(self) -> List[Dict[str, Any]]:
        """The checks: kind, from, to, expected, observed, ok, and for a
        failed one its stage (``missing``, ``mismatch``,
        ``no_neighbour_entry``, ``no_echo_reply``, ``wrong_hop_count``)."""
        return list(self._data.get("checks", []))

    @property
    def passed(self) -> bool:
        """Whether every check passed (and there was at least one)."""
        return bool(self.checks) and all(c["ok"] for c in self.checks)

    def failures(self) -> List[Dict[str, Any]]:
        """The checks that failed."""
        return [c for c in self.checks if not c["ok"]]

    def __bool__(self) -> bool:
        return self.passed

    def lines(self) -> List[str]:
        """The text without its first line, column header and summary: one
        line per check."""
        return self._text.splitlines()[2:-1]

    def __repr__(self) -> str:
        return (
            f"VerifyReport(topology={self.topology!r}, plan={self.plan!r}, "
            f"checks={len(self.checks)}, failed={len(self.failures())})"
        )

    def _repr_html_(self) -> str:
        rows = [[c["kind"], c["from"], c["to"], c["expected"], "ok" if c["ok"] else "FAIL", c["observed"]] for c in self.checks]
        return _table(["check", "from", "to", "expected", "ok", "observed"], rows, f"verify {self.topology} ({self.plan} check plan): {len(self.failures())} failed of {len(rows)}")


class DownResult(_Result):
    """What ``down`` removed."""

    @property
    def removed(self) -> List[str]:
        """What was removed, in order (after ``down(check=True)``: what would be)."""
        return list(self._data.get("removed", []))

    @property
    def dry_run(self) -> bool:
        """Whether this came from ``down(check=True)``: nothing was changed."""
        return bool(self._data.get("dry_run", False))

    @property
    def changed(self) -> bool:
        """Whether anything was removed (or would be, after a dry run)."""
        return bool(self.removed)

    def __repr__(self) -> str:
        check = ", dry_run=True" if self.dry_run else ""
        return f"DownResult(topology={self.topology!r}, removed={len(self.removed)}{check})"


class Pending:
    """A change made by :meth:`Topology.apply_confirmed`, kept only if confirmed by
    :attr:`deadline` (seconds since the epoch)."""

    def __init__(self, topology: str, deadline: int, result: "ApplyResult") -> None:
        self.topology = topology
        self.deadline = deadline
        self.result = result

    def confirm(self) -> Dict[str, Any]:
        """``vlanmac confirm NAME``: ``{"outcome": "confirmed"}``; after the deadline
        the change is rolled back instead (``"rolled_back"``), and once settled
        ``"already_settled"`` with the ``state``."""
        return confirm(self.topology)

    def rollback(self) -> Dict[str, Any]:
        """``vlanmac rollback NAME``: ``{"outcome": "rolled_back", "failed": [...]}``."""
        return rollback(self.topology)

    def __repr__(self) -> str:
        return f"Pending(topology={self.topology!r}, deadline={self.deadline})"


def confirm(name: str) -> Dict[str, Any]:
    """``vlanmac confirm NAME``: keeps topology NAME's pending change (see :class:`Pending`)."""
    out: Dict[str, Any] = json.loads(_vlanmac.confirm_change(name))
    return out


def rollback(name: str) -> Dict[str, Any]:
    """``vlanmac rollback NAME``: undoes topology NAME's pending change now."""
    out: Dict[str, Any] = json.loads(_vlanmac.rollback_change(name))
    return out


def check_probe(spec: str, timeout: float = 2.0) -> Optional[str]:
    """Tries a probe once (``ping ADDR [from NS]``, ``tcp HOST:PORT``, ``gateway``):
    ``None`` when it passes, else why not. Raises :class:`vlanmac.InvalidSpecError`
    (field ``probe``) for a malformed spec."""
    return _vlanmac.check_probe(spec, timeout)


class Topology:
    """A declarative topology, validated when built.

    >>> topo = Topology.from_dict({"networks": {"lan": {"parent": "eth0", "subnets": [{"subnet": "10.9.0.0/24"}]}}})
    >>> topo.name
    'topology'
    >>> Topology.from_dict({"networks": {"lan": {"parent": "eth0", "vlan": 4095}}})
    Traceback (most recent call last):
    ...
    vlanmac._errors.InvalidSpecError: invalid input: networks.lan.vlan: 4095 is outside 1-4094
    """

    def __init__(self, native: "_vlanmac._Topology") -> None:
        self._native = native

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "Topology":
        """Reads a ``.yaml``, ``.yml`` or ``.json`` file (its stem names it)."""
        return cls(_vlanmac._Topology.from_file(os.fspath(path)))

    @classmethod
    def from_yaml(cls, text: str, name: str = "topology") -> "Topology":
        """Parses YAML text."""
        return cls(_vlanmac._Topology.from_yaml(text, name))

    @classmethod
    def from_dict(cls, spec: Dict[str, Any], name: str = "topology") -> "Topology":
        """Validates a dict with the file's schema (the Ansible ``spec``)."""
        from ._errors import InvalidSpecError

        if not isinstance(spec, dict):
            raise InvalidSpecError(f"invalid input: topology: expected a dict, got {type(spec).__name__}", field="topology")
        try:
            text = json.dumps(spec)
        except (TypeError, ValueError) as e:
            raise InvalidSpecError(f"invalid input: topology: {e}", field="topology") from None
        return cls(_vlanmac._Topology.from_json(text, name))

    @property
    def name(self) -> str:
        """The topology's name (it marks what the topology creates)."""
        return self._native.name

    @property
    def needs_docker(self) -> bool:
        """Whether the topology has Docker networks or container endpoints
        (then its verbs talk to a Docker daemon)."""
        return self._native.needs_docker

    def render(self, format: "_RenderFormat") -> str:
        """``vlanmac render FILE --format FORMAT``: the diagram (``"dot"``,
        ``"svg"``), the host side for a network manager
        (``"systemd-networkd"``, ``"netplan"``, ``"networkmanager"``), the
        resolved topology (``"json"``), CNI configurations (``"cni"``,
        ``"multus"``), podman networks (``"podman"``) or the upstream router's and switch's configuration
        (``"cisco-router"``, ``"cisco-switch"``). A format it does not know
        raises ``InvalidSpecError`` (field ``format``)."""
        return self._native.render(format)

    def _repr_svg_(self) -> str:
        """Jupyter shows a topology as its diagram (laid out in Rust; no
        Graphviz needed)."""
        return self._native.render("svg")

    def to_dict(self) -> Dict[str, Any]:
        """The validated topology as plain data."""
        return json.loads(self._native.to_json())

    def plan(self, docker: Optional[Any] = None) -> Plan:
        """The changes ``apply`` would make; changes nothing. ``docker``: a
        :class:`vlanmac.DockerAdapter` for the topology's Docker side
        (default: ``$DOCKER_HOST``), as for every verb."""
        data, text = self._native.plan(_native_docker(docker))
        _log(logging.DEBUG, "plan", self.name, text)
        return Plan(json.loads(data), text)

    def apply(self, docker: Optional[Any] = None, dhcp_timeout: Optional[float] = None) -> ApplyResult:
        """Makes the kernel (and Docker) match; rolled back if a step fails.
        ``dhcp_timeout``: seconds to wait for the DHCP leases of ``ipv4: dhcp``
        interfaces, all asked for at once (default 10; ``vlanmac apply
        --dhcp-timeout``); an interface without a lease by then fails the
        apply, rolled back, with a :class:`vlanmac.DhcpError` naming it."""
        data, text = self._native.apply(_native_docker(docker), dhcp_timeout)
        _log(logging.INFO, "apply", self.name, text)
        return ApplyResult(json.loads(data), text)

    def apply_confirmed(self, timeout: float, docker: Optional[Any] = None, dhcp_timeout: Optional[float] = None) -> "Pending":
        """``vlanmac apply FILE --confirm TIMEOUT``: writes the checkpoint
        (``/run/vlanmac/NAME/checkpoint``), applies, and returns a
        :class:`Pending` to :meth:`Pending.confirm` or :meth:`Pending.rollback`.
        Nothing in this process rolls back at the deadline: the next
        ``vlanmac`` command does, or :meth:`Pending.rollback` (docs/CONFIRM.md)."""
        data, text, deadline = self._native.apply_confirmed(timeout, _native_docker(docker), dhcp_timeout)
        _log(logging.INFO, "apply --confirm", self.name, text)
        return Pending(self.name, deadline, ApplyResult(json.loads(data), text))

    def verify(self, mesh: bool = False, docker: Optional[Any] = None) -> VerifyReport:
        """Read-back, pings, hop counts and the router's neighbour table
        (``vlanmac verify``). The linear check plan by default: each endpoint
        pings its gateways and the next endpoint of each of its networks,
        one hop probe per pair of networks. ``mesh=True`` pings every
        endpoint from every other (``vlanmac verify --mesh``). A missing
        namespace, link or container is a failed check, not an exception."""
        data, text = self._native.verify(mesh, _native_docker(docker))
        report = VerifyReport(json.loads(data), text)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s", text.splitlines()[0] if text else "verify %s" % self.name)
            for c in report.failures():
                log.debug("verify %s: failed %s %s -> %s: %s", self.name, c.get("kind"), c.get("from"), c.get("to"), c.get("observed"))
        return report

    def down(self, check: bool = False, docker: Optional[Any] = None) -> DownResult:
        """Removes what this topology created, nothing else. With
        ``check=True`` only lists what it would remove and changes nothing
        (``vlanmac down --check``): ``DownResult.removed`` holds the same
        lines a real ``down`` would, ``DownResult.dry_run`` is true."""
        data, text = self._native.down(check, _native_docker(docker))
        _log(logging.DEBUG if check else logging.INFO, "down --check" if check else "down", self.name, text)
        return DownResult(json.loads(data), text)

    def __repr__(self) -> str:
        return f"Topology({self.name!r})"


__all__ = ["Topology", "Plan", "ApplyResult", "VerifyReport", "DownResult", "Pending", "confirm", "rollback", "check_probe"]
