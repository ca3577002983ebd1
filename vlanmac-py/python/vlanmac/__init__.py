"""vlanmac: put network namespaces and containers on 802.1Q VLANs through
macvlan — typed, validated before the kernel sees anything, and never
shelling out to ``ip``.

Sync by default (the GIL is released while waiting on the kernel or
Docker); :mod:`vlanmac.aio` has an asyncio twin of every call.

>>> import vlanmac
>>> with vlanmac.Netlink(netns="container0") as nl:      # doctest: +SKIP
...     nl.add_vlan("eth0", 10)
...     nl.add_macvlan("eth0.10", "mv10", mode="bridge")
...     nl.add_address("mv10", "10.0.10.2/24")
...     nl.set_link("mv10", up=True)
'eth0.10'
"""

from ._errors import (
    AlreadyExistsError,
    ConflictError,
    DhcpError,
    DockerError,
    Error,
    InvalidSpecError,
    KernelUnsupportedError,
    NotFoundError,
    PermissionDeniedError,
)
from ._topology import ApplyResult, DownResult, Pending, Plan, Topology, VerifyReport, check_probe, confirm, rollback
from ._vlanmac import (
    Batch,
    DockerAdapter,
    Link,
    Neighbour,
    Netlink,
    Route,
    create_netns,
    delete_netns,
    list_netns,
    netns_exists,
)
from ._vlanmac import __version__
from . import aio

__all__ = [
    "__version__",
    "aio",
    "AlreadyExistsError",
    "ApplyResult",
    "Batch",
    "check_probe",
    "confirm",
    "ConflictError",
    "create_netns",
    "delete_netns",
    "DhcpError",
    "DockerAdapter",
    "DockerError",
    "DownResult",
    "Error",
    "InvalidSpecError",
    "KernelUnsupportedError",
    "Link",
    "list_netns",
    "Neighbour",
    "Netlink",
    "netns_exists",
    "NotFoundError",
    "Pending",
    "PermissionDeniedError",
    "Plan",
    "rollback",
    "Route",
    "Topology",
    "VerifyReport",
]
