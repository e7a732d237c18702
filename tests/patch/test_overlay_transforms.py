"""The overlay transforms one by one, YAML in and YAML out: namespace, prefix/suffix, labels,
annotations, images, replicas and name references."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from engine.errors import PatchError
from engine.model.environment import Image, LabelSet, Overlay, Replicas
from engine.patch import images, labels, names, namespace, replicas
from engine.patch._fieldspecs import FieldSpec, split_path, update
from engine.patch.overlays import apply_overlay


def one(text: str) -> Any:
    return yaml.safe_load(text)


def docs(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


# -- namespace -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}",
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: prod}}",
        ),
        (
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: old}}",
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: prod}}",
        ),
        (
            "{apiVersion: v1, kind: ConfigMap}",
            "{apiVersion: v1, kind: ConfigMap, metadata: {namespace: prod}}",
        ),
        (
            "{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}}",
            "{apiVersion: example.com/v1, kind: Widget, metadata: {name: w, namespace: prod}}",
        ),
        (
            "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: r}}",
            "{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: r}}",
        ),
        (
            "{apiVersion: admissionregistration.k8s.io/v1, kind: ValidatingAdmissionPolicy, metadata: {name: p}}",
            "{apiVersion: admissionregistration.k8s.io/v1, kind: ValidatingAdmissionPolicy, metadata: {name: p}}",
        ),
        (
            "{apiVersion: v1, kind: Namespace, metadata: {name: old}}",
            "{apiVersion: v1, kind: Namespace, metadata: {name: prod}}",
        ),
        (
            "{apiVersion: example.com/v1, kind: Namespace, metadata: {name: old}}",
            "{apiVersion: example.com/v1, kind: Namespace, metadata: {name: old, namespace: prod}}",
        ),
    ],
)
def test_namespace(given: str, expected: str) -> None:
    assert namespace.set_namespace(one(given), "prod") == one(expected)


def test_namespace_on_binding_subjects_named_default() -> None:
    binding = one(
        """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
subjects:
- {kind: ServiceAccount, name: default, namespace: kube-system}
- {kind: ServiceAccount, name: other, namespace: kube-system}
- {kind: Group, name: default}
"""
    )
    assert namespace.set_namespace(binding, "prod")["subjects"] == [
        {"kind": "ServiceAccount", "name": "default", "namespace": "prod"},
        {"kind": "ServiceAccount", "name": "other", "namespace": "kube-system"},
        {"kind": "Group", "name": "default"},
    ]


def test_namespace_on_webhook_services() -> None:
    crd = one(
        """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: w.example.com}
spec: {conversion: {webhook: {clientConfig: {service: {name: conv, namespace: sys}}}}}
"""
    )
    service = namespace.set_namespace(crd, "prod")["spec"]["conversion"]["webhook"]["clientConfig"][
        "service"
    ]
    assert service == {"name": "conv", "namespace": "prod"}
    remote = one(
        "{apiVersion: apiregistration.k8s.io/v1, kind: APIService, metadata: {name: v1.x}, spec: {service: {name: s}}}"
    )
    assert namespace.set_namespace(remote, "prod")["spec"]["service"] == {
        "name": "s",
        "namespace": "prod",
    }
    local = one(
        "{apiVersion: apiregistration.k8s.io/v1, kind: APIService, metadata: {name: v1.x}, spec: {group: x}}"
    )
    assert namespace.set_namespace(local, "prod")["spec"] == {"group": "x"}


def test_namespace_rejects_odd_metadata() -> None:
    with pytest.raises(PatchError, match="metadata must be a map"):
        namespace.set_namespace({"kind": "ConfigMap", "metadata": "x"}, "prod")


# -- prefix and suffix ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "api_version", "renamed"),
    [
        ("ConfigMap", "v1", True),
        ("ClusterRole", "rbac.authorization.k8s.io/v1", True),
        ("Widget", "example.com/v1", True),
        ("Namespace", "v1", False),
        ("CustomResourceDefinition", "apiextensions.k8s.io/v1", False),
        ("APIService", "apiregistration.k8s.io/v1", False),
        ("APIService", "example.com/v1", True),
    ],
)
def test_prefix_and_suffix(kind: str, api_version: str, renamed: bool) -> None:
    item: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    expected = "p-x-s" if renamed else "x"
    assert names.add_suffix(names.add_prefix(item, "p-"), "-s")["metadata"]["name"] == expected
    assert item["metadata"]["name"] == "x"


def test_prefix_without_a_name() -> None:
    assert names.add_prefix({"kind": "ConfigMap"}, "p-") == {"kind": "ConfigMap"}
    assert names.add_prefix({"kind": "ConfigMap", "metadata": {"generateName": "g-"}}, "p-") == {
        "kind": "ConfigMap",
        "metadata": {"generateName": "g-"},
    }


# -- labels and annotations ----------------------------------------------------------------

DEPLOYMENT = one(
    """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: web:1}]}
"""
)


def test_labels_metadata_only() -> None:
    result = labels.add_labels(DEPLOYMENT, LabelSet({"env": "prod"}))
    assert result["metadata"]["labels"] == {"env": "prod"}
    assert result["spec"] == DEPLOYMENT["spec"]


def test_labels_with_templates() -> None:
    result = labels.add_labels(DEPLOYMENT, LabelSet({"env": "prod"}, include_templates=True))
    assert result["spec"]["template"]["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert result["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_labels_with_selectors_include_templates() -> None:
    result = labels.add_labels(DEPLOYMENT, LabelSet({"env": "prod"}, include_selectors=True))
    assert result["spec"]["template"]["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert result["spec"]["selector"] == {"matchLabels": {"app": "web", "env": "prod"}}


def test_labels_create_service_selector_but_not_job_selector() -> None:
    service = labels.add_labels(
        one("{apiVersion: v1, kind: Service, metadata: {name: s}}"), LabelSet({"a": "b"}, True)
    )
    assert service["spec"] == {"selector": {"a": "b"}}
    job = labels.add_labels(
        one("{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {template: {spec: {}}}}"),
        LabelSet({"a": "b"}, True),
    )
    assert "selector" not in job["spec"]
    assert job["spec"]["template"]["metadata"]["labels"] == {"a": "b"}


def test_labels_replace_existing_values() -> None:
    item = one("{apiVersion: v1, kind: ConfigMap, metadata: {name: c, labels: {a: old, b: keep}}}")
    assert labels.add_labels(item, LabelSet({"a": "new"}))["metadata"]["labels"] == {
        "a": "new",
        "b": "keep",
    }


def test_labels_must_be_strings() -> None:
    with pytest.raises(PatchError, match="keys and values must be strings"):
        labels.add_labels(DEPLOYMENT, LabelSet({"a": 1}))  # type: ignore[dict-item]


def test_labels_on_a_scalar_field_is_an_error() -> None:
    with pytest.raises(PatchError, match="metadata/labels: expected a map, got str"):
        labels.add_labels({"kind": "ConfigMap", "metadata": {"labels": "x"}}, LabelSet({"a": "b"}))


def test_annotations_on_cronjob_templates() -> None:
    cronjob = one("{apiVersion: batch/v1, kind: CronJob, metadata: {name: c}, spec: {schedule: x}}")
    result = labels.add_annotations(cronjob, {"n": "v"})
    assert result["metadata"]["annotations"] == {"n": "v"}
    assert result["spec"]["jobTemplate"] == {
        "metadata": {"annotations": {"n": "v"}},
        "spec": {"template": {"metadata": {"annotations": {"n": "v"}}}},
    }


# -- field specs ---------------------------------------------------------------------------


def test_field_spec_paths() -> None:
    assert split_path("metadata/annotations/a\\/b") == ("metadata", "annotations", "a/b")
    spec = FieldSpec("spec/items[]/name", create=True)
    item = {"spec": {"items": [{"name": "a"}, {"other": 1}, None]}}
    assert update(item, spec, lambda v: "x") == {
        "spec": {"items": [{"name": "x"}, {"other": 1, "name": "x"}, None]}
    }
    assert update({"spec": {}}, spec, lambda v: "x") == {"spec": {}}  # lists are never created


# -- images --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "parts"),
    [
        ("nginx", ("nginx", "", "")),
        ("nginx:1.25", ("nginx", "1.25", "")),
        ("nginx@sha256:abc", ("nginx", "", "sha256:abc")),
        ("nginx:1.25@sha256:abc", ("nginx", "1.25", "sha256:abc")),
        ("registry:5000/team/app", ("registry:5000/team/app", "", "")),
        ("registry:5000/team/app:1", ("registry:5000/team/app", "1", "")),
        ("registry:5000/app@sha256:x", ("registry:5000/app", "", "sha256:x")),
    ],
)
def test_split_image(reference: str, parts: tuple[str, str, str]) -> None:
    assert images.split_image(reference) == parts


@pytest.mark.parametrize(
    ("image", "reference", "expected"),
    [
        (Image("nginx", new_tag="2"), "nginx:1", "nginx:2"),
        (Image("nginx", new_tag="2"), "nginx@sha256:a", "nginx:2"),
        (Image("nginx", digest="sha256:b"), "nginx:1", "nginx@sha256:b"),
        (Image("nginx", new_tag="2", digest="sha256:b"), "nginx", "nginx:2@sha256:b"),
        (Image("nginx", new_name="m/nginx"), "nginx:1@sha256:a", "m/nginx:1@sha256:a"),
        (Image("nginx", new_tag="2"), "nginx-extra:1", "nginx-extra:1"),
        (Image("nginx", new_tag="2"), "docker.io/nginx:1", "docker.io/nginx:1"),
        (Image("my.app", new_tag="2"), "my-app:1", "my-app:1"),
        (Image("a+b", new_tag="2"), "a+b:1", "a+b:2"),
    ],
)
def test_image_entry(image: Image, reference: str, expected: str) -> None:
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "c", "image": reference}]}}
    result, _ = images.set_images(pod, [image])
    assert result["spec"]["containers"][0]["image"] == expected


def test_images_only_in_container_lists() -> None:
    item = one(
        """
kind: Workflow
spec:
  image: nginx:1
  steps:
  - containers: [{name: a, image: nginx:1}]
    initContainers: [{name: b, image: nginx:1}]
    sidecars: [{name: c, image: nginx:1}]
    ephemeralContainers: [{name: d, image: nginx:1}]
"""
    )
    result, used = images.set_images(item, [Image("nginx", new_tag="2")])
    step = result["spec"]["steps"][0]
    assert result["spec"]["image"] == "nginx:1"
    assert [
        step[k][0]["image"]
        for k in ("containers", "initContainers", "sidecars", "ephemeralContainers")
    ] == [
        "nginx:2",
        "nginx:2",
        "nginx:1",
        "nginx:1",
    ]
    assert used == frozenset({0})


def test_images_skip_custom_resource_definitions() -> None:
    crd = {"kind": "CustomResourceDefinition", "spec": {"containers": [{"image": "nginx"}]}}
    assert images.set_images(crd, [Image("nginx", new_tag="2")]) == (crd, frozenset())


# -- replicas ------------------------------------------------------------------------------


def test_replicas() -> None:
    assert replicas.set_replicas({"kind": "Deployment"}, 3) == {
        "kind": "Deployment",
        "spec": {"replicas": 3},
    }
    assert replicas.scalable({"kind": "StatefulSet"})
    assert not replicas.scalable({"kind": "DaemonSet"})
    with pytest.raises(PatchError, match="must be an integer"):
        replicas.set_replicas({"kind": "Deployment"}, True)


def test_replicas_by_original_name() -> None:
    objects = docs(
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: web}
"""
    )
    result = apply_overlay(objects, Overlay(name_prefix="p-", replicas=(Replicas("web", 2),)))
    assert result.objects[0]["spec"] == {"replicas": 2}
    assert "spec" not in result.objects[1]


# -- name references -----------------------------------------------------------------------

REFERRERS = docs(
    """
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      serviceAccountName: sa
      volumes: [{name: v, configMap: {name: cfg}}, {name: w, configMap: {name: elsewhere}}]
      containers:
      - name: app
        envFrom: [{configMapRef: {name: cfg}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend: {service: {name: web}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: rb}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: missing}
subjects:
- {kind: ServiceAccount, name: sa}
- {kind: User, name: sa}
"""
)


def test_references_follow_prefix_and_namespace() -> None:
    result = apply_overlay(REFERRERS, Overlay(namespace="prod", name_prefix="p-"))
    _, _, _, deployment, ingress, binding = result.objects
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "p-sa"
    assert pod["volumes"] == [
        {"name": "v", "configMap": {"name": "p-cfg"}},
        {"name": "w", "configMap": {"name": "elsewhere"}},
    ]
    assert pod["containers"][0]["envFrom"] == [{"configMapRef": {"name": "p-cfg"}}]
    assert ingress["spec"]["defaultBackend"]["service"]["name"] == "p-web"
    assert binding["roleRef"]["name"] == "missing"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "p-sa", "namespace": "prod"},
        {"kind": "User", "name": "sa"},
    ]


def test_no_rename_no_reference_change() -> None:
    result = apply_overlay(REFERRERS, Overlay(labels=(LabelSet({"a": "b"}),)))
    assert [o.get("spec") for o in result.objects] == [o.get("spec") for o in REFERRERS]


def test_references_in_another_namespace_are_not_followed() -> None:
    objects = docs(
        """
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: a}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: b}
spec: {volumes: [{name: v, configMap: {name: cfg}}]}
"""
    )
    result = apply_overlay(objects, Overlay(name_suffix="-x"))
    assert result.objects[1]["spec"]["volumes"][0]["configMap"]["name"] == "cfg"


def test_ambiguous_subject_is_an_error() -> None:
    objects = docs(
        """
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: crb}
subjects: [{kind: ServiceAccount, name: sa}]
"""
    )
    with pytest.raises(
        PatchError, match=r"name references: ClusterRoleBinding/p-crb: .*could name several objects"
    ):
        apply_overlay(objects, Overlay(name_prefix="p-"))


def test_transforms_do_not_change_their_input() -> None:
    before = copy.deepcopy(DEPLOYMENT)
    labels.add_labels(DEPLOYMENT, LabelSet({"a": "b"}, include_selectors=True))
    labels.add_annotations(DEPLOYMENT, {"a": "b"})
    namespace.set_namespace(DEPLOYMENT, "x")
    names.add_prefix(DEPLOYMENT, "p-")
    images.set_images(DEPLOYMENT, [Image("web", new_tag="2")])
    replicas.set_replicas(DEPLOYMENT, 2)
    assert before == DEPLOYMENT
