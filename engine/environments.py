"""What each environment gets: Applications and plain manifests built per environment.

Inputs are grouped into units, one per folder: the Applications and plain manifests of
the folder and the Environment files in its ``environments/`` subfolder. An
environment of a unit is one its Applications' policies define or one of its files
(a file extends the policy environment of the same name). Building one environment:

1. each Application that has environments uses the selected one: overrides first,
   then rendering into each placement's namespace (``context.namespace``), which is
   then forced onto every object;
   Applications without environments render as they are;
2. plain manifests pass through;
3. the environment's overlay (kustomize-style transforms and patches) applies to
   every object of the unit;
4. no two objects may collide.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

from engine.build import DEFAULT_KUBE_VERSION, Build, build, check_unique, plain_manifests
from engine.definitions import Registry
from engine.errors import BuildError, SailplanError
from engine.model import (
    Application,
    Document,
    Manifest,
    is_application,
    parse_application,
    to_yaml,
)
from engine.model.envfiles import combine
from engine.model.environment import LOCAL_CLUSTER, Environment, Placement
from engine.model.filenames import file_names
from engine.model.policies import environments as policy_environments
from engine.model.refobjects import ObjectReader
from engine.model.secrets import redacted, secret_values
from engine.patch import contract
from engine.patch.overrides import apply_overrides


@dataclasses.dataclass(frozen=True)
class Unit:
    """Documents delivered together, and the Environment files beside them."""

    documents: tuple[Document, ...]
    env_files: tuple[Environment, ...] = ()

    @functools.cached_property
    def applications(self) -> dict[int, Application]:
        """The Applications among the documents, by position, parsed once."""
        return {
            i: parse_application(doc)
            for i, doc in enumerate(self.documents)
            if is_application(doc.data)
        }


@dataclasses.dataclass(frozen=True)
class Preview:
    """The build of one named environment (``name`` is empty for "no environments")."""

    name: str
    build: Build


def environments_of(app: Application, env_files: Sequence[Environment]) -> tuple[Environment, ...]:
    """The policy environments of ``app``, extended or joined by environment files."""
    return _with_files(policy_environments(app), env_files)


def _with_files(
    envs: Sequence[Environment], env_files: Sequence[Environment]
) -> tuple[Environment, ...]:
    """``envs``, each extended by the file it answers to, then the files none answers to."""
    out: list[Environment] = []
    for env in envs:
        extension = next((f for f in env_files if env.answers_to(f.name)), None)
        out.append(combine(env, extension) if extension else env)
    out.extend(f for f in env_files if not any(e.answers_to(f.name) for e in out))
    return tuple(out)


def _unit_environments(unit: Unit) -> tuple[Environment, ...]:
    """The environments of every Application of a unit, and its files that extend none."""
    policy_envs = [env for app in _applications(unit) for env in policy_environments(app)]
    return _with_files(policy_envs, unit.env_files)


def environment_names(units: Sequence[Unit]) -> list[str]:
    """Every environment name, in the order first seen."""
    return [env.name for env in known_environments(units)]


def build_environment(
    units: Sequence[Unit],
    registry: Registry,
    name: str | None,
    *,
    explicit: Environment | None = None,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    strict: bool = True,
    read_objects: ObjectReader | None = None,
) -> Build:
    """Everything environment ``name`` gets (``None``: no environment at all).

    ``explicit`` is an environment given by file, applying to every unit. With
    ``strict``, an Application that has environments but not this one is an error
    naming the ones it has; otherwise it is left out.
    """
    manifests: list[Manifest] = []
    warnings: list[str] = []
    for unit in units:
        try:
            result = _build_unit(unit, registry, name, explicit, kube_version, strict, read_objects)
        except SailplanError as exc:  # a message may quote a Secret of the inputs
            redacted(exc, secret_values([d.data for d in unit.documents]))
            raise
        manifests.extend(result.manifests)
        warnings.extend(result.warnings)
    check_unique(manifests)
    return Build(tuple(manifests), tuple(warnings))


def build_every_environment(
    units: Sequence[Unit],
    registry: Registry,
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    read_objects: ObjectReader | None = None,
) -> list[Preview]:
    """One preview per environment, or a single unnamed one when there are none.

    ``read_objects`` reads what ref-objects components name (the applier's hook).
    """
    names = environment_names(units)
    if not names:
        only = build_environment(
            units, registry, None, kube_version=kube_version, read_objects=read_objects
        )
        return [Preview("", only)]
    return [
        Preview(
            n,
            build_environment(
                units,
                registry,
                n,
                kube_version=kube_version,
                strict=False,
                read_objects=read_objects,
            ),
        )
        for n in names
    ]


def _applications(unit: Unit) -> list[Application]:
    return list(unit.applications.values())


def _build_unit(
    unit: Unit,
    registry: Registry,
    name: str | None,
    explicit: Environment | None,
    kube_version: tuple[int, int],
    strict: bool,
    read_objects: ObjectReader | None = None,
) -> Build:
    manifests: list[Manifest] = []
    warnings: list[str] = []
    overlay_env = explicit or next((f for f in unit.env_files if name and f.answers_to(name)), None)
    for index, doc in enumerate(unit.documents):
        if not is_application(doc.data):
            manifests.extend(plain_manifests(doc))
            continue
        app = unit.applications[index]
        env = explicit or _select(app, unit.env_files, name, strict)
        if env is _SKIP:
            continue
        result = _build_app(app, registry, env, kube_version, read_objects)
        manifests.extend(result.manifests)
        warnings.extend(result.warnings)
        overlay_env = overlay_env or env
    if overlay_env is not None and not overlay_env.overlay.is_empty():
        return _overlaid(manifests, overlay_env, warnings)
    return Build(tuple(manifests), tuple(warnings))


_SKIP = Environment(name="")


def _select(
    app: Application, env_files: Sequence[Environment], name: str | None, strict: bool
) -> Environment | None:
    envs = environments_of(app, env_files)
    if name is None or not envs:
        return None
    found = next((e for e in envs if e.answers_to(name)), None)
    if found is not None:
        return found
    if not strict:
        return _SKIP
    known = ", ".join(e.name + (f" ({', '.join(e.aliases)})" if e.aliases else "") for e in envs)
    raise BuildError(
        f"application {app.name!r} has no environment {name!r}; it has: {known}",
        location=app.locate(()),
    )


def _build_app(
    app: Application,
    registry: Registry,
    env: Environment | None,
    kube: tuple[int, int],
    read_objects: ObjectReader | None = None,
) -> Build:
    if env is None:
        return build(app, registry, kube_version=kube, read_objects=read_objects)
    if not env.placements:
        return Build((), (f"{app.source.file}: {_no_clusters(app, env)}",))
    patched = apply_overrides(app, env.overrides)
    by_namespace = {
        ns: build(patched, registry, kube_version=kube, namespace=ns, read_objects=read_objects)
        for ns in dict.fromkeys(p.namespace for p in env.placements)
    }
    placed = [
        _placed(m, p, len(env.placements) > 1)
        for p in env.placements
        for m in by_namespace[p.namespace].manifests
    ]
    warnings = dict.fromkeys(w for b in by_namespace.values() for w in b.warnings)
    return Build(tuple(placed), tuple(warnings))


def _no_clusters(app: Application, env: Environment) -> str:
    return (
        f"environment {env.name!r} places application {app.name!r} on no cluster "
        "(its topology lists none): nothing is deployed, as in KubeVela"
    )


def _placed(manifest: Manifest, placement: Placement, several: bool) -> Manifest:
    """The manifest in its placement: namespace forced (not on cluster-scoped kinds)."""
    obj = manifest.object
    if placement.namespace and not contract.cluster_scoped(obj):
        obj = {**obj, "metadata": {**(obj.get("metadata") or {}), "namespace": placement.namespace}}
    source = f"{manifest.source} @ {placement.cluster}" if several else manifest.source
    return dataclasses.replace(manifest, object=obj, source=source, cluster=placement.cluster)


def _overlaid(manifests: list[Manifest], env: Environment, warnings: list[str]) -> Build:
    from engine.patch.overlays import apply_overlay  # loaded only when an overlay is used

    try:
        result = apply_overlay([m.object for m in manifests], env.overlay)
    except SailplanError as exc:  # a patch error may quote the Secret it was applied to
        redacted(exc, secret_values([m.object for m in manifests]))
        raise
    kept = [manifests[i] for i in result.kept]
    out = [dataclasses.replace(m, object=obj) for m, obj in zip(kept, result.objects, strict=True)]
    notes = [f"environment {env.name} ({env.source}): {w}" for w in result.warnings]
    return Build(tuple(out), (*warnings, *notes))


def known_environments(units: Sequence[Unit]) -> list[Environment]:
    """Every environment of every unit, one per name (the first seen)."""
    found: dict[str, Environment] = {}
    for unit in units:
        for env in _unit_environments(unit):
            found.setdefault(env.name, env)
    return list(found.values())


def check_environment_name(units: Sequence[Unit], name: str) -> None:
    """An error listing the known environments when none answers to ``name``."""
    known = known_environments(units)
    if any(env.answers_to(name) for env in known):
        return
    listed = ", ".join(
        env.name + (f" (also {', '.join(env.aliases)})" if env.aliases else "") for env in known
    )
    raise BuildError(
        f"unknown environment {name!r}; "
        + (f"known environments: {listed}" if known else "no environments are defined")
    )


def preview_files(previews: Sequence[Preview]) -> dict[str, str]:
    """``<env>/<app>/<kind>-<name>.yaml`` for every manifest of every preview.

    Every path stays inside the output folder and no two objects share one
    (``engine.model.filenames``); a name that cannot be a file name is an error.
    """
    named = file_names((p.name, LOCAL_CLUSTER, m) for p in previews for m in p.build.manifests)
    return {path: to_yaml(manifest.object) for path, manifest in named.items()}
