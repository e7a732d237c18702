"""``def validate``: everything that can be wrong with a definition folder, by file and line.

Why: a broken definition otherwise shows up only when some Application happens to use
it in the way that breaks. The checks, in order: the schema is valid JSON Schema with
resolvable local references; the metadata is valid; the template compiles; every read
under ``parameter`` in the template is declared in the schema; every example renders
through the real pipeline; and the rendered objects pass the Kubernetes schemas of the
requested release. Problems are returned as values, all of them, so an author fixes a
folder in one go; nothing here prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.exceptions

from engine import kubeschemas
from engine.authoring.examples import load_example, render_trial
from engine.build import DEFAULT_KUBE_VERSION
from engine.definitions import Definition, Registry, load_definition, references, schemachecks
from engine.definitions.definition import METADATA_FILE, SCHEMA_FILE
from engine.errors import DefinitionError, SailplanError, SourceLocation
from engine.model import YamlPath, format_path, load_documents, schemas
from engine.render import template_of
from engine.render.analysis import undeclared_reads

MAX_SCHEMA_PROBLEMS = 20


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition, and where."""

    location: SourceLocation | None
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclasses.dataclass(frozen=True)
class DefinitionReport:
    """The checks of one definition folder."""

    folder: Path
    kind: str
    name: str
    examples: int
    problems: tuple[Problem, ...]
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Report:
    """The checks of several folders, with what the Kubernetes schema check covered."""

    definitions: tuple[DefinitionReport, ...]
    kube: kubeschemas.KubeReport

    @property
    def problems(self) -> list[Problem]:
        return [p for d in self.definitions for p in d.problems]

    @property
    def warnings(self) -> list[str]:
        return [w for d in self.definitions for w in d.warnings]

    @property
    def examples(self) -> int:
        return sum(d.examples for d in self.definitions)


def definition_folders(paths: Iterable[Path]) -> list[Path]:
    """The definition folders named by ``paths``: each one, or every one below it."""
    folders: list[Path] = []
    for path in paths:
        if (path / METADATA_FILE).is_file():
            folders.append(path)
            continue
        if not path.is_dir():
            raise DefinitionError("no such definition folder", location=SourceLocation(str(path)))
        found = [
            meta.parent
            for meta in sorted(path.rglob(METADATA_FILE))
            if not any(part.startswith(".") for part in meta.relative_to(path).parts)
        ]
        if not found:
            raise DefinitionError(
                f"no {METADATA_FILE} found in this folder", location=SourceLocation(str(path))
            )
        folders.extend(found)
    return list(dict.fromkeys(folders))


def check_folders(
    folders: Sequence[Path],
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    extra_dirs: Sequence[Path] = (),
) -> Report:
    """Check every folder; examples render with the built-ins, ``extra_dirs`` and ``folders``."""
    schemas = kubeschemas.nearest_version(kube_version, kubeschemas.available_versions())
    loaded = [_load(folder) for folder in folders]
    good = [d for d, problems in loaded if d is not None and not problems]
    registry = Registry([*extra_dirs, *(d.folder for d in good)])
    reports: list[DefinitionReport] = []
    kube: list[kubeschemas.KubeReport] = []
    for folder, (definition, problems) in zip(folders, loaded, strict=True):
        if definition is None or problems:
            reports.append(DefinitionReport(folder, "", "", 0, tuple(problems)))
            continue
        report, checked = _check(definition, registry, kube_version)
        reports.append(report)
        kube.extend(checked)
    total = kubeschemas.KubeReport(
        kube_version,
        schemas,
        sum(k.checked for k in kube),
        tuple(p for k in kube for p in k.problems),
        tuple(s for k in kube for s in k.skipped),
    )
    return Report(tuple(reports), total)


# -- loading: schema and metadata ------------------------------------------------------


def _load(folder: Path) -> tuple[Definition | None, list[Problem]]:
    problems = schema_problems(folder / SCHEMA_FILE)
    if problems:
        return None, problems
    try:
        return load_definition(folder, check_schema=False), []
    except SailplanError as exc:
        return None, [Problem(exc.location, exc.message)]


def schema_problems(path: Path) -> list[Problem]:
    """What is wrong with a ``schema.json``: JSON syntax, JSON Schema, references."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(SourceLocation(str(path)), f"cannot read: {exc}")]
    try:
        schema = schemachecks.load_json(text)
    except schemachecks.JsonError as exc:
        return [Problem(SourceLocation(str(path), exc.line), exc.message)]
    if not isinstance(schema, dict):
        return [Problem(SourceLocation(str(path), 1), "the schema must be a JSON object")]
    duplicate = _duplicate_key(text, path)
    if duplicate is not None:
        return [duplicate]
    unsafe = [(p.path, p.message) for p in schemachecks.problems(schema)]
    if unsafe:  # the checks below would hang, recurse too deep or resolve nothing
        return [_at(path, text, where, message) for where, message in unsafe[:MAX_SCHEMA_PROBLEMS]]
    found = [*_meta_schema_problems(schema), *_reference_problems(schema)]
    loop = references.ref_loop(schema)
    if loop is not None:
        found.append((loop, references.LOOP_MESSAGE))
    elif not found:
        found.extend(_default_problems(schema))
    return [_at(path, text, where, message) for where, message in found[:MAX_SCHEMA_PROBLEMS]]


def _duplicate_key(text: str, path: Path) -> Problem | None:
    """A key given twice in one JSON object (``json`` keeps the last one silently)."""
    try:
        load_documents(text, str(path))
    except SailplanError as exc:
        if exc.message.startswith("duplicate key"):
            return Problem(exc.location, exc.message)
    return None


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def _default_problems(root: Mapping[str, Any]) -> Iterator[tuple[YamlPath, str]]:
    """Defaults that their own schema rejects: filled in, they would fail every render."""
    cls = jsonschema.validators.validator_for(root, default=jsonschema.Draft202012Validator)
    validator = schemas.linear_validator(cls)(root)
    for where, schema in _subschemas(root, ()):
        if "default" in schema:
            error = jsonschema.exceptions.best_match(
                validator.evolve(schema=schema).iter_errors(schema["default"])
            )
            if error is not None:
                yield (*where, "default"), f"the default does not match the schema: {error.message}"


def _subschemas(schema: Any, where: YamlPath) -> Iterator[tuple[YamlPath, Mapping[str, Any]]]:
    if not isinstance(schema, Mapping):
        return
    yield where, schema
    for key in _SCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            yield from _subschemas(sub, (*where, key, name))
    for key in _SCHEMA_LISTS:
        for i, sub in enumerate(schema.get(key) or []):
            yield from _subschemas(sub, (*where, key, i))
    for key in _SCHEMA_VALUES:
        if key in schema:
            yield from _subschemas(schema[key], (*where, key))


def _meta_schema_problems(schema: Mapping[str, Any]) -> Iterator[tuple[YamlPath, str]]:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    errors = cls(cls.META_SCHEMA).iter_errors(schema)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        best = jsonschema.exceptions.best_match([error]) or error
        yield tuple(best.absolute_path), f"not a valid JSON Schema: {best.message}"


def _reference_problems(schema: Any, path: YamlPath = ()) -> Iterator[tuple[YamlPath, str]]:
    """``$ref``s that do not resolve: only local ones (``#/...``) work offline."""
    root = schema
    stack: list[tuple[Any, YamlPath]] = [(schema, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((item, (*where, i)) for i, item in reversed(list(enumerate(node))))
            continue
        if not isinstance(node, Mapping):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str) and not _resolves(root, ref):
            yield (*where, "$ref"), _reference_message(ref)
        for key, value in reversed(list(node.items())):
            if key not in ("enum", "const", "default", "examples"):
                stack.append((value, (*where, key)))


def _resolves(root: Any, ref: str) -> bool:
    if ref == "#":
        return True
    if not ref.startswith("#/"):
        return False
    target = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and part in target:
            target = target[part]
        elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        else:
            return False
    return True


def _reference_message(ref: str) -> str:
    if ref.startswith("#"):
        return f"$ref {ref!r} points at nothing in this schema"
    return f"$ref {ref!r} is not local: only references into this schema (#/...) work offline"


def _at(path: Path, text: str, where: YamlPath, message: str) -> Problem:
    """A problem at a JSON path of a schema file, with its line (JSON is YAML)."""
    try:
        docs = load_documents(text, str(path))
    except SailplanError:
        docs = []
    if docs:
        found = docs[0].source.locate(where)
        location = SourceLocation(found.file, found.line, format_path(where))
    else:
        location = SourceLocation(str(path), None, format_path(where))
    return Problem(location, message)


# -- the definition itself -------------------------------------------------------------


def _check(
    definition: Definition, registry: Registry, kube_version: tuple[int, int]
) -> tuple[DefinitionReport, list[kubeschemas.KubeReport]]:
    head: dict[str, Any] = {
        "folder": definition.folder,
        "kind": definition.kind,
        "name": definition.name,
    }
    other = registry.get(definition.kind, definition.name)
    if other is not None and other.folder != definition.folder:
        problem = Problem(
            SourceLocation(str(definition.folder / METADATA_FILE)),
            f"{definition.kind} {definition.name!r} is also defined in {other.folder}, "
            "which is the one used",
        )
        return DefinitionReport(**head, examples=0, problems=(problem,)), []
    problems, compiled = _template_problems(definition, registry)
    if not compiled:
        return DefinitionReport(**head, examples=0, problems=tuple(problems)), []
    examples = sorted((definition.folder / "examples").glob("*.yaml"))
    warnings = [] if examples else [f"{definition.folder}: no examples/*.yaml to render"]
    kube: list[kubeschemas.KubeReport] = []
    for path in examples:
        found, notes, checked = _example(path, definition, registry, kube_version)
        problems.extend(found)
        warnings.extend(notes)
        kube.extend(checked)
    report = DefinitionReport(
        **head, examples=len(examples), problems=tuple(problems), warnings=tuple(warnings)
    )
    return report, kube


def _example(
    path: Path, definition: Definition, registry: Registry, kube_version: tuple[int, int]
) -> tuple[list[Problem], tuple[str, ...], list[kubeschemas.KubeReport]]:
    """Render one example and check its objects: problems, warnings, the schema check."""
    try:
        trial = load_example(path, definition.folder)
        result = render_trial(registry, definition, trial, kube_version=kube_version)
    except SailplanError as exc:
        return [Problem(exc.location, f"{exc.message} (example {path.stem})")], (), []
    checked = kubeschemas.validate(result.manifests, kube_version)
    problems = [_kube_problem(path, p, checked.version) for p in checked.problems]
    return problems, result.warnings, [checked]


def _kube_problem(example: Path, problem: kubeschemas.ObjectProblem, version: str) -> Problem:
    return Problem(
        SourceLocation(str(example)),
        f"{problem} (Kubernetes {version} schema, example {example.stem})",
    )


def _template_problems(definition: Definition, registry: Registry) -> tuple[list[Problem], bool]:
    """The template's problems, and whether it compiled (if not, no example can render)."""
    try:
        template_of(registry, definition)
        reads = undeclared_reads(definition)
    except SailplanError as exc:
        return [Problem(exc.location, exc.message)], False
    file = definition.template_file
    return [Problem(SourceLocation(file, read.line), read.message) for read in reads], True
