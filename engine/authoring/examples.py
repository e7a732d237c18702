"""Render one definition on its own: some properties wrapped in the smallest Application.

Why: a definition only ever renders as part of an Application, but an author trying one
out, ``def validate`` checking its examples and ``def doc`` documenting them all want
"this definition with these properties". We wrap the properties in a one-component
Application (a trait goes onto a host component, a webservice unless the example names
one), build it with the real pipeline, and map every location in it back to the file the
properties came from, so an error reads ``examples/three.yaml:3: properties.replicas: ...``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.build import DEFAULT_KUBE_VERSION, Build, build_documents
from engine.definitions import Definition, Kind, Registry, load_definition
from engine.definitions.folders import read_file
from engine.errors import DefinitionError, InputError, SourceLocation
from engine.model import Document, Source, YamlPath, is_application, load_documents
from engine.model.schemas import suggest

APP_NAME = "demo"
NAMESPACE = "demo-ns"
COMPONENT_NAME = "demo-comp"
STEP_NAME = "demo-step"
#: The component a trait is tried on when its example names none.
DEFAULT_HOST: Mapping[str, Any] = {"type": "webservice", "properties": {"image": "nginx:1.27"}}
EXAMPLE_KEYS = frozenset({"description", "properties", "component"})


@dataclasses.dataclass(frozen=True)
class Located:
    """A value read from a document, and the YAML path where it sits in that document."""

    value: Any
    source: Source
    path: YamlPath = ()

    def locate(self, sub: YamlPath = ()) -> SourceLocation:
        return self.source.locate(self.path + sub)


@dataclasses.dataclass(frozen=True)
class Trial:
    """Properties to render a definition with and, for a trait, the component it goes on."""

    name: str
    properties: Located
    host: Located | None = None
    description: str = ""


def located(text: str, file: str) -> Located:
    """The one YAML or JSON document of ``text`` (empty text: no properties)."""
    docs = load_documents(text, file)
    if len(docs) > 1:
        raise InputError("expected one YAML document", location=SourceLocation(file))
    if not docs:
        return Located({}, load_documents("{}", file)[0].source)
    return Located(docs[0].data, docs[0].source)


def load_example(path: Path, folder: Path | None = None) -> Trial:
    """An example file of a definition: ``properties``, optional ``component`` and description.

    With ``folder`` (the definition's), a link leading out of it is refused.
    """
    if folder is not None:
        text = read_file(path, folder)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read: {exc}", location=SourceLocation(str(path))) from None
    doc = located(text, str(path))
    if not isinstance(doc.value, dict):
        raise DefinitionError(
            "an example is a mapping with 'properties' (and optionally 'component', 'description')",
            location=doc.locate(),
        )
    for key in doc.value:
        if key not in EXAMPLE_KEYS:
            allowed = ", ".join(sorted(EXAMPLE_KEYS))
            raise DefinitionError(
                f"unknown key {key!r} in an example (allowed: {allowed})",
                location=doc.locate((key,)),
            )
    component = doc.value.get("component")
    return Trial(
        name=path.stem,
        properties=Located(doc.value.get("properties") or {}, doc.source, ("properties",)),
        host=Located(component, doc.source, ("component",)) if component is not None else None,
        description=str(doc.value.get("description") or ""),
    )


def host_component(doc: Located) -> Located:
    """The component a trait is tried on, from a component, an example or an Application."""
    value = doc.value
    if isinstance(value, dict) and "component" in value and "type" not in value:
        return Located(value["component"], doc.source, doc.path + ("component",))
    if is_application(value):
        components = (value.get("spec") or {}).get("components") or []
        if isinstance(components, list) and components:
            return Located(components[0], doc.source, doc.path + ("spec", "components", 0))
    return doc


def default_host() -> Located:
    return located(json.dumps(DEFAULT_HOST), "(default host component)")


def application(definition: Definition, trial: Trial) -> Document:
    """The one-component Application that renders ``definition`` for ``trial``."""
    properties = trial.properties
    if not isinstance(properties.value, dict):
        raise InputError("properties must be a mapping", location=properties.locate())
    if definition.kind == "component":
        component = {
            "name": COMPONENT_NAME,
            "type": definition.name,
            "properties": properties.value,
        }
        return _document(component, _TrialSource(properties.source.text, 0, properties))
    if definition.kind == "workflowstep":
        return _step_document(definition, properties, trial.host or default_host())
    host = trial.host or default_host()
    if not isinstance(host.value, dict) or not isinstance(host.value.get("traits") or [], list):
        raise InputError(
            "a component is a mapping with 'type', 'properties' and optionally 'traits'",
            location=host.locate(),
        )
    traits = [
        *(host.value.get("traits") or []),
        {"type": definition.name, "properties": properties.value},
    ]
    component = {"name": COMPONENT_NAME, **host.value, "traits": traits}
    source = _TrialSource(properties.source.text, 0, properties, host, len(traits) - 1)
    return _document(component, source)


def _step_document(definition: Definition, properties: Located, host: Located) -> Document:
    """An Application whose workflow is the one step tried (the host is its component)."""
    if not isinstance(host.value, dict):
        raise InputError("a component is a mapping with 'type'", location=host.locate())
    step = {"name": STEP_NAME, "type": definition.name, "properties": properties.value}
    spec: dict[str, Any] = {"workflow": {"steps": [step]}}
    if definition.name == "deploy2env":  # it names an env-binding policy: supply one
        env = {"name": str(properties.value.get("env")), "placement": {}}
        policy = {"envs": [env]}
        spec["policies"] = [
            {
                "name": str(properties.value.get("policy")),
                "type": "env-binding",
                "properties": policy,
            }
        ]
    component = {"name": COMPONENT_NAME, **host.value}
    return _document(
        component, _TrialSource(properties.source.text, 0, properties, step=True), spec
    )


def _document(
    component: Mapping[str, Any], source: Source, spec: Mapping[str, Any] | None = None
) -> Document:
    app = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": APP_NAME, "namespace": NAMESPACE},
        "spec": {"components": [component], **(spec or {})},
    }
    return Document(app, source)


def render_trial(
    registry: Registry,
    definition: Definition,
    trial: Trial,
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
) -> Build:
    """The manifests ``definition`` renders for ``trial`` (a trait: with its host component)."""
    return build_documents([application(definition, trial)], registry, kube_version=kube_version)


@dataclasses.dataclass(frozen=True, eq=False)
class _TrialSource(Source):
    """The source of a synthesised Application: its paths point into the trial's files."""

    properties: Located | None = None
    host: Located | None = None
    #: Where the tried trait sits in the component's traits; -1 for a component definition.
    trait_index: int = -1
    #: The tried definition is a workflow step (the Application's only step).
    step: bool = False

    def locate(self, path: YamlPath) -> SourceLocation:
        if self.properties is None:
            return super().locate(path)
        if self.step:
            rest = path[4:] if path[:4] == ("spec", "workflow", "steps", 0) else ()
            return self.properties.locate(rest[1:] if rest[:1] == ("properties",) else ())
        if path[:3] != ("spec", "components", 0):
            return self.properties.locate()
        rest = path[3:]
        if self.trait_index < 0:
            return self.properties.locate(rest[1:] if rest[:1] == ("properties",) else ())
        if rest[:2] == ("traits", self.trait_index):
            sub = rest[2:]
            return self.properties.locate(sub[1:] if sub[:1] == ("properties",) else ())
        host = self.host or self.properties
        return host.locate(rest)


def definition_named(registry: Registry, name: str) -> Definition:
    """The component or trait called ``name`` (an error if none, or if both exist)."""
    kinds: tuple[Kind, ...] = ("component", "trait", "workflowstep")
    found = [d for d in (registry.get(kind, name) for kind in kinds) if d]
    if len(found) == 1:
        return found[0]
    if found:
        raise DefinitionError(
            f"several definitions are called {name!r} "
            f"({', '.join(d.kind for d in found)}); give the definition's folder"
        )
    known = [n for kind in kinds for n in registry.names(kind)]
    hint = suggest(name, known)
    raise DefinitionError(
        f"no definition called {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
    )


def definition_in(registry: Registry, folder: Path) -> Definition:
    """The definition in ``folder``, as ``registry`` (which must include the folder) has it."""
    loaded = load_definition(folder)
    found = registry.get(loaded.kind, loaded.name)
    return found if found is not None else loaded
