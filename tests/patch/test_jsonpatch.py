"""RFC 6902 JSON patch: every operation, pointer escapes, and the error messages."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import pytest
import yaml

from engine.errors import PatchError
from engine.patch.jsonpatch import apply_json_patch


def y(text: str) -> Any:
    return yaml.safe_load(textwrap.dedent(text))


DOC = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {a/b: slash, m~n: tilde}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - {name: app, image: app:1, args: [x, y]}
"""

CASES: dict[str, tuple[str, str]] = {
    "add a member": (
        "[{op: add, path: /spec/paused, value: true}]",
        "spec: {paused: true}",
    ),
    "add replaces an existing member": (
        "[{op: add, path: /spec/replicas, value: 3}]",
        "spec: {replicas: 3}",
    ),
    "add with - appends": (
        "[{op: add, path: /spec/template/spec/containers/-, value: {name: side}}]",
        "spec: {template: {spec: {containers: [{name: app}, {name: side}]}}}",
    ),
    "add at an index inserts": (
        "[{op: add, path: /spec/template/spec/containers/0/args/1, value: z}]",
        "spec: {template: {spec: {containers: [{args: [x, z, y]}]}}}",
    ),
    "add at the list end index": (
        "[{op: add, path: /spec/template/spec/containers/0/args/2, value: z}]",
        "spec: {template: {spec: {containers: [{args: [x, y, z]}]}}}",
    ),
    "remove": (
        "[{op: remove, path: /spec/template/spec/containers/0/args/0}]",
        "spec: {template: {spec: {containers: [{args: [y]}]}}}",
    ),
    "replace": (
        "[{op: replace, path: /spec/template/spec/containers/0/image, value: app:2}]",
        "spec: {template: {spec: {containers: [{image: app:2}]}}}",
    ),
    "~1 and ~0 escapes": (
        "[{op: replace, path: /metadata/annotations/a~1b, value: s2},"
        " {op: remove, path: /metadata/annotations/m~0n}]",
        "metadata: {annotations: {a/b: s2}}",
    ),
    "move": (
        "[{op: move, from: /spec/replicas, path: /spec/count}]",
        "spec: {count: 1}",
    ),
    "move within a list": (
        "[{op: move, from: /spec/template/spec/containers/0/args/0,"
        " path: /spec/template/spec/containers/0/args/-}]",
        "spec: {template: {spec: {containers: [{args: [y, x]}]}}}",
    ),
    "copy": (
        "[{op: copy, from: /metadata/name, path: /metadata/labels}]",
        "metadata: {labels: web}",
    ),
    "test then replace": (
        "[{op: test, path: /spec/replicas, value: 1}, {op: replace, path: /spec/replicas, value: 2}]",
        "spec: {replicas: 2}",
    ),
    "test compares numbers as JSON does": (
        "[{op: test, path: /spec/replicas, value: 1.0}]",
        "spec: {replicas: 1}",
    ),
}


def pick(doc: Any, shape: Any) -> Any:
    """The part of ``doc`` that ``shape`` names (lists by position)."""
    if isinstance(shape, dict):
        return {k: pick(doc[k], v) for k, v in shape.items()} if isinstance(doc, dict) else doc
    if isinstance(shape, list) and isinstance(doc, list) and len(shape) == len(doc):
        return [pick(d, s) for d, s in zip(doc, shape, strict=True)]
    return doc


@pytest.mark.parametrize("name", list(CASES))
def test_operations(name: str) -> None:
    ops_text, expected_text = CASES[name]
    doc, ops, expected = y(DOC), y(ops_text), y(expected_text)
    before = copy.deepcopy(doc)
    result = apply_json_patch(doc, ops)
    assert pick(result, expected) == expected
    assert doc == before, "the document must not change"


def test_whole_document_add_and_replace() -> None:
    assert apply_json_patch({"a": 1}, [{"op": "add", "path": "", "value": [1]}]) == [1]
    assert apply_json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {
        "b": 2
    }
    assert apply_json_patch({"a": 1}, [{"op": "test", "path": "", "value": {"a": 1.0}}]) == {"a": 1}


def test_empty_key_and_null_values() -> None:
    assert apply_json_patch({}, [{"op": "add", "path": "/", "value": None}]) == {"": None}
    assert apply_json_patch({"a": None}, [{"op": "test", "path": "/a", "value": None}]) == {
        "a": None
    }


def test_copied_values_are_independent() -> None:
    doc = {"a": {"b": [1]}}
    result = apply_json_patch(doc, [{"op": "copy", "from": "/a", "path": "/c"}])
    assert result == {"a": {"b": [1]}, "c": {"b": [1]}}
    assert result["c"] is not result["a"]
    assert result["c"]["b"] is not result["a"]["b"]
    value = {"k": [1]}
    added = apply_json_patch({}, [{"op": "add", "path": "/x", "value": value}])
    assert added["x"] == value and added["x"] is not value


def test_untouched_subtrees_are_shared() -> None:
    doc = y(DOC)
    result = apply_json_patch(doc, [{"op": "replace", "path": "/spec/replicas", "value": 2}])
    assert result["metadata"] is doc["metadata"]
    assert result["spec"]["template"] is doc["spec"]["template"]
    assert result["spec"] is not doc["spec"]


ERRORS: dict[str, tuple[Any, str]] = {
    "failed test": (
        "[{op: add, path: /a, value: 1}, {op: add, path: /b, value: 2},"
        " {op: test, path: /spec/replicas, value: 3}]",
        r"^operation 2 \(test /spec/replicas\): value 1 does not equal 3$",
    ),
    "test true against 1": (
        "[{op: test, path: /spec/replicas, value: true}]",
        r"^operation 0 \(test /spec/replicas\): value 1 does not equal true$",
    ),
    "missing member": (
        "[{op: remove, path: /spec/nothing}]",
        r"^operation 0 \(remove /spec/nothing\): /spec/nothing does not exist$",
    ),
    "missing parent": (
        "[{op: add, path: /spec/nothing/deeper, value: 1}]",
        r"^operation 0 \(add /spec/nothing/deeper\): /spec/nothing does not exist$",
    ),
    "replace of a missing member (RFC, unlike kustomize)": (
        "[{op: replace, path: /spec/paused, value: true}]",
        r"^operation 0 \(replace /spec/paused\): /spec/paused does not exist$",
    ),
    "index out of range": (
        "[{op: add, path: /spec/template/spec/containers/5, value: {}}]",
        r"containers/5: index 5 is out of range \(the list has 1 items\)$",
    ),
    "leading zero index": (
        "[{op: remove, path: /spec/template/spec/containers/00}]",
        r"containers/00: '00' is not a list index$",
    ),
    "dash outside add": (
        "[{op: remove, path: /spec/template/spec/containers/-}]",
        r"containers/-: '-' names no element here$",
    ),
    "descending into a scalar": (
        "[{op: add, path: /spec/replicas/x, value: 1}]",
        r"^operation 0 \(add /spec/replicas/x\): /spec/replicas is int, not a map or list$",
    ),
    "remove the root": (
        "[{op: remove, path: ''}]",
        r"^operation 0 \(remove \(root\)\): cannot remove the whole document$",
    ),
    "move into itself": (
        "[{op: move, from: /spec, path: /spec/template/x}]",
        r"^operation 0 \(move /spec/template/x\): cannot move /spec into itself$",
    ),
    "move from a missing member": (
        "[{op: move, from: /nothing, path: /x}]",
        r"^operation 0 \(move /x\): /nothing does not exist$",
    ),
    "not a list": ("{op: add, path: /a, value: 1}", r"^a JSON patch must be a list of operations"),
    "operation not a map": ("[add]", r"^operation 0: must be a map with 'op' and 'path', got str$"),
    "unknown op": (
        "[{op: append, path: /a}]",
        r"^operation 0: 'op' must be one of add, remove, replace, move, copy, test, "
        r'got "append"$',
    ),
    "missing op": ("[{path: /a}]", r"^operation 0: 'op' must be one of .*, got null$"),
    "missing path": ("[{op: remove}]", r"^operation 0: remove: 'path' is missing$"),
    "path not a string": (
        "[{op: remove, path: 3}]",
        r"^operation 0: remove: 'path' is not a string",
    ),
    "missing value": ("[{op: add, path: /a}]", r"^operation 0: add /a: missing 'value'$"),
    "missing from": ("[{op: copy, path: /a}]", r"^operation 0: copy: 'from' is missing$"),
    "pointer without slash": (
        "[{op: remove, path: spec}]",
        r"^operation 0: path 'spec' must be empty or start with '/'$",
    ),
    "bad escape": (
        "[{op: remove, path: /a~2}]",
        r"^operation 0: path '/a~2' has '~' not followed by 0 or 1$",
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_name_the_operation(name: str) -> None:
    ops, pattern = ERRORS[name]
    with pytest.raises(PatchError) as caught:
        apply_json_patch(y(DOC), y(ops))
    assert caught.match(pattern)


def test_failed_patch_changes_nothing() -> None:
    doc = y(DOC)
    before = copy.deepcopy(doc)
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "test", "path": "/spec/replicas", "value": 1},
    ]
    with pytest.raises(PatchError):
        apply_json_patch(doc, ops)
    assert doc == before


def test_copy_chains_doubling_a_document_are_bounded() -> None:
    ops: list[dict[str, Any]] = [{"op": "add", "path": "/a0", "value": "x" * 1000}]
    ops += [{"op": "copy", "from": "", "path": f"/a{i + 1}"} for i in range(40)]
    with pytest.raises(
        PatchError, match=r"operation \d+ \(copy /a\d+\): the document grows too large"
    ):
        apply_json_patch({}, ops)


def test_copies_within_reason_work() -> None:
    ops = [{"op": "copy", "from": "/a", "path": f"/b{i}"} for i in range(100)]
    result = apply_json_patch({"a": {"x": [1, 2]}}, ops)
    assert result["b99"] == {"x": [1, 2]}
