"""Definitions' own health rules: ``status.healthPolicy`` in ``definition.yaml``.

KubeVela's ``isHealth`` semantics, written in our template language: the policy is one
Jinja expression (``context.output.status.readyReplicas == context.output.spec.replicas``)
evaluated in the sandbox with ``context.output`` (the live workload), ``context.outputs``
(live auxiliary objects by key) and ``parameter``. An empty policy is healthy; an
expression that fails (a missing field, a type error, ``fail()``) is not healthy, with
the reason. Compiled once per policy text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jinja2

from engine.render import budgets
from engine.render.templates import environment


@functools.cache
def _compiled(policy: str) -> Callable[..., Any]:
    return environment().compile_expression(policy, undefined_to_none=False)


def is_healthy(
    policy: str,
    output: Mapping[str, Any] | None,
    outputs: Mapping[str, Any] | None = None,
    parameter: Mapping[str, Any] | None = None,
) -> tuple[bool, str]:
    """(healthy, why not) for a health policy and the live objects."""
    if not policy.strip():
        return True, ""
    try:
        check = _compiled(policy.strip())
    except jinja2.TemplateSyntaxError as exc:
        return False, f"health policy does not compile: {exc.message}"
    context = {"output": output or {}, "outputs": outputs or {}}
    try:
        with budgets.budgeted():
            result = check(context=context, parameter=parameter or {})
    except Exception as exc:  # a failing rule means not healthy, as in KubeVela
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return False, f"health policy: {reason}"
    if isinstance(result, jinja2.Undefined):
        return False, "health policy: undefined result"
    return bool(result), "" if result else f"health policy is false: {policy.strip()}"
