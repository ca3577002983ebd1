"""The exceptions of vlanmac. Each carries the fields of the
Rust error it stands for as attributes (``field``/``value``/``rule`` for
invalid input; ``op``/``errno``/``extack``/``hint`` for kernel errors; the
failed ``step`` of an apply; the daemon's message for Docker errors)."""

from typing import Any, Optional


class Error(Exception):
    """Base of every vlanmac error. Attributes are ``None`` when not known."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields)
        for key, value in fields.items():
            setattr(self, key, value)

    def __getattr__(self, name: str) -> Optional[Any]:
        # Fields another variant has read as None here.
        if name.startswith("__"):
            raise AttributeError(name)
        return None


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


__all__ = [
    "Error",
    "InvalidSpecError",
    "NotFoundError",
    "AlreadyExistsError",
    "ConflictError",
    "PermissionDeniedError",
    "KernelUnsupportedError",
    "DockerError",
]
