"""Random properties through every built-in definition: a result or a clean error.

Two kinds of input: values generated from each definition's own JSON Schema (valid
input must never trip the template itself), and arbitrary JSON (which must be
rejected with a located SchemaError, never another exception).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.definitions import Definition, Registry
from engine.definitions.definition import Example
from engine.errors import SailplanError, SchemaError, TemplateError
from tests.conftest import build_text
from tests.definitions.test_builtins import app_for
from tests.strategies import from_schema

REGISTRY = Registry()
DEFINITIONS = REGISTRY.all()
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


def _host(definition: Definition) -> dict[str, Any] | None:
    """The component of the definition's first example (traits need a fitting host)."""
    examples = definition.examples()
    return dict(examples[0].component) if examples and examples[0].component else None


def _render(definition: Definition, properties: Any) -> None:
    example = Example(
        "random", properties, _host(definition) if definition.kind == "trait" else None
    )
    build_text(app_for(definition, example), REGISTRY)


def _ids(definition: Definition) -> str:
    return f"{definition.kind}-{definition.name}"


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_schema_valid_properties_never_break_the_template(definition: Definition) -> None:
    schema = json.loads(json.dumps(definition.schema))

    @SETTINGS
    @given(from_schema(schema))
    def check(properties: Any) -> None:
        try:
            _render(definition, properties)
        except TemplateError as exc:
            # fail() is a user error located at the Application; anything located in the
            # template file is a bug in the template.
            location = exc.location.file if exc.location else ""
            assert not location.endswith(".j2"), str(exc)
        except SailplanError:
            pass

    check()


@pytest.mark.parametrize("definition", DEFINITIONS, ids=_ids)
def test_arbitrary_properties_give_a_result_or_a_clean_error(definition: Definition) -> None:
    @SETTINGS
    @given(st.dictionaries(st.text(max_size=12), json_values, max_size=4))
    def check(properties: dict[str, Any]) -> None:
        try:
            _render(definition, properties)
        except SchemaError as exc:
            assert exc.location is not None and exc.location.line is not None
        except SailplanError:
            pass

    check()
