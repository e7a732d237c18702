"""Every built-in definition: well-formed, closed schema, examples rendered to golden files."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from syrupy.assertion import SnapshotAssertion

from engine.data import builtin_definitions_dir
from engine.definitions import Definition, Example, Registry
from tests.conftest import render_text

DEFAULT_HOST = {"type": "webservice", "properties": {"image": "nginx:1.27"}}
ISSUE_COMPONENTS = {
    "webservice",
    "worker",
    "daemon",
    "statefulset",
    "task",
    "cron-task",
    "k8s-objects",
    "raw",
}
ISSUE_TRAITS = {"scaler", "gateway", "ingress", "annotations", "labels", "env", "expose"}
ISSUE_STEPS = {
    "deploy",
    "apply-component",
    "apply-object",
    "apply-remaining",
    "apply-application",
    "apply-application-in-parallel",
    "apply-deployment",
    "deploy2runtime",
    "suspend",
    "step-group",
    "depends-on-app",
    "notification",
    "webhook",
    "request",
    "http-get-wait",
    "http-post",
    "read-object",
    "export2config",
    "export2secret",
    "export-data",
    "export-service",
    "collect-service-endpoints",
    "create-config",
    "read-config",
    "list-config",
    "delete-config",
    "clean-jobs",
    "restart-workflow",
    "print-message-in-status",
}
FREE_FORM = {"raw", "k8s-objects", "annotations", "labels", "json-merge-patch"}


def _all() -> list[Definition]:
    return Registry().all()


def _cases() -> list[Any]:
    """Examples that render objects: components, traits, and step types with a template."""
    return [
        pytest.param(d, e, id=f"{d.kind}-{d.name}-{e.name}")
        for d in _all()
        if d.kind != "workflowstep" or d.template
        for e in d.examples()
    ]


def _step_cases() -> list[Any]:
    return [
        pytest.param(d, e, id=f"{d.name}-{e.name}")
        for d in _all()
        if d.kind == "workflowstep"
        for e in d.examples()
    ]


def app_for(definition: Definition, example: Example) -> str:
    """An Application using ``definition`` with the example's properties."""
    spec: dict[str, Any] = {}
    if definition.kind == "component":
        component = {"name": "demo-comp", "type": definition.name, "properties": example.properties}
    elif definition.kind == "workflowstep":
        component = {"name": "demo-comp", **DEFAULT_HOST}
        step = {"name": "demo-step", "type": definition.name, "properties": example.properties}
        spec["workflow"] = {"steps": [step]}
        if definition.name == "deploy2env":
            envs = [{"name": "staging", "placement": {"namespaceSelector": {"name": "staging"}}}]
            spec["policies"] = [
                {"name": "demo-envs", "type": "env-binding", "properties": {"envs": envs}}
            ]
    else:
        host = dict(example.component or DEFAULT_HOST)
        trait = {"type": definition.name, "properties": example.properties}
        component = {"name": "demo-comp", **host, "traits": [*host.get("traits", []), trait]}
    app = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "demo", "namespace": "demo-ns"},
        "spec": {"components": [component], **spec},
    }
    return json.dumps(app, indent=2)


def test_the_issue_catalog_is_complete(registry: Registry) -> None:
    assert set(registry.names("component")) >= ISSUE_COMPONENTS
    assert set(registry.names("trait")) >= ISSUE_TRAITS
    assert set(registry.names("workflowstep")) >= ISSUE_STEPS


@pytest.mark.parametrize(("definition", "example"), _step_cases())
def test_step_examples_render(definition: Definition, example: Example, registry: Registry) -> None:
    """Every step type's example is a valid step: the Application renders."""
    text = render_text(app_for(definition, example), registry)
    assert "demo-comp" in text


@pytest.mark.parametrize("definition", _all(), ids=lambda d: f"{d.kind}-{d.name}")
def test_definition_is_well_formed(definition: Definition) -> None:
    assert definition.folder.name == definition.name
    cls = jsonschema.validators.validator_for(definition.schema)
    cls.check_schema(definition.schema)
    assert definition.folder.parent == builtin_definitions_dir() / f"{definition.kind}s"
    assert definition.description
    assert definition.examples(), "every built-in definition ships examples"
    if definition.name not in FREE_FORM:
        assert _closed(definition.schema, definition.schema), "schema objects must be closed"


CONDITIONS = {"if", "then", "else", "not", "dependentSchemas"}


def _closed(schema: Any, root: Any) -> bool:
    """Every object schema with properties forbids others (or types them).

    Conditional subschemas (``if``/``then``/...) only constrain; they are not checked.
    """
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            return False
        return all(_closed(v, root) for k, v in schema.items() if k not in CONDITIONS)
    if isinstance(schema, list):
        return all(_closed(v, root) for v in schema)
    return True


@pytest.mark.parametrize(("definition", "example"), _cases())
def test_golden(
    definition: Definition, example: Example, registry: Registry, golden: SnapshotAssertion
) -> None:
    text = render_text(app_for(definition, example), registry)
    assert text == golden
