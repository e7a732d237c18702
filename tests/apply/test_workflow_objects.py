"""Workflow steps that write, read and delete objects, run by ``sailplan apply`` on the real
control plane: export-data, export-service, collect-service-endpoints, the config steps,
clean-jobs, apply-deployment, deploy2runtime and restart-workflow."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from tests.apply.conftest import get, sailplan
from tests.cluster import Cluster

pytestmark = pytest.mark.cluster

HEAD = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  components:
    - name: web
      type: webservice
      properties: {{image: nginx:1.27, ports: [{{port: 80, expose: true}}]}}
"""


def _app(tmp_path: Path, name: str, namespace: str, rest: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEAD.format(name=name, namespace=namespace) + rest.format(ns=namespace))
    return path


def _decoded(secret: dict[str, object], key: str) -> str:
    data = secret["data"]
    assert isinstance(data, dict)
    return base64.b64decode(data[key]).decode()


CONFIGS = """\
  workflow:
    steps:
      - name: web
        type: apply-component
        properties: {{component: web}}
      - name: save
        type: create-config
        properties:
          name: registry
          template: image-registry
          config: {{url: "https://registry.example", insecure: false}}
      - name: other
        type: create-config
        properties: {{name: mirror, template: image-registry, config: {{url: "https://mirror.example"}}}}
      - name: read
        type: read-config
        properties: {{name: registry}}
        outputs:
          - {{name: url, valueFrom: output.$returns.config.url}}
      - name: list
        type: list-config
        properties: {{template: image-registry}}
        outputs:
          - {{name: count, valueFrom: 'output.$returns.configs[1].name'}}
      - name: export
        type: export-data
        inputs:
          - {{from: url, parameterKey: data.url}}
          - {{from: count, parameterKey: data.second}}
        properties: {{name: exported, data: {{fixed: "yes"}}}}
      - name: secret
        type: export-data
        properties: {{name: exported-secret, kind: Secret, data: {{token: s3cret-value}}}}
      - name: service
        type: export-service
        properties: {{name: legacy-db, ip: 10.0.0.7, port: 5432, targetPort: 15432}}
      - name: endpoints
        type: collect-service-endpoints
        properties: {{components: [web]}}
        outputs:
          - {{name: web-url, valueFrom: value.url}}
      - name: record
        type: export-data
        inputs:
          - {{from: web-url, parameterKey: data.url}}
        properties: {{name: endpoints, data: {{}}}}
      - name: drop
        type: delete-config
        properties: {{name: mirror}}
"""


def test_config_export_and_endpoint_steps_write_kubevelas_objects(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    app = _app(tmp_path, "cfg", namespace, CONFIGS)
    out = sailplan(cluster, "apply", str(app), "--timeout", "90s").output
    assert "workflow of cfg: succeeded" in out
    assert "s3cret-value" not in out

    registry = get(cluster, "-n", namespace, "secret", "registry")
    assert registry is not None
    assert registry["metadata"]["labels"] == {
        "config.oam.dev/catalog": "velacore-config",
        "config.oam.dev/type": "image-registry",
    }
    content = json.loads(_decoded(registry, "input-properties"))
    assert content == {"url": "https://registry.example", "insecure": False}
    # delete-config removed the second config after list-config saw both.
    assert get(cluster, "-n", namespace, "secret", "mirror", check=False) is None

    exported = get(cluster, "-n", namespace, "configmap", "exported")
    assert exported is not None
    assert exported["data"] == {
        "fixed": "yes",
        "url": "https://registry.example",
        "second": "registry",
    }
    secret = get(cluster, "-n", namespace, "secret", "exported-secret")
    assert secret is not None and _decoded(secret, "token") == "s3cret-value"

    service = get(cluster, "-n", namespace, "service", "legacy-db")
    assert service is not None
    assert service["spec"]["ports"][0]["port"] == 5432
    assert service["spec"]["ports"][0]["targetPort"] == 15432
    endpoints = get(cluster, "-n", namespace, "endpoints", "legacy-db")
    assert endpoints is not None
    assert endpoints["subsets"][0]["addresses"][0]["ip"] == "10.0.0.7"
    assert endpoints["subsets"][0]["ports"][0]["port"] == 15432

    recorded = get(cluster, "-n", namespace, "configmap", "endpoints")
    assert recorded is not None
    assert recorded["data"] == {"url": f"http://web.{namespace}:80"}


FAILING_CONFIG = """\
  workflow:
    steps:
      - name: read
        type: read-config
        properties: {{name: absent}}
"""


def test_reading_a_missing_config_fails_the_workflow(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    app = _app(tmp_path, "nocfg", namespace, FAILING_CONFIG)
    result = sailplan(cluster, "apply", str(app), "--timeout", "60s", check=False)
    assert result.exit_code == 1
    assert f"step 'read': config {namespace}/absent not found" in result.output


def test_delete_config_refuses_a_secret_that_is_not_a_config(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    cluster.kubectl("create", "secret", "generic", "plain", "-n", namespace, "--from-literal=a=b")
    rest = "  workflow:\n    steps:\n      - {{name: drop, type: delete-config, properties: {{name: plain}}}}\n"
    app = _app(tmp_path, "dropper", namespace, rest)
    result = sailplan(cluster, "apply", str(app), "--timeout", "60s", check=False)
    assert result.exit_code == 1
    assert f"Secret/{namespace}/plain is not a config" in result.output
    assert get(cluster, "-n", namespace, "secret", "plain") is not None


JOBS = """\
  workflow:
    steps:
      - name: migrate
        type: apply-deployment
        properties: {{image: busybox:1.36, replicas: 2, cmd: [sleep, "3600"]}}
      - name: clean
        type: clean-jobs
      - name: clean-other
        type: clean-jobs
        properties: {{labelselector: {{purpose: smoke}}}}
"""

JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}, namespace: {ns}, labels: {labels}}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: busybox:1.36}}]
"""


def test_apply_deployment_waits_until_ready_and_clean_jobs_deletes_by_label(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    for name, labels in (
        ("by-app", "{workflow.oam.dev/name: jobs}"),
        ("smoke", "{purpose: smoke}"),
        ("keep", "{purpose: keep}"),
    ):
        manifest = JOB.format(name=name, ns=namespace, labels=labels)
        cluster.kubectl("apply", "-f", "-", input=manifest)
    app = _app(tmp_path, "jobs", namespace, JOBS)
    out = sailplan(cluster, "apply", str(app), "--timeout", "120s").output
    assert "workflow of jobs: succeeded" in out

    deploy = get(cluster, "-n", namespace, "deployment", "migrate")
    assert deploy is not None
    assert deploy["status"]["readyReplicas"] == 2
    labels = {"workflow.oam.dev/step-name": "jobs-migrate"}
    assert deploy["spec"]["selector"]["matchLabels"] == labels
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["command"]) == ("migrate", ["sleep", "3600"])

    def job_gone(name: str) -> bool:
        found = get(cluster, "-n", namespace, "job", name, check=False)
        return found is None or bool(found["metadata"].get("deletionTimestamp"))

    assert job_gone("by-app") and job_gone("smoke")
    assert get(cluster, "-n", namespace, "job", "keep") is not None


REMOTE = """\
  policies:
    - {{name: eu, type: topology, properties: {{clusters: [eu-1]}}}}
  workflow:
    steps:
      - name: web
        type: apply-component
        properties: {{component: web}}
      - name: export
        type: export-data
        properties: {{data: {{a: b}}, topology: eu}}
"""


def test_steps_that_reach_other_clusters_say_so(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    rest = (
        "  workflow:\n    steps:\n"
        "      - {{name: rt, type: deploy2runtime, properties: {{clusters: [local, eu-2]}}}}\n"
    )
    app = _app(tmp_path, "runtime", namespace, rest)
    result = sailplan(cluster, "apply", str(app), "--timeout", "60s", check=False)
    assert result.exit_code == 1
    assert "step 'rt': clusters eu-2: sailplan's workflow runner reaches only" in result.output
    assert get(cluster, "-n", namespace, "deployment", "web", check=False) is None

    app = _app(tmp_path, "remote", namespace, REMOTE)
    result = sailplan(cluster, "apply", str(app), "--timeout", "60s", check=False)
    assert result.exit_code == 1
    assert "step 'export': topology 'eu': sailplan's workflow runner reaches only" in result.output
    assert "other clusters are not supported yet" in result.output


def test_deploy2runtime_on_the_local_cluster_deploys_the_application(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    rest = "  workflow:\n    steps:\n      - {{name: rt, type: deploy2runtime}}\n"
    app = _app(tmp_path, "rt", namespace, rest)
    out = sailplan(cluster, "apply", str(app), "--timeout", "90s").output
    assert "workflow of rt: succeeded" in out
    assert get(cluster, "-n", namespace, "deployment", "web") is not None
    assert get(cluster, "-n", namespace, "service", "web") is not None


RESTART = """\
  workflow:
    steps:
      - name: mark
        type: export-data
        properties: {{name: marker, data: {{run: "yes"}}}}
      - name: again
        type: restart-workflow
        properties: {{after: 1s}}
"""


def test_restart_workflow_is_honoured_by_the_next_resume(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    app = _app(tmp_path, "cron", namespace, RESTART)
    out = sailplan(cluster, "apply", str(app), "--timeout", "60s").output
    assert "workflow of cron: succeeded" in out
    status = sailplan(cluster, "workflow", "status", "cron", "-n", namespace).output
    assert "the workflow restarts at " in status

    cluster.kubectl("delete", "configmap", "marker", "-n", namespace)
    time.sleep(1.5)
    out = sailplan(cluster, "resume", "cron", "-n", namespace, "--timeout", "60s").output
    assert "workflow of cron: succeeded" in out
    # The restarted run exported the marker again.
    assert get(cluster, "-n", namespace, "configmap", "marker") is not None
