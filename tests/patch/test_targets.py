"""Patch targets: anchored regexes over group/version/kind/name/namespace, and selectors."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import PatchError
from engine.model.environment import Target
from engine.patch._ids import ResId
from engine.patch.targets import compile_target, describe, parse_selector


def obj(api_version: str, kind: str, name: str, namespace: str = "", **meta: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, **meta}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


DEPLOYMENT = obj("apps/v1", "Deployment", "web-api", "shop", labels={"app": "web", "tier": "front"})
CONFIGMAP = obj("v1", "ConfigMap", "settings", annotations={"team": "payments"})
CLUSTER_ROLE = obj("rbac.authorization.k8s.io/v1", "ClusterRole", "reader")


def selects(target: Target, item: dict[str, Any], original: ResId | None = None) -> bool:
    return compile_target(target).matches(item, original)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (Target(), True),
        (Target(kind="Deployment"), True),
        (Target(kind="Deploy"), False),  # anchored: no partial match
        (Target(kind="Deployment|StatefulSet"), True),  # alternation is grouped
        (Target(kind=".*ment"), True),
        (Target(group="apps"), True),
        (Target(group="app"), False),
        (Target(version="v1"), True),
        (Target(version="v1beta1"), False),
        (Target(name="web"), False),
        (Target(name="web-.*"), True),
        (Target(namespace="shop"), True),
        (Target(namespace="sho"), False),
        (
            Target(kind="Deployment", name="web-api", namespace="shop", group="apps", version="v1"),
            True,
        ),
        (Target(label_selector="app=web"), True),
        (Target(label_selector="app=api"), False),
        (Target(annotation_selector="team"), False),
        (Target(annotation_selector="!team"), True),
    ],
)
def test_target_fields(target: Target, expected: bool) -> None:
    assert selects(target, DEPLOYMENT) is expected


def test_core_group_is_empty() -> None:
    assert selects(Target(group=""), CONFIGMAP)
    assert not selects(Target(group="core"), CONFIGMAP)
    assert selects(Target(group="^$"), CONFIGMAP)


def test_missing_namespace_is_default() -> None:
    assert selects(Target(namespace="default"), CONFIGMAP)
    assert not selects(Target(namespace="other"), CONFIGMAP)


def test_cluster_scoped_objects_are_in_no_nameable_namespace() -> None:
    assert not selects(Target(namespace="default"), CLUSTER_ROLE)
    assert selects(Target(kind="ClusterRole"), CLUSTER_ROLE)


def test_name_and_namespace_match_the_original_identity_too() -> None:
    renamed = obj("v1", "ConfigMap", "settings-v2", "prod")
    original = ResId("", "v1", "ConfigMap", "settings", "default")
    assert selects(Target(name="settings"), renamed, original)
    assert selects(Target(name="settings-v2"), renamed, original)
    assert selects(Target(namespace="default"), renamed, original)
    assert selects(Target(namespace="prod"), renamed, original)
    assert not selects(Target(name="settings"), renamed)


def test_bad_regular_expression() -> None:
    with pytest.raises(PatchError, match="target kind '\\[' is not a valid regular expression"):
        compile_target(Target(kind="["))


def test_describe() -> None:
    assert (
        describe(Target(kind="Deployment", label_selector="a=b"))
        == "kind='Deployment', labelSelector='a=b'"
    )
    assert describe(Target()) == "(every object)"


# -- selectors -----------------------------------------------------------------------------

LABELS = {"app": "web", "tier": "front", "priority": "7", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app = web", True),
        ("app=api", False),
        ("app!=api", True),
        ("app!=web", False),
        ("missing!=x", True),  # != holds when the key is absent
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("tier in (front,back)", True),
        ("tier in ( back , db )", False),
        ("missing in (a)", False),
        ("tier notin (back)", True),
        ("tier notin (front)", False),
        ("missing notin (a)", True),  # notin holds when the key is absent
        ("priority>5", True),
        ("priority<5", False),
        ("app>5", False),  # not a number: never greater
        ("app=web,tier=front", True),
        ("app=web, tier=back", False),
        ("empty=", True),
        ("example.com/part-of", False),
    ],
)
def test_selector_matching(selector: str, expected: bool) -> None:
    assert parse_selector(selector).matches(LABELS) is expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("a in b", "expected '\\(' after in/notin"),
        ("a in ()", "must not be empty"),
        ("a in (b", "missing '\\)'"),
        ("a in (b c)", "expected ',' or '\\)'"),
        ("a=b c", "expected ','"),
        ("=b", "expected a label key"),
        ("a=b,", "expected a label key"),
        ("!a=b", "expected ','"),
        ("a>b", "must be an integer"),
        ("-a=b", "invalid label key"),
        ("a=-b", "invalid label value"),
        ("Bad_Prefix/a=b", "bad prefix"),
        ("a=" + "x" * 64, "invalid label value"),
        ("a~b", "invalid label key"),
    ],
)
def test_selector_errors(selector: str, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        parse_selector(selector)


def test_selector_ignores_non_string_label_keys() -> None:
    item = obj("v1", "ConfigMap", "x", labels={1: "a", "b": "c"})
    assert selects(Target(label_selector="b=c"), item)


def test_selector_on_missing_or_odd_labels() -> None:
    item = obj("v1", "ConfigMap", "x", labels="not a map")
    assert selects(Target(label_selector="!a"), item)
    assert not selects(Target(label_selector="a"), item)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("web", "web", True),
        ("web", "web2", False),  # a plain name is anchored, as kustomize anchors patterns
        ("web.1", "webx1", True),  # '.' is a regular expression: no plain-text shortcut
        ("svc-[0-9]+", "svc-12", True),
        ("(a+)+", "a" * 50_000 + "!", False),  # linear time (RE2)
    ],
)
def test_plain_names_compare_as_text_and_patterns_as_re2(
    name: str, value: str, expected: bool
) -> None:
    assert selects(Target(name=name), obj("v1", "ConfigMap", value)) is expected


def test_plain_fields_are_literals_for_the_index() -> None:
    selector = compile_target(Target(kind="Deployment", name="web.1"))
    assert selector.kind is not None and selector.kind.literal == "Deployment"
    assert selector.name is not None and selector.name.literal is None
