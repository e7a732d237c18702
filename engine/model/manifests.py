"""Rendered Kubernetes objects and their identities.

A ``Manifest`` is one object plus where it came from: ``source`` is the
``<app>/<component>[/<trait>]`` label printed above it, ``location`` points at the
Application element that produced it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.errors import SourceLocation


@dataclasses.dataclass(frozen=True)
class ResourceId:
    """The identity of an object within one environment."""

    api_version: str
    kind: str
    namespace: str
    name: str

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"

    def key(self) -> tuple[str, str, str, str]:
        """Identity ignoring the version: the same object under two versions clashes."""
        return (self.group, self.kind, self.namespace, self.name)


@dataclasses.dataclass(frozen=True)
class Manifest:
    """One rendered object, its origin and (for display) its source label."""

    object: dict[str, Any]
    source: str
    location: SourceLocation | None = None
    #: The cluster the object goes to, when an environment places it in several.
    cluster: str = ""

    def key(self) -> tuple[str, str, str, str, str]:
        """What must be unique within one environment: cluster and object identity."""
        return (self.cluster, *self.id.key())

    @property
    def id(self) -> ResourceId:
        meta = self.object.get("metadata") or {}
        return ResourceId(
            str(self.object.get("apiVersion", "")),
            str(self.object.get("kind", "")),
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
        )
