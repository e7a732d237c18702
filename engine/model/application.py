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
class StepInput:
    """A step input: a value from an earlier step's output (``from``), set at ``parameterKey``."""

    source: str
    parameter_key: str = ""


@dataclasses.dataclass(frozen=True)
class StepOutput:
    """A step output: ``name`` takes the value at ``value_from`` in the step's result."""

    name: str
    value_from: str


@dataclasses.dataclass(frozen=True)
class Step:
    """A workflow step."""

    name: str
    type: str
    properties: Mapping[str, Any]
    depends_on: tuple[str, ...]
    sub_steps: tuple[Step, ...]
    path: YamlPath
    #: KubeVela's ``if`` expression; empty means "when every earlier step succeeded".
    if_: str = ""
    #: KubeVela's ``timeout`` duration text, e.g. ``30s``; empty means none.
    timeout: str = ""
    inputs: tuple[StepInput, ...] = ()
    outputs: tuple[StepOutput, ...] = ()
    #: ``meta.alias``: the name shown in status.
    alias: str = ""
    #: ``mode`` of a step group's sub-steps, if set on the step.
    mode: str = ""
    #: Whether the name was generated (KubeVela's ``step-<i>``) because none was written.
    generated_name: bool = False

    @property
    def base_type(self) -> str:
        """The type without a ``@version`` suffix."""
        return base_type(self.type)


@dataclasses.dataclass(frozen=True)
class WorkflowMode:
    """``spec.workflow.mode``: how steps and sub-steps run (KubeVela's defaults)."""

    steps: str = "StepByStep"
    sub_steps: str = "DAG"


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
    mode: WorkflowMode = WorkflowMode()

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


def base_type(type_: str) -> str:
    """``webservice@v1`` -> ``webservice``: a versioned reference names the built-in."""
    return type_.partition("@")[0]


def is_application(data: Any) -> bool:
    """Whether a loaded document claims to be a KubeVela Application."""
    return isinstance(data, dict) and data.get("kind") == "Application"


def parse_application(doc: Document) -> Application:
    """Check ``doc`` against the Application schema and build the value."""
    schemas.check(schemas.bundled("application"), doc.data, doc.source.locate)
    meta = doc.data["metadata"]
    spec = doc.data["spec"]
    _check_unique_names(spec["components"], doc.source)
    workflow = spec.get("workflow") or {}
    mode = workflow.get("mode") or {}
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
            _step(s, ("spec", "workflow", "steps", i), f"step-{i}")
            for i, s in enumerate(workflow.get("steps") or [])
        ),
        source=doc.source,
        # KubeVela runs a written workflow step by step and a generated one as a DAG.
        mode=WorkflowMode(
            mode.get("steps") or ("StepByStep" if spec.get("workflow") is not None else "DAG"),
            mode.get("subSteps") or "DAG",
        ),
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
    # KubeVela's appfile parser names an unnamed policy <type>-auto-gen-<index>.
    name = raw.get("name") or f"{raw['type']}-auto-gen-{path[-1]}"
    return Policy(name, raw["type"], raw.get("properties") or {}, path)


def _step(raw: Mapping[str, Any], path: YamlPath, generated: str) -> Step:
    # KubeVela's admission webhook names unnamed steps step-<i>, sub-steps step-<i>-<j>.
    return Step(
        name=raw.get("name") or generated,
        type=raw["type"],
        properties=raw.get("properties") or {},
        depends_on=tuple(raw.get("dependsOn") or ()),
        sub_steps=tuple(
            _step(s, path + ("subSteps", i), f"{generated}-{i}")
            for i, s in enumerate(raw.get("subSteps") or [])
        ),
        path=path,
        if_=str(raw.get("if") or ""),
        timeout=str(raw.get("timeout") or ""),
        inputs=tuple(
            StepInput(str(i["from"]), str(i.get("parameterKey") or ""))
            for i in raw.get("inputs") or ()
        ),
        outputs=tuple(
            StepOutput(str(o["name"]), str(o["valueFrom"])) for o in raw.get("outputs") or ()
        ),
        alias=str((raw.get("meta") or {}).get("alias") or ""),
        mode=str(raw.get("mode") or ""),
        generated_name=not raw.get("name"),
    )
