"""RFC 7396 JSON merge patch, including the RFC's own examples (appendix A)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import PatchError
from engine.patch._json import copy_json
from engine.patch.mergepatch import apply_merge_patch, merge_into

# RFC 7396 appendix A: original, patch, result (JSON).
RFC_EXAMPLES = [
    ('{"a":"b"}', '{"a":"c"}', '{"a":"c"}'),
    ('{"a":"b"}', '{"b":"c"}', '{"a":"b","b":"c"}'),
    ('{"a":"b"}', '{"a":null}', "{}"),
    ('{"a":"b","b":"c"}', '{"a":null}', '{"b":"c"}'),
    ('{"a":["b"]}', '{"a":"c"}', '{"a":"c"}'),
    ('{"a":"c"}', '{"a":["b"]}', '{"a":["b"]}'),
    ('{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}', '{"a":{"b":"d"}}'),
    ('{"a":[{"b":"c"}]}', '{"a":[1]}', '{"a":[1]}'),
    ('["a","b"]', '["c","d"]', '["c","d"]'),
    ('{"a":"b"}', '["c"]', '["c"]'),
    ('{"a":"foo"}', "null", "null"),
    ('{"a":"foo"}', '"bar"', '"bar"'),
    ('{"e":null}', '{"a":1}', '{"e":null,"a":1}'),
    ("[1,2]", '{"a":"b","c":null}', '{"a":"b"}'),
    ("{}", '{"a":{"bb":{"ccc":null}}}', '{"a":{"bb":{}}}'),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_EXAMPLES)
def test_rfc_examples(original: str, patch: str, result: str) -> None:
    doc = json.loads(original)
    before = copy.deepcopy(doc)
    assert apply_merge_patch(doc, json.loads(patch)) == json.loads(result)
    assert doc == before


def test_kubernetes_object() -> None:
    doc = {
        "metadata": {"name": "web", "labels": {"a": "1", "b": "2"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}},
    }
    patch = {
        "metadata": {"labels": {"a": None, "c": "3"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}},
    }
    assert apply_merge_patch(doc, patch) == {
        "metadata": {"name": "web", "labels": {"b": "2", "c": "3"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}},
    }


def test_sharing_and_copying() -> None:
    doc: dict[str, Any] = {"a": {"x": 1}, "b": {"y": 2}}
    patch: dict[str, Any] = {"b": {"z": [1, {"k": None}]}}
    result = apply_merge_patch(doc, patch)
    assert result["a"] is doc["a"]
    assert result["b"] is not doc["b"]
    assert result["b"]["z"] == [1, {"k": None}]  # nulls inside lists are values
    assert result["b"]["z"] is not patch["b"]["z"]


def test_deep_nesting_is_a_patch_error() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(PatchError, match="nested too deeply"):
        apply_merge_patch({}, deep)


# -- merge_into: the in-place form build uses for a component's traits ---------------------

_keys = st.sampled_from(["a", "b", "c", "labels"])
_values = st.recursive(
    st.one_of(st.none(), st.integers(-2, 2), st.text(max_size=3)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(_keys, children, max_size=4)
    ),
    max_leaves=12,
)
_maps = st.dictionaries(_keys, _values, max_size=4)


@settings(max_examples=300, deadline=None)
@given(doc=_maps, patches=st.lists(_maps, max_size=4))
def test_merge_into_gives_what_apply_merge_patch_gives_in_the_same_key_order(
    doc: dict[str, Any], patches: list[dict[str, Any]]
) -> None:
    expected: Any = doc
    for patch in patches:
        expected = apply_merge_patch(expected, patch)
    private = copy_json(doc)
    kept = copy.deepcopy(patches)
    for patch in patches:
        merge_into(private, patch)
    assert json.dumps(private) == json.dumps(expected)  # order too: output is byte-identical
    assert patches == kept  # the patches do not change


def test_merge_into_changes_the_map_in_place_and_copies_patch_values() -> None:
    labels = {"app": "web"}
    doc: dict[str, Any] = {"metadata": {"labels": labels}}
    added = {"nested": ["x"]}
    merge_into(doc, {"metadata": {"labels": {"tier": "front", "app": None}, "extra": added}})
    assert doc["metadata"]["labels"] is labels  # not copied: N patches cost N, not N^2
    assert labels == {"tier": "front"}
    assert doc["metadata"]["extra"] == added and doc["metadata"]["extra"] is not added
    doc["metadata"]["extra"]["nested"].append("y")
    assert added == {"nested": ["x"]}
