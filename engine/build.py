"""``build()``: one Application in, its Kubernetes manifests out. Pure.

The one entry point that ``render``, ``diff``, ``apply`` and ``sync`` share. For each
component, in declared order: validate its properties, render its definition, apply
its traits in order (patch into the workload, patchOutputs, outputs), then apply
KubeVela's label and naming contract. No file, network or clock access happens here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from engine.definitions import Definition, Kind, Registry, prepare
from engine.definitions.steps import all_steps, check_workflow, step_definition
from engine.errors import BuildError, PatchError, SailplanError, SourceLocation
from engine.model import (
    Application,
    Component,
    Document,
    Manifest,
    Trait,
    YamlPath,
    base_type,
    is_application,
    parse_application,
)
from engine.model.refobjects import NAME as REF_OBJECTS
from engine.model.refobjects import ObjectReader, object_refs
from engine.model.schemas import suggest
from engine.model.secrets import redacted, secret_values
from engine.patch import contract
from engine.patch._json import copy_json
from engine.patch.mergepatch import merge_into
from engine.patch.strategies import apply_patch
from engine.render import Rendered, render

#: The newest Kubernetes minor sailplan knows; templates pick API versions for it.
DEFAULT_KUBE_VERSION = (1, 37)
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?\Z")


@dataclasses.dataclass(frozen=True)
class Build:
    """The manifests of one build, in output order, and any warnings."""

    manifests: tuple[Manifest, ...]
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Output:
    """An auxiliary object: its outputs key, the trait type that made it, its origin."""

    key: str
    object: dict[str, Any]
    trait_type: str
    source: str
    where: SourceLocation


@dataclasses.dataclass
class _State:
    """A component while its traits apply: the workload and outputs so far."""

    workload: dict[str, Any]
    outputs: list[_Output]
    #: whether ``workload`` is a private copy (only dicts and lists, shared with nothing),
    #: which merge patches may change in place: N ``labels`` traits cost N, not N^2
    private: bool = False

    def outputs_by_key(self) -> dict[str, dict[str, Any]]:
        return {out.key: out.object for out in self.outputs}


def parse_kube_version(text: str) -> tuple[int, int]:
    """``"1.29"`` or ``"v1.29.3"`` as ``(1, 29)``."""
    match = _VERSION.match(text.strip())
    if not match or match.group(1) != "1":
        raise BuildError(f"invalid Kubernetes version {text!r}; expected 1.MINOR such as 1.30")
    return 1, int(match.group(2))


def build(
    app: Application,
    registry: Registry,
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    namespace: str = "",
    read_objects: ObjectReader | None = None,
) -> Build:
    """Render every component of ``app`` with the definitions of ``registry``.

    ``namespace`` is the one components render into (``context.namespace``), as a
    topology policy's namespace is in KubeVela; empty means the Application's. The
    ``app.oam.dev/namespace`` label keeps the Application's namespace either way.
    ``read_objects`` reads what ``ref-objects`` components name (the applier passes
    one); without it they render nothing and a warning says what they would read.
    """
    check_dependencies(app)
    check_workflow(app, registry)
    manifests: list[Manifest] = []
    warnings: list[str] = []
    app_context = _app_context(app, kube_version, namespace or app.namespace)
    try:
        for component in app.components:
            manifests.extend(
                _component_manifests(app, component, registry, app_context, warnings, read_objects)
            )
        manifests.extend(_step_manifests(app, registry, app_context, warnings))
        check_unique(manifests)
    except SailplanError as exc:  # a message may quote a Secret written in the properties
        redacted(exc, secret_values([*_properties(app), *(m.object for m in manifests)]))
        raise
    return Build(tuple(manifests), tuple(warnings))


def _properties(app: Application) -> list[Mapping[str, Any]]:
    """The properties of every component and trait of ``app``."""
    return [
        props for c in app.components for props in (c.properties, *(t.properties for t in c.traits))
    ]


def check_dependencies(app: Application) -> None:
    """Every ``dependsOn`` names a component, and there is no cycle."""
    names = [c.name for c in app.components]
    for component in app.components:
        for i, dep in enumerate(component.depends_on):
            if dep not in names:
                raise BuildError(
                    f"component {component.name!r} depends on unknown component {dep!r}"
                    + _did_you_mean(dep, names),
                    location=app.locate(component.path + ("dependsOn", i), component),
                )
    cycle = _find_cycle({c.name: c.depends_on for c in app.components})
    if cycle:
        first = app.component(cycle[0])
        raise BuildError(
            "dependsOn cycle: " + " -> ".join(cycle),
            location=app.locate(first.path + ("dependsOn",), first) if first else None,
        )


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                return stack[stack.index(dep) :] + [dep]
            if dep in graph and dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def check_unique(manifests: Iterable[Manifest]) -> None:
    """No two manifests are the same object (group, kind, namespace, name)."""
    seen: dict[tuple[str, str, str, str, str], Manifest] = {}
    for manifest in manifests:
        key = manifest.key()
        if key in seen:
            first = seen[key]
            raise BuildError(
                f"duplicate object {manifest.id}: produced by {first.source}"
                f"{_at(first.location)} and by {manifest.source}{_at(manifest.location)}",
                location=manifest.location,
            )
        seen[key] = manifest


def _at(location: SourceLocation | None) -> str:
    return f" ({location})" if location else ""


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    hint = suggest(word, candidates)
    return f"; did you mean {hint!r}?" if hint else ""


def _definition(
    app: Application,
    registry: Registry,
    kind: Kind,
    type_: str,
    path: YamlPath,
    component: Component,
    trait: Trait | None = None,
) -> Definition:
    definition = registry.get(kind, base_type(type_))
    if definition is None:
        known = registry.names(kind)
        raise BuildError(
            f"unknown {kind} type {type_!r}{_did_you_mean(type_, known)} "
            f"(known: {', '.join(known)}; add your own with -d DIR)",
            location=app.locate(path + ("type",), component, trait),
        )
    return definition


def _app_context(app: Application, kube: tuple[int, int], namespace: str) -> dict[str, Any]:
    """The template context every component of ``app`` shares."""
    return {
        "appName": app.name,
        "namespace": namespace,
        "appRevision": f"{app.name}-v1",
        "appRevisionNum": 1,
        "appLabels": dict(app.labels),
        "appAnnotations": dict(app.annotations),
        "cluster": "",
        "replicaKey": "",
        "clusterVersion": {
            "major": kube[0],
            "minor": kube[1],
            "gitVersion": f"v{kube[0]}.{kube[1]}.0",
            "platform": "linux/amd64",
        },
    }


def _context(app_context: Mapping[str, Any], component: Component) -> dict[str, Any]:
    return {
        **app_context,
        "name": component.name,
        "revision": f"{component.name}-v1",
        "componentType": component.type,
    }


def _component_manifests(
    app: Application,
    component: Component,
    registry: Registry,
    app_context: Mapping[str, Any],
    warnings: list[str],
    read_objects: ObjectReader | None = None,
) -> list[Manifest]:
    cdef = _definition(app, registry, "component", component.type, component.path, component)
    locate = functools.partial(app.locate, component=component)
    where = locate(component.path)
    params = prepare(cdef, component.properties, locate, component.path + ("properties",))
    if cdef.name == REF_OBJECTS and registry.is_builtin(cdef):
        refs = object_refs(params, str(app_context["namespace"]))
        if read_objects is None:
            what = "; ".join(ref.describe() for ref in refs) or "nothing"
            urls = params.get("urls") or ()
            what += f"; and the objects at {len(urls)} URL(s)" if urls else ""
            warnings.append(
                f"{where}: component {component.name!r} (ref-objects) is read from the "
                f"cluster when applied: {what}; render shows none of it"
            )
            return []
        params = {**params, "objects": [obj for ref in refs for obj in read_objects(ref)]}
    context = _context(app_context, component)
    rendered = render(registry, cdef, params, context, where=where)
    warnings.extend(rendered.warnings)
    if rendered.output is None:
        raise BuildError(f"component definition {cdef.name!r} rendered no 'output'", location=where)
    source = f"{app.name}/{component.name}"
    state = _State(
        workload=rendered.output,
        outputs=[
            _Output(k, v, contract.AUXILIARY, source, where) for k, v in rendered.outputs.items()
        ],
    )
    traits = [
        (trait, _definition(app, registry, "trait", trait.type, trait.path, component, trait))
        for trait in component.traits
    ]
    _check_traits(app, component, cdef, state.workload, traits)
    for trait, tdef in traits:
        warnings.extend(_apply_trait(app, component, registry, state, trait, tdef, context))
    return _contracted(app, component, state, source, where)


def _check_traits(
    app: Application,
    component: Component,
    cdef: Definition,
    workload: Mapping[str, Any],
    traits: Sequence[tuple[Trait, Definition]],
) -> None:
    kinds = {cdef.name, cdef.workload_type, workload_type_of(workload)}
    positions: dict[str, list[int]] = {}  # by type: where traits of it are (linear, not pairs)
    for index, (trait, _) in enumerate(traits):
        positions.setdefault(trait.type, []).append(index)
    for index, (trait, tdef) in enumerate(traits):
        if "*" not in tdef.applies_to and not kinds & set(tdef.applies_to):
            raise BuildError(
                f"trait {trait.type!r} does not apply to component {component.name!r} of type "
                f"{component.type!r} (workload {workload_type_of(workload)}); "
                f"it applies to: {', '.join(tdef.applies_to)}",
                location=app.locate(trait.path + ("type",), component, trait),
            )
        clashes = [
            next(p for p in positions[name] if p != index)
            for name in set(tdef.conflicts_with)
            if any(p != index for p in positions.get(name, ())[:2])
        ]
        if clashes:
            other = traits[min(clashes)][0]
            raise BuildError(
                f"trait {trait.type!r} conflicts with trait {other.type!r} "
                f"on component {component.name!r}",
                location=app.locate(trait.path + ("type",), component, trait),
            )


def workload_type_of(obj: Mapping[str, Any]) -> str:
    """KubeVela's ``<plural>.<group>`` name for an object's kind, e.g. deployments.apps."""
    kind = str(obj.get("kind", "")).lower()
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    if kind.endswith(("s", "x", "ch", "sh")):
        plural = kind + "es"
    elif kind.endswith("y") and kind[-2:-1] not in "aeiou":
        plural = kind[:-1] + "ies"
    else:
        plural = kind + "s"
    return f"{plural}.{group}" if group else plural


def _apply_trait(
    app: Application,
    component: Component,
    registry: Registry,
    state: _State,
    trait: Trait,
    tdef: Definition,
    base_context: Mapping[str, Any],
) -> tuple[str, ...]:
    locate = functools.partial(app.locate, component=component, trait=trait)
    where = locate(trait.path)
    params = prepare(tdef, trait.properties, locate, trait.path + ("properties",))
    context = {
        **base_context,
        "output": state.workload,
        "outputs": state.outputs_by_key(),
    }
    rendered = render(registry, tdef, params, context, where=where)
    try:
        _merge_trait(state, rendered, tdef)
    except PatchError as exc:
        raise PatchError(f"{exc.message} (trait {tdef.name})", location=where) from None
    source = f"{app.name}/{component.name}/{trait.type}"
    state.outputs.extend(
        _Output(k, v, trait.type, source, where) for k, v in rendered.outputs.items()
    )
    return rendered.warnings


def _merge_trait(state: _State, rendered: Rendered, tdef: Definition) -> None:
    if rendered.patch is not None:
        if tdef.patch_strategy == "jsonMergePatch" and isinstance(rendered.patch, Mapping):
            if not state.private:
                state.workload = copy_json(state.workload)
                state.private = True
            merge_into(state.workload, rendered.patch)
        else:
            patched = apply_patch(state.workload, rendered.patch, tdef.patch_strategy)
            if not isinstance(patched, dict):
                raise PatchError("the patch did not leave an object")
            state.workload = patched
            state.private = False  # the result may share maps with the patch
    for key, patch in rendered.patch_outputs.items():
        index = next((i for i, out in enumerate(state.outputs) if out.key == key), None)
        if index is None:
            known = ", ".join(out.key for out in state.outputs) or "none"
            raise PatchError(f"patchOutputs.{key}: no output called {key!r} (outputs: {known})")
        old = state.outputs[index]
        patched = apply_patch(old.object, patch, "strategicMerge")
        state.outputs[index] = dataclasses.replace(old, object=patched)


def _contracted(
    app: Application,
    component: Component,
    state: _State,
    source: str,
    where: SourceLocation,
) -> list[Manifest]:
    ctx = contract.AppContext(
        app.name, app.namespace, f"{app.name}-v1", app.labels, app.annotations
    )
    out = [
        Manifest(
            contract.workload(state.workload, ctx, component.name, component.type),
            source,
            where,
        )
    ]
    for aux in state.outputs:
        labelled = contract.auxiliary(aux.object, ctx, component.name, aux.trait_type, aux.key)
        out.append(Manifest(labelled, aux.source, aux.where))
    return out


def _step_manifests(
    app: Application,
    registry: Registry,
    app_context: Mapping[str, Any],
    warnings: list[str],
) -> list[Manifest]:
    """The objects workflow steps apply (``apply-object``): those with a template."""
    ctx = contract.AppContext(
        app.name, app.namespace, f"{app.name}-v1", app.labels, app.annotations
    )
    out: list[Manifest] = []
    for step in all_steps(app.steps):
        sdef = step_definition(app, registry, step)
        if not sdef.template:
            continue
        where = app.locate(step.path)
        params = prepare(sdef, step.properties, app.locate, (*step.path, "properties"))
        context = {**app_context, "name": app.name, "stepName": step.name}
        rendered = render(registry, sdef, params, context, where=where)
        warnings.extend(rendered.warnings)
        source = f"{app.name}/{step.name}"
        for obj in rendered.outputs.values():
            out.append(Manifest(contract.step_object(obj, ctx), source, where))
    return out


def build_documents(
    documents: Sequence[Document],
    registry: Registry,
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
) -> Build:
    """Build every Application among ``documents``; plain Kubernetes objects pass through.

    The objects of all documents together must not collide.
    """
    manifests: list[Manifest] = []
    warnings: list[str] = []
    for doc in documents:
        if is_application(doc.data):
            result = build(parse_application(doc), registry, kube_version=kube_version)
            manifests.extend(result.manifests)
            warnings.extend(result.warnings)
        else:
            manifests.extend(plain_manifests(doc))
    check_unique(manifests)
    return Build(tuple(manifests), tuple(warnings))


def plain_manifests(doc: Document) -> list[Manifest]:
    """A document of plain Kubernetes objects, unchanged: one object, or a ``...List``.

    A ``List`` (``kubectl get -o yaml`` writes them) stands for its ``items``, as in
    kustomize; each item is checked and located on its own.
    """
    data = doc.data
    items = data.get("items") if isinstance(data, dict) else None
    if isinstance(items, list) and str(data.get("kind", "")).endswith("List"):
        return [
            _plain(item, doc.source.file, doc.source.locate, ("items", i))
            for i, item in enumerate(items)
        ]
    return [_plain(data, doc.source.file, doc.source.locate, ())]


def _plain(
    data: Any, file: str, locate: Callable[[YamlPath], SourceLocation], at: YamlPath
) -> Manifest:
    where = locate(at)
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("apiVersion", "kind")
    ):
        raise BuildError(
            "not a Kubernetes object or Application (apiVersion and kind are required)",
            location=where,
        )
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        raise BuildError(
            f"{data['kind']} without metadata.name", location=locate((*at, "metadata"))
        )
    return Manifest(data, file, where)


__all__ = [
    "DEFAULT_KUBE_VERSION",
    "Build",
    "SailplanError",
    "build",
    "build_documents",
    "check_dependencies",
    "check_unique",
    "parse_kube_version",
    "plain_manifests",
    "workload_type_of",
]
