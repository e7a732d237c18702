"""Every example Application renders, byte for byte as its golden file, twice the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from syrupy.assertion import SnapshotAssertion

from cli import main
from engine.definitions import Registry
from tests.conftest import EXAMPLES, ROOT, objects

FILES = sorted(
    p
    for p in EXAMPLES.rglob("*.yaml")
    if p.parent.name != "environments" and "patches" not in p.parts
)


def _id(path: Path) -> str:
    return str(path.relative_to(EXAMPLES).with_suffix("")).replace("/", "-")


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_golden(path: Path, golden: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``sailplan render <example>`` prints: every environment, twice the same."""
    monkeypatch.chdir(ROOT)
    relative = str(path.relative_to(ROOT))
    first = CliRunner().invoke(main, ["render", relative])
    assert first.exit_code == 0, first.output
    assert first.stdout == CliRunner().invoke(main, ["render", relative]).stdout
    assert first.stdout == golden


def test_seed_app_renders_what_the_kubevela_controller_creates(registry: Registry) -> None:
    seed = (EXAMPLES / "gitops-demo/apps/my-app.yaml").read_text()
    deployment, service, ingress = objects(seed, registry)
    assert (deployment["kind"], deployment["metadata"]["name"]) == ("Deployment", "my-server")
    assert deployment["spec"]["replicas"] == 1
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "cnych/kubevela-gitops-demo:main-76a34322-1697703461"
    assert container["ports"] == [{"containerPort": 8088}]
    assert container["env"][1] == {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "mysql-secret", "key": "ROOT_PASSWORD"}},
    }
    assert service["kind"] == "Service"
    assert service["spec"]["ports"] == [{"name": "port-8088", "port": 8088, "targetPort": 8088}]
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "vela-gitops-demo.k8s.local"
    assert rule["http"]["paths"] == [
        {
            "path": "/",
            "pathType": "ImplementationSpecific",
            "backend": {"service": {"name": "my-server", "port": {"number": 8088}}},
        }
    ]
    for obj in (deployment, service, ingress):
        labels = obj["metadata"]["labels"]
        assert labels["app.oam.dev/name"] == "my-app"
        assert labels["app.oam.dev/component"] == "my-server"
        assert labels["app.oam.dev/namespace"] == "default"
        assert labels["app.oam.dev/appRevision"] == "my-app-v1"
    assert deployment["metadata"]["labels"]["workload.oam.dev/type"] == "webservice"
    assert ingress["metadata"]["labels"]["trait.oam.dev/type"] == "gateway"
    assert ingress["metadata"]["labels"]["trait.oam.dev/resource"] == "ingress"


def test_old_clusters_get_the_legacy_ingress_api(registry: Registry) -> None:
    seed = (EXAMPLES / "gitops-demo/apps/my-app.yaml").read_text()
    ingress = objects(seed, registry, kube_version=(1, 18))[2]
    assert ingress["apiVersion"] == "networking.k8s.io/v1beta1"
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"] == {
        "serviceName": "my-server",
        "servicePort": 8088,
    }
