"""The order objects go out in: stages, then components by ``dependsOn``, then kinds.

Flux's staging (``ssa.ApplyAllStaged``): cluster definitions first (CRDs, Namespaces,
ClusterRoles and their bindings), waited for, then ``*Class`` kinds, then the rest.
The rest goes out component by component in ``dependsOn`` order as KubeVela deploys
them: a component waits until every component it depends on is healthy. Within a
wave, Flux's kind rank (``ssa/sort.go``) then name; deletes use the reverse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import BuildError

#: Flux's ``ReconcileOrder.First``; unknown kinds rank in the middle, webhooks last.
_FIRST = (
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_RANK = {kind: i - len(_FIRST) for i, kind in enumerate(_FIRST)}
_RANK.update({kind: 1 + i for i, kind in enumerate(_LAST)})

COMPONENT_LABEL = "app.oam.dev/component"


def kind_rank(obj: Mapping[str, Any]) -> tuple[int, str, str, str, str]:
    """Sort key: Flux's kind rank, then group, kind, namespace, name."""
    meta = obj.get("metadata") or {}
    kind = str(obj.get("kind", ""))
    return (
        _RANK.get(kind, 0),
        str(obj.get("apiVersion", "")).rpartition("/")[0],
        kind,
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
    )


def is_cluster_definition(obj: Mapping[str, Any]) -> bool:
    """CRDs, Namespaces, ClusterRoles and ClusterRoleBindings: the first stage."""
    api = str(obj.get("apiVersion", ""))
    kind = obj.get("kind")
    if api.startswith("apiextensions.k8s.io/") and kind == "CustomResourceDefinition":
        return True
    if api == "v1" and kind == "Namespace":
        return True
    return api.startswith("rbac.authorization.k8s.io/") and kind in (
        "ClusterRole",
        "ClusterRoleBinding",
    )


def is_class(obj: Mapping[str, Any]) -> bool:
    return str(obj.get("kind", "")).endswith("Class")


@dataclasses.dataclass(frozen=True)
class Wave:
    """Objects that go out together (indices into the list given to ``waves``)."""

    name: str
    items: tuple[int, ...]
    #: Whether the wave must be healthy before the next one starts.
    gate: bool


def component_of(obj: Mapping[str, Any]) -> str:
    return str(((obj.get("metadata") or {}).get("labels") or {}).get(COMPONENT_LABEL) or "")


def waves(
    objects: Sequence[Mapping[str, Any]],
    depends_on: Mapping[str, Sequence[str]] | None = None,
    *,
    components: Sequence[str] | None = None,
) -> list[Wave]:
    """The waves to apply ``objects`` in.

    ``depends_on`` maps a component to the ones it waits for; ``components`` gives the
    component names of each object (default: its ``app.oam.dev/component`` label).
    """
    depends_on = depends_on or {}
    names = list(components) if components is not None else [component_of(o) for o in objects]
    first = [i for i, o in enumerate(objects) if is_cluster_definition(o)]
    classes = [i for i, o in enumerate(objects) if i not in first and is_class(o)]
    rest = [i for i in range(len(objects)) if i not in first and i not in classes]
    out: list[Wave] = []
    if first:
        out.append(Wave("cluster definitions", _sorted(objects, first), True))
    if classes:
        out.append(Wave("classes", _sorted(objects, classes), True))
    levels = _levels(depends_on, {names[i] for i in rest})
    by_level: dict[int, list[int]] = {}
    for i in rest:
        by_level.setdefault(levels.get(names[i], 0), []).append(i)
    last = max(by_level, default=0)
    for level in sorted(by_level):
        comps = sorted({names[i] for i in by_level[level] if names[i]})
        label = ", ".join(comps) if comps else "objects"
        # A wave gates the next only when something after it depends on it.
        out.append(Wave(label, _sorted(objects, by_level[level]), level != last))
    return out


def _sorted(objects: Sequence[Mapping[str, Any]], items: Sequence[int]) -> tuple[int, ...]:
    return tuple(sorted(items, key=lambda i: kind_rank(objects[i])))


def _levels(depends_on: Mapping[str, Sequence[str]], present: set[str]) -> dict[str, int]:
    """Each component's depth in the dependsOn graph (0: depends on nothing present)."""
    levels: dict[str, int] = {}
    visiting: set[str] = set()

    def level(name: str) -> int:
        if name in levels:
            return levels[name]
        if name in visiting:
            raise BuildError(f"dependsOn cycle through component {name!r}")
        visiting.add(name)
        deps = [d for d in depends_on.get(name, ()) if d in present or d in depends_on]
        value = 1 + max((level(d) for d in deps), default=-1)
        visiting.discard(name)
        levels[name] = value
        return value

    for name in sorted(present | set(depends_on)):
        level(name)
    return levels


def delete_order(objects: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices in the order to delete: the reverse of the apply order."""
    return sorted(range(len(objects)), key=lambda i: kind_rank(objects[i]), reverse=True)
