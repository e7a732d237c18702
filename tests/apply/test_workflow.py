"""Workflows run by ``sailplan apply`` on the real control plane: suspend, resume, groups,
notifications, failure branches and timeouts, with the state kept in the cluster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.apply.client import connect
from engine.apply.workflow import load
from tests.apply.conftest import EXAMPLES, get, sailplan
from tests.cluster import Cluster
from tests.workflow.test_http import Receiver

pytestmark = pytest.mark.cluster


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _slack_secret(cluster: Cluster, namespace: str, url: str) -> None:
    cluster.kubectl(
        "create", "secret", "generic", "shop-slack", "-n", namespace, f"--from-literal=url={url}"
    )


def _state(cluster: Cluster, app: str, namespace: str) -> dict[str, object]:
    client = connect(str(cluster.kubeconfig), cluster.context)
    try:
        return load(client, app, namespace)[1]["state"]  # type: ignore[return-value]
    finally:
        client.close()


def test_the_example_stops_at_suspend_and_resume_finishes_it(
    cluster: Cluster, namespace: str, receiver: Receiver, tmp_path: Path
) -> None:
    app = tmp_path / "shop.yaml"
    text = (EXAMPLES / "workflow-demo" / "shop.yaml").read_text()
    app.write_text(text.replace("namespace: default", f"namespace: {namespace}", 1))
    _slack_secret(cluster, namespace, f"{receiver.url}/services/T0/B0/secret-token")

    out = sailplan(cluster, "apply", str(app), "--timeout", "90s").output
    assert "workflow of shop suspended at approve; continue with: sailplan resume shop" in out
    assert get(cluster, "-n", namespace, "deployment", "db") is not None
    assert get(cluster, "-n", namespace, "deployment", "web", check=False) is None
    assert receiver.requests == []

    status = sailplan(cluster, "workflow", "status", "shop", "-n", namespace).output
    assert "phase: suspending (suspended at approve)" in status
    assert "check the database, then run `sailplan resume shop`" in status

    out = sailplan(cluster, "resume", "shop", "-n", namespace, "--timeout", "90s").output
    assert "workflow of shop: succeeded" in out
    assert get(cluster, "-n", namespace, "deployment", "web") is not None
    # The notification reached the receiver with KubeVela's message shape; the
    # Secret's URL was used and never printed.
    assert [r["path"] for r in receiver.requests] == ["/services/T0/B0/secret-token"]
    assert json.loads(receiver.requests[0]["body"]) == {"text": "shop: the web tier is rolling out"}
    assert "secret-token" not in out
    state = _state(cluster, "shop", namespace)
    phases = {s["name"]: s["phase"] for s in state["steps"]}  # type: ignore[index, union-attr]
    assert phases == {
        "database": "succeeded",
        "approve": "succeeded",
        "rollout": "succeeded",
        "rollout-failed": "skipped",
    }
    status = sailplan(cluster, "workflow", "status", "shop", "-n", namespace).output
    assert "phase: succeeded" in status


FAILING = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: flaky, namespace: {namespace}}}
spec:
  components:
    - {{name: web, type: webservice, properties: {{image: nginx:1.27}}}}
  workflow:
    steps:
      - name: read-config
        type: read-object
        properties: {{apiVersion: v1, kind: ConfigMap, name: missing, namespace: {namespace}}}
      - name: web
        type: apply-component
        properties: {{component: web}}
      - name: tell
        type: notification
        if: status.read-config.failed
        properties:
          slack:
            url: {{value: "{url}/alert"}}
            message: {{text: "read-config failed"}}
"""


def test_an_if_failed_step_runs_only_after_a_failure(
    cluster: Cluster, namespace: str, receiver: Receiver, tmp_path: Path
) -> None:
    app = tmp_path / "flaky.yaml"
    app.write_text(FAILING.format(namespace=namespace, url=receiver.url))
    result = sailplan(cluster, "apply", str(app), "--timeout", "60s", check=False)
    assert result.exit_code == 1
    assert "workflow failed: flaky: step 'read-config': ConfigMap/" in result.output
    assert [r["path"] for r in receiver.requests] == ["/alert"]
    assert get(cluster, "-n", namespace, "deployment", "web", check=False) is None

    cluster.kubectl("create", "configmap", "missing", "-n", namespace)
    receiver.requests.clear()
    sailplan(cluster, "workflow", "restart", "flaky", "-n", namespace, "--timeout", "60s")
    assert receiver.requests == []  # nothing failed: the if step is skipped
    assert get(cluster, "-n", namespace, "deployment", "web") is not None


TIMED = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: slow, namespace: {namespace}}}
spec:
  components:
    - {{name: web, type: webservice, properties: {{image: nginx:1.27}}}}
  workflow:
    steps:
      - name: gate
        type: suspend
        timeout: 2s
      - name: web
        type: apply-component
        properties: {{component: web}}
"""


def test_a_timed_out_step_fails_the_workflow_with_its_name(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    app = tmp_path / "slow.yaml"
    app.write_text(TIMED.format(namespace=namespace))
    result = sailplan(cluster, "apply", str(app), "--timeout", "30s", check=False)
    assert result.exit_code == 1
    assert "step 'gate' timed out after 2s" in result.output
    status = sailplan(cluster, "workflow", "status", "slow", "-n", namespace).output
    assert "phase: failed" in status
    assert "Timeout" in status
    assert get(cluster, "-n", namespace, "deployment", "web", check=False) is None


def test_terminate_stops_a_suspended_workflow(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    app = tmp_path / "slow.yaml"
    app.write_text(TIMED.format(namespace=namespace).replace("        timeout: 2s\n", ""))
    out = sailplan(cluster, "apply", str(app), "--timeout", "30s").output
    assert "suspended at gate" in out
    out = sailplan(cluster, "workflow", "terminate", "slow", "-n", namespace).output
    assert "workflow of slow terminated" in out
    status = sailplan(cluster, "workflow", "status", "slow", "-n", namespace).output
    assert "phase: terminated" in status
    result = sailplan(cluster, "resume", "slow", "-n", namespace, check=False)
    assert result.exit_code == 1 and "not suspended" in result.output


BASE = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: base, namespace: {namespace}}}
spec:
  components:
    - {{name: db, type: worker, properties: {{image: postgres:16}}}}
"""

FRONT = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  components:
    - {{name: {name}-web, type: webservice, properties: {{image: nginx:1.27}}}}
  workflow:
    steps:
      - name: wait-for-base
        type: depends-on-app
        properties: {{name: {depends}, namespace: {namespace}}}
      - name: web
        type: apply-component
        properties: {{component: {name}-web}}
"""


def test_depends_on_app_waits_for_the_other_application(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    (tmp_path / "base.yaml").write_text(BASE.format(namespace=namespace))
    (tmp_path / "front.yaml").write_text(
        FRONT.format(name="front", depends="base", namespace=namespace)
    )
    out = sailplan(cluster, "apply", str(tmp_path), "--timeout", "60s").output
    assert "workflow of front: succeeded" in out
    assert get(cluster, "-n", namespace, "deployment", "front-web") is not None

    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "app.yaml").write_text(
        FRONT.format(name="lonely", depends="nowhere", namespace=namespace)
    )
    out = sailplan(cluster, "apply", str(lonely), "--timeout", "3s").output
    assert "workflow of lonely: executing" in out
    status = sailplan(cluster, "workflow", "status", "lonely", "-n", namespace).output
    assert f"waiting for application {namespace}/nowhere: not applied" in status
    assert get(cluster, "-n", namespace, "deployment", "lonely-web", check=False) is None


REF = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: adopt, namespace: {namespace}}}
spec:
  components:
    - name: legacy
      type: ref-objects
      properties:
        objects:
          - {{resource: configmap, name: legacy-settings}}
          - {{resource: secrets, labelSelector: {{app: legacy}}}}
      traits:
        - type: labels
          properties: {{team: shop}}
"""


def test_ref_objects_are_read_from_the_cluster_when_applying(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    cluster.kubectl(
        "create", "configmap", "legacy-settings", "-n", namespace, "--from-literal=mode=old"
    )
    cluster.kubectl(
        "create", "secret", "generic", "legacy-a", "-n", namespace, "--from-literal=k=v"
    )
    cluster.kubectl("label", "secret", "legacy-a", "-n", namespace, "app=legacy")
    app = tmp_path / "adopt.yaml"
    app.write_text(REF.format(namespace=namespace))
    from click.testing import CliRunner

    from cli import main

    render = CliRunner().invoke(main, ["render", str(app)])
    assert render.exit_code == 0
    assert "is read from the cluster when applied: configmap/legacy-settings" in render.output
    sailplan(cluster, "apply", str(app), "--take-over", "--timeout", "60s")
    settings = get(cluster, "-n", namespace, "configmap", "legacy-settings")
    assert settings is not None and settings["data"] == {"mode": "old"}
    labels = settings["metadata"]["labels"]
    assert labels["team"] == "shop" and labels["app.oam.dev/name"] == "adopt"
    secret = get(cluster, "-n", namespace, "secret", "legacy-a")
    assert secret is not None and secret["metadata"]["labels"]["app.oam.dev/component"] == "legacy"
