"""What a definition's schema must be before anything is validated against it.

Why: a definition folder comes from whoever wrote the repository, and its ``schema.json``
is run against every property set that uses it. These checks reject, when the schema is
loaded and with the path inside ``schema.json``, what would otherwise hang, exhaust the
stack or fail later with a message that names neither the file nor the place:

- nesting deeper than ``MAX_DEPTH`` levels;
- a ``pattern`` or ``patternProperties`` key RE2 cannot compile (lookarounds,
  backreferences): patterns are matched in linear time (``engine.model.regexes``);
- a ``$ref`` that is not local (files, URLs), that names nothing in the schema, or a
  ``$dynamicRef``/``$recursiveRef``: a definition's schema is one self-contained file;
- ``unevaluatedProperties`` beside ``patternProperties``, which jsonschema would match
  with Python's backtracking ``re``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from engine.model import regexes

__all__ = ["MAX_DEPTH", "JsonError", "SchemaProblem", "load_json", "problems"]

Path = tuple[str | int, ...]

#: Levels of nesting a definition's schema may have (the built-ins use fewer than 20).
MAX_DEPTH = 128

_LITERALS = frozenset({"enum", "const", "default", "examples"})
_DYNAMIC = ("$dynamicRef", "$recursiveRef")


#: Digits of an integer in a schema (Python cannot print more than 4,300).
MAX_INT_DIGITS = 1000
_LONG_INT = re.compile(rf"-?[0-9]{{{MAX_INT_DIGITS + 1},}}")


class JsonError(ValueError):
    """A ``schema.json`` that is not JSON sailplan can read, with its line."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_json(text: str) -> Any:
    """The JSON document ``text``; syntax, depth and huge integers are ``JsonError``s."""
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise JsonError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise JsonError(f"the schema is nested more than {MAX_DEPTH} levels deep", None) from None
    except ValueError as exc:  # from _int
        found = _LONG_INT.search(text)
        line = text.count("\n", 0, found.start()) + 1 if found else None
        raise JsonError(str(exc), line) from None


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(
            f"an integer of {len(digits):,} digits is too long (at most {MAX_INT_DIGITS:,})"
        )
    return int(digits)


class SchemaProblem(ValueError):
    """One reason a schema cannot be used, with its path in the schema."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def problems(schema: Any) -> Iterator[SchemaProblem]:
    """Every problem of ``schema``, depth first; a too-deep schema gives only that one."""
    nodes = list(_walk(schema))
    deep = next((path for path, _ in nodes if len(path) > MAX_DEPTH), None)
    if deep is not None:
        yield SchemaProblem(
            deep[:MAX_DEPTH], f"the schema is nested more than {MAX_DEPTH} levels deep"
        )
        return
    anchors = {n["$anchor"] for _, n in nodes if isinstance(n.get("$anchor"), str)}
    for path, node in nodes:
        yield from _node_problems(schema, path, node, anchors)


def _walk(schema: Any) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """Every mapping of the schema outside literal values, by path, without recursion."""
    todo: list[tuple[Any, Path]] = [(schema, ())]
    while todo:
        node, path = todo.pop()
        if len(path) > MAX_DEPTH + 1:
            yield path, {}
            continue
        if isinstance(node, Mapping):
            yield path, node
            todo.extend((v, (*path, k)) for k, v in node.items() if k not in _LITERALS)
        elif isinstance(node, list):
            todo.extend((v, (*path, i)) for i, v in enumerate(node))


def _node_problems(
    root: Any, path: Path, node: Mapping[str, Any], anchors: set[str]
) -> Iterator[SchemaProblem]:
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        yield from _pattern_problem((*path, "pattern"), pattern)
    keyed = node.get("patternProperties")
    if isinstance(keyed, Mapping):
        for key in keyed:
            yield from _pattern_problem((*path, "patternProperties", key), key)
        if "unevaluatedProperties" in node:
            yield SchemaProblem(
                (*path, "unevaluatedProperties"),
                "unevaluatedProperties beside patternProperties is not supported",
            )
    ref = node.get("$ref")
    if isinstance(ref, str):
        message = _ref_problem(root, ref, anchors)
        if message:
            yield SchemaProblem((*path, "$ref"), message)
    for key in _DYNAMIC:
        if key in node:
            yield SchemaProblem(
                (*path, key), f"{key} is not supported in a definition's schema; use $ref"
            )


def _pattern_problem(path: Path, pattern: str) -> Iterator[SchemaProblem]:
    try:
        regexes.compile(pattern)
    except regexes.RegexError as exc:
        yield SchemaProblem(path, str(exc))


def _ref_problem(root: Any, ref: str, anchors: set[str]) -> str | None:
    quoted = regexes.quote(ref)
    if ref == "#":
        return None
    if ref.startswith("#/"):
        if not _resolves(root, ref[2:].split("/")):
            return f"$ref {quoted} points at nothing in this schema"
        return None
    if ref.startswith("#"):
        if ref[1:] not in anchors:
            return f"$ref {quoted} points at nothing in this schema (no such $anchor)"
        return None
    return f"$ref {quoted} is not local: only references into this schema (#/...) work offline"


def _resolves(root: Any, parts: list[str]) -> bool:
    node = root
    for part in parts:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return isinstance(node, Mapping | bool)
