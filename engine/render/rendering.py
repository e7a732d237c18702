"""Render one definition with its parameters and context into plain objects.

The template renders YAML text with up to four top-level keys (``output``,
``outputs`` for components; ``patch``, ``patchOutputs``, ``outputs`` for traits),
which is parsed back with the strict loader. Template problems become errors naming
the template file and line; ``fail("...")`` becomes a user error at the Application.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from engine.definitions import Definition, Registry
from engine.errors import DefinitionError, InputError, SourceLocation, TemplateError
from engine.model import load_yaml
from engine.render.templates import TemplateFailure, YamlText, compile_template

ALLOWED_KEYS = {
    "component": frozenset({"output", "outputs"}),
    "trait": frozenset({"patch", "patchOutputs", "outputs"}),
}


@dataclasses.dataclass(frozen=True)
class Rendered:
    """What one template produced."""

    output: dict[str, Any] | None = None
    outputs: Mapping[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    patch: Any = None
    patch_outputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def template_of(registry: Registry, definition: Definition) -> jinja2.Template:
    """The compiled template of ``definition``, compiled once per registry."""
    return registry.memo("template", definition, lambda d: _compile(d, registry.cache_dir))


def _compile(definition: Definition, cache_dir: Path | None) -> jinja2.Template:
    try:
        return compile_template(definition.template, definition.template_file, cache_dir)
    except jinja2.TemplateSyntaxError as exc:
        raise DefinitionError(
            f"template syntax error: {exc.message}",
            location=SourceLocation(definition.template_file, exc.lineno),
        ) from None


def render(
    registry: Registry,
    definition: Definition,
    parameter: Mapping[str, Any],
    context: Mapping[str, Any],
    *,
    where: SourceLocation | None = None,
) -> Rendered:
    """Render ``definition``; ``where`` is the Application element it is for."""
    template = template_of(registry, definition)
    warnings: list[str] = []
    text = _run(template, definition, parameter, context, where, warnings)
    rendered = _parse(text, definition, where)
    if not warnings:
        return rendered
    prefix = f"{where}: " if where else ""
    notes = tuple(f"{prefix}{w} ({_subject(definition)})" for w in warnings)
    return dataclasses.replace(rendered, warnings=notes)


def _subject(definition: Definition) -> str:
    return f"{definition.kind} {definition.name}"


def _run(
    template: jinja2.Template,
    definition: Definition,
    parameter: Mapping[str, Any],
    context: Mapping[str, Any],
    where: SourceLocation | None,
    warnings: list[str],
) -> str:
    def warn(message: str) -> YamlText:
        warnings.append(str(message))
        return YamlText("")

    try:
        return template.render(parameter=parameter, context=context, warn=warn)
    except TemplateFailure as exc:
        raise TemplateError(f"{exc} ({_subject(definition)})", location=where) from None
    except RecursionError:
        raise TemplateError(
            f"template recursion too deep ({_subject(definition)})",
            location=SourceLocation(definition.template_file),
        ) from None
    except Exception as exc:  # any failure inside untrusted template code
        line = _template_line(exc, definition.template_file)
        suffix = f" (rendering {_subject(definition)} for {where})" if where else ""
        raise TemplateError(
            f"{_describe(exc)}{suffix}",
            location=SourceLocation(definition.template_file, line),
        ) from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined value: {exc.message}"
    return str(exc) or type(exc).__name__


def _template_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _parse(text: str, definition: Definition, where: SourceLocation | None) -> Rendered:
    try:
        docs = load_yaml(text, f"{definition.template_file} (rendered)")
    except InputError as exc:
        raise TemplateError(
            f"the template rendered invalid YAML: {exc.message}{_line_text(text, exc)}",
            location=SourceLocation(definition.template_file),
        ) from None
    data = docs[0] if len(docs) == 1 else None
    if not isinstance(data, dict):
        raise TemplateError(
            "the template must render one YAML mapping",
            location=SourceLocation(definition.template_file),
        )
    extra = sorted(set(data) - ALLOWED_KEYS[definition.kind])
    if extra:
        allowed = ", ".join(sorted(ALLOWED_KEYS[definition.kind]))
        raise TemplateError(
            f"the template rendered unexpected top-level key {extra[0]!r} (allowed: {allowed})",
            location=SourceLocation(definition.template_file),
        )
    return _rendered(data, definition)


def _line_text(text: str, exc: InputError) -> str:
    line = exc.location.line if exc.location else None
    lines = text.splitlines()
    if line is None or not 0 < line <= len(lines):
        return ""
    return f" at rendered line {line}: {lines[line - 1].strip()[:120]!r}"


def _rendered(data: Mapping[str, Any], definition: Definition) -> Rendered:
    where = SourceLocation(definition.template_file)
    output = data.get("output")
    if output is not None and not _is_object(output):
        raise TemplateError("'output' must be an object with apiVersion and kind", location=where)
    outputs = data.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise TemplateError("'outputs' must map names to objects", location=where)
    for key, obj in outputs.items():
        if not _is_object(obj):
            raise TemplateError(
                f"outputs.{key} must be an object with apiVersion and kind",
                location=where,
            )
    patch_outputs = data.get("patchOutputs") or {}
    if not isinstance(patch_outputs, dict):
        raise TemplateError("'patchOutputs' must map output names to patches", location=where)
    return Rendered(output, outputs, data.get("patch"), patch_outputs)


def _is_object(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("apiVersion"), str)
        and isinstance(value.get("kind"), str)
    )
