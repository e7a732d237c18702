"""The YAML writer: everything it writes reads back as the same value, in kubectl's style."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.model import load_yaml, to_yaml

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(
        [
            "y",
            "n",
            "yes",
            "on",
            "1e3",
            "0x1F",
            "2021-01-01",
            "~",
            "<<",
            "=",
            "-",
            "- a",
            "a: b",
            "#x",
            "-c",
            "--x",
            "---",
            "--- a",
            "-",
            "- -",
            "$x",
            "^a",
            "~a",
            "=",
            "<<a",
            "\\x",
            "(a",
            ";a",
            ">a",
            "x #y",
            " lead",
            "trail ",
            "a\n",
            "a\n\n",
            "\n",
            " \n",
            "a\n \nb",
            "x\ty",
            "'",
            '"',
            "é",
            "🚀",
            "\u2028",
            "\x85",
        ]
    )
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text() | scalars.filter(lambda v: isinstance(v, str)), inner, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_everything_written_reads_back_unchanged(value: Any) -> None:
    text = to_yaml(value)
    assert load_yaml(text, "out") == ([value] if value is not None else [])
    assert yaml.safe_load(text) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {"a": "b", "i": 1, "f": 1.5, "t": True, "z": None},
            "a: b\ni: 1\nf: 1.5\nt: true\nz: null\n",
        ),
        ({"list": [{"name": "x", "v": [1]}, "s"]}, "list:\n- name: x\n  v:\n  - 1\n- s\n"),
        ({"e": {}, "l": []}, "e: {}\nl: []\n"),
        (
            {"s": "8088", "y": "y", "d": "2021-01-01", "q": "it's"},
            "s: '8088'\n'y': 'y'\nd: '2021-01-01'\nq: it's\n",
        ),
        ({"m": "line1\nline2\n"}, "m: |\n  line1\n  line2\n"),
        ({"m": "line1\nline2"}, "m: |-\n  line1\n  line2\n"),
        ({"k": "a: b", "h": "x #y", "u": "ünï"}, "k: 'a: b'\nh: 'x #y'\nu: 'ünï'\n"),
        ({"f": 1e20}, "f: 1.0e+20\n"),
    ],
)
def test_style(value: Any, expected: str) -> None:
    assert to_yaml(value) == expected
