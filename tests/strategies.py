"""Hypothesis strategies: values shaped by a definition's JSON Schema.

A small generator for the JSON Schema subset our definitions use (types, enums,
const, properties/required/additionalProperties, items, bounds, patterns, oneOf,
anyOf, local $ref). Values are mostly valid; the ones that are not must still give
a clean error, so the tests accept both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from engine.definitions.parameters import resolve

AWKWARD = st.sampled_from(
    [
        "",
        "a",
        "x: y",
        "line1\nline2",
        "{{ context.name }}",
        "{% raw %}",
        "---",
        "- item",
        "# c",
        "'q' \"dq\"",
        "yes",
        "null",
        "1",
        "items",
        "keys",
        "TCP",
        "app.oam.dev/name",
        "Ä\u2028🚀",
    ]
)
MAX_DEPTH = 5


def from_schema(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """Values for ``schema`` (mostly valid ones)."""
    return _value(schema, schema, 0)


def _value(schema: Any, root: Mapping[str, Any], depth: int) -> st.SearchStrategy[Any]:
    if schema is True or schema == {}:
        return _any(depth)
    if schema is False:
        return st.nothing()
    schema = resolve(schema, root)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("oneOf", "anyOf"):
        if isinstance(schema.get(key), list):
            return st.one_of([_value(s, root, depth) for s in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_value({**schema, "type": k}, root, depth) for k in kind])
    if kind is None and "properties" in schema:
        kind = "object"
    return _typed(str(kind), schema, root, depth)


def _typed(kind: str, schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return AWKWARD | st.text(max_size=int(schema.get("maxLength", 30)))
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = _value(schema.get("items", True), root, depth + 1)
        low = int(schema.get("minItems", 0))
        return st.lists(items, min_size=low, max_size=low if depth >= MAX_DEPTH else low + 3)
    if kind == "object":
        return _object(schema, root, depth)
    return _any(depth)


def _object(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    props = schema.get("properties") or {}
    required = [k for k in schema.get("required", []) if k in props]
    optional = [k for k in props if k not in required]
    fixed = st.fixed_dictionaries(
        {k: _value(props[k], root, depth + 1) for k in required},
        optional={k: _value(props[k], root, depth + 1) for k in optional},
    )
    extra = schema.get("additionalProperties", True)
    if extra is False or depth >= MAX_DEPTH:
        return fixed
    more = st.dictionaries(AWKWARD, _value(extra, root, depth + 1), max_size=2)
    return st.tuples(more, fixed).map(lambda pair: {**pair[0], **pair[1]})


def _any(depth: int) -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers() | AWKWARD
    if depth >= MAX_DEPTH:
        return leaves
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(AWKWARD, inner, max_size=2),
        max_leaves=4,
    )
