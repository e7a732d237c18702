"""A definition: metadata, a JSON Schema for its properties, and a template.

A definition is a folder holding ``definition.yaml`` (metadata),
``schema.json`` (JSON Schema of ``properties``) and ``template.yaml.j2`` (the Jinja
template), plus ``examples/*.yaml`` used by tests and docs. Parsing checks the texts
a ``DefinitionSource`` read (no file is opened here); compiling the template is the
render layer's job.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.definitions import references, schemachecks
from engine.definitions.sources import DefinitionFiles, Kind
from engine.errors import DefinitionError, SchemaError, SourceLocation
from engine.model import format_path, load_documents, schemas

KINDS: dict[str, Kind] = {
    "ComponentDefinition": "component",
    "TraitDefinition": "trait",
    "WorkflowStepDefinition": "workflowstep",
}
#: Kinds whose template is optional: a step type renders objects only when it applies them.
TEMPLATE_OPTIONAL: frozenset[Kind] = frozenset({"workflowstep"})
METADATA_FILE = "definition.yaml"
SCHEMA_FILE = "schema.json"
TEMPLATE_FILE = "template.yaml.j2"
#: A definition name, as KubeVela's (a Kubernetes DNS label) and as the schema says.
NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


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
    #: Example name -> YAML text.
    example_texts: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)

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
        return [
            _example(name, self.example_texts[name], str(self.folder / "examples" / name))
            for name in sorted(self.example_texts)
        ]


def parse_definition(files: DefinitionFiles, *, check_schema: bool = True) -> Definition:
    """Check and parse the texts of one definition.

    ``check_schema=False`` skips validating the schema against the JSON Schema
    meta-schema; only the built-ins, which the test suite checks, are loaded so.
    """
    folder = Path(files.folder)
    meta = _parse_metadata(files.metadata, str(folder / METADATA_FILE))
    schema = _parse_schema(files.schema, str(folder / SCHEMA_FILE), check=check_schema)
    kind = KINDS[meta["kind"]]
    return Definition(
        name=meta["name"],
        kind=kind,
        description=meta["description"],
        folder=folder,
        meta=meta,
        schema=schema,
        template=files.template,
        example_texts=files.examples,
    )


def _parse_metadata(text: str, name: str) -> dict[str, Any]:
    docs = load_documents(text, name)
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        raise DefinitionError("expected one YAML mapping", location=SourceLocation(name))
    try:
        schemas.check(schemas.bundled("definition"), docs[0].data, docs[0].source.locate)
    except SchemaError as exc:
        raise DefinitionError(exc.message, location=exc.location) from None
    data: dict[str, Any] = docs[0].data
    return data


def _parse_schema(text: str, path: str, *, check: bool) -> dict[str, Any]:
    try:
        schema = schemachecks.load_json(text)
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


def _example(name: str, text: str, path: str) -> Example:
    docs = load_documents(text, path)
    data = docs[0].data if docs else None
    if not isinstance(data, dict) or not isinstance(data.get("properties", {}), dict):
        raise DefinitionError(
            "an example is a mapping with 'properties' (and optionally 'component')",
            location=SourceLocation(path),
        )
    return Example(
        name=name.rsplit(".", 1)[0],
        properties=data.get("properties") or {},
        component=data.get("component"),
        description=str(data.get("description", "")),
    )
