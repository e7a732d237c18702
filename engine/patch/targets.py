"""Patch targets: which objects a kustomize ``patches[].target`` selects.

Why: environment patches name their objects the way kustomize does, and the same target
must select the same objects here as in ``kubectl kustomize`` (kustomize v5.5,
``resWrangler.Select``):

- ``group``, ``version``, ``kind``, ``name`` and ``namespace`` are regular expressions
  anchored to the whole value (``^(?:...)$``); empty or absent matches everything;
- ``name`` and ``namespace`` match the object's original identity (before an earlier JSON
  patch renamed it) or its current one; an object without a namespace is in ``default``,
  and a cluster-scoped one is in no namespace a pattern can name;
- the core group is ``""``, so ``group: ""`` is the same as no group;
- ``labelSelector`` and ``annotationSelector`` use Kubernetes selector syntax
  (``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``, ``a in (x,y)``, ``a notin (x,y)``, ``a>1``,
  ``a<1``, comma-separated, all must hold) with apimachinery's rules for keys and values.

Bad patterns and bad selectors are ``PatchError``s.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from engine.errors import PatchError
from engine.model import regexes
from engine.model.environment import Target
from engine.patch._ids import ResId, metadata

__all__ = ["LabelSelector", "Pattern", "Selector", "compile_target", "describe", "parse_selector"]

#: A target field without regular-expression syntax: it matches only itself.
_PLAIN: Final = re.compile(r"[A-Za-z0-9_/-]+\Z")


# -- targets -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Pattern:
    """One target field: a plain name compared as text, or an anchored RE2 pattern.

    Most targets name their objects plainly (``kind: Deployment``, ``name: web``); those
    are compared as strings and can be looked up in an index (``literal``).
    """

    text: str
    regex: regexes.Regex | None = None  # None: ``text`` matches only itself

    @property
    def literal(self) -> str | None:
        """The one value this pattern matches, if it is a plain name."""
        return self.text if self.regex is None else None

    def match(self, value: str) -> bool:
        if self.regex is None:
            return value == self.text
        return self.regex.search(value) is not None


@dataclasses.dataclass(frozen=True)
class Selector:
    """A compiled ``Target``."""

    group: Pattern | None
    version: Pattern | None
    kind: Pattern | None
    name: Pattern | None
    namespace: Pattern | None
    labels: LabelSelector | None
    annotations: LabelSelector | None

    def matches(
        self,
        obj: Mapping[str, Any],
        original: ResId | None = None,
        current: ResId | None = None,
    ) -> bool:
        """Whether ``obj`` is selected; ``original`` is its identity before any renames.

        ``current`` is ``obj``'s own identity, when the caller already has it.
        """
        current = current or ResId.of(obj)
        first = original or current
        if not _any_match(self.namespace, first.effective_namespace, current.effective_namespace):
            return False
        if not _any_match(self.name, first.name, current.name):
            return False
        if not (
            _any_match(self.group, current.group)
            and _any_match(self.version, current.version)
            and _any_match(self.kind, current.kind)
        ):
            return False
        meta = metadata(obj)
        return _selects(self.labels, meta.get("labels")) and _selects(
            self.annotations, meta.get("annotations")
        )


def compile_target(target: Target) -> Selector:
    """Compile a ``Target``; a bad regular expression or selector is a ``PatchError``."""
    return Selector(
        group=_pattern("group", target.group),
        version=_pattern("version", target.version),
        kind=_pattern("kind", target.kind),
        name=_pattern("name", target.name),
        namespace=_pattern("namespace", target.namespace),
        labels=_optional_selector("labelSelector", target.label_selector),
        annotations=_optional_selector("annotationSelector", target.annotation_selector),
    )


def describe(target: Target) -> str:
    """``kind=Deployment, name=web`` - the target's fields as written."""
    fields = (
        ("group", target.group),
        ("version", target.version),
        ("kind", target.kind),
        ("name", target.name),
        ("namespace", target.namespace),
        ("labelSelector", target.label_selector),
        ("annotationSelector", target.annotation_selector),
    )
    text = ", ".join(f"{name}={value!r}" for name, value in fields if value)
    return text or "(every object)"


def _pattern(field: str, value: str | None) -> Pattern | None:
    """The anchored pattern, as kustomize compiles it (``^(?:value)$``, Go syntax)."""
    if not value:
        return None
    if not isinstance(value, str):
        raise PatchError(f"target {field} must be a string, got {type(value).__name__}")
    if _PLAIN.match(value):
        return Pattern(value)
    try:
        regexes.compile(value)  # alone first, so the message quotes what the user wrote
        return Pattern(value, regexes.compile(f"^(?:{value})$"))
    except regexes.RegexError as exc:
        raise PatchError(f"target {field} {exc}") from None


def _any_match(pattern: Pattern | None, *values: str) -> bool:
    return pattern is None or any(pattern.match(value) for value in values)


def _optional_selector(field: str, text: str | None) -> LabelSelector | None:
    if not text:
        return None
    try:
        return parse_selector(text)
    except PatchError as exc:
        raise PatchError(f"target {field} {text!r}: {exc.message}") from None


def _selects(selector: LabelSelector | None, values: Any) -> bool:
    if selector is None:
        return True
    pairs = values if isinstance(values, Mapping) else {}
    return selector.matches({k: v for k, v in pairs.items() if isinstance(k, str)})


# -- label selectors -----------------------------------------------------------------------

_NAME_PART: Final = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
_DNS_SUBDOMAIN: Final = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z"
)
_INTEGER: Final = re.compile(r"-?[0-9]+\Z")
# Characters that end an identifier (apimachinery's selector lexer).
_SPECIAL: Final = "!=<>(),"
_OPERATOR_TOKENS: Final = frozenset({*_SPECIAL, "==", "!="})
_OPERATORS: Final = ("==", "!=", "=", ">", "<")


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One requirement of a selector: ``key op values``."""

    key: str
    op: str  # exists, !, =, !=, in, notin, >, <
    values: tuple[str, ...] = ()

    def holds(self, labels: Mapping[str, Any]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        return _TESTS[self.op](present, value, self.values)


def _compare(present: bool, value: Any, limit: str, greater: bool) -> bool:
    if not present or not isinstance(value, str) or not _INTEGER.match(value):
        return False
    return int(value) > int(limit) if greater else int(value) < int(limit)


_TESTS: Final[dict[str, Callable[[bool, Any, tuple[str, ...]], bool]]] = {
    "exists": lambda present, value, values: present,
    "!": lambda present, value, values: not present,
    "=": lambda present, value, values: present and value == values[0],
    "!=": lambda present, value, values: not present or value != values[0],
    "in": lambda present, value, values: present and value in values,
    "notin": lambda present, value, values: not present or value not in values,
    ">": lambda present, value, values: _compare(present, value, values[0], True),
    "<": lambda present, value, values: _compare(present, value, values[0], False),
}


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """A parsed selector: every requirement must hold."""

    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, Any]) -> bool:
        return all(req.holds(labels) for req in self.requirements)


def parse_selector(text: str) -> LabelSelector:
    """Parse Kubernetes label-selector syntax; an error is a ``PatchError``."""
    if not isinstance(text, str):
        raise PatchError(f"a selector must be a string, got {type(text).__name__}")
    tokens = _Tokens(_lex(text))
    requirements: list[Requirement] = []
    if tokens.peek() is None:
        return LabelSelector(())
    while True:
        requirements.append(_requirement(tokens))
        token = tokens.next()
        if token is None:
            return LabelSelector(tuple(requirements))
        if token != ",":
            raise PatchError(f"expected ',' after a requirement, found {token!r}")


def _lex(text: str) -> list[str]:
    """Split a selector into identifiers and the operators ``! = == != > < ( ) ,``."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _SPECIAL:
            two = text[i : i + 2]
            token = two if two in ("==", "!=") else char
            tokens.append(token)
            i += len(token)
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            tokens.append(text[start:i])
    return tokens


class _Tokens:
    def __init__(self, tokens: Sequence[str]) -> None:
        self._tokens = list(tokens)
        self._pos = 0

    def peek(self) -> str | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def next(self) -> str | None:
        token = self.peek()
        self._pos += token is not None
        return token


def _requirement(tokens: _Tokens) -> Requirement:
    token = tokens.next()
    if token == "!":
        return Requirement(_key(tokens.next()), "!")
    key = _key(token)
    op = tokens.peek()
    if op is None or op == ",":
        return Requirement(key, "exists")
    tokens.next()
    if op in ("in", "notin"):
        return Requirement(key, op, _value_set(tokens))
    if op not in _OPERATORS:
        raise PatchError(f"expected an operator after {key!r}, found {op!r}")
    value = _value(tokens.peek() if tokens.peek() not in (",", None) else "")
    if value:
        tokens.next()
    if op in (">", "<") and not _INTEGER.match(value):
        raise PatchError(f"{key}{op}{value}: the value must be an integer")
    return Requirement(key, "=" if op == "==" else op, (value,))


def _value_set(tokens: _Tokens) -> tuple[str, ...]:
    if tokens.next() != "(":
        raise PatchError("expected '(' after in/notin")
    values: list[str] = []
    expect_value = True
    while True:
        token = tokens.next()
        if token is None:
            raise PatchError("missing ')' in a value set")
        if token == ")":
            if expect_value and values:
                values.append("")
            break
        if token == ",":
            if expect_value:
                values.append("")
            expect_value = True
            continue
        if not expect_value:
            raise PatchError(f"expected ',' or ')' in a value set, found {token!r}")
        values.append(_value(token))
        expect_value = False
    if not values:
        raise PatchError("a value set for in/notin must not be empty")
    return tuple(values)


def _key(token: str | None) -> str:
    if token is None or token in _OPERATOR_TOKENS:
        raise PatchError(f"expected a label key, found {token or 'the end'!r}")
    prefix, slash, name = token.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        raise PatchError(f"invalid label key {token!r}: bad prefix")
    if not name or len(name) > 63 or not _NAME_PART.match(name):
        raise PatchError(
            f"invalid label key {token!r}: a name is at most 63 alphanumeric characters, "
            "'-', '_' or '.', starting and ending with an alphanumeric"
        )
    return token


def _value(token: str | None) -> str:
    if token is None or token in _OPERATOR_TOKENS:
        raise PatchError(f"expected a label value, found {token or 'the end'!r}")
    if token and (len(token) > 63 or not _NAME_PART.match(token)):
        raise PatchError(
            f"invalid label value {token!r}: at most 63 alphanumeric characters, "
            "'-', '_' or '.', starting and ending with an alphanumeric"
        )
    return token
