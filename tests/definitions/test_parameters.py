"""Parameters: schema defaults filled in, then strict validation with helpful errors."""

from __future__ import annotations

from typing import Any

import pytest

from engine.definitions import with_defaults
from engine.definitions.docs import parameter_rows
from engine.errors import SchemaError
from tests.conftest import build_text

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "replicas": {"type": "integer", "default": 1},
        "probe": {"$ref": "#/$defs/probe"},
        "ports": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"port": {"type": "integer"}, "protocol": {"default": "TCP"}},
            },
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "$defs": {
        "probe": {
            "type": "object",
            "properties": {"periodSeconds": {"type": "integer", "default": 10}},
        }
    },
}


def test_defaults_fill_missing_values_through_refs_and_arrays() -> None:
    given = {"probe": {}, "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}
    assert with_defaults(SCHEMA, given) == {
        "replicas": 1,
        "probe": {"periodSeconds": 10},
        "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
    }
    assert given == {"probe": {}, "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}


def test_defaults_leave_wrong_types_for_validation_to_report() -> None:
    assert with_defaults(SCHEMA, {"ports": "80", "probe": 3}) == {
        "replicas": 1,
        "ports": "80",
        "probe": 3,
    }


def test_defaults_are_copies() -> None:
    schema = {"properties": {"tags": {"default": []}}}
    first = with_defaults(schema, {})
    first["tags"].append("x")
    assert with_defaults(schema, {}) == {"tags": []}


def test_parameter_rows_flatten_nested_schemas() -> None:
    rows = {r.name: r for r in parameter_rows(SCHEMA)}
    assert rows["replicas"].default == "1"
    assert rows["probe.periodSeconds"].type == "integer"
    assert rows["ports"].type == "[]object"
    assert rows["ports[].protocol"].default == '"TCP"'
    assert rows["labels"].type == "map[string]string"


APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: demo}
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx
      traits:
        - type: scaler
          properties:
            {props}
"""


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            "replcas: 2",
            "app.yaml:13: spec.components[0].traits[0].properties.replcas: unknown property "
            "'replcas'; did you mean 'replicas'? Valid properties: replicas (trait scaler)",
        ),
        (
            "replicas: three",
            "app.yaml:13: spec.components[0].traits[0].properties.replicas: 'three' is not of "
            "type 'integer' (trait scaler)",
        ),
        (
            "replicas: -1",
            "app.yaml:13: spec.components[0].traits[0].properties.replicas: -1 is less than the "
            "minimum of 0 (trait scaler)",
        ),
    ],
)
def test_trait_property_errors(registry: Any, props: str, expected: str) -> None:
    with pytest.raises(SchemaError) as info:
        build_text(APP.replace("{props}", props), registry)
    assert str(info.value) == expected


def test_missing_required_property(registry: Any) -> None:
    text = APP.replace("{props}", "replicas: 1").replace(
        "        image: nginx\n", "        cpu: '1'\n"
    )
    with pytest.raises(SchemaError) as info:
        build_text(text, registry)
    assert str(info.value) == (
        "app.yaml:8: spec.components[0].properties: missing required property 'image' "
        "(component webservice)"
    )
