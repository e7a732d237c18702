"""``overlay_from_kustomize``: kustomization fields read into an ``Overlay`` value."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from engine.errors import InputError, SourceLocation
from engine.model.environment import Image, LabelSet, Overlay, Patch, Replicas, Target
from engine.model.overlays import overlay_from_kustomize

FILES = {
    "patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n",
    "two.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n",
    "ops.yaml": "- {op: remove, path: /data}\n",
    "ops.json": '[{"op": "remove", "path": "/data"}]',
    "broken.yaml": "a: [\n",
}


def read(path: str) -> str:
    if path not in FILES:
        raise FileNotFoundError(path)
    return FILES[path]


def overlay(text: str) -> Overlay:
    return overlay_from_kustomize(yaml.safe_load(text), read=read)


def bodies(result: Overlay) -> list[Any]:
    return [patch.body for patch in result.patches]


def test_empty() -> None:
    assert overlay("{}") == Overlay()


def test_environment_file_fields_are_ignored() -> None:
    text = """
apiVersion: sailplan.dev/v1alpha1
kind: Environment
metadata: {name: prod}
resources: [base.yaml]
overrides: []
selector: [web]
namespace: prod
"""
    assert overlay(text) == Overlay(namespace="prod")


def test_plain_fields() -> None:
    text = """
namespace: prod
namePrefix: p-
nameSuffix: -s
commonAnnotations: {owner: me}
images:
- {name: nginx, newName: mirror/nginx, newTag: "1.27", digest: "sha256:abc"}
- {name: redis}
replicas:
- {name: web, count: 3}
"""
    assert overlay(text) == Overlay(
        namespace="prod",
        name_prefix="p-",
        name_suffix="-s",
        annotations={"owner": "me"},
        images=(Image("nginx", "mirror/nginx", "1.27", "sha256:abc"), Image("redis")),
        replicas=(Replicas("web", 3),),
    )


def test_labels_then_common_labels() -> None:
    text = """
commonLabels: {team: a}
labels:
- pairs: {env: prod}
- pairs: {tier: web}
  includeSelectors: true
  includeTemplates: false
- pairs: {v: "2"}
  includeTemplates: true
"""
    assert overlay(text).labels == (
        LabelSet({"env": "prod"}),
        LabelSet({"tier": "web"}, include_selectors=True),
        LabelSet({"v": "2"}, include_templates=True),
        LabelSet({"team": "a"}, include_selectors=True, include_templates=True),
    )


def test_patches_inline_file_and_json() -> None:
    text = """
patches:
- path: patch.yaml
- patch: |
    apiVersion: v1
    kind: Secret
    metadata: {name: s}
- target: {kind: ConfigMap}
  path: ops.yaml
- target: {kind: ConfigMap}
  path: ops.json
- target: {kind: ConfigMap, labelSelector: a=b, annotationSelector: c, name: x, namespace: y, group: g, version: v}
  patch: '[{"op": "add", "path": "/data/x", "value": "1"}]'
- target: {kind: ConfigMap}
  patch: {data: {already: parsed}}
"""
    result = overlay(text)
    assert bodies(result) == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}},
        [{"op": "remove", "path": "/data"}],
        [{"op": "remove", "path": "/data"}],
        [{"op": "add", "path": "/data/x", "value": "1"}],
        {"data": {"already": "parsed"}},
    ]
    assert [p.target for p in result.patches][:2] == [None, None]
    assert result.patches[4].target == Target(
        group="g",
        version="v",
        kind="ConfigMap",
        name="x",
        namespace="y",
        label_selector="a=b",
        annotation_selector="c",
    )
    assert result.patches[0].location == SourceLocation(yaml_path="patches[0]")


def test_multi_document_patch_becomes_one_patch_per_document() -> None:
    result = overlay("patches: [{path: two.yaml}]")
    assert [p.body["kind"] for p in result.patches] == ["ConfigMap", "Secret"]


def test_deprecated_patch_fields() -> None:
    text = """
patchesStrategicMerge:
- patch.yaml
- |-
  apiVersion: v1
  kind: Secret
  metadata: {name: s}
patchesJson6902:
- target: {kind: ConfigMap, name: a}
  path: ops.yaml
"""
    result = overlay(text)
    assert result.patches == ()
    strategic, json6902 = result.patches_strategic_merge, result.patches_json6902
    assert [p.body["kind"] for p in strategic] == ["ConfigMap", "Secret"]
    assert [p.target for p in strategic] == [None, None]
    assert [p.location for p in strategic] == [
        SourceLocation(yaml_path="patchesStrategicMerge[0]"),
        SourceLocation(yaml_path="patchesStrategicMerge[1]"),
    ]
    assert [type(p.body).__name__ for p in json6902] == ["list"]
    assert json6902[0].target == Target(kind="ConfigMap", name="a")


def test_locate_gives_patch_locations() -> None:
    def locate(path: tuple[str | int, ...]) -> SourceLocation:
        return SourceLocation("env.yaml", 3, ".".join(map(str, path)))

    result = overlay_from_kustomize({"patches": [{"path": "patch.yaml"}]}, read=read, locate=locate)
    assert result.patches == (
        Patch(
            yaml.safe_load(FILES["patch.yaml"]), None, SourceLocation("env.yaml", 3, "patches.0")
        ),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("configMapGenerator: []", "configMapGenerator: not supported in an environment overlay"),
        ("namespace: 3", "namespace: must be a string, got int"),
        (
            "images: [{name: nginx, newTag: 1.20}]",
            r"images\[0\].newTag: must be a string, got float \(quote it\)",
        ),
        ("images: [{newTag: '1'}]", r"images\[0\].name: is required"),
        ("images: [{name: a, tagSuffix: '-x'}]", r"images\[0\].tagSuffix: unknown field"),
        ("replicas: [{name: a, count: '3'}]", r"replicas\[0\].count: must be a whole number"),
        ("replicas: [{name: a, count: -1}]", r"replicas\[0\].count: must be a whole number"),
        (
            "commonLabels: {version: 2}",
            r"commonLabels.version: must be a string, got int \(quote it\)",
        ),
        ("labels: [{pairs: {a: b}, fields: []}]", r"labels\[0\].fields: unknown field"),
        (
            "labels: [{pairs: {a: b}, includeSelectors: 'yes'}]",
            r"labels\[0\].includeSelectors: must be true or false",
        ),
        ("patches: [{}]", r"patches\[0\]: give exactly one of 'patch' and 'path'"),
        ("patches: [{patch: x, path: y}]", r"patches\[0\]: give exactly one of 'patch' and 'path'"),
        (
            "patches: [{path: missing.yaml}]",
            r"patches\[0\].path: cannot read patch file 'missing.yaml'",
        ),
        ("patches: [{patch: ''}]", r"patches\[0\].patch: the patch is empty"),
        (
            "patches: [{patch: '3'}]",
            r"patches\[0\].patch: a patch must be a map or a list, got int",
        ),
        (
            "patches: [{path: two.yaml, target: {kind: X}}]",
            r"patches\[0\].path: a patch with a target must be a single document",
        ),
        (
            "patches: [{patch: x, target: {kind: X, nope: 1}}]",
            r"patches\[0\].target.nope: unknown field",
        ),
        ("patches: [{patch: x, target: {kind: 3}}]", r"patches\[0\].target.kind: must be a string"),
        (
            "patches: [{patch: x, options: {allowNameChange: true}}]",
            r"allowNameChange: is not supported",
        ),
        ("patches: {a: b}", "patches: must be a list, got a map"),
        (
            "patchesJson6902: [{path: patch.yaml, target: {kind: X}}]",
            "needs a list of JSON patch operations",
        ),
        (
            "patchesJson6902: [{path: ops.yaml, target: {kind: ConfigMap}}]",
            r"patchesJson6902\[0\].target.name: is required",
        ),
        ("patchesStrategicMerge: [ops.yaml]", "takes strategic merge patches"),
        ("patchesStrategicMerge: [3]", "must be a file path or a patch"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        overlay(text)


def test_yaml_error_in_a_patch_file_names_the_file() -> None:
    with pytest.raises(InputError) as raised:
        overlay("patches: [{path: broken.yaml}]")
    assert str(raised.value).startswith("broken.yaml:")


def test_not_a_map() -> None:
    with pytest.raises(InputError, match="an overlay must be a map"):
        overlay_from_kustomize([], read=read)  # type: ignore[arg-type]
