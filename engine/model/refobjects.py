"""What a ``ref-objects`` component reads from the cluster, as values.

KubeVela's ``ref-objects`` component renders nothing itself: at apply time the
controller reads the objects it names and uses them (the first as the workload, the
others as outputs ``objects-<i>``). Each entry of ``objects`` names them either as an
object (``apiVersion``, ``kind``, ``metadata.name``) or by ``resource`` (and ``group``)
with a ``name`` or a ``labelSelector``; the namespace defaults to the application's and
the cluster to the local one. ``build`` takes an ``ObjectReader`` (the applier's) to read
them; without one, ``render`` reports what it would read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

NAME = "ref-objects"


@dataclasses.dataclass(frozen=True)
class ObjectRef:
    """One ``objects`` entry of a ref-objects component."""

    namespace: str
    resource: str = ""
    group: str = ""
    api_version: str = ""
    kind: str = ""
    name: str = ""
    cluster: str = ""
    label_selector: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def describe(self) -> str:
        what = self.kind or self.resource
        if self.group and not self.kind:
            what += f".{self.group}"
        if self.name:
            what += f"/{self.name}"
        elif self.label_selector:
            labels = ",".join(f"{k}={v}" for k, v in sorted(self.label_selector.items()))
            what += f" labelled {labels}"
        else:
            what += " (all)"
        where = f" in namespace {self.namespace}"
        return what + where + (f" of cluster {self.cluster}" if self.cluster else "")


class ObjectReader(Protocol):
    """Reads the live objects a reference names (an empty list when there are none)."""

    def __call__(self, ref: ObjectRef, /) -> list[dict[str, Any]]: ...


def object_refs(parameters: Mapping[str, Any], namespace: str) -> tuple[ObjectRef, ...]:
    """The references of a ref-objects component's (validated) parameters."""
    out: list[ObjectRef] = []
    for raw in parameters.get("objects") or ():
        meta = raw.get("metadata") if isinstance(raw.get("metadata"), Mapping) else {}
        out.append(
            ObjectRef(
                namespace=str(raw.get("namespace") or meta.get("namespace") or namespace),
                resource=str(raw.get("resource", "")),
                group=str(raw.get("group", "")),
                api_version=str(raw.get("apiVersion", "")),
                kind=str(raw.get("kind", "")),
                name=str(raw.get("name") or meta.get("name") or ""),
                cluster=str(raw.get("cluster", "")),
                label_selector=dict(raw.get("labelSelector") or {}),
            )
        )
    return tuple(out)
