"""Property tests: any objects and any overlay give a result or a PatchError, and any
kustomization fields give an Overlay or an InputError - nothing else.

Objects are Kubernetes-shaped (the kinds, fields and references the transforms look at) with
random values, and sometimes the wrong shape where a map is expected. Overlays mix every
transform with patches (strategic merge maps and JSON patch lists) and targets, including
bad regular expressions and selectors.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError, PatchError
from engine.model.environment import Image, LabelSet, Overlay, Patch, Replicas, Target
from engine.model.overlays import OVERLAY_FIELDS, overlay_from_kustomize
from engine.patch.overlays import apply_overlay
from tests.patch.test_patch_properties import json_values

NAMES = st.sampled_from(["web", "api", "cfg", "sa", "default", "data", "db", "nginx", "a.b"])
KINDS = st.sampled_from(
    [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("batch/v1", "CronJob"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
        ("v1", "ServiceAccount"),
        ("v1", "Namespace"),
        ("v1", "Pod"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("networking.k8s.io/v1", "Ingress"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("example.com/v1", "Widget"),
    ]
)
STRINGS = st.one_of(NAMES, st.text(max_size=4))
LABELS = st.dictionaries(st.sampled_from(["app", "tier", "env", "x/y"]), STRINGS, max_size=3)
IMAGES = st.sampled_from(["nginx", "nginx:1", "nginx@sha256:a", "reg:5000/web:2", "web", ""])

container = st.fixed_dictionaries(
    {"name": NAMES},
    optional={
        "image": st.one_of(IMAGES, json_values),
        "envFrom": st.lists(
            st.fixed_dictionaries({"configMapRef": st.fixed_dictionaries({"name": NAMES})}),
            max_size=2,
        ),
        "env": json_values,
    },
)
pod_spec = st.fixed_dictionaries(
    {},
    optional={
        "containers": st.one_of(st.lists(container, max_size=3), json_values),
        "initContainers": st.lists(container, max_size=2),
        "serviceAccountName": NAMES,
        "volumes": st.lists(
            st.fixed_dictionaries(
                {"name": NAMES}, optional={"configMap": st.fixed_dictionaries({"name": NAMES})}
            ),
            max_size=2,
        ),
    },
)
template = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.one_of(st.fixed_dictionaries({}, optional={"labels": LABELS}), json_values),
        "spec": pod_spec,
    },
)
spec = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "replicas": json_values,
            "selector": st.one_of(
                LABELS, st.fixed_dictionaries({"matchLabels": LABELS}), json_values
            ),
            "template": st.one_of(template, json_values),
            "jobTemplate": st.fixed_dictionaries(
                {"spec": st.fixed_dictionaries({"template": template})}
            ),
            "service": json_values,
            "scaleTargetRef": st.fixed_dictionaries({"name": NAMES}),
        },
    ),
    json_values,
)
subjects = st.lists(
    st.fixed_dictionaries(
        {"name": NAMES},
        optional={
            "kind": st.sampled_from(["ServiceAccount", "User"]),
            "namespace": st.one_of(NAMES, json_values),
        },
    ),
    max_size=3,
)
metadata = st.one_of(
    st.fixed_dictionaries(
        {"name": NAMES},
        optional={
            "namespace": NAMES,
            "labels": st.one_of(LABELS, json_values),
            "annotations": LABELS,
        },
    ),
    json_values,
)


@st.composite
def objects(draw: st.DrawFn) -> dict[str, Any]:
    api_version, kind = draw(KINDS)
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": draw(metadata)}
    if draw(st.booleans()):
        obj["spec"] = draw(spec)
    if kind.endswith("Binding"):
        obj["subjects"] = draw(st.one_of(subjects, json_values))
        obj["roleRef"] = draw(
            st.fixed_dictionaries(
                {
                    "name": NAMES,
                    "kind": st.just("Role"),
                    "apiGroup": st.just("rbac.authorization.k8s.io"),
                }
            )
        )
    return obj


REGEXES = st.one_of(
    st.none(),
    NAMES,
    st.sampled_from(["", ".*", "web|api", "(", "[a-z]+", "Deployment", "v1", "apps"]),
)
SELECTORS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "app=web",
            "!app",
            "tier in (a,b)",
            "env notin (x)",
            "app!=web,tier",
            "a in b",
            "=",
            "x>1",
            "((",
        ]
    ),
)
targets = st.one_of(
    st.none(),
    st.builds(
        Target,
        group=REGEXES,
        version=REGEXES,
        kind=REGEXES,
        name=REGEXES,
        namespace=REGEXES,
        label_selector=SELECTORS,
        annotation_selector=SELECTORS,
    ),
)
json_operations = st.lists(
    st.fixed_dictionaries(
        {
            "op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bad"]),
            "path": st.sampled_from(
                [
                    "/spec/replicas",
                    "/metadata/name",
                    "/metadata/labels/a",
                    "",
                    "/spec/template/spec/containers/0",
                    "x",
                ]
            ),
        },
        optional={
            "value": json_values,
            "from": st.sampled_from(["/metadata/name", "/spec", "/nope"]),
        },
    ),
    max_size=3,
)
strategic_patches = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "apiVersion": st.sampled_from(["apps/v1", "v1"]),
            "kind": st.sampled_from(["Deployment", "ConfigMap", "Service"]),
            "metadata": st.fixed_dictionaries({"name": NAMES}, optional={"labels": LABELS}),
            "spec": spec,
            "$patch": st.sampled_from(["delete", "replace", "merge", "bogus"]),
        },
    ),
    st.dictionaries(
        st.sampled_from(["spec", "metadata", "$patch", "data"]), json_values, max_size=3
    ),
)
patches = st.builds(
    Patch,
    body=st.one_of(strategic_patches, json_operations, json_values),
    target=targets,
)
overlays = st.builds(
    Overlay,
    namespace=st.one_of(st.none(), NAMES),
    name_prefix=st.sampled_from(["", "p-"]),
    name_suffix=st.sampled_from(["", "-s"]),
    labels=st.lists(
        st.builds(
            LabelSet, pairs=LABELS, include_selectors=st.booleans(), include_templates=st.booleans()
        ),
        max_size=2,
    ).map(tuple),
    annotations=LABELS,
    images=st.lists(
        st.builds(
            Image,
            name=st.sampled_from(["nginx", "web", "reg:5000/web", "a.b"]),
            new_name=st.one_of(st.none(), NAMES),
            new_tag=st.one_of(st.none(), st.just("2")),
            digest=st.one_of(st.none(), st.just("sha256:b")),
        ),
        max_size=2,
    ).map(tuple),
    replicas=st.lists(st.builds(Replicas, name=NAMES, count=st.integers(0, 5)), max_size=2).map(
        tuple
    ),
    patches=st.lists(patches, max_size=3).map(tuple),
    patches_strategic_merge=st.lists(patches, max_size=1).map(tuple),
    patches_json6902=st.lists(patches, max_size=2).map(tuple),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(objects(), max_size=5), overlays)
def test_overlay_gives_a_result_or_a_patch_error(
    items: list[dict[str, Any]], overlay: Overlay
) -> None:
    before = copy.deepcopy(items)
    every_patch = (*overlay.patches_strategic_merge, *overlay.patches, *overlay.patches_json6902)
    bodies = copy.deepcopy([patch.body for patch in every_patch])
    try:
        result = apply_overlay(items, overlay)
    except PatchError as exc:
        assert str(exc)
    else:
        assert len(result.objects) == len(result.kept)
        assert list(result.kept) == sorted(set(result.kept))
        assert all(isinstance(obj, dict) for obj in result.objects)
    assert items == before
    assert [patch.body for patch in every_patch] == bodies


# -- the kustomization reader --------------------------------------------------------------

FIELD_NAMES = st.sampled_from(
    [*OVERLAY_FIELDS, "resources", "configMapGenerator", "apiVersion", "kind", "metadata"]
)
ENTRY_KEYS = st.sampled_from(
    ["patch", "path", "target", "options", "name", "newTag", "count", "pairs", "kind"]
)
entries = st.dictionaries(ENTRY_KEYS, st.one_of(json_values, st.sampled_from(["a.yaml", "- x"])))
kustomizations = st.dictionaries(
    FIELD_NAMES, st.one_of(json_values, st.lists(entries, max_size=3)), max_size=4
)


def read_anything(path: str) -> str:
    if path == "a.yaml":
        return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    raise FileNotFoundError(path)


@settings(max_examples=300, deadline=None)
@given(kustomizations)
def test_reading_kustomization_fields_gives_an_overlay_or_an_input_error(
    data: dict[str, Any],
) -> None:
    try:
        result = overlay_from_kustomize(data, read=read_anything)
    except InputError as exc:
        assert str(exc)
    else:
        assert isinstance(result, Overlay)
