"""A definition: metadata, a JSON Schema for its properties, and a template.

A definition is a folder holding ``definition.yaml`` (metadata),
``schema.json`` (JSON Schema of ``properties``) and ``template.yaml.j2`` (the Jinja
template), plus ``examples/*.yaml`` used by tests and docs. Loading reads and checks
the files; compiling the template is the render layer's job.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from engine.definitions import references
from engine.errors import DefinitionError, SchemaError, SourceLocation
from engine.model import format_path, load_documents, schemas

Kind = Literal["component", "trait", "workflowstep"]
KINDS: dict[str, Kind] = {
    "ComponentDefinition": "component",
    "TraitDefinition": "trait",
    "WorkflowStepDefinition": "workflowstep",
}
#: Kinds whose template is optional: a step type renders objects only when it applies them.
_TEMPLATE_OPTIONAL: frozenset[Kind] = frozenset({"workflowstep"})
METADATA_FILE = "definition.yaml"
SCHEMA_FILE = "schema.json"
TEMPLATE_FILE = "template.yaml.j2"


@dataclasses.dataclass(frozen=True)
class Example:
    """A named example property set (and, for traits, the component to attach to)."""

    name: str
    properties: Mapping[str, Any]
    component: Mapping[str, Any] | None
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Definition:
    """One loaded component, trait or workflow step definition."""

    name: str
    kind: Kind
    description: str
    folder: Path
    meta: Mapping[str, Any]
    schema: Mapping[str, Any]
    template: str

    @property
    def workload_type(self) -> str:
        """KubeVela's workload type name, e.g. ``deployments.apps``."""
        return str((self.meta.get("workload") or {}).get("type", "autodetects.core.oam.dev"))

    @property
    def applies_to(self) -> tuple[str, ...]:
        return tuple(self.meta.get("appliesTo") or ("*",))

    @property
    def conflicts_with(self) -> tuple[str, ...]:
        return tuple(self.meta.get("conflictsWith") or ())

    @property
    def patch_strategy(self) -> str:
        return str(self.meta.get("patchStrategy", "strategicMerge"))

    @property
    def category(self) -> str:
        """A step type's category (KubeVela's ``category`` annotation), else empty."""
        return str(self.meta.get("category", ""))

    @functools.cached_property
    def template_file(self) -> str:
        return str(self.folder / TEMPLATE_FILE)

    @functools.cached_property
    def inlined_schema(self) -> Mapping[str, Any]:
        """The schema with its local references inlined (for fast walks)."""
        inlined: Mapping[str, Any] = schemas.inline_refs(self.schema)
        return inlined

    @functools.cached_property
    def validator(self) -> schemas.Compiled:
        """The compiled validator of this definition's properties."""
        return schemas.compile_schema(self.inlined_schema)

    def examples(self) -> list[Example]:
        """The example property sets shipped in ``examples/``, by file name."""
        folder = self.folder / "examples"
        paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        return [_example(path) for path in paths]


def load_definition(folder: Path, *, check_schema: bool = True) -> Definition:
    """Read and check one definition folder.

    ``check_schema=False`` skips validating the schema against the JSON Schema
    meta-schema; only the built-ins, which the test suite checks, are loaded so.
    """
    meta = _read_metadata(folder / METADATA_FILE)
    schema = _read_schema(folder / SCHEMA_FILE, check=check_schema)
    kind = KINDS[meta["kind"]]
    optional = kind in _TEMPLATE_OPTIONAL and not (folder / TEMPLATE_FILE).exists()
    template = "" if optional else _read_text(folder / TEMPLATE_FILE)
    return Definition(
        name=meta["name"],
        kind=kind,
        description=meta["description"],
        folder=folder,
        meta=meta,
        schema=schema,
        template=template,
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"cannot read: {exc}", location=SourceLocation(str(path))) from None


def _read_metadata(path: Path) -> dict[str, Any]:
    docs = load_documents(_read_text(path), str(path))
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise DefinitionError("expected one YAML mapping", location=SourceLocation(str(path)))
    try:
        schemas.check(schemas.bundled("definition"), docs[0].data, docs[0].source.locate)
    except SchemaError as exc:
        raise DefinitionError(exc.message, location=exc.location) from None
    data: dict[str, Any] = docs[0].data
    return data


def _read_schema(path: Path, *, check: bool) -> dict[str, Any]:
    try:
        schema = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            f"invalid JSON: {exc.msg}", location=SourceLocation(str(path), exc.lineno)
        ) from None
    if not isinstance(schema, dict):
        raise DefinitionError(
            "the schema must be a JSON object", location=SourceLocation(str(path))
        )
    if not check:
        return schema
    import jsonschema  # only user definitions are checked: keep it off the render path

    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = ".".join(str(p) for p in exc.absolute_path)
        raise DefinitionError(
            f"not a valid JSON Schema: {exc.message}",
            location=SourceLocation(str(path), None, where),
        ) from None
    loop = references.ref_loop(schema)
    if loop is not None:
        raise DefinitionError(
            references.LOOP_MESSAGE, location=SourceLocation(str(path), None, format_path(loop))
        )
    return schema


def _example(path: Path) -> Example:
    docs = load_documents(_read_text(path), str(path))
    data = docs[0].data if docs else None
    if not isinstance(data, dict) or not isinstance(data.get("properties", {}), dict):
        raise DefinitionError(
            "an example is a mapping with 'properties' (and optionally 'component')",
            location=SourceLocation(str(path)),
        )
    return Example(
        name=path.stem,
        properties=data.get("properties") or {},
        component=data.get("component"),
        description=str(data.get("description", "")),
    )
