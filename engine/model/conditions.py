"""KubeVela's workflow step ``if`` expressions, parsed and evaluated without ``eval``.

KubeVela compiles a step's ``if`` as a CUE boolean over three values: ``status`` (each
earlier step's status: ``phase``, ``message``, ``reason`` and the flags ``succeeded``,
``failed``, ``skipped``, ``timeout``, ``failedAfterRetries``, ``terminate``), ``inputs``
(the step's inputs by their ``from`` name) and ``context`` (the process context).
The subset Applications use is what this module reads: paths (``status.deploy.phase``,
``status["apply-db"].failed``, ``inputs.ready``), string, number, boolean and null
literals, ``==  != < <= > >= =~ !~``, ``! && ||`` and parentheses. ``always`` is a
keyword the runner handles before this module is asked.

Step names hold dashes, so a dash inside a path segment is part of the name
(``status.apply-db.phase``); there is no arithmetic to confuse it with.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

ROOTS = ("status", "inputs", "context")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>==|!=|<=|>=|=~|!~|&&|\|\||[<>!().\[\]])
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$-]*)
    )""",
    re.VERBOSE,
)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "/": "/"}
_KEYWORDS = {"true": True, "false": False, "null": None}
_MAX_LENGTH = 4096
_MAX_DEPTH = 64


class ConditionError(ValueError):
    """An expression that does not parse or cannot be evaluated (message says why)."""


@dataclasses.dataclass(frozen=True)
class Literal:
    value: Any


@dataclasses.dataclass(frozen=True)
class Path:
    """``root.seg.seg``; ``root`` is one of ROOTS."""

    root: str
    segments: tuple[str | int, ...]

    def text(self) -> str:
        out = self.root
        for seg in self.segments:
            out += f"[{seg}]" if isinstance(seg, int) else f".{seg}"
        return out


@dataclasses.dataclass(frozen=True)
class Not:
    operand: Expr


@dataclasses.dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr


Expr = Literal | Path | Not | Binary


@dataclasses.dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    at: int


def parse(text: str) -> Expr:
    """The expression ``text``, or ConditionError naming what is wrong and where."""
    if len(text) > _MAX_LENGTH:
        raise ConditionError(f"expression longer than {_MAX_LENGTH} characters")
    parser = _Parser(_tokens(text), text)
    expr = parser.disjunction(0)
    if parser.pos < len(parser.toks):
        tok = parser.toks[parser.pos]
        raise ConditionError(f"unexpected {tok.text!r} at column {tok.at + 1}")
    return expr


def referenced_steps(expr: Expr) -> set[str]:
    """The step names ``status.<name>`` paths in ``expr`` refer to."""
    if isinstance(expr, Path):
        if expr.root == "status" and expr.segments and isinstance(expr.segments[0], str):
            return {expr.segments[0]}
        return set()
    if isinstance(expr, Not):
        return referenced_steps(expr.operand)
    if isinstance(expr, Binary):
        return referenced_steps(expr.left) | referenced_steps(expr.right)
    return set()


def evaluate(expr: Expr, scope: Mapping[str, Any]) -> bool:
    """The boolean value of ``expr`` over ``scope`` (``status``, ``inputs``, ``context``).

    As in CUE, a path to a missing field, comparing values of different types with
    ``<``, or a non-boolean result is an error, not false.
    """
    value = _value(expr, scope)
    if not isinstance(value, bool):
        raise ConditionError(f"the expression is {_show(value)}, not a boolean")
    return value


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            at = len(text) - len(text[pos:].lstrip())
            raise ConditionError(f"unexpected {text[at]!r} at column {at + 1}")
        kind = match.lastgroup or ""
        start = match.start(kind)
        out.append(_Tok(kind, match.group(kind), start))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, toks: list[_Tok], text: str) -> None:
        self.toks = toks
        self.text = text
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, want: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise ConditionError(
                "unexpected end of expression" + (f"; expected {want!r}" if want else "")
            )
        if want is not None and tok.text != want:
            raise ConditionError(f"expected {want!r} at column {tok.at + 1}, found {tok.text!r}")
        self.pos += 1
        return tok

    def _check_depth(self, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise ConditionError("expression nested too deeply")

    def disjunction(self, depth: int) -> Expr:
        self._check_depth(depth)
        left = self.conjunction(depth)
        while (tok := self.peek()) is not None and tok.text == "||":
            self.take()
            left = Binary("||", left, self.conjunction(depth))
        return left

    def conjunction(self, depth: int) -> Expr:
        left = self.comparison(depth)
        while (tok := self.peek()) is not None and tok.text == "&&":
            self.take()
            left = Binary("&&", left, self.comparison(depth))
        return left

    def comparison(self, depth: int) -> Expr:
        left = self.unary(depth)
        tok = self.peek()
        if tok is not None and tok.text in ("==", "!=", "<", "<=", ">", ">=", "=~", "!~"):
            self.take()
            return Binary(tok.text, left, self.unary(depth))
        return left

    def unary(self, depth: int) -> Expr:
        tok = self.peek()
        if tok is not None and tok.text == "!":
            self.take()
            return Not(self.unary(depth + 1))
        return self.primary(depth)

    def primary(self, depth: int) -> Expr:
        tok = self.take()
        if tok.text == "(":
            inner = self.disjunction(depth + 1)
            self.take(")")
            return inner
        if tok.kind == "string":
            return Literal(_unquote(tok))
        if tok.kind == "number":
            return Literal(float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "name":
            if tok.text in _KEYWORDS:
                return Literal(_KEYWORDS[tok.text])
            if tok.text not in ROOTS:
                raise ConditionError(
                    f"unknown name {tok.text!r} at column {tok.at + 1}; "
                    f"expressions read {', '.join(ROOTS)}"
                )
            return Path(tok.text, self.segments())
        raise ConditionError(f"unexpected {tok.text!r} at column {tok.at + 1}")

    def segments(self) -> tuple[str | int, ...]:
        out: list[str | int] = []
        while (tok := self.peek()) is not None and tok.text in (".", "["):
            self.take()
            if tok.text == ".":
                name = self.take()
                if name.kind != "name":
                    raise ConditionError(f"expected a field name at column {name.at + 1}")
                out.append(name.text)
                continue
            key = self.take()
            if key.kind == "string":
                out.append(_unquote(key))
            elif key.kind == "number" and key.text.isdigit():
                out.append(int(key.text))
            else:
                raise ConditionError(f"expected a string or index at column {key.at + 1}")
            self.take("]")
        return tuple(out)


def _unquote(tok: _Tok) -> str:
    body = tok.text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            nxt = body[i + 1] if i + 1 < len(body) else ""
            if nxt not in _ESCAPES:
                raise ConditionError(f"unknown escape \\{nxt} at column {tok.at + i + 2}")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _value(expr: Expr, scope: Mapping[str, Any]) -> Any:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Path):
        return _lookup(expr, scope)
    if isinstance(expr, Not):
        operand = _value(expr.operand, scope)
        if not isinstance(operand, bool):
            raise ConditionError(f"! needs a boolean, got {_show(operand)}")
        return not operand
    if expr.op in ("&&", "||"):
        left = _value(expr.left, scope)
        if not isinstance(left, bool):
            raise ConditionError(f"{expr.op} needs booleans, got {_show(left)}")
        if (expr.op == "&&" and not left) or (expr.op == "||" and left):
            return left
        right = _value(expr.right, scope)
        if not isinstance(right, bool):
            raise ConditionError(f"{expr.op} needs booleans, got {_show(right)}")
        return right
    return _compare(expr.op, _value(expr.left, scope), _value(expr.right, scope))


def _lookup(path: Path, scope: Mapping[str, Any]) -> Any:
    node: Any = scope.get(path.root, {})
    walked = path.root
    for seg in path.segments:
        try:
            node = child(node, seg)
        except KeyError:
            raise ConditionError(f"{walked} has no field {seg!r}") from None
        walked += f"[{seg}]" if isinstance(seg, int) else f".{seg}"
    return node


def child(node: Any, key: str | int) -> Any:
    """``node[key]`` for a list index or a mapping key; KeyError when there is none."""
    if isinstance(key, int):
        if isinstance(node, list) and 0 <= key < len(node):
            return node[key]
    elif isinstance(node, Mapping) and key in node:
        return node[key]
    raise KeyError(key)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _same(left, right)
    if op == "!=":
        return not _same(left, right)
    if op in ("=~", "!~"):
        if not isinstance(left, str) or not isinstance(right, str):
            raise ConditionError(f"{op} needs strings, got {_show(left)} and {_show(right)}")
        try:
            found = re.search(right, left) is not None
        except re.error as exc:
            raise ConditionError(f"invalid regular expression {right!r}: {exc}") from None
        return found if op == "=~" else not found
    numbers = all(_is_number(v) for v in (left, right))
    strings = all(isinstance(v, str) for v in (left, right))
    if not (numbers or strings):
        raise ConditionError(f"cannot compare {_show(left)} {op} {_show(right)}")
    result: bool = {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value!r}"
    if _is_number(value):
        return f"the number {value}"
    return f"a {'list' if isinstance(value, list) else 'struct'}"
