"""Kubernetes schema checks of rendered objects, with the real kubernetes-validate schemas."""

from __future__ import annotations

from typing import Any

import pytest

from engine import kubeschemas
from engine.model import Manifest, load_documents


def manifests(text: str) -> list[Manifest]:
    return [
        Manifest(doc.data, "demo/web", doc.source.locate(()))
        for doc in load_documents(text, "objects.yaml")
    ]


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"""


def deployment(replicas: str) -> str:
    return DEPLOYMENT.replace("REPLICAS", replicas)


def test_a_valid_deployment_passes() -> None:
    report = kubeschemas.validate(manifests(deployment("2")), (1, 37))
    assert (report.version, report.checked, report.problems, report.skipped) == ("1.37", 1, (), ())
    assert report.note == ""


def test_a_wrong_type_is_reported_with_the_object_and_path() -> None:
    report = kubeschemas.validate(manifests(deployment('"x"')), (1, 37))
    [problem] = report.problems
    assert str(problem) == (
        "Deployment/shop/web (demo/web): spec.replicas: 'x' is not of type 'integer', 'null'"
    )
    assert problem.location is not None and problem.location.file == "objects.yaml"


def test_unknown_fields_are_errors_as_with_kubectl() -> None:
    text = deployment("1").replace("  replicas: 1\n", "  replica: 1\n")
    [problem] = kubeschemas.validate(manifests(text), (1, 37)).problems
    assert problem.path == "spec"
    assert "'replica' was unexpected" in problem.message


def test_custom_resources_are_skipped_not_failed() -> None:
    text = (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
        "metadata: {name: apps, namespace: flux-system}\nspec: {url: 'https://x'}\n"
    )
    report = kubeschemas.validate(manifests(text), (1, 37))
    assert report.problems == ()
    assert [str(s.id) for s in report.skipped] == ["GitRepository/flux-system/apps"]
    assert report.checked == 0


def test_a_removed_api_version_of_a_kubernetes_kind_is_an_error() -> None:
    text = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: nightly}\nspec: {}\n"
    [problem] = kubeschemas.validate(manifests(text), (1, 30)).problems
    assert problem.message.startswith("Kubernetes 1.30 has no CronJob in batch/v1beta1")


def test_the_nearest_schema_version_is_used_and_named() -> None:
    versions = kubeschemas.available_versions()
    assert "1.37" in versions
    oldest = versions[0]
    report = kubeschemas.validate(manifests(deployment("1")), (1, 9))
    assert report.version == oldest
    assert report.note == f"Kubernetes 1.9 schemas are not available; used the nearest, {oldest}"
    # Nearest schemas only: an API version the old release may have had is not failed.
    text = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: nightly}\nspec: {}\n"
    assert kubeschemas.validate(manifests(text), (1, 9)).problems == ()


@pytest.mark.parametrize(
    ("requested", "expected"),
    [((1, 30), "1.30"), ((1, 99), "1.37"), ((1, 20), "1.25"), ((2, 0), "1.37")],
)
def test_nearest_version(requested: tuple[int, int], expected: str) -> None:
    versions = ["1.25", "1.30", "1.37"]
    assert kubeschemas.nearest_version(requested, versions) == expected


def test_missing_package_message_names_the_extra() -> None:
    message = kubeschemas.missing_message()
    assert "kubernetes-validate" in message
    assert "sailplan[validate]" in message


def test_every_object_of_a_list_is_checked() -> None:
    objects: list[Any] = [deployment("1"), deployment('"two"')]
    text = "---\n".join(o.replace("name: web,", f"name: web{i},") for i, o in enumerate(objects))
    report = kubeschemas.validate(manifests(text), (1, 37))
    assert report.checked == 2
    assert [str(p.id) for p in report.problems] == ["Deployment/shop/web1"]


NAMED = """\
apiVersion: GROUPVERSION
kind: KIND
metadata: {name: NAME, namespace: shop}
"""


SUBDOMAIN = "a DNS-1123 subdomain (lower case letters, digits, '-' and '.')"


@pytest.mark.parametrize(
    ("group_version", "kind", "name", "problem"),
    [
        ("v1", "ConfigMap", "web.config-1", None),
        ("v1", "ConfigMap", "Web_Bad", f"'Web_Bad' is not {SUBDOMAIN}"),
        ("v1", "Service", "1web", "'1web' is not a DNS-1035 label (starting with a letter)"),
        ("v1", "Service", "web.svc", "'web.svc' is not a DNS-1035 label (starting with a letter)"),
        ("rbac.authorization.k8s.io/v1", "Role", "prod:robot", None),
        (
            "rbac.authorization.k8s.io/v1",
            "Role",
            "a/b",
            "'a/b' is not a path segment (no '/' or '%')",
        ),
        ("example.com/v1", "Widget", "UPPER", f"'UPPER' is not {SUBDOMAIN}"),
    ],
)
def test_names_are_checked_as_the_api_server_does(
    group_version: str, kind: str, name: str, problem: str | None
) -> None:
    text = NAMED.replace("GROUPVERSION", group_version).replace("KIND", kind)
    report = kubeschemas.validate(manifests(text.replace("NAME", name)), (1, 37))
    found = [str(p) for p in report.problems if p.path == "metadata.name"]
    assert found == (
        [] if problem is None else [f"{kind}/shop/{name} (demo/web): metadata.name: {problem}"]
    )
