"""Differential tests: ``apply_overlay`` against ``kubectl kustomize`` (kustomize v5.5).

Each folder under ``tests/cases/overlays/`` holds ``base.yaml`` (the objects) and
``overlay.yaml`` (kustomization fields without ``resources``), plus any patch files it names.
The test copies the folder, writes ``kustomization.yaml`` = ``resources: [base.yaml]`` + the
overlay fields, runs ``kubectl kustomize`` on it, reads the same fields with
``overlay_from_kustomize`` and compares object by object (parsed, not text) with
``apply_overlay`` on the same objects.

Every case declares how it compares (``MODES``):

- ``kustomize``: equal to kustomize;
- ``order``: equal once merge lists are sorted by their merge key - the deliberate order
  difference (kustomize moves the elements a patch names to the front,
  kubernetes-sigs/kustomize#3912); ``test_order_*`` assert the exact orders;
- ``differs``: a deliberate difference; a test below asserts what kustomize does and what
  sailplan does instead, each named after its case;
- ``fails``: kustomize fails and so does sailplan, with a ``PatchError``.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import pathlib
import shutil
import subprocess
import tempfile
from typing import Any

import pytest
import yaml

from engine.errors import PatchError
from engine.model.overlays import overlay_from_kustomize
from engine.patch.overlays import OverlayResult, apply_overlay
from tests.patch.test_vs_kustomize import sorted_objects

CASES = pathlib.Path(__file__).resolve().parent.parent / "cases" / "overlays"
KUBECTL = shutil.which("kubectl")

# kubectl (with kustomize built in) is on every machine here; without it this suite fails.
assert KUBECTL is not None, "kubectl is required: it is the reference for overlay semantics"

MODES: dict[str, str] = {
    # patches: strategic merge, targets and selectors
    "smp-untargeted-containers": "kustomize",
    "smp-multidoc-file": "order",
    "smp-target-kind-regex": "kustomize",
    "smp-target-name-regex": "kustomize",
    "smp-target-namespace": "kustomize",
    "smp-target-group-version": "kustomize",
    "smp-target-label-selector": "kustomize",
    "smp-target-annotation-selector": "kustomize",
    "smp-target-selector-forms": "kustomize",
    "smp-target-no-match": "kustomize",
    "smp-delete-object": "kustomize",
    "smp-null-and-replace": "kustomize",
    "smp-list-delete-and-replace": "order",
    "smp-identity-kept": "kustomize",
    "smp-custom-resource": "kustomize",
    "smp-service-ports": "kustomize",
    "smp-order-sidecar": "order",
    "smp-last-wins": "kustomize",
    "patches-strategic-merge-legacy": "kustomize",
    "patches-json6902-legacy": "kustomize",
    # patches: JSON 6902
    "json-add": "kustomize",
    "json-remove-replace": "kustomize",
    "json-move-copy": "kustomize",
    "json-test": "kustomize",
    "json-escapes": "kustomize",
    "json-many-targets": "kustomize",
    "json-rename-refs": "kustomize",
    "json-annotations-missing": "kustomize",
    "json-add-label-missing": "fails",
    "label-values-strings": "kustomize",
    # the order of the steps
    "order-legacy-strategic-merge-first": "kustomize",
    "order-json6902-after-transforms": "kustomize",
    "order-json6902-targets": "kustomize",
    # transforms
    "namespace-kinds": "kustomize",
    "namespace-subjects": "kustomize",
    "prefix-suffix-kinds": "kustomize",
    "namerefs-pod-specs": "kustomize",
    "namerefs-network": "kustomize",
    "namerefs-rbac": "kustomize",
    "namerefs-storage": "kustomize",
    "namerefs-not-in-build": "kustomize",
    "commonlabels-workloads": "kustomize",
    "labels-metadata-only": "kustomize",
    "labels-include-templates": "kustomize",
    "labels-include-selectors": "kustomize",
    "labels-and-commonlabels": "kustomize",
    "commonannotations-workloads": "kustomize",
    "images-references": "kustomize",
    "images-chain": "kustomize",
    "replicas-kinds": "kustomize",
    "replicas-after-prefix": "kustomize",
    # combinations
    "combo-production": "kustomize",
    "combo-patch-then-rename": "kustomize",
    "combo-custom-resources": "kustomize",
    "combo-cronjob": "kustomize",
    # deliberate differences
    "diff-cluster-scoped-kinds": "differs",
    "diff-subject-kinds": "differs",
    "diff-ingressclass-ref": "differs",
    "diff-apiservice-local": "differs",
    "diff-image-name-literal": "differs",
    "diff-json-replace-missing": "differs",
    "diff-untargeted-no-match": "differs",
    "diff-replicas-no-match": "differs",
    "diff-directives": "differs",
    "diff-partial-composite-key": "differs",
    "diff-element-replace": "differs",
    "diff-pdb-selector": "differs",
    "diff-patch-without-kind": "differs",
    "diff-label-values-strings": "differs",
    "diff-list-delete-without-key": "differs",
}

ObjectId = tuple[str, str, str, str]
Objects = dict[ObjectId, dict[str, Any]]


def cases(mode: str) -> list[str]:
    return [name for name, case_mode in MODES.items() if case_mode == mode]


def object_id(obj: dict[str, Any]) -> ObjectId:
    meta = obj.get("metadata") or {}
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def by_id(objects: list[dict[str, Any]]) -> Objects:
    return {object_id(obj): obj for obj in objects}


def overlay_fields(case: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CASES / case / "overlay.yaml").read_text())
    return data


def base_objects(case: str) -> list[dict[str, Any]]:
    text = (CASES / case / "base.yaml").read_text()
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


# -- kustomize -----------------------------------------------------------------------------


@functools.cache
def kustomize_runs() -> dict[str, tuple[Objects | None, str]]:
    """``kubectl kustomize`` of every case, run in parallel once: objects or ``None``, stderr."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(MODES, pool.map(_run_kustomize, MODES), strict=True))


def _run_kustomize(case: str) -> tuple[Objects | None, str]:
    with tempfile.TemporaryDirectory(prefix="sailplan-overlay-") as tmp:
        folder = pathlib.Path(tmp)
        for path in (CASES / case).iterdir():
            shutil.copy(path, folder / path.name)
        kustomization = {"resources": ["base.yaml"], **overlay_fields(case)}
        (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        done = subprocess.run(
            [str(KUBECTL), "kustomize", str(folder)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    if done.returncode != 0:
        return None, done.stderr
    return by_id([doc for doc in yaml.safe_load_all(done.stdout) if doc]), done.stderr


def kustomize(case: str) -> Objects:
    objects, stderr = kustomize_runs()[case]
    assert objects is not None, f"kubectl kustomize failed on {case}: {stderr}"
    return objects


def kustomize_error(case: str) -> str:
    objects, stderr = kustomize_runs()[case]
    assert objects is None, f"kubectl kustomize was expected to fail on {case}"
    return stderr


# -- sailplan ------------------------------------------------------------------------------


def run_ours(case: str) -> OverlayResult:
    overlay = overlay_from_kustomize(
        overlay_fields(case), read=lambda path: (CASES / case / path).read_text()
    )
    return apply_overlay(base_objects(case), overlay)


def ours(case: str) -> Objects:
    return by_id(run_ours(case).objects)


def only(objects: Objects, kind: str) -> dict[str, Any]:
    (obj,) = (obj for oid, obj in objects.items() if oid[1] == kind)
    return obj


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


# -- the comparisons -----------------------------------------------------------------------


def test_every_case_folder_has_a_mode() -> None:
    folders = {path.name for path in CASES.iterdir() if path.is_dir()}
    assert folders == set(MODES)


def test_there_are_at_least_40_cases_equal_to_kustomize() -> None:
    assert len(cases("kustomize")) + len(cases("order")) >= 40


@pytest.mark.parametrize("case", cases("kustomize"))
def test_equal_to_kustomize(case: str) -> None:
    assert ours(case) == kustomize(case)


@pytest.mark.parametrize("case", cases("order"))
def test_equal_to_kustomize_but_for_list_order(case: str) -> None:
    assert sorted_objects(ours(case)) == sorted_objects(kustomize(case))
    assert ours(case) != kustomize(case), "the case should show the order difference"


@pytest.mark.parametrize("case", cases("fails"))
def test_fails_like_kustomize(case: str) -> None:
    assert kustomize_error(case)
    with pytest.raises(PatchError):
        run_ours(case)


@pytest.mark.parametrize("case", cases("differs"))
def test_every_difference_has_its_own_test(case: str) -> None:
    name = "test_" + case.replace("-", "_")
    assert callable(globals().get(name)), f"{name} should assert the difference"


# -- warnings where kustomize is silent ------------------------------------------------------


def test_no_match_warnings() -> None:
    assert run_ours("smp-target-no-match").warnings == (
        "patch patches[0]: target kind='Deployment' matches no object",
        "patch patches[1]: target kind='ConfigMap', labelSelector='missing=label' matches no object",
    )
    assert run_ours("smp-target-name-regex").warnings == (
        "patch patches[1]: target name='api' matches no object",
    )


# -- order ---------------------------------------------------------------------------------


def test_order_patched_elements_stay_in_place() -> None:
    ours_deployment = only(ours("smp-order-sidecar"), "Deployment")
    theirs = only(kustomize("smp-order-sidecar"), "Deployment")
    assert [c["name"] for c in containers(ours_deployment)] == ["app", "sidecar"]
    assert [c["name"] for c in containers(theirs)] == ["sidecar", "app"]
    assert [e["name"] for e in containers(ours_deployment)[0]["env"]] == ["A", "B", "C"]
    assert [e["name"] for e in containers(theirs)[1]["env"]] == ["B", "C", "A"]


def test_order_new_service_port_is_appended() -> None:
    def names(objects: Objects) -> list[str]:
        return [port["name"] for port in only(objects, "Service")["spec"]["ports"]]

    assert names(ours("smp-multidoc-file")) == ["http", "https"]
    assert names(kustomize("smp-multidoc-file")) == ["https", "http"]


def test_order_new_volume_mount_is_appended() -> None:
    def mounts(objects: Objects) -> list[str]:
        return [m["mountPath"] for m in containers(only(objects, "Deployment"))[0]["volumeMounts"]]

    assert mounts(ours("smp-list-delete-and-replace")) == ["/etc/config", "/data"]
    assert mounts(kustomize("smp-list-delete-and-replace")) == ["/data", "/etc/config"]


# -- deliberate differences, one test per case ---------------------------------------------


def test_diff_cluster_scoped_kinds() -> None:
    """Kinds newer than kustomize's schema are cluster-scoped here and get no namespace."""
    case = "diff-cluster-scoped-kinds"
    kinds = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "FlowSchema")
    for kind in kinds:
        assert "namespace" not in only(ours(case), kind)["metadata"]
        assert only(kustomize(case), kind)["metadata"]["namespace"] == "prod"
    assert only(ours(case), "ConfigMap") == only(kustomize(case), "ConfigMap")


def test_diff_subject_kinds() -> None:
    """Only ServiceAccount subjects follow renames and namespaces."""
    case = "diff-subject-kinds"
    ours_subjects = only(ours(case), "RoleBinding")["subjects"]
    their_subjects = only(kustomize(case), "RoleBinding")["subjects"]
    assert (
        ours_subjects[0]
        == their_subjects[0]
        == {
            "kind": "ServiceAccount",
            "name": "ci-deployer",
            "namespace": "ci",
        }
    )
    assert ours_subjects[1:] == [
        {"kind": "User", "name": "deployer", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "Group", "name": "default", "apiGroup": "rbac.authorization.k8s.io"},
    ]
    # kustomize renames the User because a ServiceAccount shares its name, and puts the
    # Group named "default" into the namespace
    assert their_subjects[1:] == [
        {
            "kind": "User",
            "name": "ci-deployer",
            "namespace": "ci",
            "apiGroup": "rbac.authorization.k8s.io",
        },
        {
            "kind": "Group",
            "name": "default",
            "namespace": "ci",
            "apiGroup": "rbac.authorization.k8s.io",
        },
    ]


def test_diff_ingressclass_ref() -> None:
    """spec.ingressClassName follows a renamed IngressClass; kustomize's table never matches."""
    case = "diff-ingressclass-ref"
    assert only(ours(case), "Ingress")["spec"]["ingressClassName"] == "blue-public"
    assert only(kustomize(case), "Ingress")["spec"]["ingressClassName"] == "public"
    assert only(ours(case), "IngressClass") == only(kustomize(case), "IngressClass")


def test_diff_apiservice_local() -> None:
    """A local APIService gets no spec.service; a remote one gets the namespace in both."""
    case = "diff-apiservice-local"
    local = ("apiregistration.k8s.io/v1", "APIService", "", "v1.local.example.com")
    remote = ("apiregistration.k8s.io/v1", "APIService", "", "v1.remote.example.com")
    assert "service" not in ours(case)[local]["spec"]
    assert kustomize(case)[local]["spec"]["service"] == {"namespace": "prod"}
    assert ours(case)[remote] == kustomize(case)[remote]
    assert ours(case)[remote]["spec"]["service"] == {"name": "remote", "namespace": "prod"}


def test_diff_image_name_literal() -> None:
    """An image name matches literally; kustomize reads it as a regular expression."""
    case = "diff-image-name-literal"
    assert [c["image"] for c in containers(only(ours(case), "Deployment"))] == [
        "my.app:2",
        "my-app:1",
    ]
    assert [c["image"] for c in containers(only(kustomize(case), "Deployment"))] == [
        "my.app:2",
        "my-app:2",
    ]


def test_diff_json_replace_missing() -> None:
    """RFC 6902: replace of a missing member is an error; kustomize adds it."""
    case = "diff-json-replace-missing"
    with pytest.raises(PatchError) as raised:
        run_ours(case)
    assert str(raised.value) == (
        "patches[0]: Deployment/web: operation 0 (replace /spec/replicas): "
        "/spec/replicas does not exist"
    )
    assert only(kustomize(case), "Deployment")["spec"]["replicas"] == 3


def test_diff_untargeted_no_match() -> None:
    """A patch naming an object that is not there is a warning; kustomize fails."""
    case = "diff-untargeted-no-match"
    result = run_ours(case)
    assert result.warnings == ("patch patches[0]: Deployment/api matches no object",)
    assert result.objects == base_objects(case)
    assert "no resource matches strategic merge patch" in kustomize_error(case)


def test_diff_replicas_no_match() -> None:
    """A replicas entry that finds nothing is a warning; kustomize fails."""
    case = "diff-replicas-no-match"
    result = run_ours(case)
    assert result.warnings == (
        "replicas 'api': no Deployment, ReplicationController, ReplicaSet or StatefulSet "
        "has that name",
    )
    assert result.objects[0]["spec"]["replicas"] == 2
    assert "resource with name api does not match" in kustomize_error(case)


def test_diff_directives() -> None:
    """$retainKeys, $setElementOrder and $deleteFromPrimitiveList take effect; kustomize
    copies them into its output."""
    case = "diff-directives"
    deployment = only(ours(case), "Deployment")
    assert deployment["metadata"]["finalizers"] == ["example.com/b"]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert [c["name"] for c in containers(deployment)] == ["sidecar", "app"]
    assert "$" not in json.dumps(deployment)
    theirs = only(kustomize(case), "Deployment")
    assert theirs["metadata"]["finalizers"] == ["example.com/a", "example.com/b"]
    assert theirs["metadata"]["$deleteFromPrimitiveList/finalizers"] == ["example.com/a"]
    assert theirs["spec"]["strategy"]["$retainKeys"] == ["type"]
    assert "rollingUpdate" in theirs["spec"]["strategy"]
    assert "$setElementOrder/containers" in theirs["spec"]["template"]["spec"]


def test_diff_partial_composite_key() -> None:
    """A composite merge key given in part is an error; kustomize drops the element."""
    case = "diff-partial-composite-key"
    with pytest.raises(PatchError, match="merge key 'whenUnsatisfiable' missing"):
        run_ours(case)
    spread = only(kustomize(case), "Deployment")["spec"]["template"]["spec"]
    assert spread["topologySpreadConstraints"] == [
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
    ]


def test_diff_element_replace() -> None:
    """{name, $patch: replace} replaces that list element; kustomize ignores the element."""
    case = "diff-element-replace"
    assert containers(only(ours(case), "Deployment")) == [
        {"name": "app", "image": "web:1"},
        {"name": "sidecar", "image": "envoy:2"},
    ]
    sidecar = containers(only(kustomize(case), "Deployment"))[0]
    assert sidecar == {
        "name": "sidecar",
        "image": "envoy:1",
        "args": ["--debug"],
        "env": [{"name": "A", "value": "1"}],
    }


def test_diff_pdb_selector() -> None:
    """A PodDisruptionBudget selector is replaced whole (patch strategy replace)."""
    case = "diff-pdb-selector"
    assert only(ours(case), "PodDisruptionBudget")["spec"]["selector"] == {
        "matchLabels": {"app": "web-v2"}
    }
    assert only(kustomize(case), "PodDisruptionBudget")["spec"]["selector"] == {
        "matchLabels": {"app": "web-v2", "track": "stable"}
    }


def test_diff_patch_without_kind() -> None:
    """A targeted strategic merge patch need not name apiVersion/kind; kustomize fails."""
    case = "diff-patch-without-kind"
    assert only(ours(case), "Deployment")["spec"]["replicas"] == 2
    assert "unable to parse SM or JSON patch" in kustomize_error(case)


def test_diff_label_values_strings() -> None:
    """Label values a patch writes are strings, and YAML 1.1 values are strings of what was
    parsed; kustomize keeps JSON-patched and untargeted labels as written, and the text."""
    case = "diff-label-values-strings"
    ours_config, theirs_config = only(ours(case), "ConfigMap"), only(kustomize(case), "ConfigMap")
    assert ours_config["metadata"]["labels"] == {"enabled": "false", "size": "2"}
    assert theirs_config["metadata"]["labels"] == {"enabled": False, "size": 2}
    ours_meta = only(ours(case), "Deployment")["metadata"]
    theirs_meta = only(kustomize(case), "Deployment")["metadata"]
    assert ours_meta["labels"] == {"app": "web", "replicas": "3"}
    assert theirs_meta["labels"] == {"app": "web", "replicas": 3}
    assert ours_meta["annotations"] == {"approved": "true", "ratio": "1.1"}
    assert theirs_meta["annotations"] == {"approved": "yes", "ratio": "1.10"}


def test_diff_list_delete_without_key() -> None:
    """``$patch: delete`` in a list without a merge key is an error; kustomize keeps the
    element with its directive and drops the other elements."""
    case = "diff-list-delete-without-key"
    with pytest.raises(PatchError) as raised:
        run_ours(case)
    assert str(raised.value) == (
        "patches[0]: Widget/w: spec.items[0]: '$patch: delete' needs a list with a merge key; "
        "this list has none and is replaced whole by the patch's list, so give the list "
        "without the element"
    )
    widget = only(kustomize(case), "Widget")
    assert widget["spec"]["items"] == [{"name": "a", "$patch": "delete"}]
