"""build(): components, traits in order, KubeVela's label contract, and build errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.build import parse_kube_version, workload_type_of
from engine.errors import BuildError, PatchError
from engine.patch.contract import generated_name
from tests.harness import Harness, app_yaml

DEPLOYMENT = """\
output:
  apiVersion: apps/v1
  kind: Deployment
  spec:
    template:
      spec:
        containers:
          - name: {{ context.name }}
            image: nginx
{% if parameter.service is defined %}
outputs:
  svc:
    apiVersion: v1
    kind: Service
    metadata:
      name: {{ parameter.service }}
{% endif %}
"""


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    h = Harness(tmp_path)
    h.component("deploy", DEPLOYMENT, workload={"type": "deployments.apps"})
    return h


def test_workload_and_outputs_carry_kubevela_labels(harness: Harness) -> None:
    meta = (
        "  namespace: shop\n"
        "  labels: {team: web, app.oam.dev/name: spoofed}\n"
        "  annotations:\n"
        "    owner: me\n"
        "    app.oam.dev/inplace-upgrade: 'true'\n"
        "    kubectl.kubernetes.io/last-applied-configuration: '{}'\n"
    )
    app = app_yaml(
        "    - name: web\n      type: deploy\n      properties: {service: web-svc}\n",
        meta=meta,
    )
    workload, service = harness.objects(app)
    assert workload["metadata"] == {
        "name": "web",
        "namespace": "shop",
        "labels": {
            "app.oam.dev/appRevision": "demo-v1",
            "app.oam.dev/component": "web",
            "app.oam.dev/name": "demo",
            "app.oam.dev/namespace": "shop",
            "app.oam.dev/resourceType": "WORKLOAD",
            "team": "web",
            "workload.oam.dev/type": "deploy",
        },
        "annotations": {"owner": "me"},
    }
    assert service["metadata"]["labels"]["trait.oam.dev/type"] == "AuxiliaryWorkload"
    assert service["metadata"]["labels"]["trait.oam.dev/resource"] == "svc"
    assert service["metadata"]["labels"]["app.oam.dev/resourceType"] == "TRAIT"
    assert service["metadata"]["name"] == "web-svc"


def test_filter_annotations_drop_label_and_annotation_keys(harness: Harness) -> None:
    meta = (
        "  labels: {team: web, cost: a}\n"
        "  annotations:\n"
        "    filter.oam.dev/label-keys: cost, app.oam.dev/namespace\n"
        "    filter.oam.dev/annotation-keys: secret\n"
        "    secret: x\n"
        "    keep: y\n"
    )
    [workload] = harness.objects(app_yaml("    - name: web\n      type: deploy\n", meta=meta))
    labels = workload["metadata"]["labels"]
    assert "cost" not in labels and "app.oam.dev/namespace" not in labels
    assert labels["team"] == "web"
    assert workload["metadata"]["annotations"] == {"keep": "y"}


def test_empty_annotations_are_always_set_and_namespace_defaults(harness: Harness) -> None:
    [workload] = harness.objects(app_yaml("    - name: web\n      type: deploy\n"))
    assert workload["metadata"]["annotations"] == {}
    assert workload["metadata"]["namespace"] == "default"


def test_namespace_objects_get_no_namespace(harness: Harness) -> None:
    harness.component(
        "ns", "output:\n  apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: team-a\n"
    )
    [ns] = harness.objects(app_yaml("    - name: web\n      type: ns\n"))
    assert "namespace" not in ns["metadata"]


def test_traits_patch_in_order_and_see_the_workload_so_far(harness: Harness) -> None:
    harness.definition("first", "patch:\n  spec:\n    replicas: 2\n")
    harness.definition(
        "second",
        "outputs:\n  seen:\n    apiVersion: v1\n    kind: ConfigMap\n"
        "    data:\n      replicas: {{ context.output.spec.replicas | string }}\n",
    )
    app = app_yaml(
        "    - name: web\n      type: deploy\n      traits:\n"
        "        - type: first\n        - type: second\n"
    )
    workload, seen = harness.objects(app)
    assert workload["spec"]["replicas"] == 2
    assert seen["data"] == {"replicas": "2"}
    assert seen["metadata"]["name"] == generated_name("web", "second", seen_unlabelled(seen))
    assert seen["metadata"]["name"].startswith("web-second-")


def seen_unlabelled(obj: dict) -> dict:  # type: ignore[type-arg]
    """The object as it was before the contract, for recomputing its generated name."""
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {
            "labels": {
                "app.oam.dev/name": "demo",
                "app.oam.dev/component": "web",
                "trait.oam.dev/type": "second",
                "trait.oam.dev/resource": "seen",
            }
        },
        "data": obj["data"],
    }


def test_patch_outputs_merge_into_a_named_output(harness: Harness) -> None:
    harness.definition("tag", "patchOutputs:\n  svc:\n    spec:\n      type: NodePort\n")
    app = app_yaml(
        "    - name: web\n      type: deploy\n      properties: {service: s}\n"
        "      traits:\n        - type: tag\n"
    )
    assert harness.objects(app)[1]["spec"] == {"type": "NodePort"}


def test_patch_outputs_naming_no_output_is_an_error(harness: Harness) -> None:
    harness.definition("tag", "patchOutputs:\n  nope:\n    spec: {}\n")
    app = app_yaml("    - name: web\n      type: deploy\n      traits:\n        - type: tag\n")
    with pytest.raises(
        PatchError, match=r"no output called 'nope' \(outputs: none\) \(trait tag\)"
    ):
        harness.objects(app)


def test_json_patch_and_merge_patch_strategies(harness: Harness) -> None:
    harness.definition(
        "jp",
        "patch:\n  operations:\n    - {op: add, path: /spec/paused, value: true}\n",
        patchStrategy="jsonPatch",
    )
    harness.definition(
        "mp",
        "patch:\n  spec:\n    template: null\n",
        patchStrategy="jsonMergePatch",
    )
    app = app_yaml(
        "    - name: web\n      type: deploy\n      traits:\n        - type: jp\n        - type: mp\n"
    )
    assert harness.objects(app)[0]["spec"] == {"paused": True}


def test_merge_patches_in_sequence_between_other_patches(harness: Harness) -> None:
    """Merge patches change a private copy in place; a strategic patch between them, and
    the output a merge patch's value came from, are unaffected."""
    harness.definition(
        "lab",
        "patch:\n  metadata:\n    labels:\n      {{ parameter.k }}: {{ parameter.v }}\n"
        "  spec:\n    extra: {list: [1]}\n",
        patchStrategy="jsonMergePatch",
    )
    harness.definition("rep", "patch:\n  spec:\n    replicas: {{ parameter.n }}\n")
    harness.definition(
        "drop", "patch:\n  metadata:\n    labels: {a: null}\n", patchStrategy="jsonMergePatch"
    )
    traits = "".join(
        f"        - type: {t}\n          properties: {p}\n"
        for t, p in [
            ("lab", "{k: a, v: '1'}"),
            ("lab", "{k: b, v: '2'}"),
            ("rep", "{n: 3}"),
            ("lab", "{k: c, v: '3'}"),
            ("drop", "{}"),
            ("lab", "{k: a, v: '4'}"),
        ]
    )
    app = app_yaml("    - name: web\n      type: deploy\n      traits:\n" + traits)
    workload = harness.objects(app)[0]
    labels = {k: v for k, v in workload["metadata"]["labels"].items() if "oam.dev" not in k}
    assert labels == {"b": "2", "c": "3", "a": "4"}
    assert workload["spec"]["replicas"] == 3
    assert workload["spec"]["extra"] == {"list": [1]}


@pytest.mark.parametrize(
    ("components", "message"),
    [
        (
            "    - name: a\n      type: deploy\n      dependsOn: [b]\n"
            "    - name: b\n      type: deploy\n      dependsOn: [a]\n",
            "app.yaml:9: spec.components[0].dependsOn: dependsOn cycle: a -> b -> a",
        ),
        (
            "    - name: a\n      type: deploy\n      dependsOn: [a]\n",
            "app.yaml:9: spec.components[0].dependsOn: dependsOn cycle: a -> a",
        ),
        (
            "    - name: a\n      type: deploy\n      dependsOn: [bb]\n"
            "    - name: b\n      type: deploy\n",
            "app.yaml:9: spec.components[0].dependsOn[0]: component 'a' depends on unknown "
            "component 'bb'; did you mean 'b'?",
        ),
        (
            "    - name: a\n      type: deplyo\n",
            "app.yaml:8: spec.components[0].type: unknown component type 'deplyo'; "
            "did you mean 'deploy'?",
        ),
        (
            "    - name: a\n      type: deploy\n      traits:\n        - type: scalar\n",
            "app.yaml:10: spec.components[0].traits[0].type: unknown trait type 'scalar'; "
            "did you mean 'scaler'?",
        ),
    ],
)
def test_build_errors_are_located(harness: Harness, components: str, message: str) -> None:
    with pytest.raises(BuildError) as info:
        harness.objects(app_yaml(components))
    assert str(info.value).startswith(message)


def test_duplicate_objects_name_both_sources(harness: Harness) -> None:
    app = app_yaml(
        "    - name: a\n      type: deploy\n      properties: {service: same}\n"
        "    - name: b\n      type: deploy\n      properties: {service: same}\n"
    )
    with pytest.raises(BuildError) as info:
        harness.objects(app)
    assert str(info.value) == (
        "app.yaml:10: spec.components[1]: duplicate object Service/default/same: produced by "
        "demo/a (app.yaml:7: spec.components[0]) and by demo/b (app.yaml:10: spec.components[1])"
    )


def test_trait_applied_to_an_unsupported_workload(harness: Harness) -> None:
    harness.definition("only-sts", "patch: {}\n", appliesTo=["statefulsets.apps"])
    app = app_yaml("    - name: a\n      type: deploy\n      traits:\n        - type: only-sts\n")
    with pytest.raises(BuildError) as info:
        harness.objects(app)
    assert str(info.value) == (
        "app.yaml:10: spec.components[0].traits[0].type: trait 'only-sts' does not apply to "
        "component 'a' of type 'deploy' (workload deployments.apps); it applies to: "
        "statefulsets.apps"
    )


def test_conflicting_traits_name_both(harness: Harness) -> None:
    harness.definition("one", "patch: {}\n", conflictsWith=["two"])
    harness.definition("two", "patch: {}\n")
    app = app_yaml(
        "    - name: a\n      type: deploy\n      traits:\n        - type: two\n        - type: one\n"
    )
    with pytest.raises(BuildError, match="trait 'one' conflicts with trait 'two' on component 'a'"):
        harness.objects(app)


def test_plain_manifests_pass_through_unchanged(harness: Harness) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: b}\n---\n"
    text += app_yaml("    - name: web\n      type: deploy\n")
    result = harness.build(text)
    assert result.manifests[0].object == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "plain"},
        "data": {"a": "b"},
    }
    assert result.manifests[0].source == "app.yaml"


LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: one}
  - apiVersion: v1
    kind: Secret
    metadata: {name: two}
"""


def test_a_list_stands_for_its_items(harness: Harness) -> None:
    result = harness.build(LIST)
    assert [(m.object["kind"], m.object["metadata"]["name"]) for m in result.manifests] == [
        ("ConfigMap", "one"),
        ("Secret", "two"),
    ]
    assert str(result.manifests[1].location) == "app.yaml:7: items[1]"


def test_a_list_item_without_a_name_is_located(harness: Harness) -> None:
    broken = LIST.replace("metadata: {name: two}", "metadata: {}")
    with pytest.raises(BuildError, match=r"app\.yaml:9: items\[1\]\.metadata: Secret without"):
        harness.objects(broken)


def test_documents_that_are_not_objects_are_errors(harness: Harness) -> None:
    with pytest.raises(BuildError, match="not a Kubernetes object or Application"):
        harness.objects("just: data\n")


@pytest.mark.parametrize(
    ("text", "expected"), [("1.29", (1, 29)), ("v1.30.2", (1, 30)), ("1.25.0-eks", (1, 25))]
)
def test_kube_versions(text: str, expected: tuple[int, int]) -> None:
    assert parse_kube_version(text) == expected


def test_bad_kube_version() -> None:
    with pytest.raises(BuildError, match="invalid Kubernetes version"):
        parse_kube_version("latest")


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("apps/v1", "Deployment", "deployments.apps"),
        ("batch/v1", "CronJob", "cronjobs.batch"),
        ("networking.k8s.io/v1", "Ingress", "ingresses.networking.k8s.io"),
        ("v1", "Service", "services"),
        ("example.com/v1", "Policy", "policies.example.com"),
    ],
)
def test_workload_type_names(api_version: str, kind: str, expected: str) -> None:
    assert workload_type_of({"apiVersion": api_version, "kind": kind}) == expected
