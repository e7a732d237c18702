"""A definition: metadata, a JSON Schema for its properties, and a template.

A definition is a folder holding ``definition.yaml`` (metadata),
``schema.json`` (JSON Schema of ``properties``) and ``template.yaml.j2`` (the Jinja
template), plus ``examples/*.yaml`` used by tests and docs. Loading reads and checks
the files; compiling the template is the render layer's job.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from engine.definitions import references, schemachecks
from engine.errors import DefinitionError, SchemaError, SourceLocation
from engine.model import format_path, load_documents, schemas

Kind = Literal["component", "trait"]
KINDS: dict[str, Kind] = {
    "ComponentDefinition": "component",
    "TraitDefinition": "trait",
}
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
    """One loaded component or trait definition."""

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
    template = _read_text(folder / TEMPLATE_FILE)
    return Definition(
        name=meta["name"],
        kind=KINDS[meta["kind"]],
        description=meta["description"],
        folder=folder,
        meta=meta,
        schema=schema,
        template=template,
    )


def read_text(path: Path) -> str:
    """The text of a definition file; unreadable or non-UTF-8 is a located error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DefinitionError(
            f"cannot read: {exc.strerror or exc}", location=SourceLocation(str(path))
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DefinitionError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
            location=SourceLocation(str(path), line),
        ) from None


_read_text = read_text


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
        schema = schemachecks.load_json(_read_text(path))
    except schemachecks.JsonError as exc:
        raise DefinitionError(exc.message, location=SourceLocation(str(path), exc.line)) from None
    if not isinstance(schema, dict):
        raise DefinitionError(
            "the schema must be a JSON object", location=SourceLocation(str(path))
        )
    if not check:
        return schema
    for problem in schemachecks.problems(schema):
        place = SourceLocation(str(path), None, format_path(problem.path))
        raise DefinitionError(problem.message, location=place)
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
