"""A compiled yes/no check for the JSON Schema subset definitions use.

``jsonschema`` builds validator objects and error values as it goes, which makes
validating thousands of small property sets a large share of a render. Most inputs
are valid, so this module compiles a schema once into plain closures that only answer
"valid?". jsonschema still does everything else: it runs when the answer is no (and
produces the error message), and for any schema using a keyword this module does not
know (``compile_check`` then returns None). Tests compare both on random input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.model import regexes

Check = Callable[[Any], bool]

_IGNORED = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "definitions",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


class _Unsupported(Exception):
    """A keyword this module does not check; jsonschema must."""


def compile_check(schema: Any) -> Check | None:
    """A function telling whether an instance is valid, or None if ``schema`` is beyond it."""
    try:
        return _Compiler(schema).compile(schema)
    except _Unsupported:
        return None


class _Compiler:
    """Compiles subschemas, following local ``$ref``s (recursive ones too)."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs: dict[str, list[Check]] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, Mapping):
            raise _Unsupported
        checks: list[Check] = []
        for key, value in schema.items():
            if key in _IGNORED:
                continue
            make = _KEYWORDS.get(key)
            if make is None:
                raise _Unsupported
            found = make(value, schema, self)
            if found is not None:
                checks.append(found)
        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(check(v) for check in checks)

    def ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise _Unsupported
        if ref not in self.refs:
            cell: list[Check] = []
            self.refs[ref] = cell
            target = pointer(self.root, ref)
            if target is None:
                raise _Unsupported
            cell.append(self.compile(target))
        cell = self.refs[ref]
        return lambda v: cell[0](v)


def pointer(root: Any, ref: str) -> Any:
    """The subschema a local ``#/a/b`` reference names, or None."""
    target = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, Mapping) or part not in target:
            return None
        target = target[part]
    return target


def _type(value: Any, _: Any, __: _Compiler) -> Check:
    names = value if isinstance(value, list) else [value]
    tests = [_TYPES[n] for n in names if n in _TYPES]
    if len(tests) != len(names):
        raise _Unsupported
    return lambda v: any(test(v) for test in tests)


def _equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return False
    return bool(a == b)


def _enum(value: Any, _: Any, __: _Compiler) -> Check:
    return lambda v: any(_equal(v, option) for option in value)


def _const(value: Any, _: Any, __: _Compiler) -> Check:
    return lambda v: _equal(v, value)


def _properties(value: Any, _: Any, comp: _Compiler) -> Check:
    checks = {name: comp.compile(sub) for name, sub in value.items()}
    return lambda v: (
        not isinstance(v, dict)
        or all(check(v[name]) for name, check in checks.items() if name in v)
    )


def _additional(value: Any, schema: Any, comp: _Compiler) -> Check:
    known = frozenset(schema.get("properties") or ())
    if "patternProperties" in schema:
        raise _Unsupported
    check = comp.compile(value)
    return lambda v: (
        not isinstance(v, dict) or all(check(item) for key, item in v.items() if key not in known)
    )


def _required(value: Any, _: Any, __: _Compiler) -> Check:
    return lambda v: not isinstance(v, dict) or all(name in v for name in value)


def _items(value: Any, _: Any, comp: _Compiler) -> Check:
    if isinstance(value, list):
        raise _Unsupported  # the tuple form of older drafts
    check = comp.compile(value)
    return lambda v: not isinstance(v, list) or all(check(item) for item in v)


def _unique(value: Any, _: Any, __: _Compiler) -> Check | None:
    if not value:
        return None
    return lambda v: (
        not isinstance(v, list)
        or not any(_equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))
    )


def _bound(
    test: Callable[[Any, Any], bool], kinds: Check
) -> Callable[[Any, Any, _Compiler], Check]:
    def make(limit: Any, _: Any, __: _Compiler) -> Check:
        return lambda v: not kinds(v) or test(v, limit)

    return make


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _pattern(value: Any, _: Any, __: _Compiler) -> Check:
    try:
        compiled = regexes.compile(value)
    except regexes.RegexError:
        raise _Unsupported from None  # jsonschema reports it
    return lambda v: not isinstance(v, str) or compiled.search(v) is not None


def _any_of(value: Any, _: Any, comp: _Compiler) -> Check:
    checks = [comp.compile(s) for s in value]
    return lambda v: any(check(v) for check in checks)


def _all_of(value: Any, _: Any, comp: _Compiler) -> Check:
    checks = [comp.compile(s) for s in value]
    return lambda v: all(check(v) for check in checks)


def _one_of(value: Any, _: Any, comp: _Compiler) -> Check:
    checks = [comp.compile(s) for s in value]
    return lambda v: sum(1 for check in checks if check(v)) == 1


def _not(value: Any, _: Any, comp: _Compiler) -> Check:
    check = comp.compile(value)
    return lambda v: not check(v)


def _if(value: Any, schema: Any, comp: _Compiler) -> Check:
    condition = comp.compile(value)
    then = comp.compile(schema.get("then", True))
    otherwise = comp.compile(schema.get("else", True))
    return lambda v: then(v) if condition(v) else otherwise(v)


def _dependent_required(value: Any, _: Any, __: _Compiler) -> Check:
    return lambda v: (
        not isinstance(v, dict)
        or all(all(name in v for name in needed) for key, needed in value.items() if key in v)
    )


def _nothing(_: Any, __: Any, ___: _Compiler) -> None:
    return None


def _ref(value: Any, _: Any, comp: _Compiler) -> Check:
    return comp.ref(value)


_KEYWORDS: dict[str, Callable[[Any, Any, _Compiler], Check | None]] = {
    "$ref": _ref,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "items": _items,
    "uniqueItems": _unique,
    "minItems": _bound(lambda v, n: len(v) >= n, lambda v: isinstance(v, list)),
    "maxItems": _bound(lambda v, n: len(v) <= n, lambda v: isinstance(v, list)),
    "minProperties": _bound(lambda v, n: len(v) >= n, lambda v: isinstance(v, dict)),
    "maxProperties": _bound(lambda v, n: len(v) <= n, lambda v: isinstance(v, dict)),
    "minLength": _bound(lambda v, n: len(v) >= n, lambda v: isinstance(v, str)),
    "maxLength": _bound(lambda v, n: len(v) <= n, lambda v: isinstance(v, str)),
    "minimum": _bound(lambda v, n: v >= n, _is_number),
    "maximum": _bound(lambda v, n: v <= n, _is_number),
    "exclusiveMinimum": _bound(lambda v, n: v > n, _is_number),
    "exclusiveMaximum": _bound(lambda v, n: v < n, _is_number),
    "pattern": _pattern,
    "anyOf": _any_of,
    "allOf": _all_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
    "then": _nothing,
    "else": _nothing,
    "dependentRequired": _dependent_required,
}
