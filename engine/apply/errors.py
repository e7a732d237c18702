"""Errors of the cluster edge: every message starts with ``Kind/namespace/name``.

They join the ``SailplanError`` tree so the CLI prints one line and exits 1. Each keeps
the server's reason, the cause (``__cause__``) and, when known, the ``file:line`` of the
component that produced the object::

    ClusterError              the server refused or failed a request about an object
    ├── ConflictError         409: a field another field manager owns (names it)
    ├── InvalidError          422: the server's reason, the component's file:line
    ├── ImmutableError        a field that cannot change (names it); --force recreates
    ├── ForbiddenError        403: the verb and the object
    ├── NotFoundError         404, or an apiVersion/kind the server does not serve
    ├── UnreachableError      no server, a bad kubeconfig or context, a timeout
    ├── OwnershipError        an object another application (or none) owns
    └── WaitError             objects not healthy in time, with each one's reason
"""

from __future__ import annotations

from engine.errors import SailplanError, SourceLocation


class ClusterError(SailplanError):
    """A request about ``subject`` (``Kind/namespace/name``) that the cluster refused."""

    def __init__(
        self,
        message: str,
        *,
        subject: str = "",
        location: SourceLocation | None = None,
        status: int = 0,
    ) -> None:
        super().__init__(message, location=location)
        self.subject = subject
        self.status = status

    def __str__(self) -> str:
        head = f"{self.subject}: " if self.subject else ""
        where = f" ({self.location})" if self.location else ""
        return f"{head}{self.message}{where}"


class ConflictError(ClusterError):
    """A field owned by another field manager (HTTP 409)."""


class InvalidError(ClusterError):
    """An object the server rejects (HTTP 422)."""


class ImmutableError(ClusterError):
    """A change to a field that cannot change after creation."""


class ForbiddenError(ClusterError):
    """The user may not do this (HTTP 403)."""


class NotFoundError(ClusterError):
    """No such object, or the server serves no such apiVersion/kind."""


class UnreachableError(ClusterError):
    """No usable cluster: bad kubeconfig or context, no answer, a request timing out."""


class OwnershipError(ClusterError):
    """An existing object that this application does not own."""


class WaitError(ClusterError):
    """Objects that did not become healthy (or go away) in time."""
