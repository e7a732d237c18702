"""kstatus rules, ported: each kind's verdict on live objects as controllers leave them."""

from __future__ import annotations

from typing import Any

import pytest

from engine.apply import health


def deployment(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "generation": 2},
        "spec": {"replicas": 2, "progressDeadlineSeconds": 600},
        "status": {"observedGeneration": 2, **status},
    }


AVAILABLE = [
    {"type": "Available", "status": "True"},
    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
]


def test_a_rolled_out_deployment_is_current() -> None:
    obj = deployment(
        replicas=2, updatedReplicas=2, readyReplicas=2, availableReplicas=2, conditions=AVAILABLE
    )
    assert health.status(obj) == health.Health(health.CURRENT, "Ready:2/2")


def test_a_stale_status_is_never_healthy() -> None:
    obj = deployment(
        replicas=2, updatedReplicas=2, readyReplicas=2, availableReplicas=2, conditions=AVAILABLE
    )
    obj["metadata"]["generation"] = 3
    found = health.status(obj)
    assert found.status == health.IN_PROGRESS
    assert "generation 3 not yet observed" in found.message


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ({"replicas": 1, "updatedReplicas": 1}, "updated replicas: 1/2"),
        (
            {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 1},
            "ready replicas: 1/2",
        ),
        (
            {"replicas": 3, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2},
            "pending termination: 1",
        ),
    ],
)
def test_a_rollout_in_progress_says_why(status: dict[str, Any], reason: str) -> None:
    found = health.status(deployment(**status, conditions=AVAILABLE))
    assert found == health.Health(health.IN_PROGRESS, reason)


def test_progress_deadline_exceeded_fails() -> None:
    conditions = [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]
    assert health.status(deployment(conditions=conditions)).status == health.FAILED


def test_terminating_and_missing() -> None:
    obj = deployment()
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert health.status(obj).status == health.TERMINATING
    assert health.status(None).status == health.NOT_FOUND


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"apiVersion": "batch/v1", "kind": "Job", "status": {}}, health.IN_PROGRESS),
        (
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "status": {"conditions": [{"type": "Complete", "status": "True"}]},
            },
            health.CURRENT,
        ),
        (
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "status": {"conditions": [{"type": "Failed", "status": "True"}]},
            },
            health.FAILED,
        ),
        (
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Pending"}},
            health.IN_PROGRESS,
        ),
        (
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Bound"}},
            health.CURRENT,
        ),
        (
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "status": {"conditions": [{"type": "Established", "status": "True"}]},
            },
            health.CURRENT,
        ),
        (
            {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition"},
            health.IN_PROGRESS,
        ),
        (
            {"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer"}},
            health.IN_PROGRESS,
        ),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, health.CURRENT),
        (
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"generation": 1},
                "status": {
                    "observedGeneration": 1,
                    "conditions": [{"type": "Ready", "status": "False", "message": "auth failed"}],
                },
            },
            health.IN_PROGRESS,
        ),
        (
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "status": {"conditions": [{"type": "Stalled", "status": "True", "message": "x"}]},
            },
            health.FAILED,
        ),
        ({"apiVersion": "example.com/v1", "kind": "Widget"}, health.CURRENT),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "spec": {"replicas": 1},
                "status": {"observedGeneration": 1, "readyReplicas": 0},
            },
            health.IN_PROGRESS,
        ),
        (
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "status": {
                    "observedGeneration": 1,
                    "desiredNumberScheduled": 2,
                    "currentNumberScheduled": 2,
                    "updatedNumberScheduled": 2,
                    "numberAvailable": 2,
                    "numberReady": 2,
                },
            },
            health.CURRENT,
        ),
        (
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                    ],
                },
            },
            health.FAILED,
        ),
    ],
)
def test_kind_rules(obj: dict[str, Any], expected: str) -> None:
    assert health.status(obj).status == expected
