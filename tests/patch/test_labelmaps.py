"""``labelmaps``: label and annotation values as strings, annotations for JSON patches."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from engine.errors import PatchError
from engine.patch.labelmaps import settle, with_annotations


def obj(**metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", **metadata}}


def test_values_become_strings() -> None:
    settled = settle(
        obj(
            labels={"b": True, "i": 10, "s": "x"},
            annotations={"f": 1.5, "n": None, "off": False, "d": datetime.date(2024, 1, 2)},
        )
    )
    assert settled["metadata"] == {
        "name": "c",
        "labels": {"b": "true", "i": "10", "s": "x"},
        "annotations": {"f": "1.5", "n": "null", "off": "false", "d": "2024-01-02"},
    }


def test_empty_annotations_go_empty_labels_stay() -> None:
    assert settle(obj(annotations={}, labels={}))["metadata"] == {"name": "c", "labels": {}}


def test_an_object_already_settled_is_returned_as_is() -> None:
    for settled in (obj(labels={"a": "b"}, annotations={"c": "d"}), obj(), {"kind": "X"}):
        assert settle(settled) is settled
    odd = obj(labels="not a map")
    assert settle(odd) is odd


@pytest.mark.parametrize("value", [{"a": 1}, [1]])
def test_maps_and_lists_are_errors(value: Any) -> None:
    with pytest.raises(PatchError) as raised:
        settle(obj(labels={"x": value}))
    assert raised.value.message.startswith("must be a string, got a ")
    assert raised.value.location is not None
    assert raised.value.location.yaml_path == "metadata.labels.x"


def test_with_annotations_adds_an_empty_map_only_where_missing() -> None:
    assert with_annotations(obj())["metadata"] == {"name": "c", "annotations": {}}
    noted = obj(annotations={"a": "b"})
    assert with_annotations(noted) is noted
    bare: dict[str, Any] = {"kind": "X"}
    assert with_annotations(bare) is bare
