"""Per-environment builds: overrides, forced namespaces, selection and previews."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definitions import Registry
from engine.environments import (
    Unit,
    build_environment,
    build_every_environment,
    check_environment_name,
    preview_files,
)
from engine.errors import BuildError
from engine.model import load_documents
from tests.conftest import EXAMPLES

POLICIES = EXAMPLES / "environments/policies/my-app.yaml"


def unit(path: Path) -> Unit:
    return Unit(tuple(load_documents(path.read_text(), str(path))))


def test_each_environment_gets_its_namespace_and_overrides(registry: Registry) -> None:
    staging, prod = build_every_environment([unit(POLICIES)], registry)
    assert (staging.name, prod.name) == ("staging", "prod")
    for preview, namespace, replicas in ((staging, "staging", 1), (prod, "prod", 3)):
        deployment = preview.build.manifests[0].object
        assert {m.object["metadata"]["namespace"] for m in preview.build.manifests} == {namespace}
        assert deployment["spec"]["replicas"] == replicas
        assert deployment["metadata"]["labels"]["app.oam.dev/namespace"] == "default"
    container = prod.build.manifests[0].object["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {
        "limits": {"cpu": "1", "memory": "1Gi"},
        "requests": {"cpu": "1", "memory": "1Gi"},
    }


def test_an_environment_answers_to_its_step_name(registry: Registry) -> None:
    by_topology = build_environment([unit(POLICIES)], registry, "prod")
    by_step = build_environment([unit(POLICIES)], registry, "deploy-prod")
    assert by_topology == by_step


def test_unknown_environment_lists_the_known_ones() -> None:
    with pytest.raises(BuildError) as info:
        check_environment_name([unit(POLICIES)], "qa")
    assert str(info.value) == (
        "unknown environment 'qa'; known environments: staging (also deploy-staging), "
        "prod (also deploy-prod)"
    )


def test_apps_without_environments_render_in_every_environment(
    registry: Registry, tmp_path: Path
) -> None:
    plain = tmp_path / "cm.yaml"
    plain.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\n")
    units = [unit(POLICIES), unit(EXAMPLES / "gitops-demo/apps/my-app.yaml"), unit(plain)]
    for preview in build_every_environment(units, registry):
        namespaces = [m.object["metadata"].get("namespace") for m in preview.build.manifests]
        assert namespaces == [preview.name] * 3 + ["default"] * 3 + [None]


def test_topology_namespace_is_not_forced_on_namespace_objects(
    registry: Registry, tmp_path: Path
) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: a}\n"
        "spec:\n  components:\n"
        "    - name: ns\n      type: k8s-objects\n      properties:\n        objects:\n"
        "          - {apiVersion: v1, kind: Namespace, metadata: {name: team}}\n"
        "          - {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: other}}\n"
        "  policies:\n    - {name: t, type: topology, properties: {namespace: forced}}\n"
    )
    namespace, configmap = build_environment([unit(app)], registry, "t").manifests
    assert "namespace" not in namespace.object["metadata"]
    assert configmap.object["metadata"]["namespace"] == "forced"


def test_preview_files_are_per_environment_app_and_object(registry: Registry) -> None:
    files = preview_files(build_every_environment([unit(POLICIES)], registry))
    assert sorted(files) == [
        "prod/my-app/deployment-my-server.yaml",
        "prod/my-app/ingress-my-server.yaml",
        "prod/my-app/service-my-server.yaml",
        "staging/my-app/deployment-my-server.yaml",
        "staging/my-app/ingress-my-server.yaml",
        "staging/my-app/service-my-server.yaml",
    ]
    assert "replicas: 3" in files["prod/my-app/deployment-my-server.yaml"]
