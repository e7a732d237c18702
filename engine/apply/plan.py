"""From built environments to release specs: which objects go where, as whose release.

Each environment's manifests are grouped per application (its ``app.oam.dev/name``
label; plain manifests are an application named after their file) and per cluster;
each group is one ``ReleaseSpec``. Objects are normalised and carry the owner labels;
each gets what the Application's apply-side policies say about it and keeps the
``file:line`` of the component that produced it. Pure.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath

from engine.apply.applier import Desired, Owner, stamped
from engine.apply.deploy import ReleaseSpec
from engine.apply.order import component_of
from engine.apply.policies import Rule, policy_of, rules_for
from engine.definitions import Registry
from engine.environments import Preview, Unit
from engine.model import Application, Manifest
from engine.model.application import DEFAULT_NAMESPACE
from engine.model.environment import LOCAL_CLUSTER


def release_specs(
    units: Sequence[Unit], previews: Sequence[Preview], registry: Registry | None = None
) -> list[ReleaseSpec]:
    """One spec per (environment, application, cluster), environments in the order given.

    With ``registry``, each component's workload carries its definition's health rule.
    """
    apps: dict[str, Application] = {}
    for unit in units:
        for app in unit.applications.values():
            apps.setdefault(app.name, app)
    rules = {name: rules_for(app) for name, app in apps.items()}
    specs: list[ReleaseSpec] = []
    for preview in previews:
        groups: dict[tuple[str, str, str], list[Manifest]] = {}
        for manifest in preview.build.manifests:
            app_name, namespace = _owner(manifest, apps)
            cluster = manifest.cluster or LOCAL_CLUSTER
            groups.setdefault((app_name, namespace, cluster), []).append(manifest)
        for (app_name, namespace, cluster), manifests in groups.items():
            found = apps.get(app_name)
            depends = {c.name: c.depends_on for c in found.components} if found else {}
            owner = Owner(app_name, namespace)
            specs.append(
                ReleaseSpec(
                    app=app_name,
                    namespace=namespace,
                    env=preview.name,
                    objects=tuple(
                        _with_health(_desired(m, owner, rules.get(app_name, ())), found, registry)
                        for m in manifests
                    ),
                    depends_on=depends,
                    cluster=cluster,
                )
            )
    return specs


def _owner(manifest: Manifest, apps: Mapping[str, Application]) -> tuple[str, str]:
    labels = (manifest.object.get("metadata") or {}).get("labels") or {}
    name = labels.get("app.oam.dev/name")
    if name in apps:
        return str(name), apps[str(name)].namespace
    stem = PurePath(manifest.source).stem if manifest.source else "manifests"
    return re.sub(r"[^a-z0-9-]+", "-", stem.lower()).strip("-") or "manifests", DEFAULT_NAMESPACE


def _with_health(d: Desired, app: Application | None, registry: Registry | None) -> Desired:
    """The workload of a component whose definition has a health rule carries it."""
    labels = (d.object.get("metadata") or {}).get("labels") or {}
    if registry is None or app is None or labels.get("app.oam.dev/resourceType") != "WORKLOAD":
        return d
    component = app.component(d.component)
    definition = registry.get("component", component.type) if component else None
    rule = ((definition.meta.get("status") or {}).get("healthPolicy") or "") if definition else ""
    if not rule or component is None:
        return d
    return dataclasses.replace(d, health_rule=str(rule), parameter=dict(component.properties))


def _desired(manifest: Manifest, owner: Owner, rules: Sequence[Rule]) -> Desired:
    obj = stamped(manifest.object, owner)
    return Desired(
        obj,
        source=manifest.source,
        location=str(manifest.location) if manifest.location else "",
        component=component_of(obj),
        policy=policy_of(rules, obj),
    )
