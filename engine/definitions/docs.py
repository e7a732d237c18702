"""Parameter tables of definitions, for ``def show`` and generated reference pages.

Flattens a definition's JSON Schema into rows (``ports[].containerPort``), like
``vela show`` prints them: name, type, required, default, description.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from engine.definitions.parameters import resolve

MAX_DEPTH = 6


@dataclasses.dataclass(frozen=True)
class ParameterRow:
    """One documented parameter."""

    name: str
    type: str
    required: bool
    default: str
    description: str


def parameter_rows(schema: Mapping[str, Any]) -> list[ParameterRow]:
    """Every parameter of ``schema``, depth first, in declaration order."""
    rows: list[ParameterRow] = []
    _walk(schema, schema, "", rows, depth=0)
    return rows


def _walk(
    schema: Mapping[str, Any],
    root: Mapping[str, Any],
    prefix: str,
    rows: list[ParameterRow],
    depth: int,
) -> None:
    schema = resolve(schema, root)
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    if depth > MAX_DEPTH:
        return
    if not isinstance(props, Mapping):
        if isinstance(extra, Mapping) and depth == 0:
            rows.append(_row(f"{prefix}<key>", resolve(extra, root), root, False))
        return
    required = set(schema.get("required") or ())
    for name, sub in props.items():
        sub = resolve(sub, root)
        full = f"{prefix}{name}"
        rows.append(_row(full, sub, root, name in required))
        _walk(sub, root, full + ".", rows, depth + 1)
        items = resolve(sub.get("items"), root)
        if items:
            _walk(items, root, full + "[].", rows, depth + 1)


def _row(
    name: str, sub: Mapping[str, Any], root: Mapping[str, Any], required: bool
) -> ParameterRow:
    return ParameterRow(
        name,
        type_name(sub, root),
        required,
        json.dumps(sub["default"]) if "default" in sub else "",
        str(sub.get("description", "")),
    )


def type_name(schema: Mapping[str, Any], root: Mapping[str, Any]) -> str:
    """A short human name for a schema's type: ``string``, ``[]object``, ``"A"|"B"``."""
    schema = resolve(schema, root)
    if "enum" in schema:
        return "|".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            return " or ".join(type_name(s, root) for s in schema[key])
    kind = schema.get("type")
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    if kind == "array":
        return "[]" + type_name(resolve(schema.get("items"), root), root)
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return "map[string]" + type_name(schema["additionalProperties"], root)
    return str(kind or "any")
