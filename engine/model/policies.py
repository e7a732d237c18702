"""The environments an Application's KubeVela policies and workflow describe.

Rules, as KubeVela's workflow generator and deploy step apply them:

- every ``deploy`` step (also inside ``step-group``) is an environment: its
  ``topology`` policies give the placements (clusters, forced namespace), its
  ``override`` policies the component patches, applied in the order listed;
- with no workflow steps, KubeVela generates them: one ``deploy-<topology>`` step per
  topology policy with every override policy; else one ``deploy`` step with every
  override policy; legacy ``env-binding`` policies give one step per env;
- an environment is named after its one topology policy (or its step, when it has none
  or several) and also answers to the step's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.errors import BuildError
from engine.model import schemas
from engine.model.application import Application, Policy, Step
from engine.model.documents import Source
from engine.model.environment import (
    LOCAL_CLUSTER,
    ComponentPatch,
    Environment,
    Override,
    Placement,
    TraitPatch,
)
from engine.model.paths import YamlPath

#: KubeVela's built-in policy types; only the first three change what is rendered.
KNOWN_POLICIES = (
    "topology",
    "override",
    "env-binding",
    "garbage-collect",
    "apply-once",
    "shared-resource",
    "read-only",
    "take-over",
    "resource-update",
    "replication",
    "health",
)
_CHECKED = ("topology", "override", "env-binding")


def environments(app: Application) -> tuple[Environment, ...]:
    """The environments of ``app``'s policies and workflow (none when it has neither)."""
    policies = _checked_policies(app)
    steps = [s for s in _flatten(app.steps) if s.type == "deploy"]
    if app.steps:
        return tuple(_from_step(app, step, policies) for step in steps)
    return _generated(app, policies)


def _checked_policies(app: Application) -> dict[str, Policy]:
    by_name: dict[str, Policy] = {}
    for policy in app.policies:
        if policy.type not in KNOWN_POLICIES:
            hint = schemas.suggest(policy.type, KNOWN_POLICIES)
            raise BuildError(
                f"unknown policy type {policy.type!r}"
                + (f"; did you mean {hint!r}?" if hint else "")
                + f" (known: {', '.join(KNOWN_POLICIES)})",
                location=app.locate(policy.path + ("type",)),
            )
        if policy.type in _CHECKED:
            validator = schemas.bundled_part("policies", policy.type)
            base: YamlPath = (*policy.path, "properties")
            schemas.check(
                validator,
                dict(policy.properties),
                app.locate,
                base=base,
                subject=f"policy {policy.name}",
            )
        by_name[policy.name] = policy
    return by_name


def _flatten(steps: Iterable[Step]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        out.append(step)
        out.extend(_flatten(step.sub_steps))
    return out


def _from_step(app: Application, step: Step, policies: Mapping[str, Policy]) -> Environment:
    schemas.check(
        schemas.bundled_part("policies", "deploy"),
        dict(step.properties),
        app.locate,
        base=(*step.path, "properties"),
        subject=f"step {step.name}",
    )
    named: list[Policy] = []
    for i, name in enumerate(step.properties.get("policies") or ()):
        if name not in policies:
            hint = schemas.suggest(name, policies)
            raise BuildError(
                f"deploy step {step.name!r} names unknown policy {name!r}"
                + (f"; did you mean {hint!r}?" if hint else ""),
                location=app.locate((*step.path, "properties", "policies", i)),
            )
        named.append(policies[name])
    topologies = [p for p in named if p.type == "topology"]
    name = topologies[0].name if len(topologies) == 1 else step.name
    return _environment(
        app, name, (step.name,), topologies, [p for p in named if p.type == "override"]
    )


def _generated(app: Application, policies: Mapping[str, Policy]) -> tuple[Environment, ...]:
    topologies = [p for p in policies.values() if p.type == "topology"]
    overrides = [p for p in policies.values() if p.type == "override"]
    bindings = [p for p in policies.values() if p.type == "env-binding"]
    if topologies:
        return tuple(
            _environment(app, t.name, (f"deploy-{t.name}",), [t], overrides) for t in topologies
        )
    if overrides:
        return (_environment(app, "deploy", (), [], overrides),)
    return tuple(env for binding in bindings for env in _env_binding(app, binding))


def _environment(
    app: Application,
    name: str,
    aliases: tuple[str, ...],
    topologies: Sequence[Policy],
    overrides: Sequence[Policy],
) -> Environment:
    placements = [p for t in topologies for p in _placements(t)] or [Placement()]
    return Environment(
        name=name,
        placements=tuple(dict.fromkeys(placements)),
        overrides=tuple(_override(app, p) for p in overrides),
        aliases=tuple(a for a in aliases if a != name),
        source=app.source.file,
    )


def _placements(policy: Policy) -> list[Placement]:
    props = policy.properties
    namespace = str(props.get("namespace") or "")
    selector = props.get("clusterLabelSelector") or props.get("clusterSelector")
    if props.get("clusters") is not None:
        return [Placement(str(c), namespace) for c in props["clusters"]]
    if selector:
        labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        return [Placement(f"clusters with labels {labels}", namespace)]
    return [Placement(LOCAL_CLUSTER, namespace)]


def _override(app: Application, policy: Policy) -> Override:
    props = policy.properties
    selector = props.get("selector")
    return Override(
        name=policy.name,
        components=tuple(
            component_patches(
                props.get("components") or (),
                (*policy.path, "properties", "components"),
                app.source,
            )
        ),
        selector=tuple(selector) if selector is not None else None,
        location=app.locate(policy.path),
    )


def component_patches(
    raw: Iterable[Mapping[str, Any]], base: YamlPath, source: Source
) -> list[ComponentPatch]:
    """Override-policy ``components`` entries as values (``base``: the list's path)."""
    return [
        ComponentPatch(
            name=str(c.get("name") or ""),
            type=str(c.get("type") or ""),
            properties=c.get("properties"),
            traits=tuple(
                TraitPatch(
                    t["type"],
                    t.get("properties"),
                    bool(t.get("disable", False)),
                    (*base, j, "traits", k),
                )
                for k, t in enumerate(c.get("traits") or ())
            ),
            external_revision=str(c.get("externalRevision") or ""),
            path=(*base, j),
            source=source,
        )
        for j, c in enumerate(raw)
    ]


def _env_binding(app: Application, policy: Policy) -> list[Environment]:
    """A legacy env-binding policy as one environment per env."""
    out = []
    for i, env in enumerate(policy.properties.get("envs") or ()):
        placement = env.get("placement") or {}
        cluster = (placement.get("clusterSelector") or {}).get("name") or LOCAL_CLUSTER
        namespace = (placement.get("namespaceSelector") or {}).get("name") or ""
        components = (env.get("selector") or {}).get("components")
        override = Override(
            name=f"{policy.name}/{env['name']}",
            components=tuple(
                component_patches(
                    (env.get("patch") or {}).get("components") or (),
                    (*policy.path, "properties", "envs", i, "patch", "components"),
                    app.source,
                )
            ),
            selector=tuple(components) if components is not None else None,
            location=app.locate(policy.path),
        )
        out.append(
            Environment(
                name=env["name"],
                placements=(Placement(cluster, namespace),),
                overrides=(override,),
                aliases=(f"deploy-{policy.name}-{env['name']}",),
                source=app.source.file,
            )
        )
    return out
