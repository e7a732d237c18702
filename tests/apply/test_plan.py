"""From inputs to release specs: grouping, owner labels, policies, locations (no cluster)."""

from __future__ import annotations

from pathlib import Path

from engine.apply.plan import release_specs
from engine.definitions import Registry
from engine.environments import build_every_environment
from engine.workspace import read_units

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def specs_of(*paths: Path, registry: Registry) -> list:  # type: ignore[type-arg]
    units = read_units([str(p) for p in paths])
    return release_specs(units, build_every_environment(units, registry))


def test_the_seed_app_is_one_release_with_owner_labels_and_locations(registry: Registry) -> None:
    (spec,) = specs_of(EXAMPLES / "gitops-demo/apps/my-app.yaml", registry=registry)
    assert (spec.app, spec.namespace, spec.env, spec.cluster) == ("my-app", "default", "", "local")
    assert [d.subject for d in spec.objects] == [
        "Deployment/default/my-server",
        "Service/default/my-server",
        "Ingress/default/my-server",
    ]
    for d in spec.objects:
        labels = d.object["metadata"]["labels"]
        assert labels["app.oam.dev/name"] == "my-app"
        assert labels["app.oam.dev/namespace"] == "default"
        assert d.component == "my-server"
        assert d.location.startswith(str(EXAMPLES / "gitops-demo/apps/my-app.yaml") + ":")
        assert "spec.components[0]" in d.location
    service = spec.objects[1].object
    assert service["spec"]["ports"][0]["protocol"] == "TCP"  # normalised as the server stores it


def test_environments_are_releases_in_deploy_step_order(registry: Registry) -> None:
    specs = specs_of(EXAMPLES / "environments/policies/my-app.yaml", registry=registry)
    assert [(s.env, s.namespace) for s in specs] == [("staging", "default"), ("prod", "default")]
    assert {d.id.namespace for d in specs[0].objects} == {"staging"}
    assert {d.id.namespace for d in specs[1].objects} == {"prod"}


def test_depends_on_and_plain_manifests(registry: Registry, tmp_path: Path) -> None:
    infra = specs_of(EXAMPLES / "gitops-demo/infrastructure/mysql.yaml", registry=registry)
    (spec,) = infra
    assert spec.depends_on["mysql-cluster"] == ("mysql-operator", "mysql-secret")
    plain = tmp_path / "Extra Things.yaml"
    plain.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n")
    (spec,) = specs_of(plain, registry=registry)
    assert (spec.app, spec.namespace) == ("extra-things", "default")
    assert spec.objects[0].object["metadata"]["labels"]["app.oam.dev/name"] == "extra-things"
