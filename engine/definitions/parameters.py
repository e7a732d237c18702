"""Turn user properties into template parameters: defaults filled, then checked.

Defaults come from the definition's JSON Schema (``default`` keywords, following local
``$ref``s into arrays and nested objects), as CUE fills defaults in KubeVela. Checking
is strict: unknown properties are errors with the list of valid ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from engine.definitions.definition import Definition
from engine.model import YamlPath, schemas
from engine.model.schemas import Locate

_KIND_NAMES = {"workflowstep": "step type"}


def prepare(
    definition: Definition,
    properties: Mapping[str, Any],
    locate: Locate,
    base: YamlPath,
) -> dict[str, Any]:
    """Validated parameters for ``definition`` from user ``properties``."""
    params = _defaults_of(definition, dict(properties))
    schemas.check(
        definition.validator,
        params,
        locate,
        base=base,
        subject=f"{_KIND_NAMES.get(definition.kind, definition.kind)} {definition.name}",
    )
    result: dict[str, Any] = params
    return result


def with_defaults(schema: Mapping[str, Any], value: Any) -> Any:
    """``value`` with every missing property that has a schema default filled in."""
    return _fill(schema, value, schema, depth=0)


def _defaults_of(definition: Definition, value: Any) -> Any:
    """``with_defaults`` on the definition's schema with its references inlined once."""
    schema = definition.inlined_schema
    return _fill(schema, value, schema, depth=0)


def _fill(schema: Mapping[str, Any], value: Any, root: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or "$ref" in schema:
        schema = resolve(schema, root)
    if depth > 64:
        return value
    if isinstance(value, dict):
        return _fill_object(schema, value, root, depth)
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        return [_fill(items, item, root, depth + 1) for item in value]
    return value


def _fill_object(
    schema: Mapping[str, Any],
    value: dict[str, Any],
    root: Mapping[str, Any],
    depth: int,
) -> dict[str, Any]:
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    out = dict(value)
    if isinstance(props, Mapping):
        for key, sub in props.items():
            if not isinstance(sub, dict) or "$ref" in sub:
                sub = resolve(sub, root)
            if key in out:
                out[key] = _fill(sub, out[key], root, depth + 1)
            elif isinstance(sub, Mapping) and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
    if isinstance(extra, Mapping):
        for key in out:
            if not (isinstance(props, Mapping) and key in props):
                out[key] = _fill(extra, out[key], root, depth + 1)
    return out


def resolve(schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local ``$ref``s (``#/$defs/...``); anything else is left alone."""
    seen = 0
    while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and seen < 16:
        ref: str = schema["$ref"]
        if not ref.startswith("#/"):
            break
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, Mapping) else None
        if not isinstance(target, Mapping):
            break
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema, seen = {**target, **siblings}, seen + 1
    return schema if isinstance(schema, Mapping) else {}
