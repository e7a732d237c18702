"""KubeVela's apply-side policies, per object.

``take-over``, ``read-only``, ``apply-once``, ``garbage-collect``, ``shared-resource``
and ``resource-update`` keep their KubeVela meaning (see the README). Each policy has
``rules`` with a ``selector`` (``componentNames``, ``componentTypes``, ``oamTypes``,
``traitTypes``, ``resourceTypes``, ``resourceNames``); a policy without rules, or a
rule with an empty selector, covers every object. ``rules_for(app)`` reads an
Application's policies; ``policy_of(rules, obj)`` is what one object gets. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from engine.model import Application

APPLY_POLICIES = (
    "take-over",
    "read-only",
    "apply-once",
    "garbage-collect",
    "shared-resource",
    "resource-update",
)


@dataclasses.dataclass(frozen=True)
class ObjectPolicy:
    """What the policies say about one object."""

    take_over: bool = False
    read_only: bool = False
    #: apply-once: keep drift; ``paths`` (empty: the whole object) keep their live values.
    apply_once: bool = False
    apply_once_paths: tuple[str, ...] = ()
    #: garbage-collect: onAppUpdate (default), onAppDelete or never.
    gc_strategy: str = "onAppUpdate"
    #: garbage-collect propagation: orphan keeps the object and drops our labels.
    orphan: bool = False
    keep_legacy: bool = False
    #: garbage-collect ``order: dependency``: dependents are deleted (and gone) first.
    gc_order: str = ""
    shared: bool = False
    #: resource-update: patch (server-side apply) or replace; fields that force a recreate.
    update_op: str = "patch"
    recreate_fields: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        default = ObjectPolicy()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObjectPolicy:
        names = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in names
        }
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class Rule:
    policy: str
    selector: Mapping[str, Sequence[str]]
    properties: Mapping[str, Any]


def rules_for(app: Application) -> tuple[Rule, ...]:
    """The apply-side policy rules of ``app``, in the order written."""
    out: list[Rule] = []
    for policy in app.policies:
        if policy.type not in APPLY_POLICIES:
            continue
        props = policy.properties
        rules = props.get("rules") or ()
        if rules and policy.type == "garbage-collect":
            # order and keepLegacyResource are the application's, whatever the rules select.
            whole = {k: props[k] for k in ("order", "keepLegacyResource") if k in props}
            if whole:
                out.append(Rule(policy.type, {}, whole))
        if not rules:
            if policy.type == "apply-once" and not props.get("enable"):
                continue
            out.append(Rule(policy.type, {}, props))
            continue
        for rule in rules:
            out.append(Rule(policy.type, rule.get("selector") or {}, {**props, **rule}))
    return tuple(out)


def _matches(selector: Mapping[str, Sequence[str]], obj: Mapping[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    resource_type = labels.get("app.oam.dev/resourceType", "")
    facts = {
        "componentNames": labels.get("app.oam.dev/component", ""),
        "componentTypes": labels.get("workload.oam.dev/type", ""),
        "oamTypes": "COMPONENT" if resource_type == "WORKLOAD" else resource_type,
        "traitTypes": labels.get("trait.oam.dev/type", ""),
        "resourceTypes": obj.get("kind", ""),
        "resourceNames": meta.get("name", ""),
    }
    return all(facts.get(key) in (values or ()) for key, values in selector.items() if values)


def policy_of(rules: Sequence[Rule], obj: Mapping[str, Any]) -> ObjectPolicy:
    """What every rule matching ``obj`` says, later rules adding to earlier ones."""
    policy = ObjectPolicy()
    for rule in rules:
        if not _matches(rule.selector, obj):
            continue
        props = rule.properties
        if rule.policy == "take-over":
            policy = dataclasses.replace(policy, take_over=True)
        elif rule.policy == "read-only":
            policy = dataclasses.replace(policy, read_only=True)
        elif rule.policy == "apply-once":
            paths = tuple((props.get("strategy") or {}).get("path") or ())
            whole = not paths or "*" in paths
            policy = dataclasses.replace(
                policy, apply_once=True, apply_once_paths=() if whole else paths
            )
        elif rule.policy == "garbage-collect":
            policy = dataclasses.replace(
                policy,
                gc_strategy=str(props.get("strategy") or policy.gc_strategy),
                orphan=props.get("propagation") == "orphan" or policy.orphan,
                keep_legacy=bool(props.get("keepLegacyResource")) or policy.keep_legacy,
                gc_order=str(props.get("order") or policy.gc_order),
            )
        elif rule.policy == "shared-resource":
            policy = dataclasses.replace(policy, shared=True)
        elif rule.policy == "resource-update":
            strategy = props.get("strategy") or {}
            policy = dataclasses.replace(
                policy,
                update_op=str(strategy.get("op") or "patch"),
                recreate_fields=tuple(strategy.get("recreateFields") or ()),
            )
    return policy
