"""Workflow steps checked at render: types, properties, references, as KubeVela admits them."""

from __future__ import annotations

import pytest

from engine.definitions import Registry
from engine.errors import SailplanError
from engine.model import load_documents, parse_application
from engine.model.policies import environments
from tests.conftest import build_text, render_text

HEADER = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: demo
spec:
  components:
    - name: web
      type: webservice
      properties: {image: nginx:1.27}
"""


def app(workflow: str) -> str:
    return HEADER + "".join(f"  {line}\n" for line in workflow.strip("\n").splitlines())


def error_of(text: str, registry: Registry) -> str:
    with pytest.raises(SailplanError) as info:
        build_text(text, registry)
    return str(info.value)


def steps(*lines: str) -> str:
    return app("workflow:\n  steps:\n" + "\n".join(f"    {line}" for line in lines))


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "- {name: s, type: suspnd}",
            "app.yaml:12: spec.workflow.steps[0].type: step 's': unknown step type 'suspnd'; "
            "did you mean 'suspend'? (known: apply-application,",
        ),
        (
            "- {name: s, type: webhook-notification}",
            "step type 'webhook-notification' was renamed in KubeVela; use 'notification'",
        ),
        ("- {name: s, type: export-config}", "renamed in KubeVela; use 'export2config'"),
        ("- {name: s, type: export-secret}", "renamed in KubeVela; use 'export2secret'"),
        ("- {name: s, type: apply-terraform-config}", "needs the terraform addon"),
        ("- {name: s, type: apply-terraform-provider}", "needs the terraform addon"),
        ("- {name: s, type: check-metrics}", "needs a Prometheus server"),
        ("- {name: s, type: build-push-image}", "needs a kaniko Job"),
        ("- {name: s, type: vela-cli}", "needs a Job running the vela CLI"),
        (
            "- {name: s, type: apply-component, properties: {component: wbe}}",
            "spec.workflow.steps[0].properties.component: apply-component step 's' names "
            "unknown component 'wbe'; did you mean 'web'? (components: web)",
        ),
        (
            "- {name: s, type: apply-component}",
            "missing required property 'component' (step type apply-component)",
        ),
        (
            "- {name: s, type: apply-remaining, properties: {exceptions: [db]}}",
            "properties.exceptions[0]: apply-remaining step 's' names unknown component 'db'",
        ),
        (
            "- {name: s, type: suspend, properties: {duration: 1min}}",
            "properties.duration: step 's': duration: invalid duration '1min'; expected a Go "
            "duration such as 30s, 5m, 1h30m or 1.5h",
        ),
        (
            "- {name: s, type: suspend, properties: {duraton: 1m}}",
            "unknown property 'duraton'; did you mean 'duration'?",
        ),
        ("- {name: s, type: suspend, timeout: 5 minutes}", "steps[0].timeout: step 's': timeout"),
        (
            "- {name: s, type: notification, properties: {slack: {url: {value: x}}}}",
            "missing required property 'message'",
        ),
        (
            "- {name: s, type: notification, properties: {slack: {url: {valu: x}, message: {text: t}}}}",
            "properties.slack.url",
        ),
        (
            "- {name: s, type: notification, properties: {email: {from: {address: a, host: h, "
            "password: {value: p}, port: smtp}, to: [b], content: {subject: s, body: b}}}}",
            "properties.email.from.port: 'smtp' is not of type 'integer'",
        ),
        (
            "- {name: s, type: notification, properties: {dingding: {url: {value: x}, "
            "message: {msgtype: txt}}}}",
            "properties.dingding.message.msgtype",
        ),
        (
            "- {name: s, type: request, properties: {url: http://x, method: PATCH}}",
            "properties.method: 'PATCH' is not one of ['GET', 'POST', 'PUT', 'DELETE']",
        ),
        (
            "- {name: s, type: deploy, properties: {parallelism: 0}}",
            "properties.parallelism: 0 is less than the minimum of 1",
        ),
        (
            "- {name: s, type: deploy, properties: {auto: 'no'}}",
            "properties.auto: 'no' is not of type 'boolean'",
        ),
        (
            "- {name: s, type: restart-workflow, properties: {after: 5m, every: 1h}}",
            "has too many properties",
        ),
        ("- {name: s, type: restart-workflow, properties: {after: 5 min}}", "does not match"),
        (
            "- {name: s, type: apply-object, properties: {value: {kind: ConfigMap}}}",
            "missing required property 'apiVersion'",
        ),
        (
            "- {name: s, type: export2secret, properties: {secretName: x, data: {}, kind: tls}}",
            "properties.kind",
        ),
        (
            "- {name: s, type: export-service, properties: {ip: 1.2.3.4, port: '80', targetPort: 80}}",
            "properties.port",
        ),
        (
            "- {name: s, type: read-object, properties: {kind: Secret}}",
            "missing required property 'name'",
        ),
        (
            "- {name: s, type: depends-on-app, properties: {name: db}}",
            "missing required property 'namespace'",
        ),
        (
            "- {name: s, type: http-get-wait, properties: {url: 'http://x', interval: 5 sec}}",
            "properties.interval: step 's': interval: invalid duration '5 sec'",
        ),
        ("- {name: s, type: print-message-in-status}", "missing required property 'message'"),
        (
            "- {name: s, type: print-message-in-status, if: status.a.failed ==, properties: {message: m}}",
            "steps[0].if: step 's': invalid if expression 'status.a.failed ==': unexpected end",
        ),
        (
            "- {name: s, type: print-message-in-status, if: status.t.failed, properties: {message: m}}",
            "if expression reads status of unknown step 't'",
        ),
    ],
)
def test_step_errors(step: str, message: str, registry: Registry) -> None:
    assert message in error_of(steps(step), registry)


def test_depends_on_unknown_and_cycles(registry: Registry) -> None:
    message = error_of(
        steps("- {name: a, type: suspend, dependsOn: [bb]}", "- {name: b, type: suspend}"),
        registry,
    )
    assert "step 'a' depends on unknown step 'bb'; did you mean 'b'?" in message
    message = error_of(
        steps(
            "- {name: a, type: suspend, dependsOn: [b]}",
            "- {name: b, type: suspend, dependsOn: [a]}",
        ),
        registry,
    )
    assert "step dependsOn cycle: a -> b -> a" in message


def test_duplicate_step_names(registry: Registry) -> None:
    message = error_of(steps("- {name: a, type: suspend}", "- {name: a, type: suspend}"), registry)
    assert "spec.workflow.steps[1].name: duplicate step name 'a' (also at line 12)" in message


def test_inputs_must_name_an_output(registry: Registry) -> None:
    message = error_of(
        steps(
            "- {name: a, type: read-object, properties: {name: x}, outputs: [{name: phase, valueFrom: output.value.status}]}",
            "- {name: b, type: suspend, inputs: [{from: phsae}]}",
        ),
        registry,
    )
    assert "input from 'phsae', which no step outputs; did you mean 'phase'?" in message


def test_sub_steps_only_in_step_groups(registry: Registry) -> None:
    message = error_of(
        steps("- {name: a, type: suspend, subSteps: [{name: b, type: suspend}]}"), registry
    )
    assert "only a step-group step has subSteps" in message
    message = error_of(
        steps("- {name: a, type: step-group, subSteps: [{name: b, type: step-group}]}"), registry
    )
    assert "a step-group cannot hold another step-group" in message


def test_unnamed_steps_and_policies_get_kubevela_names(registry: Registry) -> None:
    text = app(
        """
policies:
  - type: topology
    properties: {clusters: [local], namespace: prod}
workflow:
  steps:
    - type: deploy
      properties: {policies: [topology-auto-gen-0]}
    - type: step-group
      subSteps:
        - type: suspend
        - type: suspend
"""
    )
    parsed = parse_application(load_documents(text, "app.yaml")[0])
    assert parsed.policies[0].name == "topology-auto-gen-0"
    assert [s.name for s in parsed.steps] == ["step-0", "step-1"]
    assert [s.name for s in parsed.steps[1].sub_steps] == ["step-1-0", "step-1-1"]
    [env] = environments(parsed)
    assert env.name == "topology-auto-gen-0"
    assert env.placements[0].namespace == "prod"
    render_text(text, registry)


def test_versioned_types_resolve_to_the_builtin(registry: Registry) -> None:
    text = HEADER.replace("type: webservice", "type: webservice@v1") + (
        "      traits:\n        - type: scaler@v2\n          properties: {replicas: 2}\n"
        "  workflow:\n    steps:\n      - {name: s, type: suspend@v1}\n"
    )
    assert "replicas: 2" in render_text(text, registry)


def test_apply_object_objects_render_with_their_step_as_source(registry: Registry) -> None:
    text = steps(
        "- name: extra",
        "  type: apply-object",
        "  properties:",
        "    value: {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}, data: {k: v}}",
    )
    out = render_text(text, registry)
    assert (
        "# Source: demo/extra\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: default\n"
        in out
    )


def test_user_step_definitions_work_like_user_component_definitions(
    tmp_path, registry: Registry
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "defs" / "smoke-test"
    folder.mkdir(parents=True)
    (folder / "definition.yaml").write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: WorkflowStepDefinition\nname: smoke-test\n"
        "description: Run the smoke tests.\n"
    )
    (folder / "schema.json").write_text(
        '{"type": "object", "additionalProperties": false, "required": ["suite"],'
        ' "properties": {"suite": {"type": "string"}}}'
    )
    user = Registry([tmp_path / "defs"])
    assert "smoke-test" in user.names("workflowstep")
    render_text(steps("- {name: s, type: smoke-test, properties: {suite: fast}}"), user)
    assert "missing required property 'suite' (step type smoke-test)" in error_of(
        steps("- {name: s, type: smoke-test}"), user
    )
    assert "unknown step type 'smoke-test'" in error_of(
        steps("- {name: s, type: smoke-test}"), registry
    )
