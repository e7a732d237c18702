"""KubeVela ``if`` expressions and Go durations, parsed and evaluated without eval."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.model.conditions import ConditionError, evaluate, parse, referenced_steps
from engine.model.durations import parse_duration

SCOPE: dict[str, Any] = {
    "status": {
        "deploy": {"phase": "succeeded", "succeeded": True, "failed": False, "timeout": False},
        "apply-db": {"phase": "failed", "succeeded": False, "failed": True, "timeout": True},
    },
    "inputs": {"count": 3, "name": "web", "flag": True},
    "context": {"name": "demo", "namespace": "shop"},
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('status.deploy.phase == "succeeded"', True),
        ("status.deploy.succeeded", True),
        ("status.apply-db.failed", True),
        ('status["apply-db"].timeout', True),
        ("!status.deploy.failed", True),
        ("status.deploy.failed || status.apply-db.failed", True),
        ("status.deploy.succeeded && status.apply-db.succeeded", False),
        ("inputs.count > 2 && inputs.count <= 3", True),
        ('inputs.name != "api"', True),
        ('context.name == "demo" && (context.namespace == "shop" || false)', True),
        ('context.name =~ "^de"', True),
        ('context.name !~ "^de"', False),
        ("inputs.flag == true", True),
        ('inputs.count == "3"', False),
        ("true && !false", True),
    ],
)
def test_expressions_evaluate_as_kubevela(text: str, value: bool) -> None:
    assert evaluate(parse(text), SCOPE) is value


def test_or_does_not_evaluate_the_right_side_when_the_left_holds() -> None:
    assert evaluate(parse("status.deploy.succeeded || status.missing.phase"), SCOPE) is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status.deploy.phase ==", "unexpected end of expression"),
        ("status.deploy.phase = 1", "unexpected '=' at column 21"),
        ('stauts.deploy.phase == "x"', "unknown name 'stauts' at column 1"),
        ("(status.deploy.succeeded", "expected '\\)'"),
        ('"unterminated', "unexpected '\"' at column 1"),
        ("status.deploy.succeeded status", "unexpected 'status' at column 25"),
        ('"a\\q"', "unknown escape"),
    ],
)
def test_syntax_errors_say_where(text: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('status.other.phase == "x"', "status has no field 'other'"),
        ("inputs.count", "is the number 3, not a boolean"),
        ('inputs.count < "4"', "cannot compare"),
        ("!inputs.name", "! needs a boolean"),
        ('context.name =~ "("', "invalid regular expression"),
    ],
)
def test_evaluation_errors_are_errors_not_false(text: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message):
        evaluate(parse(text), SCOPE)


def test_referenced_steps() -> None:
    expr = parse('status.a.failed || status["b-c"].phase == "x" && inputs.d')
    assert referenced_steps(expr) == {"a", "b-c"}


def test_nesting_is_bounded() -> None:
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse("(" * 200 + "true" + ")" * 200)


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_condition_error(text: str) -> None:
    try:
        expr = parse(text)
    except ConditionError:
        return
    with contextlib.suppress(ConditionError):
        evaluate(expr, SCOPE)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("1m30s", 90), ("1.5h", 5400), ("300ms", 0.3), ("0", 0), ("2h45m", 9900)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1min", "1d", "", "s", "10", "1m 30s"])
def test_durations_go_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="expected a Go duration"):
        parse_duration(text)
