"""A budget for the work one template render may do, charged before the work is done.

Why: the sandbox stops a template from reaching Python internals, not from looping for
hours or asking for gigabytes (``range`` inside ``range``, ``'x'|center(10**10)``,
``'{:>999999999}'.format(x)``, a string doubled in a loop). So every render (and every
compile, which folds constants) gets a fresh :class:`Budget` of work units, and everything
whose cost grows charges it first:

- each pass through a loop, macro or ``{% call %}`` body: ``STEP`` plus the body's text;
- what a loop iterates, slices and comparisons (``in``, ``==``): one unit per element;
- filters, tests and calls: the sizes of their arguments, plus, for the few that can
  make far more than they get (padding, ``indent``, ``replace``, ``join``, format
  widths), the size of what they are about to make;
- text made by ``~``, ``+``, ``*``, ``%``, ``{{ }}`` and string results: its length
  (short results are paid for by the loop pass that makes them).

An exhausted budget raises ``SecurityError``, reported at the template line. The code
generator below adds the loop, macro, ``in`` and ``~`` charges to compiled templates.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jinja2 import compiler, nodes
from jinja2.exceptions import SecurityError
from jinja2.utils import _PassArg

#: Work units per render. A character costs one unit, an element of a list or mapping
#: ``ELEMENT`` (its pointer's bytes), a loop or macro pass ``STEP``: at most about a
#: million passes, or four times the largest input (64 MiB) in text.
MAX_WORK = 256 * 1024 * 1024
STEP = 256
ELEMENT = 8
#: Part of the bytecode cache key: compiled code from before the budget must not be reused.
CODE_VERSION = "budget-2"

_SIZED = (str, list, tuple, dict, set, frozenset, range)
_DIGITS = re.compile(r"\d+")
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


#: Text this short is paid for by the loop pass that writes it (see ``body_cost``).
SMALL = 64


class Budget:
    """Work units left in one render."""

    __slots__ = ("left",)

    def __init__(self, units: int = MAX_WORK) -> None:
        self.left = units


def _exhausted() -> SecurityError:
    return SecurityError(
        "the template does too much work: more loop passes, elements and "
        f"characters than one render may use ({MAX_WORK:,} units)"
    )


_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "sailplan_budget", default=None
)


def start() -> contextvars.Token[Budget | None]:
    """Give the template code run from now on a fresh budget; ``stop(token)`` ends it."""
    return _CURRENT.set(Budget())


def stop(token: contextvars.Token[Budget | None]) -> None:
    _CURRENT.reset(token)


@contextlib.contextmanager
def budgeted() -> Iterator[None]:
    """Run template code with a fresh budget."""
    token = start()
    try:
        yield
    finally:
        stop(token)


def charge(units: int) -> None:
    """Charge the current budget (outside any, each operation alone is bounded)."""
    if not units:
        return
    budget = _CURRENT.get() or Budget()
    budget.left -= units
    if budget.left < 0:
        raise _exhausted()


def charge_text(result: Any) -> None:
    """Charge the length of a string result longer than ``SMALL``."""
    if type(result) is str and len(result) > SMALL:
        charge(len(result))


def size(value: Any) -> int:
    """Units for the characters or elements of ``value`` (0 if it is not a collection)."""
    if type(value) is str:
        return len(value)
    return len(value) * ELEMENT if isinstance(value, _SIZED) else 0


def measured(value: Any) -> Any:
    """``value``, after charging its size: what a loop iterates or a comparison reads."""
    charge(size(value))
    return value


def joined(parts: tuple[Any, ...]) -> str:
    """The ``~`` operator: the parts as one string, its length charged."""
    text = "".join(map(str, parts))
    charge(len(text))
    return text


# -- costs of what is about to be made ---------------------------------------------------


def _count(value: Any) -> int:
    """A width, count or repeat argument as a number of units (0 if it is not one)."""
    return max(value, 0) if isinstance(value, int) else 0


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 19 else MAX_WORK + 1


def spec_cost(spec: str) -> int:
    """Characters a ``format()`` spec such as ``>20.3f`` may pad a value to."""
    return sum(_number(d) for d in _DIGITS.findall(spec))


def printf_cost(text: Any, values: Any) -> int:
    """Characters the widths and precisions of ``text % values`` may add."""
    if not isinstance(text, str):
        return 0
    stars = sum(map(_count, values if isinstance(values, tuple) else (values,)))
    cost = 0
    for match in _PRINTF_SPEC.finditer(text):
        for part in match.groups():
            cost += stars if part == "*" else _number(part) if part else 0
    return cost


def _replaced(text: Any, old: Any = "", new: Any = "", count: Any = None, *_: Any) -> int:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return 0
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return hits * max(len(new) - len(old), 0)


def _indent(text: Any, width: Any = 4, *_: Any, **__: Any) -> int:
    pad = len(width) if isinstance(width, str) else _count(width)
    return (str(text).count("\n") + 1) * pad


def _translated(text: str, table: Any = None, *_: Any) -> int:
    longest = max((size(v) for v in table.values()), default=0) if isinstance(table, dict) else 0
    return len(text) * longest


def _summed(values: Any, attribute: Any = None, start: Any = 0, *_: Any, **__: Any) -> int:
    """What ``sum`` makes along the way: adding lists or strings copies each partial sum."""
    if not isinstance(values, _SIZED) or isinstance(values, str):
        return 0
    keys = attribute.split(".") if isinstance(attribute, str) else []
    made = size(start)
    cost = 0
    for item in values:
        for key in keys:
            item = item.get(key) if isinstance(item, dict) else None
        made += size(item)
        cost += made
        if cost > MAX_WORK:
            break
    return cost if made > size(start) else 0


Growth = Callable[..., int]

#: Filters that can make far more than they are given: what they are about to make.
FILTER_GROWTH: Mapping[str, Growth] = {
    "center": lambda value, width=80, *_, **__: _count(width),
    "indent": _indent,
    "wordwrap": lambda value, width=79, long_words=True, wrapstring=None, *_, **__: (
        (len(str(value)) + 1) * len(str(wrapstring or "\n"))
    ),
    "replace": lambda s, old="", new="", count=None, *_, **__: _replaced(s, old, new, count),
    "join": lambda value, d="", *_, **__: (
        len(str(d)) * len(value) if isinstance(value, _SIZED) else 0
    ),
    "format": lambda value, *args, **kwargs: printf_cost(value, tuple(kwargs.values()) or args),
    "batch": lambda value, linecount=0, fill_with=None, *_, **__: (
        0 if fill_with is None else _count(linecount) * ELEMENT
    ),
    "slice": lambda value, slices=0, *_, **__: _count(slices) * ELEMENT,
    "sum": _summed,
}

#: Methods of ``str`` that can make far more than they are given.
METHOD_GROWTH: Mapping[str, Growth] = {
    "center": lambda s, width=0, *_: _count(width),
    "ljust": lambda s, width=0, *_: _count(width),
    "rjust": lambda s, width=0, *_: _count(width),
    "zfill": lambda s, width=0, *_: _count(width),
    "expandtabs": lambda s, tabsize=8, *_: s.count("\t") * _count(tabsize),
    "replace": _replaced,
    "join": lambda s, items=(), *_: len(s) * len(items) if isinstance(items, _SIZED) else 0,
    "translate": _translated,
}


def _listed(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` with a lazy first argument (a generator) made a list, so it can be measured."""
    if args and not isinstance(args[0], _SIZED) and isinstance(args[0], Iterator):
        return (list(args[0]), *args[1:])
    return args


def charged_call(func: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Charge calling ``func(*args, **kwargs)`` from a template; the arguments to call with."""
    owner = getattr(func, "__self__", None)
    grow = METHOD_GROWTH.get(getattr(func, "__name__", "")) if isinstance(owner, str) else None
    if grow is not None:
        args = _listed(args)
    cost = size(owner) + sum(map(size, args)) if args else size(owner)
    if grow is not None:
        cost += grow(owner, *args, **kwargs)
    if cost:
        charge(cost)
    return args


def takes_arguments(func: Callable[..., Any]) -> bool:
    """Whether a filter or test takes more than the value it is applied to."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return True
    skip = 0 if _PassArg.from_obj(func) is None else 1
    return len(params) - skip > 1 or any(p.kind is p.VAR_POSITIONAL for p in params)


def charged_filter(func: Callable[..., Any], growth: Growth | None = None) -> Callable[..., Any]:
    """``func`` (a filter or test) charging its arguments, growth and string result."""
    skip = 0 if _PassArg.from_obj(func) is None else 1  # context/environment come first

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        data = args[skip:]
        if growth is not None:
            data = _listed(data)
            args = (*args[:skip], *data)
        cost = sum(map(size, data))
        if growth is not None and data:
            cost += growth(*data, **kwargs)
        charge(cost)
        result = func(*args, **kwargs)
        charge_text(result)
        return result

    return wrapper


# -- compiled code that charges ---------------------------------------------------------


def body_cost(body: list[nodes.Node]) -> int:
    """``STEP``, the literal text a body writes on each pass, and ``SMALL`` per ``{{ }}``."""
    cost = STEP
    for output in (found for stmt in body for found in stmt.find_all(nodes.Output)):
        for child in output.nodes:
            cost += len(child.data) if isinstance(child, nodes.TemplateData) else SMALL
    return cost


class CodeGenerator(compiler.CodeGenerator):
    """Jinja's code generator, charging in loops, macros, comparisons and ``~``.

    Jinja allows no new node types, so the nodes to charge for are remembered by
    identity: a loop's iterable and the operands of comparisons are measured, and an empty
    output statement put first in each loop, macro and ``{% call %}`` body charges.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By identity, holding the nodes: a freed node's id may be reused by another.
        self._measured: dict[int, nodes.Node] = {}
        self._charges: dict[int, tuple[nodes.Node, int]] = {}

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        marked, units = self._charges.get(id(node), (None, 0))
        if marked is node:
            self.writeline(f"environment.charge({units})", node)
        if self._measured.get(id(node)) is not node:
            return super().visit(node, *args, **kwargs)
        self.write("environment.measured(")
        result = super().visit(node, *args, **kwargs)
        self.write(")")
        return result

    def visit_For(self, node: nodes.For, frame: compiler.Frame) -> None:
        self._measured[id(node.iter)] = node.iter
        self._charge_each_pass(node)
        super().visit_For(node, frame)

    def visit_Macro(self, node: nodes.Macro, frame: compiler.Frame) -> None:
        self._charge_each_pass(node)
        super().visit_Macro(node, frame)

    def visit_CallBlock(self, node: nodes.CallBlock, frame: compiler.Frame) -> None:
        self._charge_each_pass(node)
        super().visit_CallBlock(node, frame)

    def _charge_each_pass(self, node: nodes.For | nodes.Macro | nodes.CallBlock) -> None:
        marker = nodes.Output([], lineno=node.lineno)
        self._charges[id(marker)] = (marker, body_cost(node.body))
        node.body = [marker, *node.body]

    def visit_Compare(self, node: nodes.Compare, frame: compiler.Frame) -> None:
        self._measured.update((id(o), o) for o in (node.expr, *(op.expr for op in node.ops)))
        super().visit_Compare(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: compiler.Frame) -> None:
        self.write("environment.joined((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")
