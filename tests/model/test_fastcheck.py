"""The compiled yes/no check agrees with jsonschema on every schema it accepts."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.definitions import Definition, Registry
from engine.model import schemas
from engine.model.fastcheck import compile_check
from tests.strategies import from_schema

DEFINITIONS = Registry().all()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def agree(schema: dict[str, Any], instance: Any) -> None:
    fast = compile_check(schema)
    assert fast is not None
    assert fast(instance) == jsonschema.Draft202012Validator(schema).is_valid(instance)


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: f"{d.kind}-{d.name}")
def test_agrees_with_jsonschema_on_every_definition(definition: Definition) -> None:
    schema = dict(definition.inlined_schema)
    assert compile_check(schema) is not None, "built-in schemas stay within the fast subset"

    @SETTINGS
    @given(from_schema(definition.schema) | st.dictionaries(st.text(max_size=8), json_values))
    def check(instance: Any) -> None:
        agree(schema, instance)

    check()


@pytest.mark.parametrize("name", ["application", "definition", "policies"])
def test_agrees_with_jsonschema_on_the_engines_own_schemas(name: str) -> None:
    schema = schemas.inline_refs(schemas._document(name))

    @SETTINGS
    @given(json_values)
    def check(instance: Any) -> None:
        agree(schema, instance)

    check()


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ({"type": "integer"}, True),
        ({"type": "integer"}, 1.0),
        ({"type": "number"}, False),
        ({"enum": [1]}, True),
        ({"enum": [1]}, 1.0),
        ({"const": {"a": [1]}}, {"a": [True]}),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 5),
        ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}),
        ({"pattern": "^x"}, "yx"),
        ({"uniqueItems": True}, [1, True]),
        (
            {"properties": {"a": {"type": "string"}}, "additionalProperties": False},
            {"a": "x", "b": 1},
        ),
        ({"$ref": "#/$defs/n", "$defs": {"n": {"items": {"$ref": "#/$defs/n"}}}}, [[[]], [1]]),
    ],
)
def test_edge_cases(schema: dict[str, Any], instance: Any) -> None:
    agree(schema, instance)


def test_unknown_keywords_leave_it_to_jsonschema() -> None:
    assert compile_check({"patternProperties": {"^a": {}}}) is None
    assert compile_check({"multipleOf": 2}) is None
