"""asyncio twins of every vlanmac call.

Each runs the sync call in a worker thread; the GIL is released while it
waits on the kernel or Docker, so the event loop keeps running. Each twin
is one line naming the sync method it stands for (``add_vlan =
_Twin(_vlanmac.Netlink.add_vlan)``) and takes that method's arguments,
types (through ``ParamSpec``) and docstring, so the two cannot drift.

Cancelling a twin (``task.cancel()``, a timeout from ``asyncio.wait_for``)
cancels the *await*, not the work: the call keeps running to completion in
its worker thread, and its result or exception is dropped. A cancelled
``Topology.apply()`` still finishes (or rolls back on its own failure), so
the topology is applied afterwards; take it down with ``down()``. To stop
an apply half-way and roll it back, interrupt the sync call (Ctrl-C,
``KeyboardInterrupt``) instead.

>>> nl = await vlanmac.aio.Netlink.open(netns="container0")   # doctest: +SKIP
>>> await nl.add_vlan("eth0", 10)                              # doctest: +SKIP
'eth0.10'
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import sys
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Generic, Optional, Type, TypeVar, Union

from . import _vlanmac
from ._topology import Topology as _SyncTopology

T = TypeVar("T")
W = TypeVar("W")
if sys.version_info >= (3, 10):
    from typing import ParamSpec

    P = ParamSpec("P")
else:  # Python 3.9: the same at runtime, without ParamSpec's precision
    P = TypeVar("P")
if TYPE_CHECKING:
    from typing import Concatenate


async def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


def _bound_signature(sync: Callable[..., Any]) -> Optional[inspect.Signature]:
    try:
        sig = inspect.signature(sync)
    except (TypeError, ValueError):  # a native method without a text signature
        return None
    return sig.replace(parameters=list(sig.parameters.values())[1:])


class _Twin(Generic[P, T]):
    """The ``async`` twin of a method of the sync class: awaits that method
    of ``self._sync`` in a worker thread. Its arguments, types and docstring
    are the sync method's."""

    def __init__(self, sync: Callable[Concatenate[Any, P], T]) -> None:
        self._name = getattr(sync, "__name__", "")
        self._signature = _bound_signature(sync)
        self.__doc__ = sync.__doc__

    def __get__(self, obj: Any, objtype: Any = None) -> Callable[P, Awaitable[T]]:
        if obj is None:
            return self  # type: ignore[return-value]
        name = self._name

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await _run(getattr(obj._sync, name), *args, **kwargs)

        call.__name__ = name
        call.__doc__ = self.__doc__
        if self._signature is not None:
            call.__signature__ = self._signature  # type: ignore[attr-defined]
        return call


class _Open(Generic[P]):
    """``await Class.open(...)``: constructs the sync object (which connects)
    in a worker thread and wraps it in the asyncio class. Its arguments,
    types and docstring are the sync constructor's."""

    def __init__(self, sync: Callable[P, Any], owner: Any = None) -> None:
        self._sync = sync
        self._owner = owner
        self.__doc__ = sync.__doc__
        try:
            self.__signature__ = inspect.signature(sync)
        except (TypeError, ValueError):  # a native constructor without a text signature
            pass

    def __get__(self, obj: Any, objtype: Type[W]) -> Callable[P, Awaitable[W]]:
        return _Open(self._sync, objtype)  # type: ignore[return-value]

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._owner(await _run(self._sync, *args, **kwargs))


class _Same(Generic[P, T]):
    """A method of the sync object, as it is (recording a batch change does no I/O)."""

    def __init__(self, sync: Callable[Concatenate[Any, P], T]) -> None:
        self._name = getattr(sync, "__name__", "")
        self.__doc__ = sync.__doc__

    def __get__(self, obj: Any, objtype: Any = None) -> Callable[P, T]:
        if obj is None:
            return self  # type: ignore[return-value]
        return getattr(obj._sync, self._name)  # type: ignore[no-any-return]


def _function_twin(sync: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """The ``async`` twin of a module-level function."""

    async def twin(*args: Any, **kwargs: Any) -> Any:
        return await _run(sync, *args, **kwargs)

    twin.__name__ = twin.__qualname__ = sync.__name__
    twin.__doc__ = sync.__doc__
    return twin


class Batch:
    """The asyncio twin of :class:`vlanmac.Batch`: recording a change does no
    I/O (so those methods are the sync ones), ``run`` is awaited.

    >>> async with (await Netlink.open(netns="lab")).batch() as b:   # doctest: +SKIP
    ...     b.add_macvlan("eth0", "mv0", ipv6_addrgen=False)
    """

    def __init__(self, sync: _vlanmac.Batch) -> None:
        self._sync = sync

    add_vlan = _Same(_vlanmac.Batch.add_vlan)
    add_macvlan = _Same(_vlanmac.Batch.add_macvlan)
    add_ipvlan = _Same(_vlanmac.Batch.add_ipvlan)
    add_veth = _Same(_vlanmac.Batch.add_veth)
    set_link = _Same(_vlanmac.Batch.set_link)
    delete_link = _Same(_vlanmac.Batch.delete_link)
    add_address = _Same(_vlanmac.Batch.add_address)
    replace_address = _Same(_vlanmac.Batch.replace_address)
    delete_address = _Same(_vlanmac.Batch.delete_address)
    add_route = _Same(_vlanmac.Batch.add_route)
    replace_route = _Same(_vlanmac.Batch.replace_route)
    delete_route = _Same(_vlanmac.Batch.delete_route)

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

    add_vlan = _Twin(_vlanmac.Netlink.add_vlan)
    add_macvlan = _Twin(_vlanmac.Netlink.add_macvlan)
    add_ipvlan = _Twin(_vlanmac.Netlink.add_ipvlan)
    add_veth = _Twin(_vlanmac.Netlink.add_veth)
    set_link = _Twin(_vlanmac.Netlink.set_link)
    delete_link = _Twin(_vlanmac.Netlink.delete_link)
    link = _Twin(_vlanmac.Netlink.link)
    links = _Twin(_vlanmac.Netlink.links)
    add_address = _Twin(_vlanmac.Netlink.add_address)
    replace_address = _Twin(_vlanmac.Netlink.replace_address)
    delete_address = _Twin(_vlanmac.Netlink.delete_address)
    addresses = _Twin(_vlanmac.Netlink.addresses)
    add_route = _Twin(_vlanmac.Netlink.add_route)
    replace_route = _Twin(_vlanmac.Netlink.replace_route)
    delete_route = _Twin(_vlanmac.Netlink.delete_route)
    routes = _Twin(_vlanmac.Netlink.routes)
    neighbours = _Twin(_vlanmac.Netlink.neighbours)

    open = _Open(_vlanmac.Netlink)

    async def __aenter__(self) -> "Netlink":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection."""
        self._sync.close()

    def batch(self) -> Batch:
        """A :class:`Batch` of changes, recorded now and sent by ``await batch.run()``."""
        return Batch(self._sync.batch())


class Topology:
    """The asyncio twin of :class:`vlanmac.Topology`."""

    def __init__(self, sync: _SyncTopology) -> None:
        self._sync = sync

    plan = _Twin(_SyncTopology.plan)
    apply = _Twin(_SyncTopology.apply)
    apply_confirmed = _Twin(_SyncTopology.apply_confirmed)
    verify = _Twin(_SyncTopology.verify)
    down = _Twin(_SyncTopology.down)

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


class DockerAdapter:
    """The asyncio twin of :class:`vlanmac.DockerAdapter`; open with ``await DockerAdapter.open(...)``."""

    def __init__(self, sync: _vlanmac.DockerAdapter) -> None:
        self._sync = sync

    connect = _Twin(_vlanmac.DockerAdapter.connect)
    disconnect = _Twin(_vlanmac.DockerAdapter.disconnect)
    attach = _Twin(_vlanmac.DockerAdapter.attach)
    detach = _Twin(_vlanmac.DockerAdapter.detach)
    inspect = _Twin(_vlanmac.DockerAdapter.inspect)

    open = _Open(_vlanmac.DockerAdapter)

    async def ensure_network(self, topology: Any, network: str) -> str:
        """``docker network create`` unless it exists with this configuration."""
        native = getattr(topology, "_native", getattr(getattr(topology, "_sync", None), "_native", topology))
        return await _run(self._sync.ensure_network, native, network)


netns_exists = _function_twin(_vlanmac.netns_exists)
create_netns = _function_twin(_vlanmac.create_netns)
delete_netns = _function_twin(_vlanmac.delete_netns)
list_netns = _function_twin(_vlanmac.list_netns)

__all__ = ["Batch", "DockerAdapter", "Netlink", "Topology", "create_netns", "delete_netns", "list_netns", "netns_exists"]
