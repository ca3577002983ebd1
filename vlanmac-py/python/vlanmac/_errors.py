"""The exceptions of vlanmac. Each carries the fields of the
Rust error it stands for as attributes (``field``/``value``/``rule`` for
invalid input; ``op``/``errno``/``extack``/``hint`` for kernel errors; the
failed ``step`` of an apply; the daemon's message for Docker errors)."""

from typing import Any, Dict, List, Optional, Type


class Error(Exception):
    """Base of every vlanmac error. Every field below is ``None`` unless the
    error sets it; a name that is not a field raises ``AttributeError``.
    Errors pickle with their fields (for multiprocessing and job runners)."""

    # Invalid input.
    field: Optional[str] = None
    value: Optional[str] = None
    rule: Optional[str] = None
    # Kernel errors.
    op: Optional[str] = None
    errno: Optional[int] = None
    extack: Optional[str] = None
    hint: Optional[str] = None
    # The failed step of an apply (or the one an interrupt stopped before).
    step: Optional[str] = None
    # Changes of a batch that were not attempted.
    count: Optional[int] = None
    # Docker.
    network: Optional[str] = None
    differences: Optional[List[str]] = None
    what: Optional[str] = None
    socket: Optional[str] = None
    status: Optional[int] = None
    daemon_message: Optional[str] = None
    # DHCP.
    interface: Optional[str] = None
    reason: Optional[str] = None

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields: Dict[str, Any] = dict(fields)
        for key, value in fields.items():
            setattr(self, key, value)

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.message, self.fields))


def _rebuild(cls: Type[Error], message: str, fields: Dict[str, Any]) -> Error:
    return cls(message, **fields)


class InvalidSpecError(Error, ValueError):
    """A value broke a rule before anything was sent; ``field`` names it."""


class NotFoundError(Error, LookupError):
    """A link, address, route, namespace, container or network does not exist."""


class AlreadyExistsError(Error):
    """The object exists already (EEXIST)."""


class ConflictError(Error):
    """The kernel or Docker holds something that contradicts the spec."""


class PermissionDeniedError(Error, PermissionError):
    """Root is needed: CAP_NET_ADMIN and CAP_SYS_ADMIN (the message says what was about to happen)."""


class KernelUnsupportedError(Error):
    """The running kernel lacks the feature (e.g. no 802.1Q VLANs)."""


class DockerError(Error):
    """The Docker daemon is unreachable or refused a request."""


class DhcpError(Error):
    """No DHCP lease for an interface (``interface``: which endpoint, interface and
    network; ``reason``: no offer within the timeout, or the server's refusal).
    The apply that asked was rolled back."""


__all__ = [
    "Error",
    "InvalidSpecError",
    "NotFoundError",
    "AlreadyExistsError",
    "ConflictError",
    "PermissionDeniedError",
    "KernelUnsupportedError",
    "DockerError",
    "DhcpError",
]
