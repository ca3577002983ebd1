"""asyncio twins of every vlanmac call.

Each runs the sync call in a worker thread; the GIL is released while it
waits on the kernel or Docker, so the event loop keeps running.

>>> nl = await vlanmac.aio.Netlink.open(netns="container0")   # doctest: +SKIP
>>> await nl.add_vlan("eth0", 10)                              # doctest: +SKIP
'eth0.10'
"""

import asyncio
import functools
import os
from typing import Any, Callable, List, Optional, TypeVar, Union

from . import _vlanmac
from ._topology import ApplyResult, DownResult, Plan, Topology as _SyncTopology, VerifyReport

T = TypeVar("T")


async def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


class Batch:
    """The asyncio twin of :class:`vlanmac.Batch`: recording a change does no
    I/O (so those methods are plain), ``run`` is awaited.

    >>> async with (await Netlink.open(netns="lab")).batch() as b:   # doctest: +SKIP
    ...     b.add_macvlan("eth0", "mv0", ipv6_addrgen=False)
    """

    def __init__(self, sync: _vlanmac.Batch) -> None:
        self._sync = sync
        self.add_vlan = sync.add_vlan
        self.add_macvlan = sync.add_macvlan
        self.add_ipvlan = sync.add_ipvlan
        self.set_link = sync.set_link
        self.delete_link = sync.delete_link
        self.add_address = sync.add_address
        self.delete_address = sync.delete_address
        self.add_route = sync.add_route
        self.delete_route = sync.delete_route

    def __len__(self) -> int:
        return len(self._sync)

    async def run(self) -> int:
        """Sends every recorded change; returns how many were made."""
        return await _run(self._sync.run)

    async def __aenter__(self) -> "Batch":
        return self

    async def __aexit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            await self.run()


class Netlink:
    """The asyncio twin of :class:`vlanmac.Netlink`; open with ``await Netlink.open(...)``."""

    def __init__(self, sync: _vlanmac.Netlink) -> None:
        self._sync = sync

    @classmethod
    async def open(cls, netns: Optional[str] = None, *, pid: Optional[int] = None, path: Optional[str] = None) -> "Netlink":
        """Opens a connection in a namespace (see :class:`vlanmac.Netlink`)."""
        return cls(await _run(_vlanmac.Netlink, netns, pid=pid, path=path))

    async def __aenter__(self) -> "Netlink":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection."""
        self._sync.close()

    def batch(self) -> "Batch":
        """A :class:`Batch` of changes, recorded now and sent by ``await batch.run()``."""
        return Batch(self._sync.batch())

    async def add_vlan(self, parent: str, vlan_id: int, name: Optional[str] = None, protocol: str = "802.1Q", mtu: Optional[int] = None) -> str:
        """``ip link add link PARENT name NAME type vlan id ID``."""
        return await _run(self._sync.add_vlan, parent, vlan_id, name, protocol, mtu)

    async def add_macvlan(self, parent: str, name: str, mode: str = "bridge", mac: Optional[str] = None, mtu: Optional[int] = None, source_macs: Optional[List[str]] = None) -> None:
        """``ip link add link PARENT name NAME type macvlan mode MODE``."""
        await _run(self._sync.add_macvlan, parent, name, mode, mac, mtu, source_macs)

    async def add_ipvlan(self, parent: str, name: str, mode: str = "l2", flags: str = "bridge") -> None:
        """``ip link add link PARENT name NAME type ipvlan mode MODE FLAGS``."""
        await _run(self._sync.add_ipvlan, parent, name, mode, flags)

    async def add_veth(self, name: str, peer: str, peer_netns: Optional[str] = None) -> None:
        """``ip link add NAME type veth peer name PEER``."""
        await _run(self._sync.add_veth, name, peer, peer_netns)

    async def set_link(self, name: str, **changes: Any) -> None:
        """``ip link set NAME ...`` (keywords: up, mtu, mac, new_name, alias, netns)."""
        await _run(self._sync.set_link, name, **changes)

    async def delete_link(self, name: str) -> None:
        """``ip link del NAME``."""
        await _run(self._sync.delete_link, name)

    async def link(self, name: str) -> _vlanmac.Link:
        """``ip -d link show NAME``."""
        return await _run(self._sync.link, name)

    async def links(self) -> List[_vlanmac.Link]:
        """``ip -d addr show``."""
        return await _run(self._sync.links)

    async def add_address(self, dev: str, address: str, nodad: Optional[bool] = None) -> None:
        """``ip addr add ADDR/PREFIX dev DEV``."""
        await _run(self._sync.add_address, dev, address, nodad)

    async def replace_address(self, dev: str, address: str, nodad: Optional[bool] = None) -> None:
        """``ip addr replace ADDR/PREFIX dev DEV``."""
        await _run(self._sync.replace_address, dev, address, nodad)

    async def delete_address(self, dev: str, address: str) -> None:
        """``ip addr del ADDR/PREFIX dev DEV``."""
        await _run(self._sync.delete_address, dev, address)

    async def addresses(self, dev: Optional[str] = None) -> List[Any]:
        """``ip addr show [dev DEV]``."""
        return await _run(self._sync.addresses, dev)

    async def add_route(self, dst: str = "default", gateway: Optional[str] = None, dev: Optional[str] = None, metric: Optional[int] = None) -> None:
        """``ip route add ...``."""
        await _run(self._sync.add_route, dst, gateway, dev, metric)

    async def replace_route(self, dst: str = "default", gateway: Optional[str] = None, dev: Optional[str] = None, metric: Optional[int] = None) -> None:
        """``ip route replace ...``."""
        await _run(self._sync.replace_route, dst, gateway, dev, metric)

    async def delete_route(self, dst: str = "default", gateway: Optional[str] = None, dev: Optional[str] = None, metric: Optional[int] = None) -> None:
        """``ip route del ...``."""
        await _run(self._sync.delete_route, dst, gateway, dev, metric)

    async def routes(self) -> List[_vlanmac.Route]:
        """``ip route show``."""
        return await _run(self._sync.routes)

    async def neighbours(self, dev: Optional[str] = None) -> List[_vlanmac.Neighbour]:
        """``ip neigh show``."""
        return await _run(self._sync.neighbours, dev)


class Topology:
    """The asyncio twin of :class:`vlanmac.Topology`."""

    def __init__(self, sync: _SyncTopology) -> None:
        self._sync = sync

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "Topology":
        """Reads a topology file (validation only, no I/O wait)."""
        return cls(_SyncTopology.from_file(path))

    @classmethod
    def from_yaml(cls, text: str, name: str = "topology") -> "Topology":
        """Parses YAML text."""
        return cls(_SyncTopology.from_yaml(text, name))

    @classmethod
    def from_dict(cls, spec: Any, name: str = "topology") -> "Topology":
        """Validates a dict."""
        return cls(_SyncTopology.from_dict(spec, name))

    @property
    def name(self) -> str:
        """The topology's name."""
        return self._sync.name

    async def plan(self) -> Plan:
        """See :meth:`vlanmac.Topology.plan`."""
        return await _run(self._sync.plan)

    async def apply(self) -> ApplyResult:
        """See :meth:`vlanmac.Topology.apply`."""
        return await _run(self._sync.apply)

    async def verify(self) -> VerifyReport:
        """See :meth:`vlanmac.Topology.verify`."""
        return await _run(self._sync.verify)

    async def down(self) -> DownResult:
        """See :meth:`vlanmac.Topology.down`."""
        return await _run(self._sync.down)


class DockerAdapter:
    """The asyncio twin of :class:`vlanmac.DockerAdapter`; open with ``await DockerAdapter.open(...)``."""

    def __init__(self, sync: _vlanmac.DockerAdapter) -> None:
        self._sync = sync

    @classmethod
    async def open(cls, host: Optional[str] = None) -> "DockerAdapter":
        """Connects to ``host``, else ``$DOCKER_HOST``, else the local socket."""
        return cls(await _run(_vlanmac.DockerAdapter, host))

    async def ensure_network(self, topology: Any, network: str) -> str:
        """``docker network create`` unless it exists with this configuration."""
        native = getattr(topology, "_native", getattr(getattr(topology, "_sync", None), "_native", topology))
        return await _run(self._sync.ensure_network, native, network)

    async def connect(self, network: str, container: str, ipv4: Optional[str] = None, ipv6: Optional[str] = None, mac: Optional[str] = None) -> bool:
        """``docker network connect [--ip A] [--ip6 B] NETWORK CONTAINER``."""
        return await _run(self._sync.connect, network, container, ipv4, ipv6, mac)

    async def disconnect(self, network: str, container: str) -> bool:
        """``docker network disconnect NETWORK CONTAINER``."""
        return await _run(self._sync.disconnect, network, container)

    async def attach(self, container: str, parent: str, **options: Any) -> str:
        """Pipework-style direct attachment (see :meth:`vlanmac.DockerAdapter.attach`)."""
        return await _run(self._sync.attach, container, parent, **options)

    async def detach(self, container: str, ifname: str) -> None:
        """Removes a directly attached interface."""
        await _run(self._sync.detach, container, ifname)

    async def inspect(self, container: str) -> Any:
        """``docker inspect CONTAINER`` (its networks)."""
        return await _run(self._sync.inspect, container)


async def netns_exists(name: str) -> bool:
    """Whether the named namespace exists."""
    return await _run(_vlanmac.netns_exists, name)


async def create_netns(name: str) -> None:
    """``ip netns add NAME``."""
    await _run(_vlanmac.create_netns, name)


async def delete_netns(name: str) -> None:
    """``ip netns del NAME``."""
    await _run(_vlanmac.delete_netns, name)


async def list_netns() -> List[str]:
    """``ip netns list``."""
    return await _run(_vlanmac.list_netns)


__all__ = ["Batch", "DockerAdapter", "Netlink", "Topology", "create_netns", "delete_netns", "list_netns", "netns_exists"]
