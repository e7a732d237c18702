"""An object's ``metadata.labels`` and ``metadata.annotations`` as kustomize leaves them.

Why: a patch may write any YAML value into labels or annotations (``{replicas: 10}``,
``{enabled: true}``), but the API server takes only strings there, and kustomize writes
such values as strings (``"10"``, ``"true"``). kustomize's objects also always carry
annotations while it patches them (its own bookkeeping ones, removed on output), so a JSON
patch can ``add /metadata/annotations/x`` to an object without annotations, and an
annotations map left empty is dropped. Labels have no such map: adding to missing labels
fails in kustomize too, and an empty labels map stays.

A value that was parsed as YAML 1.1 reaches this module as that value, so ``yes`` becomes
``"true"`` and ``1.10`` becomes ``"1.1"`` (kustomize keeps the text as written). A map or a
list as a value is a ``PatchError`` (kustomize writes ``""`` for it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, TypeGuard

from engine.errors import PatchError, SourceLocation
from engine.patch._json import type_name

__all__ = ["settle", "with_annotations"]

FIELDS: Final = ("labels", "annotations")


def with_annotations(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with an empty ``metadata.annotations`` if its metadata has none."""
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping) or "annotations" in meta:
        return obj
    return {**obj, "metadata": {**meta, "annotations": {}}}


def settle(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with string label and annotation values and no empty annotations map.

    Returns ``obj`` itself when nothing changes.
    """
    meta = obj.get("metadata")
    if not _is_map(meta):
        return obj
    changes: dict[str, Any] = {}
    for name in FIELDS:
        values = meta.get(name)
        if _is_map(values):
            strings = _strings(values, name)
            if strings is not values:
                changes[name] = strings
    annotations = meta.get("annotations")
    empty = _is_map(annotations) and not annotations
    if not changes and not empty:
        return obj
    result = {**meta, **changes}
    if empty:
        del result["annotations"]
    return {**obj, "metadata": result}


def _strings(values: Mapping[Any, Any], field: str) -> Mapping[Any, Any]:
    """``values`` with every value a string; ``values`` itself when they all are."""
    for value in values.values():
        if type(value) is not str:
            break
    else:  # the usual case, checked in a plain loop: it runs for every object and patch
        return values
    return {key: _string(value, (field, key)) for key, value in values.items()}


def _is_map(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``, quick for the usual ``dict`` (no ABC check)."""
    return type(value) is dict or isinstance(value, Mapping)


def _string(value: Any, where: tuple[str, Any]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list):
        raise PatchError(
            f"must be a string, got {type_name(value)}",
            location=SourceLocation(yaml_path=f"metadata.{where[0]}.{where[1]}"),
        )
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return str(value)
