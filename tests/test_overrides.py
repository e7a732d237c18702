"""Override policies patch components as KubeVela does (mergo merge, regex names)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import BuildError
from engine.model import load_documents, parse_application
from engine.model.environment import ComponentPatch, Override, TraitPatch
from engine.patch.overrides import apply_overrides, merge_properties

APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: app}
spec:
  components:
    - name: web
      type: webservice
      properties: {image: nginx, env: [{name: A, value: a}], limit: {cpu: "1", memory: 1Gi}}
      traits:
        - {type: scaler, properties: {replicas: 1}}
        - {type: labels, properties: {team: a}}
    - name: web-worker
      type: worker
      properties: {image: busybox}
    - name: db
      type: webservice
      properties: {image: postgres}
"""


def components(*patches: ComponentPatch, selector: tuple[str, ...] | None = None) -> list[Any]:
    app = parse_application(load_documents(APP, "app.yaml")[0])
    result = apply_overrides(app, [Override("o", patches, selector)])
    return [
        (c.name, c.type, dict(c.properties), [(t.type, t.properties) for t in c.traits])
        for c in result.components
    ]


def test_properties_deep_merge_maps_and_replace_lists_and_scalars() -> None:
    assert merge_properties(
        {"a": {"x": 1, "y": 2}, "l": [1, 2], "s": "v", "b": True},
        {"a": {"y": 3}, "l": [], "s": "", "b": False, "n": None},
    ) == {"a": {"x": 1, "y": 3}, "l": [], "s": "", "b": False, "n": None}


def test_name_is_an_unanchored_regex() -> None:
    result = components(ComponentPatch(name="web", properties={"image": "nginx:2"}))
    assert [(n, p["image"]) for n, _, p, _ in result] == [
        ("web", "nginx:2"),
        ("web-worker", "nginx:2"),
        ("db", "postgres"),
    ]


def test_no_name_with_a_type_patches_every_component_of_that_type() -> None:
    result = components(ComponentPatch(type="webservice", properties={"cpu": "2"}))
    assert [p.get("cpu") for _, _, p, _ in result] == ["2", None, "2"]


def test_traits_merge_by_type_are_added_and_disabled() -> None:
    (web, *_) = components(
        ComponentPatch(
            name="^web$",
            traits=(
                TraitPatch("scaler", {"replicas": 3}),
                TraitPatch("labels", disable=True),
                TraitPatch("annotations", {"a": "b"}),
            ),
        )
    )
    assert web[3] == [("scaler", {"replicas": 3}), ("annotations", {"a": "b"})]


def test_a_different_type_replaces_the_component() -> None:
    result = components(ComponentPatch(name="^db$", type="worker", properties={"image": "x"}))
    assert result[2] == ("db", "worker", {"image": "x"}, [])


def test_an_unmatched_name_adds_a_component() -> None:
    result = components(ComponentPatch(name="cache", type="worker", properties={"image": "redis"}))
    assert result[-1] == ("cache", "worker", {"image": "redis"}, [])


def test_an_added_component_needs_a_type() -> None:
    with pytest.raises(BuildError, match="adds component 'cache' but gives it no type"):
        components(ComponentPatch(name="cache"))


def test_selector_keeps_only_the_named_components() -> None:
    assert [c[0] for c in components(selector=("db", "web"))] == ["web", "db"]
