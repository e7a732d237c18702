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
    environment_names,
    known_environments,
    preview_files,
)
from engine.errors import BuildError
from engine.model import load_documents
from engine.model.environment import Environment, Overlay
from tests.conftest import EXAMPLES
from tests.harness import app_yaml

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
        app_yaml(
            "    - name: ns\n      type: k8s-objects\n      properties:\n        objects:\n"
            "          - {apiVersion: v1, kind: Namespace, metadata: {name: team}}\n"
            "          - {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: other}}\n"
            "  policies:\n    - {name: t, type: topology, properties: {namespace: forced}}\n",
            name="a",
        )
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


def test_components_render_in_each_placement_namespace(registry: Registry, tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\n"
        "metadata: {name: a, namespace: default}\n"
        "spec:\n  components:\n"
        "    - name: web\n      type: webservice\n      properties: {image: nginx}\n"
        "      traits:\n"
        "        - type: service-account\n          properties:\n"
        "            name: robot\n            create: true\n"
        "            privileges: [{scope: cluster, resources: [nodes], verbs: [get]}]\n"
        "    - name: flux\n      type: kustomize\n"
        "      properties: {url: 'https://github.com/o/r', path: ./deploy}\n"
        "  policies:\n"
        "    - {name: prod, type: topology, properties: {clusters: [local], namespace: prod}}\n"
        "    - {name: eu, type: topology, properties: {clusters: [eu], namespace: eu-prod}}\n"
        "  workflow:\n    steps:\n"
        "      - {name: deploy-prod, type: deploy, properties: {policies: [prod]}}\n"
        "      - {name: deploy-both, type: deploy, properties: {policies: [prod, eu]}}\n"
    )
    prod = build_environment([unit(app)], registry, "prod").manifests
    by_kind = {m.object["kind"]: m.object for m in prod}
    assert by_kind["ServiceAccount"]["metadata"]["namespace"] == "prod"
    assert by_kind["ClusterRole"]["metadata"]["name"] == "prod:robot"
    binding = by_kind["ClusterRoleBinding"]
    assert binding["metadata"]["name"] == "prod:robot"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "robot", "namespace": "prod"}]
    assert by_kind["Kustomization"]["spec"]["sourceRef"]["namespace"] == "prod"
    assert {m.object["metadata"]["labels"]["app.oam.dev/namespace"] for m in prod} == {"default"}
    both = build_environment([unit(app)], registry, "deploy-both").manifests
    roles = [(m.cluster, m.object["metadata"]["name"]) for m in both if m.id.kind == "ClusterRole"]
    assert roles == [("local", "prod:robot"), ("eu", "eu-prod:robot")]


def test_steps_sharing_a_topology_are_environments_of_their_own(
    registry: Registry, tmp_path: Path
) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(
        app_yaml(
            "    - {name: web, type: worker, properties: {image: nginx}}\n"
            "  policies:\n"
            "    - {name: local, type: topology, properties: {clusters: [local]}}\n"
            "    - name: big\n      type: override\n"
            "      properties: {components: [{name: web, properties: {image: 'nginx:big'}}]}\n"
            "    - name: small\n      type: override\n"
            "      properties: {components: [{name: web, properties: {image: 'nginx:small'}}]}\n"
            "  workflow:\n    steps:\n"
            "      - {name: deploy-big, type: deploy, properties: {policies: [local, big]}}\n"
            "      - {name: deploy-small, type: deploy, properties: {policies: [local, small]}}\n",
            name="a",
        )
    )
    images = {
        p.name: p.build.manifests[0].object["spec"]["template"]["spec"]["containers"][0]["image"]
        for p in build_every_environment([unit(app)], registry)
    }
    assert images == {"deploy-big": "nginx:big", "deploy-small": "nginx:small"}


def test_a_file_named_after_a_step_extends_its_environment_only(registry: Registry) -> None:
    files = tuple(
        Environment(name, overlay=Overlay(name_prefix=f"{name}-"))
        for name in ("deploy-staging", "qa")
    )
    units = [Unit(unit(POLICIES).documents, files)]
    assert environment_names(units) == ["staging", "prod", "qa"]
    assert [e.name for e in known_environments(units)] == ["staging", "prod", "qa"]
    staging = build_environment(units, registry, "staging").manifests
    assert {m.object["metadata"]["name"] for m in staging} == {"deploy-staging-my-server"}


def test_a_topology_without_clusters_deploys_nothing(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        app_yaml(
            "    - {name: web, type: worker, properties: {image: nginx}}\n"
            "  policies:\n"
            "    - {name: nowhere, type: topology, properties: {clusters: [], namespace: x}}\n"
            "    - {name: here, type: topology, properties: {namespace: y}}\n",
            name="a",
        )
    )
    nowhere = build_environment([unit(path)], registry, "nowhere")
    assert nowhere.manifests == ()
    assert nowhere.warnings == (
        f"{path}: environment 'nowhere' places application 'a' on no cluster "
        "(its topology lists none): nothing is deployed, as in KubeVela",
    )
    here = build_environment([unit(path)], registry, "here")
    assert [m.object["metadata"]["namespace"] for m in here.manifests] == ["y"]
