"""The pure parts of the object steps: KubeVela's shapes, filters and restart times."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.apply.objectsteps import (
    RESTART_AT,
    config_content,
    deployment,
    filter_endpoints,
    ingress_endpoints,
    interval_seconds,
    restart_due,
    restart_workflow,
    service_endpoints,
    topology_check,
)
from engine.definitions import Registry
from engine.errors import SailplanError
from engine.model import load_documents, parse_application
from engine.workflow import StepCall
from engine.workflow.state import StepState
from tests.conftest import build_text
from tests.workflow.conftest import workflow_plan

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC).timestamp()


def _call(registry: Registry, properties: dict[str, Any]) -> StepCall:
    plan = workflow_plan(
        "workflow:\n  steps:\n    - {name: again, type: restart-workflow, properties: {after: 5m}}",
        registry,
    )
    step = plan.steps[0].step
    return StepCall(step, properties, {}, {}, StepState("again", "restart-workflow"), NOW)


def test_apply_deployment_renders_kubevelas_deployment() -> None:
    obj = deployment("shop", "prod", "migrate", {"image": "busybox", "replicas": 2, "cmd": ["ls"]})
    label = {"workflow.oam.dev/step-name": "shop-migrate"}
    assert obj == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "migrate", "namespace": "prod"},
        "spec": {
            "selector": {"matchLabels": label},
            "replicas": 2,
            "template": {
                "metadata": {"labels": label},
                "spec": {
                    "containers": [{"name": "migrate", "image": "busybox", "command": ["ls"]}]
                },
            },
        },
    }
    plain = deployment("shop", "prod", "m", {"image": "busybox"})
    assert plain["spec"]["replicas"] == 1
    assert "command" not in plain["spec"]["template"]["spec"]["containers"][0]


def _svc(name: str, component: str, ports: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    meta = {"name": name, "namespace": "ns", "labels": {"app.oam.dev/component": component}}
    return {
        "metadata": meta,
        "spec": {"ports": ports, **extra.get("spec", {})},
        **extra.get("rest", {}),
    }


def test_service_endpoints_are_inner_hosts_and_load_balancer_addresses() -> None:
    web = _svc("web", "web", [{"port": 80, "name": "http"}, {"port": 9090, "name": "metrics"}])
    lb = _svc(
        "edge",
        "edge",
        [{"port": 443}],
        spec={"type": "LoadBalancer"},
        rest={"status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}},
    )
    found = service_endpoints([web, lb])
    hosts = [(e["component"], e["endpoint"]["host"], e["endpoint"]["port"]) for e in found]
    assert hosts == [
        ("edge", "edge.ns", 443),
        ("edge", "203.0.113.7", 443),
        ("web", "web.ns", 80),
        ("web", "web.ns", 9090),
    ]
    assert found[0]["endpoint"]["inner"] is True and "inner" not in found[1]["endpoint"]
    assert found[0]["ref"] == {
        "apiVersion": "v1",
        "kind": "Service",
        "namespace": "ns",
        "name": "edge",
    }

    assert [e["endpoint"]["host"] for e in filter_endpoints(found, outer=True)] == ["203.0.113.7"]
    assert [e["endpoint"]["port"] for e in filter_endpoints(found, port_name="metrics")] == [9090]
    assert [e["endpoint"]["host"] for e in filter_endpoints(found, port=80)] == ["web.ns"]
    assert filter_endpoints(found, components=["nope"]) == []
    assert len(filter_endpoints(found, components=["web"])) == 2


def test_ingress_endpoints_use_the_rule_host_and_tls_port() -> None:
    ing = {
        "metadata": {"name": "web", "namespace": "ns", "labels": {}},
        "spec": {
            "tls": [{"hosts": ["secure.example.com"]}],
            "rules": [
                {"host": "secure.example.com", "http": {"paths": [{"path": "/api"}]}},
                {"host": "plain.example.com", "http": {"paths": [{"path": "/"}]}},
                {"http": {"paths": [{"path": "/"}]}},
            ],
        },
    }
    found = [e["endpoint"] for e in ingress_endpoints([ing])]
    assert [(e["host"], e["port"], e["path"]) for e in found] == [
        ("secure.example.com", 443, "/api"),
        ("plain.example.com", 80, "/"),
    ]


def test_config_content_reads_input_properties() -> None:
    raw = base64.b64encode(json.dumps({"url": "https://r.example"}).encode()).decode()
    assert config_content({"data": {"input-properties": raw}}) == {"url": "https://r.example"}
    assert config_content({"data": {}}) == {}
    bad = base64.b64encode(b"[1]").decode()
    with pytest.raises(ValueError, match="not a JSON object"):
        config_content({"data": {"input-properties": bad}})


def test_restart_workflow_at_after_and_every(registry: Registry) -> None:
    at = restart_workflow(_call(registry, {"at": "2026-02-01T08:00:00Z"}))
    assert at.outcome == "done"
    assert at.message == f"{RESTART_AT}2026-02-01T08:00:00Z"
    after = restart_workflow(_call(registry, {"after": "5m"}))
    assert after.message == f"{RESTART_AT}2026-01-15T12:05:00Z"
    every = restart_workflow(_call(registry, {"every": "1d"}))
    assert every.message == f"{RESTART_AT}2026-01-16T12:00:00Z (then every 1d)"


@pytest.mark.parametrize(
    ("properties", "found"),
    [({}, "found 0: none"), ({"at": "2026-02-01T08:00:00Z", "after": "5m"}, "found 2: at, after")],
)
def test_restart_workflow_needs_exactly_one_time(
    registry: Registry, properties: dict[str, Any], found: str
) -> None:
    result = restart_workflow(_call(registry, properties))
    assert result.outcome == "failed"
    assert result.message == f"exactly one of 'at', 'after' or 'every' must be given ({found})"


def test_restart_due_reads_the_stored_state() -> None:
    step = {
        "name": "again",
        "type": "restart-workflow",
        "phase": "succeeded",
        "message": f"{RESTART_AT}2026-01-15T12:05:00Z",
    }
    state = {
        "steps": [{"name": "g", "type": "step-group", "phase": "succeeded", "subSteps": [step]}]
    }
    assert not restart_due(state, NOW)
    assert restart_due(state, NOW + 300)
    assert not restart_due({"steps": [{**step, "phase": "failed"}]}, NOW + 300)


def test_interval_seconds() -> None:
    assert [interval_seconds(t) for t in ("30s", "5m", "1h", "2d")] == [30, 300, 3600, 172800]
    with pytest.raises(ValueError, match="invalid interval '5w'"):
        interval_seconds("5w")


APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: ns}
spec:
  components: [{name: web, type: webservice, properties: {image: nginx}}]
  policies:
    - {name: here, type: topology, properties: {clusters: [local]}}
    - {name: there, type: topology, properties: {clusters: [eu-1]}}
    - {name: plain, type: topology, properties: {}}
    - {name: picked, type: topology, properties: {clusterLabelSelector: {region: eu}}}
"""


def test_topology_check_allows_only_the_local_cluster() -> None:
    app = parse_application(load_documents(APP, "app.yaml")[0])
    assert topology_check(app, None) is None
    assert topology_check(app, "here") is None
    assert topology_check(app, "plain") is None
    picked = topology_check(app, "picked")
    assert picked is not None and "topology 'picked'" in picked
    there = topology_check(app, "there")
    assert there is not None and "topology 'there'" in there
    assert "other clusters are not supported yet" in there
    assert topology_check(app, "nowhere") == (
        "no topology policy named 'nowhere' (topology policies: here, picked, plain, there)"
    )


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{name: s, type: apply-deployment, properties: {replicas: 2}}", "'image'"),
        (
            "{name: s, type: apply-deployment, properties: {image: x, replicas: '2'}}",
            "properties.replicas: '2' is not of type 'integer'",
        ),
        (
            "{name: s, type: apply-deployment, properties: {image: x, cmd: sleep 1}}",
            "properties.cmd: 'sleep 1' is not of type 'array'",
        ),
        (
            "{name: s, type: export-data, properties: {kind: ConfigMaps, data: {}}}",
            "properties.kind: 'ConfigMaps' is not one of ['ConfigMap', 'Secret']",
        ),
        ("{name: s, type: export-data, properties: {name: x}}", "'data'"),
        ("{name: s, type: export-service, properties: {ip: 1.2.3.4, port: 80}}", "'targetPort'"),
        ("{name: s, type: create-config, properties: {name: x}}", "'config'"),
        (
            "{name: s, type: create-config, properties: {name: x, config: url}}",
            "properties.config: 'url' is not of type 'object'",
        ),
        ("{name: s, type: read-config, properties: {namespace: x}}", "'name'"),
        ("{name: s, type: delete-config, properties: {}}", "'name'"),
        ("{name: s, type: list-config, properties: {namespace: x}}", "'template'"),
        (
            "{name: s, type: clean-jobs, properties: {labelselector: {tier: 1}}}",
            "properties.labelselector.tier: 1 is not of type 'string'",
        ),
        (
            "{name: s, type: collect-service-endpoints, properties: {protocal: ftp}}",
            "properties.protocal: 'ftp' is not one of ['http', 'https']",
        ),
        (
            "{name: s, type: deploy2runtime, properties: {clusters: local}}",
            "properties.clusters: 'local' is not of type 'array'",
        ),
        (
            "{name: s, type: restart-workflow, properties: {at: tomorrow}}",
            "properties.at: 'tomorrow' does not match",
        ),
    ],
)
def test_step_parameter_errors(step: str, message: str, registry: Registry) -> None:
    text = APP.replace("  policies:", f"  workflow:\n    steps:\n      - {step}\n  policies:")
    with pytest.raises(SailplanError) as info:
        build_text(text, registry)
    assert "app.yaml:" in str(info.value)
    assert message in str(info.value)
