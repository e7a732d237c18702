"""Which parts of ``parameter`` a template reads, checked against the definition's schema.

Why: with ``StrictUndefined`` a template that reads ``parameter.replica`` while the schema
declares ``replicas`` fails only for the users who happen to hit that branch, and inside an
``is defined`` test it never fails at all: the property just silently does nothing. Walking
the template's Jinja AST finds every such read before anyone renders it.

The walk is a small abstract interpretation. A value is the set of schema nodes it may
stand for (``parameter.ports`` -> the ``ports`` array schema); ``Getattr``/``Getitem``
chains step into ``properties``, ``patternProperties``, ``additionalProperties`` and
``items`` (through local ``$ref``s and ``allOf``/``anyOf``/``oneOf``), and the values bound
by ``set``, ``with``, ``for`` (lists, ``| dictsort``, ``.items()``), macro arguments and
list/tuple literals are followed, so ``{% for p in parameter.ports %}{{ p.prot }}`` is
reported as ``parameter.ports[].prot``. Anything the walk cannot follow is unknown and
never reported: the check has no false alarms by design, at the price of missing reads
hidden behind ``merge()``, dict literals and the like.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jinja2
from jinja2 import nodes

from engine.definitions import Definition
from engine.definitions.parameters import resolve
from engine.errors import DefinitionError, SourceLocation
from engine.model import regexes
from engine.render.templates import TemplateTooLarge, check_size, environment

_MAX_DEPTH = 16
_MAX_MACRO_CALLS = 200
#: Macro calls followed inside one another (recursion included): each costs Python frames.
_MAX_MACRO_NESTING = 8
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SHAPE_KEYS = frozenset(
    {
        "properties",
        "patternProperties",
        "additionalProperties",
        "unevaluatedProperties",
        "items",
        "prefixItems",
        "enum",
        "const",
    }
)
#: Filters whose result is (a subset or reordering of) their input.
_PASS_THROUGH = frozenset(
    {"list", "sort", "reverse", "unique", "select", "reject", "selectattr", "rejectattr", "omit"}
)
#: Filters that take ``attribute=`` (or a first argument) naming a field of each element.
_ATTRIBUTE_FILTERS = frozenset(
    {"map", "selectattr", "rejectattr", "sort", "unique", "groupby", "sum", "min", "max", "join"}
)
_METHOD_OWNERS = (dict, list, str)


@dataclasses.dataclass(frozen=True)
class UndeclaredRead:
    """A read of ``parameter`` that the schema does not declare, at a template line."""

    line: int
    path: str

    @property
    def message(self) -> str:
        return f"{self.path} is not declared in schema.json"


def undeclared_reads(definition: Definition) -> list[UndeclaredRead]:
    """Every read under ``parameter`` in ``definition``'s template that its schema lacks.

    Raises DefinitionError (with the template line) if the template does not parse.
    """
    try:
        check_size(definition.template)
        tree = environment().parse(definition.template, filename=definition.template_file)
        walker = _Walker(definition.schema)
        walker.block(tree.body, {})
    except jinja2.TemplateSyntaxError as exc:
        raise DefinitionError(
            f"template syntax error: {exc.message}",
            location=SourceLocation(definition.template_file, exc.lineno),
        ) from None
    except TemplateTooLarge as exc:
        raise DefinitionError(str(exc), location=SourceLocation(definition.template_file)) from None
    except RecursionError:
        raise DefinitionError(
            "the template is nested too deeply", location=SourceLocation(definition.template_file)
        ) from None
    return sorted(walker.found, key=lambda r: (r.line, r.path))


# -- abstract values -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _Ref:
    """A value that is (part of) ``parameter``: where it is, and its schema."""

    path: str
    schema: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class _Val:
    """What the walk knows of a template value.

    ``refs``: the parameter parts it may be; ``items``: a list or tuple literal, element
    by element; ``each``: a sequence of unknown length whose elements are all ``each``;
    ``consts``: the strings it may be, when only literal strings can reach it.
    """

    refs: tuple[_Ref, ...] = ()
    items: tuple[_Val, ...] | None = None
    each: _Val | None = None
    consts: tuple[str, ...] | None = None


UNKNOWN = _Val()
Scope = dict[str, _Val]


def _join(vals: Iterable[_Val]) -> _Val:
    """A value that may be any of ``vals``.

    Parameter parts add up; a literal shape or constant survives only if every value has it.
    """
    vals = list(vals)
    if len(vals) <= 1:
        return vals[0] if vals else UNKNOWN
    refs: dict[tuple[str, int], _Ref] = {}
    for val in vals:
        for ref in val.refs:
            refs.setdefault((ref.path, id(ref.schema)), ref)
    shapes = [v.items for v in vals]
    items = None
    if all(s is not None for s in shapes) and len({len(s or ()) for s in shapes}) == 1:
        items = tuple(_join(column) for column in zip(*(s or () for s in shapes), strict=True))
    consts = None
    if all(v.consts is not None for v in vals):
        consts = tuple(sorted({c for v in vals for c in v.consts or ()}))
    eaches = [v.each for v in vals if v.each is not None]
    return _Val(tuple(refs.values()), items, _join(eaches) if eaches else None, consts)


# -- schema steps ----------------------------------------------------------------------


def _types(schema: Mapping[str, Any]) -> list[Any] | None:
    kind = schema.get("type")
    if kind is None:
        return None
    return list(kind) if isinstance(kind, list) else [kind]


def _subschemas(schema: Mapping[str, Any], keys: Sequence[str]) -> list[Any]:
    out: list[Any] = []
    for key in keys:
        value = schema.get(key)
        if isinstance(value, list):
            out.extend(value)
        elif isinstance(value, Mapping):
            out.append(value)
    return out


def _parts(schema: Any, root: Mapping[str, Any], depth: int = 0) -> list[Mapping[str, Any]]:
    """``schema`` and every subschema that may add to its shape."""
    resolved = resolve(schema, root)
    out = [resolved]
    if depth >= _MAX_DEPTH:
        return out
    for sub in _subschemas(resolved, ("allOf", "anyOf", "oneOf", "then", "else")):
        out.extend(_parts(sub, root, depth + 1))
    dependent = resolved.get("dependentSchemas")
    for sub in dependent.values() if isinstance(dependent, Mapping) else ():
        out.extend(_parts(sub, root, depth + 1))
    return out


def _unconstrained(schema: Any, root: Mapping[str, Any], kind: str, depth: int = 0) -> bool:
    """Whether ``schema`` lets a ``kind`` value hold anything (no declared shape)."""
    resolved = resolve(schema, root)
    if depth >= _MAX_DEPTH:
        return True
    if _SHAPE_KEYS & resolved.keys():
        return False
    types = _types(resolved)
    if types is not None and kind not in types:
        return False
    if not all(_unconstrained(s, root, kind, depth + 1) for s in _subschemas(resolved, ("allOf",))):
        return False
    for key in ("anyOf", "oneOf"):
        alternatives = _subschemas(resolved, (key,))
        if alternatives and not any(_unconstrained(s, root, kind, depth + 1) for s in alternatives):
            return False
    return True


def _property(schema: Any, root: Mapping[str, Any], key: str | None) -> list[Mapping[str, Any]]:
    """The schemas of property ``key`` (None: of any key); empty if not declared."""
    parts = _parts(schema, root)
    found: list[Any] = []
    for part in parts:
        props = part.get("properties")
        if isinstance(props, Mapping):
            found.extend(props.values() if key is None else [props[key]] if key in props else [])
        patterns = part.get("patternProperties")
        if isinstance(patterns, Mapping):
            found.extend(s for p, s in patterns.items() if key is None or _matches(p, key))
    if key is None or not found:
        for part in parts:
            extra = part.get("additionalProperties")
            found.extend([{}] if extra is True else [extra] if isinstance(extra, Mapping) else [])
    if not found and _unconstrained(schema, root, "object"):
        found.append({})
    return [resolve(s, root) for s in found if isinstance(s, Mapping) or s is True]


def _elements(schema: Any, root: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The schemas of the elements of an array; empty if it is no array."""
    found: list[Any] = []
    for part in _parts(schema, root):
        items = part.get("items")
        found.extend([{}] if items is True else [items] if isinstance(items, Mapping) else [])
        prefix = part.get("prefixItems")
        if isinstance(prefix, list):
            found.extend(s for s in prefix if isinstance(s, Mapping))
    if not found and _unconstrained(schema, root, "array"):
        found.append({})
    return [resolve(s, root) for s in found]


def _matches(pattern: str, key: str) -> bool:
    try:
        return regexes.compile(pattern).search(key) is not None
    except regexes.RegexError:
        return True


def _child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{key!r}]"


# -- the walk --------------------------------------------------------------------------


class _Walker:
    """Walks a template's AST once, collecting undeclared reads in ``found``."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self.found: set[UndeclaredRead] = set()
        self.macros: dict[str, tuple[nodes.Macro, Scope]] = {}
        self.macro_calls = 0
        self.macro_nesting = 0

    # statements

    def block(self, body: Sequence[nodes.Node], scope: Scope) -> None:
        for node in body:
            self.stmt(node, scope)

    def stmt(self, node: nodes.Node, scope: Scope) -> None:
        handler = getattr(self, f"_stmt_{type(node).__name__}", None)
        if handler is not None:
            handler(node, scope)
        else:
            self.children(node, scope)

    def children(self, node: nodes.Node, scope: Scope) -> None:
        """The generic walk: every child expression and statement."""
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self.expr(child, scope)
            elif isinstance(child, nodes.Stmt):
                self.stmt(child, scope)
            else:
                self.children(child, scope)

    def _stmt_Assign(self, node: nodes.Assign, scope: Scope) -> None:
        self.bind(node.target, self.expr(node.node, scope), scope)

    def _stmt_AssignBlock(self, node: nodes.AssignBlock, scope: Scope) -> None:
        self.block(node.body, scope)
        if node.filter is not None:
            self.expr(node.filter, scope)
        self.bind(node.target, UNKNOWN, scope)

    def _stmt_If(self, node: nodes.If, scope: Scope) -> None:
        self.expr(node.test, scope)
        branches = [dict(scope)]
        self.block(node.body, branches[0])
        for elif_ in node.elif_:
            branches.append(dict(scope))
            self._stmt_If(elif_, branches[-1])
        if node.else_:
            branches.append(dict(scope))
            self.block(node.else_, branches[-1])
        else:
            branches.append(dict(scope))
        for key in {k for branch in branches for k in branch}:
            scope[key] = _join(branch.get(key, UNKNOWN) for branch in branches)

    def _stmt_For(self, node: nodes.For, scope: Scope) -> None:
        element = self.iterate(self.expr(node.iter, scope))
        inner = dict(scope)
        self.bind(node.target, element, inner, unpack=True)
        if node.test is not None:
            self.expr(node.test, inner)
        self.block(node.body, inner)
        self.block(node.else_, dict(scope))
        for key, value in inner.items():  # namespace attributes outlive the loop
            if "." in key:
                scope[key] = _join([scope.get(key, UNKNOWN), value])

    def _stmt_With(self, node: nodes.With, scope: Scope) -> None:
        inner = dict(scope)
        for target, value in zip(node.targets, node.values, strict=False):
            self.bind(target, self.expr(value, scope), inner)
        self.block(node.body, inner)

    def _stmt_Macro(self, node: nodes.Macro, scope: Scope) -> None:
        self.macros[node.name] = (node, dict(scope))
        self.call_macro(node, dict(scope), [], {})
        scope[node.name] = UNKNOWN

    def _stmt_CallBlock(self, node: nodes.CallBlock, scope: Scope) -> None:
        self.expr(node.call, scope)
        inner = dict(scope)
        for arg in node.args:
            self.bind(arg, UNKNOWN, inner)
        self.block(node.body, inner)

    def bind(self, target: nodes.Node, val: _Val, scope: Scope, *, unpack: bool = False) -> None:
        if isinstance(target, nodes.Name):
            scope[target.name] = val
        elif isinstance(target, nodes.NSRef):
            scope[f"{target.name}.{target.attr}"] = val
        elif isinstance(target, nodes.Tuple):
            shape = val.items
            for i, item in enumerate(target.items):
                if shape is not None and len(shape) == len(target.items):
                    self.bind(item, shape[i], scope)
                else:
                    self.bind(item, self.iterate(val) if unpack else UNKNOWN, scope)

    def call_macro(
        self, macro: nodes.Macro, scope: Scope, args: Sequence[_Val], kwargs: Mapping[str, _Val]
    ) -> None:
        self.macro_calls += 1
        if self.macro_calls > _MAX_MACRO_CALLS or self.macro_nesting >= _MAX_MACRO_NESTING:
            return
        self.macro_nesting += 1
        try:
            self.bind_arguments(macro, scope, args, kwargs)
            self.block(macro.body, scope)
        finally:
            self.macro_nesting -= 1

    def bind_arguments(
        self, macro: nodes.Macro, scope: Scope, args: Sequence[_Val], kwargs: Mapping[str, _Val]
    ) -> None:
        first_default = len(macro.args) - len(macro.defaults)
        for i, arg in enumerate(macro.args):
            if i < len(args):
                val = args[i]
            elif arg.name in kwargs:
                val = kwargs[arg.name]
            elif i >= first_default:
                val = self.expr(macro.defaults[i - first_default], scope)
            else:
                val = UNKNOWN
            scope[arg.name] = val

    # expressions

    def expr(self, node: nodes.Node, scope: Scope) -> _Val:
        handler = getattr(self, f"_expr_{type(node).__name__}", None)
        if handler is not None:
            result: _Val = handler(node, scope)
            return result
        self.children(node, scope)
        return UNKNOWN

    def _expr_Name(self, node: nodes.Name, scope: Scope) -> _Val:
        if node.name in scope:
            return scope[node.name]
        if node.name == "parameter":
            return _Val((_Ref("parameter", self.root),))
        return UNKNOWN

    def _expr_Getattr(self, node: nodes.Getattr, scope: Scope) -> _Val:
        if isinstance(node.node, nodes.Name) and f"{node.node.name}.{node.attr}" in scope:
            return scope[f"{node.node.name}.{node.attr}"]
        return self.step(self.expr(node.node, scope), node.attr, node.lineno)

    def _expr_Getitem(self, node: nodes.Getitem, scope: Scope) -> _Val:
        base = self.expr(node.node, scope)
        key = self.expr(node.arg, scope)
        arg = node.arg
        if key.consts is not None:
            return _join(self.step(base, const, node.lineno) for const in key.consts)
        if isinstance(arg, nodes.Slice):
            return base
        if isinstance(arg, nodes.Const) and isinstance(arg.value, int):
            if base.items is not None and -len(base.items) <= arg.value < len(base.items):
                return base.items[arg.value]
            return self.iterate(base)
        return _join([self.iterate(base), self.any_value(base)])

    def _expr_Const(self, node: nodes.Const, scope: Scope) -> _Val:
        return _Val(consts=(node.value,)) if isinstance(node.value, str) else UNKNOWN

    def _expr_CondExpr(self, node: nodes.CondExpr, scope: Scope) -> _Val:
        self.expr(node.test, scope)
        options = [self.expr(node.expr1, scope)]
        if node.expr2 is not None:
            options.append(self.expr(node.expr2, scope))
        return _join(options)

    def _expr_Or(self, node: nodes.Or, scope: Scope) -> _Val:
        return _join([self.expr(node.left, scope), self.expr(node.right, scope)])

    _expr_And = _expr_Or

    def _expr_List(self, node: nodes.List, scope: Scope) -> _Val:
        return _Val(items=tuple(self.expr(item, scope) for item in node.items))

    _expr_Tuple = _expr_List

    def _expr_Compare(self, node: nodes.Compare, scope: Scope) -> _Val:
        left = node.expr
        self.expr(left, scope)
        for operand in node.ops:
            right = self.expr(operand.expr, scope)
            key = left.value if isinstance(left, nodes.Const) else None
            if operand.op in ("in", "notin") and isinstance(key, str) and right.refs:
                self.step(right, key, node.lineno)
            left = operand.expr
        return UNKNOWN

    def _expr_Filter(self, node: nodes.Filter, scope: Scope) -> _Val:
        base = self.expr(node.node, scope) if node.node is not None else UNKNOWN
        args = [self.expr(arg, scope) for arg in node.args]
        for keyword in node.kwargs:
            self.expr(keyword.value, scope)
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                self.expr(extra, scope)
        return self.filtered(node, base, args)

    def _expr_Test(self, node: nodes.Test, scope: Scope) -> _Val:
        self.children(node, scope)
        return UNKNOWN

    def _expr_Call(self, node: nodes.Call, scope: Scope) -> _Val:
        args = [self.expr(arg, scope) for arg in node.args]
        kwargs = {kw.key: self.expr(kw.value, scope) for kw in node.kwargs}
        for extra in (node.dyn_args, node.dyn_kwargs):
            if extra is not None:
                self.expr(extra, scope)
        func = node.node
        if isinstance(func, nodes.Getattr):
            return self.method(node, func, args, scope)
        if isinstance(func, nodes.Name) and func.name in self.macros:
            macro, defined_in = self.macros[func.name]
            self.call_macro(macro, dict(defined_in), args, kwargs)
            return UNKNOWN
        self.expr(func, scope)
        return UNKNOWN

    # steps through values

    def step(self, base: _Val, key: str, line: int) -> _Val:
        """``base.key`` (or ``base["key"]``), reported when none of ``base``'s schemas has it."""
        out: list[_Ref] = []
        for ref in base.refs:
            out.extend(
                _Ref(_child_path(ref.path, key), s) for s in _property(ref.schema, self.root, key)
            )
        if base.refs and not out:
            paths = dict.fromkeys(_child_path(ref.path, key) for ref in base.refs)
            self.found.add(UndeclaredRead(line, " or ".join(paths)))
        return _Val(tuple(out))

    def any_value(self, base: _Val) -> _Val:
        """``base[key]`` for a key not known before rendering."""
        out = [
            _Ref(f"{ref.path}.<key>", child)
            for ref in base.refs
            for child in _property(ref.schema, self.root, None)
        ]
        return _Val(tuple(out))

    def iterate(self, val: _Val) -> _Val:
        """What ``for x in val`` binds ``x`` to."""
        options = [
            _Val(tuple(_Ref(f"{ref.path}[]", s) for s in _elements(ref.schema, self.root)))
            for ref in val.refs
        ]
        options.extend(val.items or ())
        if val.each is not None:
            options.append(val.each)
        return _join(options)

    def pairs(self, val: _Val) -> _Val:
        """``val | dictsort`` or ``val.items()``: (key, value) pairs."""
        return _Val(each=_Val(items=(UNKNOWN, self.any_value(val))))

    def attribute(self, val: _Val, dotted: str, line: int) -> _Val:
        """``attribute="a.b"`` of a filter, on each element of ``val``."""
        current = self.iterate(val)
        for part in dotted.split("."):
            current = self.iterate(current) if part.isdigit() else self.step(current, part, line)
        return current

    def method(
        self, call: nodes.Call, func: nodes.Getattr, args: Sequence[_Val], scope: Scope
    ) -> _Val:
        """``x.name(...)``: a declared property called, or a method of dict, list or str."""
        base = self.expr(func.node, scope)
        name = func.attr
        methods = [r for r in base.refs if not _property(r.schema, self.root, name)]
        if not any(hasattr(owner, name) for owner in _METHOD_OWNERS) or name.startswith("_"):
            methods = []
        properties = _Val(tuple(r for r in base.refs if r not in methods))
        self.step(properties, name, func.lineno)
        target = _Val(tuple(methods))
        if name == "items":
            return self.pairs(target)
        if name == "values":
            return _Val(each=self.any_value(target))
        if name == "get" and args:
            return self.get(target, call, args)
        return UNKNOWN

    def get(self, target: _Val, call: nodes.Call, args: Sequence[_Val]) -> _Val:
        """``x.get("key", default)``: a read of ``key``."""
        key = call.args[0]
        default = list(args[1:2])
        if isinstance(key, nodes.Const) and isinstance(key.value, str):
            return _join([self.step(target, key.value, call.lineno), *default])
        return _join([self.any_value(target), *default])

    def filtered(self, node: nodes.Filter, base: _Val, args: Sequence[_Val]) -> _Val:
        name = node.name
        dotted = _attribute_argument(node)
        if name in _ATTRIBUTE_FILTERS and dotted is not None:
            picked = self.attribute(base, dotted, node.lineno)
            if name == "map":
                return _Val(each=picked)
        if name in ("default", "d"):
            return _join([base, *args[:1]])
        if name in _PASS_THROUGH:
            return base
        if name in ("first", "last", "random"):
            return self.iterate(base)
        if name in ("dictsort", "items"):
            return self.pairs(base)
        return UNKNOWN


def _attribute_argument(node: nodes.Filter) -> str | None:
    """The ``attribute=`` of a filter (or the first argument of selectattr/rejectattr/...)."""
    for keyword in node.kwargs:
        if keyword.key == "attribute" and isinstance(keyword.value, nodes.Const):
            return str(keyword.value.value)
    positional = node.name in ("selectattr", "rejectattr", "groupby")
    if positional and node.args and isinstance(node.args[0], nodes.Const):
        return str(node.args[0].value)
    return None
