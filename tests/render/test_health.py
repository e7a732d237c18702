"""Definitions' health rules: KubeVela's isHealth semantics in our template language."""

from __future__ import annotations

from engine.render.health import is_healthy

RULE = "context.output.status.readyReplicas == context.output.spec.replicas"


def test_true_false_and_empty() -> None:
    assert is_healthy(RULE, {"spec": {"replicas": 2}, "status": {"readyReplicas": 2}}) == (True, "")
    ok, why = is_healthy(RULE, {"spec": {"replicas": 2}, "status": {"readyReplicas": 1}})
    assert not ok and why == f"health policy is false: {RULE}"
    assert is_healthy("", None) == (True, "")


def test_an_error_is_not_healthy_with_the_reason() -> None:
    ok, why = is_healthy(RULE, {"spec": {"replicas": 2}, "status": {}})
    assert not ok and "has no attribute 'readyReplicas'" in why
    ok, why = is_healthy("((", {})
    assert not ok and why.startswith("health policy does not compile")


def test_parameters_and_the_sandbox() -> None:
    assert is_healthy(
        "context.output.data.mode == parameter.mode",
        {"data": {"mode": "a"}},
        parameter={"mode": "a"},
    )[0]
    ok, why = is_healthy("context.output.__class__.__mro__", {})
    assert not ok and why.startswith("health policy:")
