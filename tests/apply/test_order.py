"""Apply order: cluster definitions first, then components by dependsOn, kinds by Flux's rank."""

from __future__ import annotations

from typing import Any

import pytest

from engine.apply import order
from engine.errors import BuildError


def obj(kind: str, name: str, component: str = "", api: str = "v1") -> dict[str, Any]:
    labels = {"app.oam.dev/component": component} if component else {}
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "labels": labels}}


def test_cluster_definitions_come_first_then_dependsOn_waves() -> None:
    objects = [
        obj("Deployment", "web", "web", "apps/v1"),
        obj("Service", "web", "web"),
        obj("Secret", "db", "db"),
        obj("CustomResourceDefinition", "widgets.example.com", api="apiextensions.k8s.io/v1"),
        obj("Namespace", "team"),
        obj("IngressClass", "nginx", api="networking.k8s.io/v1"),
        obj("Deployment", "db", "db", "apps/v1"),
    ]
    waves = order.waves(objects, {"web": ["db"], "db": []})
    names = [
        [f"{objects[i]['kind']}/{objects[i]['metadata']['name']}" for i in w.items] for w in waves
    ]
    assert names == [
        ["CustomResourceDefinition/widgets.example.com", "Namespace/team"],
        ["IngressClass/nginx"],
        ["Secret/db", "Deployment/db"],
        ["Service/web", "Deployment/web"],
    ]
    assert [w.gate for w in waves] == [True, True, True, False]
    assert waves[2].name == "db"


def test_independent_components_share_one_wave() -> None:
    objects = [obj("Deployment", "a", "a", "apps/v1"), obj("Deployment", "b", "b", "apps/v1")]
    waves = order.waves(objects, {"a": [], "b": []})
    assert len(waves) == 1 and not waves[0].gate


def test_a_cycle_is_an_error() -> None:
    with pytest.raises(BuildError, match="dependsOn cycle"):
        order.waves([obj("ConfigMap", "a", "a")], {"a": ["b"], "b": ["a"]})


def test_delete_order_is_the_reverse_of_the_kind_rank() -> None:
    objects = [obj("Namespace", "n"), obj("Deployment", "d", api="apps/v1"), obj("Service", "s")]
    assert [objects[i]["kind"] for i in order.delete_order(objects)] == [
        "Deployment",
        "Service",
        "Namespace",
    ]
