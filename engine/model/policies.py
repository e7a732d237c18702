"""The environments an Application's KubeVela policies and workflow describe.

Rules, as KubeVela's workflow generator and deploy step apply them:

- every ``deploy`` step (also inside ``step-group``) is an environment: its
  ``topology`` policies give the placements (clusters, forced namespace), its
  ``override`` policies the component patches, applied in the order listed;
- a legacy ``deploy2env`` step is the env of the ``env-binding`` policy it names;
- with no workflow steps, KubeVela generates them: one ``deploy-<topology>`` step per
  topology policy with every override policy; else one ``deploy`` step with every
  override policy; legacy ``env-binding`` policies give one ``deploy2env`` step per env;
- an environment is named after its one topology policy (or its step, when it has none
  or several; the env's name for ``deploy2env``) and also answers to the step's name.
  When several steps would give the same name (say two steps deploying one topology
  with different overrides), each of them is named after its step instead.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
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
_DEPLOY_STEPS = ("deploy", "deploy2env")


def environments(app: Application) -> tuple[Environment, ...]:
    """The environments of ``app``'s policies and workflow (none when it has neither)."""
    policies = _checked_policies(app)
    if not app.steps:
        return _generated(app, policies)
    steps = [s for s in _flatten(app.steps) if s.type in _DEPLOY_STEPS]
    return _distinct([_from_step(app, step, policies) for step in steps], steps)


def _distinct(envs: Sequence[Environment], steps: Sequence[Step]) -> tuple[Environment, ...]:
    """The environments, those that would share a name called after their steps instead."""
    counts = Counter(env.name for env in envs)
    return tuple(
        env if counts[env.name] == 1 else dataclasses.replace(env, name=step.name, aliases=())
        for env, step in zip(envs, steps, strict=True)
    )


def _checked_policies(app: Application) -> dict[str, Policy]:
    by_name: dict[str, Policy] = {}
    for policy in app.policies:
        if policy.type not in KNOWN_POLICIES:
            raise BuildError(
                f"unknown policy type {policy.type!r}"
                + _did_you_mean(policy.type, KNOWN_POLICIES)
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
        schemas.bundled_part("policies", step.type),
        dict(step.properties),
        app.locate,
        base=(*step.path, "properties"),
        subject=f"step {step.name}",
    )
    if step.type == "deploy2env":
        return _from_deploy2env(app, step, policies)
    named = [
        _policy(app, step, policies, name, ("policies", i))
        for i, name in enumerate(step.properties.get("policies") or ())
    ]
    topologies = [p for p in named if p.type == "topology"]
    name = topologies[0].name if len(topologies) == 1 else step.name
    return _environment(
        app, name, (step.name,), topologies, [p for p in named if p.type == "override"]
    )


def _policy(
    app: Application, step: Step, policies: Mapping[str, Policy], name: str, at: YamlPath
) -> Policy:
    """The policy a step names (``at``: where, inside the step's properties)."""
    if name not in policies:
        raise BuildError(
            f"{step.type} step {step.name!r} names unknown policy {name!r}"
            + _did_you_mean(name, policies),
            location=app.locate((*step.path, "properties", *at)),
        )
    return policies[name]


def _from_deploy2env(app: Application, step: Step, policies: Mapping[str, Policy]) -> Environment:
    """The env of an env-binding policy that a legacy ``deploy2env`` step deploys."""
    props = step.properties
    policy = _policy(app, step, policies, props["policy"], ("policy",))
    if policy.type != "env-binding":
        raise BuildError(
            f"deploy2env step {step.name!r} names policy {policy.name!r} of type "
            f"{policy.type!r}; it deploys an env of an env-binding policy",
            location=app.locate((*step.path, "properties", "policy")),
        )
    envs = {env.name: env for env in _env_binding(app, policy)}
    if props["env"] not in envs:
        raise BuildError(
            f"deploy2env step {step.name!r} names env {props['env']!r}, which policy "
            f"{policy.name!r} does not have" + _did_you_mean(props["env"], envs),
            location=app.locate((*step.path, "properties", "env")),
        )
    env = envs[props["env"]]
    return dataclasses.replace(env, aliases=_aliases(env.name, (step.name,)))


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    hint = schemas.suggest(word, candidates)
    return f"; did you mean {hint!r}?" if hint else ""


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
    # No topology: the local cluster. A topology with ``clusters: []`` places nothing.
    placements = [p for t in topologies for p in _placements(t)] if topologies else [Placement()]
    return Environment(
        name=name,
        placements=tuple(dict.fromkeys(placements)),
        overrides=tuple(_override(app, p) for p in overrides),
        aliases=_aliases(name, aliases),
        source=app.source.file,
    )


def _aliases(name: str, names: Iterable[str]) -> tuple[str, ...]:
    """The other names an environment called ``name`` answers to."""
    return tuple(n for n in names if n != name)


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
