"""``$ref`` loops that stay on one value are rejected when a schema is loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import load_definition
from engine.definitions.references import ref_loop
from engine.errors import DefinitionError

LOOPS: list[tuple[dict[str, Any], str]] = [
    ({"$defs": {"a": {"$ref": "#/$defs/a"}}, "properties": {"x": {"$ref": "#/$defs/a"}}}, "a"),
    ({"allOf": [{"$ref": "#"}]}, "root"),
    (
        {
            "$defs": {
                "a": {"allOf": [{"$ref": "#/$defs/b"}]},
                "b": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/a"}]},
            }
        },
        "a-b",
    ),
]


@pytest.mark.parametrize(("schema", "name"), LOOPS, ids=[n for _, n in LOOPS])
def test_a_ref_back_to_the_same_value_is_a_loop(schema: dict[str, Any], name: str) -> None:
    found = ref_loop(schema)
    assert found is not None
    assert found[-1] == "$ref"


@pytest.mark.parametrize(
    "schema",
    [
        {
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                }
            },
            "$ref": "#/$defs/node",
        },
        {"properties": {"a": {"$ref": "#"}}},
        {
            "$defs": {"a": {"type": "string"}},
            "allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/a"}],
        },
        {"properties": {"a": {"$ref": "#/$defs/missing"}}},
    ],
)
def test_trees_and_shared_parts_are_no_loops(schema: dict[str, Any]) -> None:
    assert ref_loop(schema) is None


def test_loading_a_schema_with_a_loop_names_the_ref(tmp_path: Path) -> None:
    (tmp_path / "definition.yaml").write_text(
        json.dumps({"kind": "TraitDefinition", "name": "t", "description": "t"})
    )
    (tmp_path / "schema.json").write_text(json.dumps(LOOPS[0][0]))
    (tmp_path / "template.yaml.j2").write_text("patch: {}\n")
    with pytest.raises(DefinitionError) as caught:
        load_definition(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}/schema.json: $defs.a.$ref: this $ref leads")
