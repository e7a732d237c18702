"""KubeVela's label, annotation, name and namespace contract on rendered objects.

This reproduces what the KubeVela controller does after rendering a component
(``pkg/appfile`` SetOAMContract and ``pkg/cue/definition``): the workload gets
``app.oam.dev/{name,component,appRevision,namespace}``, ``workload.oam.dev/type`` and
``app.oam.dev/resourceType: WORKLOAD``; every auxiliary object gets
``trait.oam.dev/type``, ``trait.oam.dev/resource`` and ``resourceType: TRAIT``; the
Application's own labels and annotations are propagated minus the filtered keys;
unnamed objects are named after the component; the namespace is filled in.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from engine.patch._ids import is_cluster_scoped

AUXILIARY = "AuxiliaryWorkload"
FILTER_LABEL_KEYS = "filter.oam.dev/label-keys"
FILTER_ANNOTATION_KEYS = "filter.oam.dev/annotation-keys"
DEFAULT_FILTERED_ANNOTATIONS = (
    "app.oam.dev/inplace-upgrade",
    FILTER_LABEL_KEYS,
    FILTER_ANNOTATION_KEYS,
    "kubectl.kubernetes.io/last-applied-configuration",
)
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_METADATA_ORDER = ("name", "generateName", "namespace", "labels", "annotations")


@dataclasses.dataclass(frozen=True)
class AppContext:
    """What the contract needs to know about the Application."""

    name: str
    namespace: str
    revision: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


def workload(obj: Mapping[str, Any], app: AppContext, component: str, type_: str) -> dict[str, Any]:
    """The component's workload with the contract applied."""
    labels = {**_context_labels(app, component), "workload.oam.dev/type": type_}
    out = _with_labels(obj, labels)
    out = _named(out, component)
    out = _with_labels(out, {"app.oam.dev/resourceType": "WORKLOAD"})
    return _finish(out, app, component)


def auxiliary(
    obj: Mapping[str, Any],
    app: AppContext,
    component: str,
    trait_type: str,
    resource: str,
) -> dict[str, Any]:
    """A component or trait output with the contract applied."""
    labels = {**_context_labels(app, component), "trait.oam.dev/type": trait_type}
    if resource:
        labels["trait.oam.dev/resource"] = resource
    out = _with_labels(obj, labels)
    if not _meta(out).get("name"):
        out = _named(out, generated_name(component, trait_type, out))
    out = _with_labels(out, {"app.oam.dev/resourceType": "TRAIT"})
    return _finish(out, app, component)


def generated_name(component: str, trait_type: str, obj: Mapping[str, Any]) -> str:
    """``<component>-<trait type>-<hash>`` for an unnamed trait output, as KubeVela names it.

    KubeVela hashes a Go dump of the object; we hash its canonical JSON, so the
    suffix differs from KubeVela's but is just as stable.
    """
    labels = dict(_meta(obj).get("labels") or {})
    labels.pop("app.oam.dev/appRevision", None)
    hashed = {**obj, "metadata": {**_meta(obj), "labels": labels}}
    digest = _fnv32a(json.dumps(hashed, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    suffix = "".join(_SAFE_ALPHABET[int(ch) % len(_SAFE_ALPHABET)] for ch in str(digest))
    return f"{component}-{trait_type.lower()}-{suffix}"


def _fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _context_labels(app: AppContext, component: str) -> dict[str, str]:
    return {
        "app.oam.dev/name": app.name,
        "app.oam.dev/component": component,
        "app.oam.dev/appRevision": app.revision,
    }


def _common_labels(app: AppContext, component: str) -> dict[str, str]:
    labels = {
        **app.labels,
        **_context_labels(app, component),
        "app.oam.dev/namespace": app.namespace,
    }
    for key in _split(app.annotations.get(FILTER_LABEL_KEYS)):
        labels.pop(key, None)
    return labels


def _finish(obj: dict[str, Any], app: AppContext, component: str) -> dict[str, Any]:
    out = _with_labels(obj, _common_labels(app, component))
    out = _with_annotations(out, app.annotations)
    if cluster_scoped(out):
        out = _with_meta(out, {k: v for k, v in _meta(out).items() if k != "namespace"})
    elif not _meta(out).get("namespace"):
        out = _with_meta(out, {**_meta(out), "namespace": app.namespace})
    return _ordered(out)


def step_object(obj: Mapping[str, Any], app: AppContext) -> dict[str, Any]:
    """An object a workflow step applies (``apply-object``), as KubeVela dispatches it.

    The workflow's kube provider puts a namespaced object without a namespace in
    ``default`` (not the Application's namespace); the dispatcher adds the two
    ownership labels. Nothing else of the component contract applies.
    """
    out = _with_labels(obj, {"app.oam.dev/name": app.name, "app.oam.dev/namespace": app.namespace})
    if cluster_scoped(out):
        out = _with_meta(out, {k: v for k, v in _meta(out).items() if k != "namespace"})
    elif not _meta(out).get("namespace"):
        out = _with_meta(out, {**_meta(out), "namespace": "default"})
    return _ordered(out)


def cluster_scoped(obj: Mapping[str, Any]) -> bool:
    """Whether the object is of a built-in cluster-scoped kind (these get no namespace).

    KubeVela sets the namespace on every rendered object and clears it again for
    cluster-scoped ones before applying them; the result is what is shown here.
    """
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return is_cluster_scoped(group, str(obj.get("kind", "")))


def _with_annotations(obj: dict[str, Any], app_annotations: Mapping[str, str]) -> dict[str, Any]:
    dropped = set(DEFAULT_FILTERED_ANNOTATIONS) | set(
        _split(app_annotations.get(FILTER_ANNOTATION_KEYS))
    )
    merged = {**(_meta(obj).get("annotations") or {}), **app_annotations}
    kept = {k: v for k, v in merged.items() if k not in dropped}
    return _with_meta(obj, {**_meta(obj), "annotations": kept})


def _with_labels(obj: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    meta = _meta(obj)
    return _with_meta(obj, {**meta, "labels": {**(meta.get("labels") or {}), **labels}})


def _named(obj: dict[str, Any], name: str) -> dict[str, Any]:
    if _meta(obj).get("name"):
        return obj
    return _with_meta(obj, {**_meta(obj), "name": name})


def _ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """Metadata with name/namespace/labels/annotations first, label maps sorted."""
    meta = _meta(obj)
    ordered = {k: meta[k] for k in _METADATA_ORDER if k in meta}
    for key in ("labels", "annotations"):
        if isinstance(ordered.get(key), dict):
            ordered[key] = dict(sorted(ordered[key].items()))
    ordered.update((k, v) for k, v in meta.items() if k not in ordered)
    return _with_meta(obj, ordered)


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _with_meta(obj: Mapping[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` with new metadata placed right after apiVersion and kind."""
    head = {k: obj[k] for k in ("apiVersion", "kind") if k in obj}
    rest = {k: v for k, v in obj.items() if k not in head and k != "metadata"}
    return {**head, "metadata": meta, **rest}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]
