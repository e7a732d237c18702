"""What changed: normalising objects, and comparing a live object with the desired one.

Flux's drift test (``ssa.hasDrifted``): an object has drifted when its labels or
annotations differ from the server-side dry-run result, or anything else does once
``metadata`` and ``status`` are set aside. ``covers`` is the cheap test that lets an
unchanged object skip the dry-run: the desired object is exactly what the last
release applied and every value in it is still the live value. Secret values are
masked before anything is shown (``masked``). Pure.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

CREATED = "created"
CONFIGURED = "configured"
UNCHANGED = "unchanged"
PRUNED = "pruned"
SKIPPED = "skipped"
DELETED = "deleted"
RECREATED = "recreated"
ORPHANED = "orphaned"
FAILED = "failed"

MASK = "*** (masked)"


@dataclasses.dataclass(frozen=True)
class Change:
    """What happened to one object: ``Kind/namespace/name``, the action, and why."""

    subject: str
    action: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.subject} {self.action}" + (f" ({self.message})" if self.message else "")


def normalized(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The desired object as the server will store it, to avoid false drift (Flux's list).

    Secret ``stringData`` is folded into ``data``; container and Service ports get
    their default protocol ``TCP``; a null ``creationTimestamp`` and ``status`` go.
    """
    out = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("creationTimestamp", None)
    if out.get("kind") != "CustomResourceDefinition":
        out.pop("status", None)
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1" and out.get("stringData"):
        data = dict(out.get("data") or {})
        for key, value in (out.pop("stringData") or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        out["data"] = data
    if out.get("kind") == "Service" and out.get("apiVersion") == "v1":
        _default_protocols((out.get("spec") or {}).get("ports"))
    for pod in _pod_specs(out):
        for group in ("containers", "initContainers"):
            for container in pod.get(group) or ():
                if isinstance(container, dict):
                    _default_protocols(container.get("ports"))
    return out


def _default_protocols(ports: Any) -> None:
    for port in ports or ():
        if isinstance(port, dict) and "protocol" not in port:
            port["protocol"] = "TCP"


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    if obj.get("kind") == "Pod":
        return [spec]
    template = spec.get("template")
    if obj.get("kind") == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return [template["spec"]]
    return []


def _meta_part(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    return dict((obj.get("metadata") or {}).get(key) or {})


def drifted(live: Mapping[str, Any], merged: Mapping[str, Any]) -> bool:
    """Flux's drift test between the live object and the dry-run result."""
    for key in ("labels", "annotations"):
        if _meta_part(live, key) != _meta_part(merged, key):
            return True
    return _body(live) != _body(merged)


def _body(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def covers(live: Any, desired: Any) -> bool:
    """Whether every value in ``desired`` is the same in ``live`` (empty values: absent)."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return _empty(desired) and live is None
        return all(covers(live.get(k), v) if k in live else _empty(v) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list):
            return not desired and live is None
        return len(live) == len(desired) and all(
            covers(a, b) for a, b in zip(live, desired, strict=True)
        )
    if desired is None:
        return True
    return bool(live == desired and type(live) is type(desired))


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without what the server keeps for itself: for showing a diff."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in (
            "managedFields",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "uid",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            meta.pop(key, None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop("deployment.kubernetes.io/revision", None)
            if not annotations:
                meta.pop("annotations")
    return out


def masked(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` with every Secret value replaced by a mask (other kinds unchanged)."""
    if obj.get("kind") != "Secret":
        return dict(obj)
    out = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), Mapping):
            out[key] = dict.fromkeys(out[key], MASK)
    meta = out.get("metadata")
    if isinstance(meta, Mapping) and "kubectl.kubernetes.io/last-applied-configuration" in (
        meta.get("annotations") or {}
    ):
        annotations = dict(meta["annotations"])
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = MASK
        out["metadata"] = {**meta, "annotations": annotations}
    return out
