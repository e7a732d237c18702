"""From built environments to release specs: which objects go where, as whose release.

Each environment's manifests are grouped per application (its ``app.oam.dev/name``
label; plain manifests are an application named after their file) and per cluster;
each group is one ``ReleaseSpec``. Objects are normalised and carry the owner labels;
each gets what the Application's apply-side policies say about it and keeps the
``file:line`` of the component that produced it. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath

from engine.apply.applier import Desired, Owner, stamped
from engine.apply.deploy import ReleaseSpec
from engine.apply.order import component_of
from engine.apply.policies import Rule, policy_of, rules_for
from engine.environments import Preview, Unit
from engine.model import Application, Manifest
from engine.model.application import DEFAULT_NAMESPACE
from engine.model.environment import LOCAL_CLUSTER


def release_specs(units: Sequence[Unit], previews: Sequence[Preview]) -> list[ReleaseSpec]:
    """One spec per (environment, application, cluster), environments in the order given."""
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
                    objects=tuple(_desired(m, owner, rules.get(app_name, ())) for m in manifests),
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


def _desired(manifest: Manifest, owner: Owner, rules: Sequence[Rule]) -> Desired:
    obj = stamped(manifest.object, owner)
    return Desired(
        obj,
        source=manifest.source,
        location=str(manifest.location) if manifest.location else "",
        component=component_of(obj),
        policy=policy_of(rules, obj),
    )
