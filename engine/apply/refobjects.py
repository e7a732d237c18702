"""Reading what ``ref-objects`` components name, for ``build(read_objects=...)``.

An entry names a kind by ``resource`` (plural, singular or kind, any case) and ``group``
(the group's preferred version is asked for), or by ``apiVersion`` and ``kind``; then one
object by ``name`` or every object matching ``labelSelector`` in the namespace. What the
server adds (status, uid, resourceVersion, managed fields, ...) is dropped, as KubeVela
does, so the objects can be applied again as the application's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.apply.client import KubeClient, Resource
from engine.apply.errors import ClusterError, NotFoundError
from engine.model import ResourceId
from engine.model.refobjects import ObjectReader, ObjectRef

_SERVER_FIELDS = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def reader(connect: Callable[[], KubeClient]) -> ObjectReader:
    """An ObjectReader that connects on first use (most applies name no ref-objects)."""
    made: list[KubeClient] = []

    def read(ref: ObjectRef) -> list[dict[str, Any]]:
        if not made:
            made.append(connect())
        client = made[0]
        res = _resource(client, ref)
        if ref.name:
            live = client.get(ResourceId(res.api_version, res.kind, ref.namespace, ref.name))
            if live is None:
                raise NotFoundError(
                    f"{res.kind}/{ref.namespace}/{ref.name}: not found "
                    "(named by a ref-objects component)"
                )
            return [clean(live)]
        selector = ",".join(f"{k}={v}" for k, v in sorted(ref.label_selector.items()))
        return [clean(o) for o in client.list(res.api_version, res.kind, ref.namespace, selector)]

    return read


def _resource(client: KubeClient, ref: ObjectRef) -> Resource:
    if ref.api_version and ref.kind:
        return client.resource(ref.api_version, ref.kind)
    api_version = "v1"
    if ref.group:
        status, data = client.request("GET", f"/apis/{ref.group}", about=ref.describe())
        preferred = (data.get("preferredVersion") or {}).get("groupVersion")
        if status != 200 or not preferred:
            raise NotFoundError(f"the server has no API group {ref.group!r} ({ref.describe()})")
        api_version = str(preferred)
    wanted = ref.resource.lower()
    for kind in client._kinds(api_version).values():
        if wanted in (kind.plural, kind.kind.lower(), kind.plural.removesuffix("s")):
            return kind
    raise ClusterError(f"the server has no resource {ref.resource!r} in {api_version}")


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what the server keeps about it."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
    notes = {k: v for k, v in (meta.get("annotations") or {}).items() if k != _LAST_APPLIED}
    if notes:
        meta["annotations"] = notes
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out
