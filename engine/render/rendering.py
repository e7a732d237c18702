"""Render one definition with its parameters and context into plain objects.

The template renders YAML text with up to four top-level keys (``output``,
``outputs`` for components; ``patch``, ``patchOutputs``, ``outputs`` for traits),
which is parsed back with the strict loader. Template problems become errors naming
the template file and line; ``fail("...")`` becomes a user error at the Application.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jinja2

from engine.definitions import Definition, Registry
from engine.definitions.sources import CodeCache
from engine.errors import DefinitionError, InputError, SourceLocation, TemplateError
from engine.model import load_yaml
from engine.render.templates import (
    TemplateFailure,
    TemplateTooLarge,
    YamlText,
    compile_template,
    one_line,
)

ALLOWED_KEYS = {
    "component": frozenset({"output", "outputs"}),
    "trait": frozenset({"patch", "patchOutputs", "outputs"}),
    "workflowstep": frozenset({"outputs"}),
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
    return registry.memo("template", definition, lambda d: _compile(d, registry.cache))


def _compile(definition: Definition, cache: CodeCache | None) -> jinja2.Template:
    where = SourceLocation(definition.template_file)
    try:
        return compile_template(definition.template, definition.template_file, cache)
    except jinja2.TemplateSyntaxError as exc:
        raise DefinitionError(
            f"template syntax error: {exc.message}",
            location=SourceLocation(definition.template_file, exc.lineno),
        ) from None
    except TemplateTooLarge as exc:
        raise DefinitionError(str(exc), location=where) from None
    except RecursionError:
        raise DefinitionError("the template is nested too deeply", location=where) from None
    except MemoryError:
        raise DefinitionError("out of memory compiling the template", location=where) from None


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
        warnings.append(one_line(str(message)))
        return YamlText("")

    try:
        return template.render(parameter=parameter, context=context, warn=warn)
    except TemplateFailure as exc:
        raise TemplateError(f"{exc} ({_subject(definition)})", location=where) from None
    except Exception as exc:  # any failure inside untrusted template code
        line = _template_line(exc, definition.template_file)
        raise _template_error(_describe(exc), definition, where, line) from exc


def _template_error(
    message: str, definition: Definition, where: SourceLocation | None, line: int | None = None
) -> TemplateError:
    """An error in what the template did, at its file and line, naming the Application part."""
    suffix = f" (rendering {_subject(definition)} for {where})" if where else ""
    return TemplateError(
        f"{message}{suffix}", location=SourceLocation(definition.template_file, line)
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return one_line(f"undefined value: {exc.message}")
    if isinstance(exc, RecursionError):
        return "template recursion too deep"
    if isinstance(exc, MemoryError):
        return "out of memory rendering the template"
    return one_line(str(exc) or type(exc).__name__)


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
        message = f"the template rendered invalid YAML: {exc.message}{_line_text(text, exc)}"
        raise _template_error(message, definition, where) from None
    data = docs[0] if len(docs) == 1 else None
    if not isinstance(data, dict):
        raise _template_error("the template must render one YAML mapping", definition, where)
    extra = sorted(set(data) - ALLOWED_KEYS[definition.kind])
    if extra:
        allowed = ", ".join(sorted(ALLOWED_KEYS[definition.kind]))
        message = (
            f"the template rendered unexpected top-level key {extra[0]!r} (allowed: {allowed})"
        )
        raise _template_error(message, definition, where)
    problem = _shape_problem(data)
    if problem:
        raise _template_error(problem, definition, where)
    return Rendered(
        data.get("output"),
        data.get("outputs") or {},
        data.get("patch"),
        data.get("patchOutputs") or {},
    )


def _line_text(text: str, exc: InputError) -> str:
    line = exc.location.line if exc.location else None
    lines = text.splitlines()
    if line is None or not 0 < line <= len(lines):
        return ""
    return f" at rendered line {line}: {lines[line - 1].strip()[:120]!r}"


def _shape_problem(data: Mapping[str, Any]) -> str | None:
    """What is wrong with the shape of the rendered top-level keys, if anything."""
    output = data.get("output")
    if output is not None and not _is_object(output):
        return "'output' must be an object with apiVersion and kind"
    outputs = data.get("outputs") or {}
    if not isinstance(outputs, dict):
        return "'outputs' must map names to objects"
    for key, obj in outputs.items():
        if not _is_object(obj):
            return f"outputs.{key} must be an object with apiVersion and kind"
    if not isinstance(data.get("patchOutputs") or {}, dict):
        return "'patchOutputs' must map output names to patches"
    return None


def _is_object(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("apiVersion"), str)
        and isinstance(value.get("kind"), str)
    )
