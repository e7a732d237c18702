"""The API server's field rules: ports, label and annotation syntax, quantities."""

from __future__ import annotations

from typing import Any

import pytest

from engine import kubefields


def pod(**container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i", **container}]},
    }


@pytest.mark.parametrize(
    ("container", "path"),
    [
        ({"ports": [{"containerPort": 0}]}, "spec.containers[0].ports[0].containerPort"),
        ({"ports": [{"containerPort": 65536}]}, "spec.containers[0].ports[0].containerPort"),
        (
            {"ports": [{"containerPort": 80, "hostPort": -1}]},
            "spec.containers[0].ports[0].hostPort",
        ),
        (
            {"resources": {"limits": {"memory": "12 GB"}}},
            "spec.containers[0].resources.limits.memory",
        ),
        (
            {"resources": {"requests": {"cpu": "1.5.0"}}},
            "spec.containers[0].resources.requests.cpu",
        ),
        (
            {"livenessProbe": {"httpGet": {"port": "Not_A_Name"}}},
            "spec.containers[0].livenessProbe.httpGet.port",
        ),
        (
            {"livenessProbe": {"tcpSocket": {"port": 70000}}},
            "spec.containers[0].livenessProbe.tcpSocket.port",
        ),
    ],
)
def test_bad_fields_are_found_at_their_path(container: dict[str, Any], path: str) -> None:
    assert [p for p, _ in kubefields.problems(pod(**container))] == [path]


@pytest.mark.parametrize(
    "container",
    [
        {"ports": [{"containerPort": 1}, {"containerPort": 65535, "hostPort": 0}]},
        {"resources": {"limits": {"memory": "128Mi", "cpu": "500m"}, "requests": {"cpu": 0.5}}},
        {"resources": {"limits": {"storage": "1e3", "nvidia.com/gpu": 1, "x": ".5Ki"}}},
        {"livenessProbe": {"httpGet": {"port": "http-alt"}}},
    ],
)
def test_good_fields_pass(container: dict[str, Any]) -> None:
    assert kubefields.problems(pod(**container)) == []


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        ({"a/b/c": "x"}, "label key 'a/b/c'"),
        ({"-a": "x"}, "label key '-a'"),
        ({"UPPER.example.com/a": "x"}, "label key"),
        ({"a": "x" * 64}, "label value"),
        ({"a": "bad value"}, "label value"),
    ],
)
def test_label_syntax(labels: dict[str, str], problem: str) -> None:
    obj = {"kind": "ConfigMap", "metadata": {"name": "c", "labels": labels}}
    [(path, message)] = kubefields.problems(obj)
    assert path.startswith("metadata.labels[")
    assert problem in message


def test_annotations_total_size_is_limited() -> None:
    obj = {"kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"a": "x" * 300_000}}}
    [(path, message)] = kubefields.problems(obj)
    assert path == "metadata.annotations"
    assert "256 KiB" in message


def test_service_and_ingress_ports() -> None:
    service = {
        "kind": "Service",
        "spec": {"ports": [{"port": 80, "targetPort": "http", "nodePort": 0}]},
    }
    assert kubefields.problems(service) == []
    ingress = {
        "kind": "Ingress",
        "spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 0}}}},
    }
    [(path, _)] = kubefields.problems(ingress)
    assert path == "spec.defaultBackend.service.port.number"
