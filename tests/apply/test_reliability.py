"""Interrupted applies: the API server stopped mid-apply, and SIGINT. Both end in a clean
error naming the object; the next apply converges; no labelled object escapes the inventory."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.apply import releases
from tests.apply.conftest import (
    get,
    sailplan,
    sailplan_process,
    start_apiserver,
    stop_apiserver,
    wait_for,
)
from tests.cluster import Cluster

pytestmark = pytest.mark.cluster

Write = Callable[[str, str], Path]


def chain_app(ns: str, replicas: int = 1) -> str:
    """Three components, each waiting for the one before (so an apply takes a while)."""
    parts = []
    for i, dep in ((0, None), (1, 0), (2, 1)):
        depends = f"\n    dependsOn: [c{dep}]" if dep is not None else ""
        parts.append(
            f"""\
  - name: c{i}
    type: webservice{depends}
    properties:
      image: registry.k8s.io/pause:3.10
      ports: [{{port: 80, expose: true}}]
    traits:
    - type: scaler
      properties: {{replicas: {replicas}}}"""
        )
    body = "\n".join(parts)
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: chain, namespace: {ns}}}
spec:
  components:
{body}
"""


def labelled(cluster: Cluster, ns: str) -> set[tuple[str, str]]:
    found = get(
        cluster, "deployments,services,configmaps", "-n", ns, "-l", "app.oam.dev/name=chain"
    )
    assert found is not None
    return {(o["kind"], o["metadata"]["name"]) for o in found["items"]}


def inventory(cluster: Cluster, ns: str) -> set[tuple[str, str]]:
    found = get(cluster, "secrets", "-n", ns, "-l", "owner=sailplan,name=chain")
    assert found is not None
    listed: set[tuple[str, str]] = set()
    for secret in found["items"]:
        listed |= {(e.kind, e.name) for e in releases.decode(secret).entries}
    return listed


def latest_status(cluster: Cluster, ns: str) -> str:
    found = get(cluster, "secrets", "-n", ns, "-l", "owner=sailplan,name=chain")
    assert found is not None
    latest = max(found["items"], key=lambda s: int(s["metadata"]["labels"]["version"]))
    return str(latest["metadata"]["labels"]["status"])


def test_api_server_stopped_mid_apply(
    cluster: Cluster, namespace: str, write: Write, control_plane: Any
) -> None:
    if control_plane is None:
        pytest.skip("needs the session's own control plane to stop its API server")
    from engine.apply.applier import ApplyOptions, Event
    from engine.apply.client import connect
    from engine.apply.deploy import apply_release
    from engine.apply.errors import UnreachableError
    from engine.apply.plan import release_specs
    from engine.definitions import Registry
    from engine.environments import build_every_environment
    from engine.workspace import read_units

    app = write("chain.yaml", chain_app(namespace))
    units = read_units([str(app)])
    (spec,) = release_specs(units, build_every_environment(units, Registry()))
    client = connect(str(cluster.kubeconfig), cluster.context)
    stopped: list[tuple[str, list[str]]] = []

    def on_event(event: Event) -> None:
        if event.type == "change" and event.subject.startswith("Deployment/") and not stopped:
            stopped.append(stop_apiserver(control_plane))

    try:
        with pytest.raises(UnreachableError) as caught:
            apply_release(client, spec, ApplyOptions(timeout=60), on_event=on_event)
    finally:
        if stopped:
            start_apiserver(control_plane, stopped[0])
    message = str(caught.value)
    # The first wave (component c0) was applied; waiting for it, the server went away.
    assert re.match(rf"(Service|Deployment)/{namespace}/c0: cannot reach the API server", message)
    assert "connection refused" in message
    wait_for(
        lambda: cluster.kubectl("get", "--raw", "/readyz", check=False).returncode == 0, "readyz"
    )
    converged = sailplan(cluster, "apply", str(app), "--timeout", "3m")
    assert "deployed" in converged.output
    assert latest_status(cluster, namespace) == "deployed"
    assert labelled(cluster, namespace) <= inventory(cluster, namespace)
    assert labelled(cluster, namespace) == {
        (k, f"c{i}") for k in ("Deployment", "Service") for i in range(3)
    }


def test_sigint_mid_apply(cluster: Cluster, namespace: str, write: Write) -> None:
    app = write("chain.yaml", chain_app(namespace))
    process = sailplan_process(cluster, "apply", str(app), "-o", "json", "--timeout", "3m")
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        event = json.loads(line)
        seen.append(event)
        if event["type"] == "change":
            process.send_signal(signal.SIGINT)
            break
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.startswith("error: interrupted while working on "), err
    assert "Traceback" not in err
    assert labelled(cluster, namespace) <= inventory(cluster, namespace)
    assert latest_status(cluster, namespace) in ("failed", "pending")

    converged = sailplan(cluster, "apply", str(app), "--timeout", "3m")
    assert "revision 2 deployed" in converged.output
    assert latest_status(cluster, namespace) == "deployed"
    assert labelled(cluster, namespace) <= inventory(cluster, namespace)
    for i in range(3):
        deployment = get(cluster, "deployment", f"c{i}", "-n", namespace)
        assert deployment is not None and deployment["status"].get("availableReplicas") == 1
