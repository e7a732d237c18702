"""The test control plane is a working cluster: workloads run, namespaces go, clusters are apart."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import Cluster

pytestmark = pytest.mark.cluster

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.k8s.io/pause:3.10}]
"""


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)
    return result


def get(cluster: Cluster, *args: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", "-o", "json", *args).stdout)


def condition(obj: dict[str, Any], kind: str) -> str | None:
    for item in obj.get("status", {}).get("conditions") or []:
        if item["type"] == kind:
            return str(item["status"])
    return None


def available(deployment: dict[str, Any]) -> bool:
    status = deployment.get("status", {})
    return (
        status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
        and condition(deployment, "Available") == "True"
        and status.get("availableReplicas") == deployment["spec"]["replicas"]
    )


def test_a_deployment_becomes_available(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)

    def web() -> dict[str, Any] | None:
        deployment = get(cluster, "-n", namespace, "deployment", "web")
        return deployment if available(deployment) else None

    deployment = wait_for(web, "deployment web to become Available")

    assert deployment["status"]["availableReplicas"] == 3
    assert deployment["status"]["updatedReplicas"] == 3
    pods = get(cluster, "-n", namespace, "pods", "-l", "app=web")["items"]
    assert len(pods) == 3
    assert all(p["spec"]["nodeName"] == "kwok-node-0" for p in pods)  # bound by kube-scheduler
    assert all(p["status"]["phase"] == "Running" for p in pods)  # played by kwok


def test_a_job_completes(cluster: Cluster, namespace: str) -> None:
    from kubernetes import client

    batch = client.BatchV1Api(cluster.api_client())
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name="once"),
        spec=client.V1JobSpec(
            backoff_limit=0,
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[
                        client.V1Container(name="once", image="registry.k8s.io/pause:3.10")
                    ],
                )
            ),
        ),
    )
    batch.create_namespaced_job(namespace, job)

    def complete() -> bool:
        status = batch.read_namespaced_job_status("once", namespace).status
        return any(c.type == "Complete" and c.status == "True" for c in status.conditions or [])

    wait_for(complete, "job once to complete")
    assert batch.read_namespaced_job_status("once", namespace).status.succeeded == 1


def test_namespace_deletion_finishes(cluster: Cluster) -> None:
    name = f"gone-{time.monotonic_ns() % 10**9}"
    cluster.kubectl("create", "namespace", name)
    wait_for(
        lambda: cluster.kubectl("get", "sa", "default", "-n", name, check=False).returncode == 0,
        "the default ServiceAccount",
    )
    cluster.kubectl("apply", "-n", name, "-f", "-", input=DEPLOYMENT)
    cluster.kubectl("create", "configmap", "settings", "-n", name, "--from-literal=a=b")
    wait_for(lambda: available(get(cluster, "-n", name, "deployment", "web")), "deployment web")

    cluster.kubectl("delete", "namespace", name, "--wait=true", "--timeout=90s", timeout=120)

    result = cluster.kubectl("get", "namespace", name, check=False)
    assert result.returncode != 0
    assert "NotFound" in result.stderr


def test_the_second_cluster_is_another_cluster(
    cluster: Cluster, second_cluster: Cluster, namespace: str, multi_kubeconfig: Path
) -> None:
    cluster.kubectl("create", "configmap", "only-here", "-n", namespace, "--from-literal=a=b")

    assert second_cluster.server != cluster.server
    assert second_cluster.context != cluster.context
    missing = second_cluster.kubectl("get", "namespace", namespace, check=False)
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr
    # Its own controllers, scheduler and kwok node: workloads run there too.
    second_cluster.kubectl("create", "namespace", namespace)
    wait_for(
        lambda: (
            second_cluster.kubectl("get", "sa", "default", "-n", namespace, check=False).returncode
            == 0
        ),
        "the default ServiceAccount in the second cluster",
    )
    second_cluster.kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    wait_for(lambda: available(get(second_cluster, "-n", namespace, "deployment", "web")), "web")
    assert get(second_cluster, "-n", namespace, "configmaps")["items"][0]["metadata"]["name"] == (
        "kube-root-ca.crt"
    )
    assert not get(cluster, "-n", namespace, "deployments")["items"]

    both = Cluster("both", multi_kubeconfig, cluster.server, cluster.context)
    contexts = both.kubectl("config", "get-contexts", "-o", "name").stdout.split()
    assert sorted(contexts) == sorted([cluster.context, second_cluster.context])
    assert both.kubectl("config", "current-context").stdout.strip() == cluster.context
    for context in contexts:
        both.kubectl("--context", context, "get", "namespace", namespace)
    second_cluster.kubectl("delete", "namespace", namespace, "--wait=false")
