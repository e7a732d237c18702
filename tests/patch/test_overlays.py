"""``apply_overlay``: patches, selection, warnings, deletion, errors and the step order.

YAML in, YAML out. The transforms one by one are in ``test_overlay_transforms.py``; the
comparison with ``kubectl kustomize`` is ``test_overlays_vs_kustomize.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from engine.errors import PatchError, SourceLocation
from engine.model.environment import Image, LabelSet, Overlay, Patch, Replicas, Target
from engine.patch.overlays import apply_overlay


def docs(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


def one(text: str) -> Any:
    return yaml.safe_load(text)


BASE = docs(
    """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - {name: app, image: web:1}
      - {name: sidecar, image: envoy:1}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: team}
data: {a: "1"}
"""
)


def patched(*patches: Patch, objects: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return apply_overlay(objects or BASE, Overlay(patches=patches)).objects


# -- strategic merge patches ---------------------------------------------------------------


def test_untargeted_patch_names_its_object() -> None:
    patch = Patch(
        one(
            """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: sidecar, image: envoy:2}
"""
        )
    )
    deployment, service, config = patched(patch)
    assert [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]] == [
        "web:1",
        "envoy:2",
    ]
    assert (service, config) == (BASE[1], BASE[2])


def test_untargeted_patch_matches_namespace_and_default() -> None:
    in_team = Patch(
        one(
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: team}, data: {b: '2'}}"
        )
    )
    assert patched(in_team)[2]["data"] == {"a": "1", "b": "2"}
    # without a namespace, a patch names the object in "default": not the one in "team"
    elsewhere = Patch(
        one("{apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {b: '2'}}")
    )
    result = apply_overlay(BASE, Overlay(patches=(elsewhere,)))
    assert result.objects == BASE
    assert result.warnings == ("patch patches[0]: ConfigMap/settings matches no object",)
    explicit_default = Patch(
        one(
            "{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, namespace: default}, spec: {paused: true}}"
        )
    )
    assert patched(explicit_default)[0]["spec"]["paused"] is True


def test_untargeted_patch_needs_apiversion_kind_and_name() -> None:
    with pytest.raises(PatchError, match="must name its object"):
        patched(Patch({"kind": "Deployment", "metadata": {"name": "web"}}))


def test_untargeted_patch_matches_apiversion_exactly() -> None:
    patch = Patch(
        one(
            "{apiVersion: apps/v1beta1, kind: Deployment, metadata: {name: web}, spec: {paused: true}}"
        )
    )
    result = apply_overlay(BASE, Overlay(patches=(patch,)))
    assert result.objects == BASE
    assert len(result.warnings) == 1


def test_targeted_patch_applies_to_every_selected_object() -> None:
    patch = Patch({"metadata": {"annotations": {"owner": "me"}}}, Target(label_selector="app=web"))
    deployment, service, config = patched(patch)
    assert deployment["metadata"]["annotations"] == {"owner": "me"}
    assert service["metadata"]["annotations"] == {"owner": "me"}
    assert "annotations" not in config["metadata"]


def test_targeted_patch_uses_the_target_objects_schema() -> None:
    """The patch's own kind does not matter: containers merge by name in a Deployment."""
    patch = Patch(
        one(
            """
apiVersion: v1
kind: not-important
metadata: {name: not-important}
spec: {template: {spec: {containers: [{name: app, image: web:2}]}}}
"""
        ),
        Target(kind="Deployment"),
    )
    containers = patched(patch)[0]["spec"]["template"]["spec"]["containers"]
    assert containers == [
        {"name": "app", "image": "web:2"},
        {"name": "sidecar", "image": "envoy:1"},
    ]


def test_strategic_patch_keeps_apiversion_kind_name_and_namespace() -> None:
    patch = Patch(
        one(
            """
apiVersion: example.com/v9
kind: Other
metadata: {name: renamed, namespace: elsewhere, labels: {x: y}}
"""
        ),
        Target(kind="ConfigMap"),
    )
    config = patched(patch)[2]
    assert config == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "team", "labels": {"x": "y"}},
        "data": {"a": "1"},
    }


def test_strategic_patch_cannot_add_a_namespace() -> None:
    patch = Patch({"metadata": {"namespace": "added"}}, Target(kind="Service"))
    assert "namespace" not in patched(patch)[1]["metadata"]


def test_patches_apply_in_order_last_wins() -> None:
    first = Patch({"spec": {"replicas": 2}}, Target(kind="Deployment"))
    second = Patch(
        [{"op": "replace", "path": "/spec/replicas", "value": 3}], Target(kind="Deployment")
    )
    assert patched(first, second)[0]["spec"]["replicas"] == 3
    assert patched(second, first)[0]["spec"]["replicas"] == 2


# -- deleting objects ----------------------------------------------------------------------


def test_delete_directive_removes_the_named_object() -> None:
    patch = Patch(one("{$patch: delete, apiVersion: v1, kind: Service, metadata: {name: web}}"))
    result = apply_overlay(BASE, Overlay(patches=(patch,)))
    assert result.objects == [BASE[0], BASE[2]]
    assert result.kept == (0, 2)


def test_delete_directive_with_a_target_removes_every_selected_object() -> None:
    patch = Patch({"$patch": "delete"}, Target(label_selector="app"))
    result = apply_overlay(BASE, Overlay(patches=(patch,)))
    assert result.objects == [BASE[2]]
    assert result.kept == (2,)


def test_later_steps_skip_deleted_objects() -> None:
    overlay = Overlay(
        patches=(Patch({"$patch": "delete"}, Target(kind="Deployment")),),
        replicas=(Replicas("web", 3),),
        name_prefix="p-",
    )
    result = apply_overlay(BASE, overlay)
    assert [o["metadata"]["name"] for o in result.objects] == ["p-web", "p-settings"]
    assert result.warnings == (
        "replicas 'web': no Deployment, ReplicationController, ReplicaSet or StatefulSet has "
        "that name",
    )


# -- JSON patches --------------------------------------------------------------------------


def test_json_patch_all_operations() -> None:
    operations = one(
        """
- {op: test, path: /spec/replicas, value: 1}
- {op: add, path: /spec/template/spec/containers/-, value: {name: extra, image: x:1}}
- {op: remove, path: /spec/template/spec/containers/1}
- {op: replace, path: /spec/replicas, value: 4}
- {op: copy, from: /metadata/labels/app, path: /metadata/labels/copied}
- {op: move, from: /metadata/labels/app, path: /metadata/labels/moved}
"""
    )
    deployment = patched(Patch(operations, Target(kind="Deployment")))[0]
    assert deployment["spec"]["replicas"] == 4
    assert [c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]] == [
        "app",
        "extra",
    ]
    assert deployment["metadata"]["labels"] == {"copied": "web", "moved": "web"}


def test_json_patch_needs_a_target() -> None:
    with pytest.raises(PatchError, match=r"patches\[0\]: a JSON patch needs a target"):
        patched(Patch([{"op": "remove", "path": "/spec"}]))


def test_json_patch_rename_is_tracked() -> None:
    """A later patch still finds a renamed object by its old name, and references follow."""
    base = docs(
        """
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {volumes: [{name: c, configMap: {name: cfg}}]}}}
"""
    )
    rename = Patch(
        [{"op": "replace", "path": "/metadata/name", "value": "cfg-2"}], Target(name="cfg")
    )
    later = Patch({"data": {"a": "1"}}, Target(kind="ConfigMap", name="cfg"))
    config, deployment = patched(rename, later, objects=base)
    assert config["metadata"]["name"] == "cfg-2"
    assert config["data"] == {"a": "1"}
    assert deployment["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] == "cfg-2"


def test_json_patch_must_leave_an_object() -> None:
    with pytest.raises(PatchError, match="left a list, not an object"):
        patched(Patch([{"op": "replace", "path": "", "value": []}], Target(kind="Service")))


def test_json_patch_adds_to_missing_annotations_but_not_labels() -> None:
    """As in kustomize, whose objects always carry (internal) annotations while patched."""
    add_annotation = [{"op": "add", "path": "/metadata/annotations/owner", "value": "me"}]
    config = patched(Patch(add_annotation, Target(kind="ConfigMap")))[2]
    assert config["metadata"]["annotations"] == {"owner": "me"}
    remove_all = [{"op": "remove", "path": "/metadata/annotations"}]
    assert patched(Patch(remove_all, Target(kind="ConfigMap")))[2] == BASE[2]
    add_label = [{"op": "add", "path": "/metadata/labels/owner", "value": "me"}]
    with pytest.raises(PatchError, match="/metadata/labels does not exist"):
        patched(Patch(add_label, Target(kind="ConfigMap")))


def test_empty_annotations_are_dropped_and_empty_labels_kept() -> None:
    emptied = [
        {"op": "add", "path": "/metadata/annotations/a", "value": "1"},
        {"op": "remove", "path": "/metadata/annotations/a"},
        {"op": "replace", "path": "/metadata/labels", "value": {}},
    ]
    deployment = patched(Patch(emptied, Target(kind="Deployment")))[0]
    assert deployment["metadata"] == {"name": "web", "labels": {}}
    bare = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {}}}
    result = apply_overlay([bare], Overlay(namespace="prod"))
    assert result.objects[0]["metadata"] == {"name": "c", "namespace": "prod"}


def test_label_and_annotation_values_a_patch_writes_become_strings() -> None:
    metadata = {"labels": {"on": True, "n": 3}, "annotations": {"f": 1.5, "none": None}}
    smp = patched(Patch({"metadata": metadata}, Target(kind="Service")))[1]
    assert smp["metadata"]["labels"] == {"app": "web", "on": "true", "n": "3"}
    assert smp["metadata"]["annotations"] == {"f": "1.5"}  # null deletes in a merge patch
    ops = [{"op": "add", "path": "/metadata/" + name, "value": metadata[name]} for name in metadata]
    json = patched(Patch(ops, Target(kind="Service")))[1]
    assert json["metadata"]["labels"] == {"on": "true", "n": "3"}
    assert json["metadata"]["annotations"] == {"f": "1.5", "none": "null"}


def test_a_map_as_label_or_annotation_value_is_an_error() -> None:
    patch = Patch({"metadata": {"annotations": {"a": {"b": "c"}}}}, Target(kind="ConfigMap"))
    with pytest.raises(PatchError) as raised:
        patched(patch)
    assert str(raised.value) == (
        "patches[0]: ConfigMap/team/settings: metadata.annotations.a: must be a string, got a map"
    )
    listed = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"a": []}},
    }
    with pytest.raises(PatchError, match=r"^ConfigMap/c: metadata.labels.a: must be a string"):
        apply_overlay([listed], Overlay(namespace="prod"))


# -- warnings ------------------------------------------------------------------------------


def test_target_that_matches_nothing_is_a_warning() -> None:
    location = SourceLocation("environments/prod.yaml", 7, "patches[0]")
    patch = Patch({"spec": {}}, Target(kind="StatefulSet", name="db"), location)
    result = apply_overlay(BASE, Overlay(patches=(patch,)))
    assert result.objects == BASE
    assert result.warnings == (
        "patch environments/prod.yaml:7: patches[0]: target kind='StatefulSet', name='db' "
        "matches no object",
    )


def test_unused_image_is_a_warning() -> None:
    overlay = Overlay(images=(Image("web", new_tag="2"), Image("redis", new_tag="7")))
    result = apply_overlay(BASE, overlay)
    assert result.objects[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"
    assert result.warnings == ("images 'redis': no container uses this image",)


# -- errors name the patch and the object ---------------------------------------------------


def test_failing_json_test_names_patch_and_object() -> None:
    location = SourceLocation("environments/prod.yaml", 12, "patches[1]")
    patch = Patch(
        [{"op": "test", "path": "/spec/replicas", "value": 3}], Target(kind="Deployment"), location
    )
    with pytest.raises(PatchError) as raised:
        patched(patch)
    assert str(raised.value) == (
        "environments/prod.yaml:12: patches[1]: Deployment/web: "
        "operation 0 (test /spec/replicas): value 1 does not equal 3"
    )


def test_bad_path_names_patch_and_object() -> None:
    patch = Patch([{"op": "add", "path": "/spec/missing/x", "value": 1}], Target(kind="ConfigMap"))
    with pytest.raises(PatchError) as raised:
        patched(patch)
    assert str(raised.value) == (
        "patches[0]: ConfigMap/team/settings: operation 0 (add /spec/missing/x): /spec does not exist"
    )


def test_strategic_merge_error_names_the_path_inside_the_object() -> None:
    patch = Patch(
        {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
        Target(kind="Deployment"),
    )
    with pytest.raises(PatchError) as raised:
        patched(patch)
    assert str(raised.value) == (
        "patches[0]: Deployment/web: spec.template.spec.containers[0]: merge key 'name' missing"
    )


def test_bad_target_regex_is_an_error() -> None:
    with pytest.raises(
        PatchError, match=r"patches\[0\]: target name '\(' is not a valid regular expression"
    ):
        patched(Patch({}, Target(name="(")))


def test_bad_selector_is_an_error() -> None:
    with pytest.raises(PatchError, match="labelSelector 'a in b'"):
        patched(Patch({}, Target(label_selector="a in b")))


def test_a_patch_that_is_neither_map_nor_list_is_an_error() -> None:
    with pytest.raises(PatchError, match=r"must be a map .* or a list"):
        patched(Patch("spec: {}", Target(kind="Service")))


def test_transform_errors_name_the_step_and_object() -> None:
    broken = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": "oops"}]
    overlay = Overlay(labels=(LabelSet({"a": "b"}, include_selectors=True),))
    with pytest.raises(PatchError) as raised:
        apply_overlay(broken, overlay)
    assert str(raised.value) == "labels: Service/x: spec: expected a map or a list, got str"


def test_objects_must_be_maps() -> None:
    with pytest.raises(PatchError, match="object 1 is a list"):
        apply_overlay([BASE[0], []], Overlay())  # type: ignore[list-item]


def test_several_objects_for_one_untargeted_patch_is_an_error() -> None:
    twice = [BASE[1], {**BASE[1], "metadata": {"name": "web", "namespace": "default"}}]
    patch = Patch(
        one("{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {type: NodePort}}")
    )
    with pytest.raises(PatchError, match="matches several objects"):
        patched(patch, objects=twice)


# -- the whole overlay ---------------------------------------------------------------------


def test_steps_run_in_kustomize_order() -> None:
    """Patches see original names; labels see renamed objects; replicas find old names."""
    overlay = Overlay(
        namespace="prod",
        name_prefix="p-",
        name_suffix="-s",
        labels=(LabelSet({"env": "prod"}),),
        annotations={"note": "x"},
        images=(Image("web", new_tag="9"),),
        replicas=(Replicas("web", 5),),
        patches=(
            Patch(
                {"metadata": {"labels": {"patched": "yes"}}},
                Target(name="web", namespace="default"),
            ),
        ),
    )
    deployment, service, config = apply_overlay(BASE, overlay).objects
    assert deployment["metadata"] == {
        "name": "p-web-s",
        "namespace": "prod",
        "labels": {"app": "web", "patched": "yes", "env": "prod"},
        "annotations": {"note": "x"},
    }
    assert deployment["spec"]["replicas"] == 5
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "web:9"
    assert service["metadata"]["labels"] == {"app": "web", "patched": "yes", "env": "prod"}
    assert config["metadata"]["name"] == "p-settings-s"
    assert config["metadata"]["labels"] == {"env": "prod"}


def test_patch_fields_run_at_their_kustomize_steps() -> None:
    """patchesStrategicMerge before patches; patchesJson6902 after the name and label steps,
    before replicas and images."""
    deployment = "{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: %s}"
    operations = [
        {"op": "test", "path": "/spec/replicas", "value": 3},
        {"op": "test", "path": "/metadata/labels/env", "value": "prod"},
        {"op": "copy", "from": "/metadata/name", "path": "/metadata/annotations/seen"},
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "web:4"},
    ]
    overlay = Overlay(
        name_prefix="p-",
        labels=(LabelSet({"env": "prod"}),),
        replicas=(Replicas("web", 5),),
        images=(Image("web", new_tag="9"),),
        patches=(Patch(one(deployment % "{replicas: 3}")),),
        patches_strategic_merge=(Patch(one(deployment % "{replicas: 2, paused: true}")),),
        patches_json6902=(Patch(operations, Target(kind="Deployment", name="web")),),
    )
    result = apply_overlay(BASE, overlay).objects[0]
    assert result["metadata"]["annotations"] == {"seen": "p-web"}
    assert result["spec"]["paused"] is True
    assert result["spec"]["replicas"] == 5
    assert result["spec"]["template"]["spec"]["containers"][0]["image"] == "web:9"


def test_messages_name_the_patch_field() -> None:
    missing = Patch(one("{apiVersion: v1, kind: ConfigMap, metadata: {name: nope}}"))
    result = apply_overlay(BASE, Overlay(patches_strategic_merge=(missing,)))
    assert result.warnings == ("patch patchesStrategicMerge[0]: ConfigMap/nope matches no object",)
    failing = Patch([{"op": "remove", "path": "/nope"}], Target(kind="ConfigMap"))
    with pytest.raises(PatchError, match=r"^patchesJson6902\[0\]: ConfigMap/team/settings: "):
        apply_overlay(BASE, Overlay(patches_json6902=(failing,)))


def test_order_of_objects_is_kept() -> None:
    overlay = Overlay(namespace="x", name_prefix="a-")
    result = apply_overlay(BASE, overlay)
    assert [o["kind"] for o in result.objects] == ["Deployment", "Service", "ConfigMap"]
    assert result.kept == (0, 1, 2)


def test_inputs_are_not_changed() -> None:
    before = copy.deepcopy(BASE)
    patch = Patch(
        one("{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {ports: [{port: 81}]}}")
    )
    overlay = Overlay(
        namespace="prod",
        name_prefix="p-",
        labels=(LabelSet({"a": "b"}, include_selectors=True),),
        annotations={"n": "v"},
        images=(Image("web", new_name="w"),),
        replicas=(Replicas("web", 2),),
        patches=(
            patch,
            Patch([{"op": "add", "path": "/data/b", "value": "2"}], Target(kind="ConfigMap")),
        ),
    )
    apply_overlay(BASE, overlay)
    assert before == BASE
    assert patch.body == one(
        "{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {ports: [{port: 81}]}}"
    )


def test_empty_overlay_returns_the_objects() -> None:
    result = apply_overlay(BASE, Overlay())
    assert result.objects == BASE
    assert result.warnings == ()
    assert result.kept == (0, 1, 2)


def test_overlay_values_are_checked() -> None:
    with pytest.raises(PatchError, match="name_prefix must be a string"):
        apply_overlay(BASE, Overlay(name_prefix=3))  # type: ignore[arg-type]
    with pytest.raises(PatchError, match="images entry"):
        apply_overlay(BASE, Overlay(images=(Image(3),)))  # type: ignore[arg-type]
