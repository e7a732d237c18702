"""The ``namePrefix`` / ``nameSuffix`` transforms.

Why: an environment renames its objects (``prod-web``) exactly as kustomize's
PrefixTransformer and SuffixTransformer do: ``metadata.name`` of every object, except
``CustomResourceDefinition``s (their name is fixed by their group and plural),
``apiregistration.k8s.io`` ``APIService``s (fixed by version and group) and ``Namespace``s.
Cluster-scoped objects such as ClusterRoles are renamed too. References to the renamed
objects are fixed afterwards by ``namerefs``, which needs to know which objects were renamed:
``renames`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.patch._ids import ResId

__all__ = ["add_prefix", "add_suffix", "renames"]


def renames(obj: Mapping[str, Any]) -> bool:
    """Whether a prefix or suffix applies to ``obj`` (by its original kind)."""
    ident = ResId.of(obj)
    if ident.kind in ("CustomResourceDefinition", "Namespace"):
        return False
    return not (ident.kind == "APIService" and ident.group == "apiregistration.k8s.io")


def add_prefix(obj: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """``obj`` named ``<prefix><name>``, if it has a name and may be renamed."""
    return _renamed(obj, lambda name: prefix + name)


def add_suffix(obj: Mapping[str, Any], suffix: str) -> dict[str, Any]:
    """``obj`` named ``<name><suffix>``, if it has a name and may be renamed."""
    return _renamed(obj, lambda name: name + suffix)


def _renamed(obj: Mapping[str, Any], rename: Callable[[str], str]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not renames(obj) or not isinstance(meta, Mapping):
        return dict(obj)
    name = meta.get("name")
    if not isinstance(name, str):
        return dict(obj)
    return {**obj, "metadata": {**meta, "name": rename(name)}}
