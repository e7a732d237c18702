"""The KubeVela Application as frozen values.

``parse_application`` checks a loaded document against
``schemas/application.schema.json`` and turns it into ``Application``; every element
keeps its YAML path so later stages can report ``file:line`` for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from engine.errors import SchemaError, SourceLocation
from engine.model import schemas
from engine.model.documents import Document, Source
from engine.model.paths import YamlPath

API_VERSION = "core.oam.dev/v1beta1"
DEFAULT_NAMESPACE = "default"


@dataclasses.dataclass(frozen=True)
class PatchOrigin:
    """Properties an override merged into a component or trait, and where they were written."""

    source: Source
    path: YamlPath  # of the patch's ``properties``
    properties: Mapping[str, Any]

    def holds(self, path: YamlPath) -> bool:
        """Whether the patch itself sets the value at ``path`` (relative to properties)."""
        node: Any = self.properties
        for seg in path:
            in_map = isinstance(node, Mapping) and isinstance(seg, str) and seg in node
            in_list = isinstance(node, list) and isinstance(seg, int) and 0 <= seg < len(node)
            if not (in_map or in_list):
                return False
            node = node[seg]
        return True


@dataclasses.dataclass(frozen=True)
class Trait:
    """A trait attached to a component: a type and its properties."""

    type: str
    properties: Mapping[str, Any]
    path: YamlPath
    #: The document the trait came from, if not its component's (an override added it).
    source: Source | None = None
    #: Override properties merged in, oldest first: errors in them are located there.
    patches: tuple[PatchOrigin, ...] = ()


@dataclasses.dataclass(frozen=True)
class Component:
    """One component of an Application."""

    name: str
    type: str
    properties: Mapping[str, Any]
    traits: tuple[Trait, ...]
    depends_on: tuple[str, ...]
    path: YamlPath
    #: The document the component (and its traits) came from, if not the Application's
    #: own: an override in an Environment file can add or replace components.
    source: Source | None = None
    #: Override properties merged in, oldest first: errors in them are located there.
    patches: tuple[PatchOrigin, ...] = ()


@dataclasses.dataclass(frozen=True)
class Policy:
    """An application policy (topology, override, ...)."""

    name: str
    type: str
    properties: Mapping[str, Any]
    path: YamlPath


@dataclasses.dataclass(frozen=True)
class Step:
    """A workflow step."""

    name: str
    type: str
    properties: Mapping[str, Any]
    depends_on: tuple[str, ...]
    sub_steps: tuple[Step, ...]
    path: YamlPath


@dataclasses.dataclass(frozen=True)
class Application:
    """A parsed, schema-checked KubeVela Application."""

    name: str
    namespace: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    components: tuple[Component, ...]
    policies: tuple[Policy, ...]
    steps: tuple[Step, ...]
    source: Source

    def locate(
        self, path: YamlPath, component: Component | None = None, trait: Trait | None = None
    ) -> SourceLocation:
        """Where ``path`` is: in an override that set it, else in the element's own document."""
        element: Component | Trait | None = trait or component
        if element is not None and element.patches:
            prefix = (*element.path, "properties")
            if path[: len(prefix)] == prefix:
                sub = path[len(prefix) :]
                for origin in reversed(element.patches):
                    if origin.holds(sub):
                        return origin.source.locate((*origin.path, *sub))
        source = (
            (trait.source if trait else None)
            or (component.source if component else None)
            or self.source
        )
        return source.locate(path)

    def component(self, name: str) -> Component | None:
        """The component called ``name``, if any."""
        return next((c for c in self.components if c.name == name), None)


def is_application(data: Any) -> bool:
    """Whether a loaded document claims to be a KubeVela Application."""
    return isinstance(data, dict) and data.get("kind") == "Application"


def parse_application(doc: Document) -> Application:
    """Check ``doc`` against the Application schema and build the value."""
    schemas.check(schemas.bundled("application"), doc.data, doc.source.locate)
    meta = doc.data["metadata"]
    spec = doc.data["spec"]
    _check_unique_names(spec["components"], doc.source)
    return Application(
        name=meta["name"],
        namespace=meta.get("namespace") or DEFAULT_NAMESPACE,
        labels=dict(meta.get("labels") or {}),
        annotations=dict(meta.get("annotations") or {}),
        components=tuple(
            _component(c, ("spec", "components", i)) for i, c in enumerate(spec["components"])
        ),
        policies=tuple(
            _policy(p, ("spec", "policies", i)) for i, p in enumerate(spec.get("policies") or [])
        ),
        steps=tuple(
            _step(s, ("spec", "workflow", "steps", i))
            for i, s in enumerate((spec.get("workflow") or {}).get("steps") or [])
        ),
        source=doc.source,
    )


def _check_unique_names(components: list[Mapping[str, Any]], source: Source) -> None:
    """Component names are keys: KubeVela rejects an Application that repeats one."""
    first: dict[str, int] = {}
    for index, raw in enumerate(components):
        earlier = first.setdefault(raw["name"], index)
        if earlier != index:
            seen = source.locate(("spec", "components", earlier))
            raise SchemaError(
                f"duplicate component name {raw['name']!r} (also at line {seen.line})",
                location=source.locate(("spec", "components", index, "name")),
            )


def _component(raw: Mapping[str, Any], path: YamlPath) -> Component:
    return Component(
        name=raw["name"],
        type=raw["type"],
        properties=raw.get("properties") or {},
        traits=tuple(
            Trait(t["type"], t.get("properties") or {}, path + ("traits", i))
            for i, t in enumerate(raw.get("traits") or [])
        ),
        depends_on=tuple(raw.get("dependsOn") or ()),
        path=path,
    )


def _policy(raw: Mapping[str, Any], path: YamlPath) -> Policy:
    return Policy(raw["name"], raw["type"], raw.get("properties") or {}, path)


def _step(raw: Mapping[str, Any], path: YamlPath) -> Step:
    return Step(
        name=raw["name"],
        type=raw["type"],
        properties=raw.get("properties") or {},
        depends_on=tuple(raw.get("dependsOn") or ()),
        sub_steps=tuple(
            _step(s, path + ("subSteps", i)) for i, s in enumerate(raw.get("subSteps") or [])
        ),
        path=path,
    )
