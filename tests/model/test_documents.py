"""Strict YAML loading: JSON-like data only, errors with file and line, no bombs."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.model import events, load_documents
from engine.model.documents import MAX_EXPANDED_NODES, _implicit_tag, _load_nodes


def load(text: str) -> list[object]:
    return [d.data for d in load_documents(text, "in.yaml")]


def test_multi_document_files_skip_empty_documents() -> None:
    assert load("a: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]


def test_timestamps_stay_strings_as_kubernetes_reads_them() -> None:
    assert load("date: 2021-01-01\nstamp: 2001-12-14t21:59:43.10-05:00\n") == [
        {"date": "2021-01-01", "stamp": "2001-12-14t21:59:43.10-05:00"}
    ]


def test_keys_are_the_source_text() -> None:
    assert load("1: a\ntrue: b\n") == [{"1": "a", "true": "b"}]


def test_merge_keys_are_supported_and_may_be_overridden() -> None:
    text = "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n"
    assert load(text)[0] == {"base": {"x": 1, "y": 2}, "derived": {"x": 1, "y": 3}}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a'"),
        ("a:\n  - [1, 2\n", 3, "invalid YAML"),
        ("x: .nan\n", 1, "not a finite number"),
        ("x: .inf\n", 1, "not a finite number"),
        ("x: !!binary aGk=\n", 1, "unsupported YAML tag"),
        ("x: !!set {a, b}\n", 1, "unsupported YAML tag"),
        ("x: !custom 1\n", 1, "unsupported YAML tag"),
        ("? [a]\n: 1\n", 1, "mapping keys must be scalars"),
        ("a: &a [*a]\n", 1, "recursive YAML alias"),
        ("a: b: c\n", 1, "invalid YAML"),
        ("\tkey: 1\n", 1, "invalid YAML"),
    ],
)
def test_bad_yaml_is_an_error_with_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        load(text)
    assert info.value.location is not None
    assert info.value.location.file == "in.yaml"
    assert info.value.location.line == line
    assert str(info.value).startswith(f"in.yaml:{line}: ")


def test_alias_bomb_is_rejected_in_under_a_second() -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    started = time.perf_counter()
    with pytest.raises(InputError, match="alias bomb"):
        load("\n".join(rows) + "\n")
    assert time.perf_counter() - started < 1.0


def test_aliases_repeating_a_long_string_are_bounded_too() -> None:
    text = "s: &s " + "x" * 1_000_000 + "\nrefs: [" + ", ".join(["*s"] * 200) + "]\n"
    with pytest.raises(InputError, match=r"in\.yaml:2: YAML aliases expand to more than"):
        load(text)


def test_moderate_alias_use_is_fine() -> None:
    text = "d: &d {image: nginx, port: 80}\n" + "".join(f"c{i}: *d\n" for i in range(1000))
    data = load(text)[0]
    assert isinstance(data, dict) and len(data) == 1001
    assert MAX_EXPANDED_NODES > 1000 * 5


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    text = "[" * 20000 + "]" * 20000
    with pytest.raises(InputError):
        load(text)


def test_oversized_input_is_rejected_before_parsing() -> None:
    with pytest.raises(InputError, match="the limit is 64 MiB"):
        load_documents("#" * (64 * 1024 * 1024 + 1), "huge.yaml")


def test_line_lookup_by_yaml_path() -> None:
    text = "spec:\n  components:\n    - name: a\n      properties:\n        image: x\n"
    doc = load_documents(text, "app.yaml")[0]
    where = doc.source.locate(("spec", "components", 0, "properties", "image"))
    assert str(where) == "app.yaml:5: spec.components[0].properties.image"
    missing = doc.source.locate(("spec", "components", 0, "properties", "nope"))
    assert missing.line == 4


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
trees = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(trees, min_size=1, max_size=3), st.booleans())
def test_event_and_node_loaders_agree(docs: list[object], flow: bool) -> None:
    """The fast event-driven loader and the node-based one read every text alike."""
    text = yaml.safe_dump_all(docs, default_flow_style=flow, allow_unicode=True)
    fast = list(events.build_all(text, _implicit_tag, 100))
    assert fast == list(_load_nodes(text, "t"))


def test_aliases_and_merge_keys_fall_back_to_the_node_loader() -> None:
    for text in ("a: &x 1\nb: *x\n", "a: {<<: {b: 1}}\n"):
        with pytest.raises(events.Unsupported):
            list(events.build_all(text, _implicit_tag, 100))
    assert load("a: &x 1\nb: *x\n") == [{"a": 1, "b": 1}]
