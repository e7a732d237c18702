"""The ``replicas`` transform: set the replica count of workloads by name.

Why: an environment scales its workloads (``replicas: [{name: web, count: 5}]``) as
kustomize's ReplicaCountTransformer does: ``spec.replicas`` is set (created if absent) on
objects of kind Deployment, ReplicationController, ReplicaSet or StatefulSet, whatever their
group, whose current *or earlier* name is the entry's name - so ``web`` still finds
``prod-web`` after ``namePrefix``. The overlay decides which objects match (it knows the
earlier names); this module says which kinds take a count and writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from engine.errors import PatchError

__all__ = ["SCALABLE_KINDS", "scalable", "set_replicas"]

SCALABLE_KINDS: Final = frozenset(
    {"Deployment", "ReplicationController", "ReplicaSet", "StatefulSet"}
)


def scalable(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` is of a kind whose replica count the transform sets."""
    return obj.get("kind") in SCALABLE_KINDS


def set_replicas(obj: Mapping[str, Any], count: int) -> dict[str, Any]:
    """``obj`` with ``spec.replicas: count``; ``obj`` does not change."""
    if isinstance(count, bool) or not isinstance(count, int):
        raise PatchError(f"a replica count must be an integer, got {count!r}")
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, Mapping):
        raise PatchError(f"spec: expected a map, got {type(spec).__name__}")
    return {**obj, "spec": {**(spec or {}), "replicas": count}}
