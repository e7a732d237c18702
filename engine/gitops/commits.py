"""Commit messages from Flux's Go ``text/template`` message templates, and commit authors.

Image automation renders ``messageTemplate`` with Go's ``text/template`` over
``.AutomationObject``, ``.Changed`` (``.Changed.Changes``, ``.Changed.FileChanges``,
``.Changed.Objects``) and ``.Values`` (reference §8.4). The seeds' templates use the removed
``.Updated`` data (``.Updated.Images``, ``.Updated.Files``, ``.Updated.Objects``), which
sailplan still provides so they keep working. This is a small interpreter for the subset
those templates use — text, ``{{ pipeline }}``, trim markers, ``if``/``else``/``with``/
``range`` (with ``$k, $v :=``), comments, fields, variables, pipes and a fixed set of
hermetic functions — with no access to Python objects beyond the data given; anything else
is a TemplateError naming the template.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.errors import TemplateError

DEFAULT_MESSAGE = "Update from image update automation"
KUBEVELA_AUTHOR = ("kubevelabot", "kubevelabot@users.noreply.github.com")
KUBEVELA_HEADER = "Update image automatically."

_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.S)
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<num>-?[0-9]+)|(?P<assign>:=|=)'
    r"|(?P<pipe>\|)|(?P<comma>,)|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<field>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*))"
)


# -- template data -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, order=True)
class ObjectIdentifier:
    """A Kubernetes object a change was made in (Flux's ``ObjectIdentifier``)."""

    Kind: str
    Namespace: str
    Name: str
    APIVersion: str = ""

    def __str__(self) -> str:
        return (
            f"{self.Kind}/{self.Namespace}/{self.Name}"
            if self.Namespace
            else f"{self.Kind}/{self.Name}"
        )


@dataclasses.dataclass(frozen=True, order=True)
class ChangeData:
    """One setter change (Flux's ``update.Change``)."""

    OldValue: str
    NewValue: str
    Setter: str

    def __str__(self) -> str:
        return "{" + f"{self.OldValue} {self.NewValue} {self.Setter}" + "}"


@dataclasses.dataclass(frozen=True)
class NamespacedName:
    """``.AutomationObject``: prints as ``namespace/name``."""

    Namespace: str
    Name: str

    def __str__(self) -> str:
        return f"{self.Namespace}/{self.Name}"


@dataclasses.dataclass(frozen=True)
class Changed:
    """``.Changed``: per file, per object, the changes made."""

    FileChanges: Mapping[str, Mapping[ObjectIdentifier, Sequence[ChangeData]]]

    @property
    def Changes(self) -> list[ChangeData]:
        """Every change once, in file and object order."""
        out: list[ChangeData] = []
        for objects in _sorted_values(self.FileChanges):
            for changes in _sorted_values(objects):
                out.extend(c for c in changes if c not in out)
        return out

    @property
    def Objects(self) -> dict[ObjectIdentifier, list[ChangeData]]:
        """The changes merged per object."""
        out: dict[ObjectIdentifier, list[ChangeData]] = {}
        for objects in _sorted_values(self.FileChanges):
            for ident, changes in objects.items():
                out.setdefault(ident, []).extend(changes)
        return out


@dataclasses.dataclass(frozen=True)
class Updated:
    """The legacy ``.Updated`` data the seeds' templates use."""

    changed: Changed
    images: tuple[str, ...]

    @property
    def Images(self) -> list[str]:
        """The new image references, de-duplicated and sorted (``repo:tag``)."""
        return sorted(set(self.images))

    @property
    def Files(self) -> dict[str, Any]:
        """The changed files."""
        return {f: {"Objects": o} for f, o in self.changed.FileChanges.items()}

    @property
    def Objects(self) -> list[ObjectIdentifier]:
        """The changed objects."""
        return sorted(self.changed.Objects)


_FIELDS: dict[type, frozenset[str]] = {
    ObjectIdentifier: frozenset({"Kind", "Namespace", "Name", "APIVersion"}),
    ChangeData: frozenset({"OldValue", "NewValue", "Setter"}),
    NamespacedName: frozenset({"Namespace", "Name"}),
    Changed: frozenset({"FileChanges", "Changes", "Objects"}),
    Updated: frozenset({"Images", "Files", "Objects"}),
}


def _sorted_values(mapping: Mapping[Any, Any]) -> list[Any]:
    return [mapping[k] for k in sorted(mapping)]


def template_data(
    automation: NamespacedName,
    file_changes: Mapping[str, Mapping[ObjectIdentifier, Sequence[ChangeData]]],
    images: Sequence[str],
    values: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The data a message template sees."""
    changed = Changed(file_changes)
    return {
        "AutomationObject": automation,
        "Changed": changed,
        "Updated": Updated(changed, tuple(images)),
        "Values": dict(values or {}),
    }


# -- parsing ------------------------------------------------------------------------------


@dataclasses.dataclass
class _Node:
    kind: str  # text | action | if | range | with
    text: str = ""
    pipe: list[list[tuple[str, str]]] = dataclasses.field(default_factory=list)
    variables: list[str] = dataclasses.field(default_factory=list)
    body: list[_Node] = dataclasses.field(default_factory=list)
    orelse: list[_Node] = dataclasses.field(default_factory=list)


def _lex(expr: str, where: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos or not m.lastgroup:
            raise TemplateError(f"{where}: cannot read {expr[pos : pos + 20]!r} in {{{{{expr}}}}}")
        out.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    return out


def _split_pipe(
    tokens: list[tuple[str, str]], where: str
) -> tuple[list[str], list[list[tuple[str, str]]]]:
    variables: list[str] = []
    if any(kind == "assign" for kind, _ in tokens):
        index = next(i for i, (kind, _) in enumerate(tokens) if kind == "assign")
        variables = [v for kind, v in tokens[:index] if kind == "field"]
        if not variables or not all(v.startswith("$") for v in variables):
            raise TemplateError(f"{where}: bad variable declaration")
        tokens = tokens[index + 1 :]
    commands: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token[0] == "pipe":
            commands.append([])
        else:
            commands[-1].append(token)
    if any(not c for c in commands):
        raise TemplateError(f"{where}: missing value in pipeline")
    return variables, commands


def parse(template: str, where: str = "commitMessage") -> list[_Node]:
    """Parse a template into nodes; TemplateError names what is wrong."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    for m in _ACTION.finditer(template):
        text = template[pos : m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        pieces.append(("text", text))
        pieces.append(("action", m.group(2)))
        pos = m.end()
        if m.group(3):
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip(" \t\r\n"))
    pieces.append(("text", template[pos:]))
    if "{{" in "".join(t for k, t in pieces if k == "text"):
        raise TemplateError(f"{where}: unclosed action")
    root: list[_Node] = []
    stack: list[tuple[_Node | None, list[_Node]]] = [(None, root)]
    for kind, body in pieces:
        if kind == "text":
            if body:
                stack[-1][1].append(_Node("text", text=body))
            continue
        expr = body.strip()
        if expr.startswith("/*"):
            continue
        word = expr.split(None, 1)[0] if expr else ""
        if word in ("if", "range", "with"):
            variables, pipe = _split_pipe(_lex(expr[len(word) :], where), where)
            node = _Node(word, variables=variables, pipe=pipe)
            stack[-1][1].append(node)
            stack.append((node, node.body))
        elif word == "else":
            owner = stack[-1][0]
            if owner is None or stack[-1][1] is owner.orelse:
                raise TemplateError(f"{where}: unexpected {{{{else}}}}")
            stack[-1] = (owner, owner.orelse)
        elif word == "end":
            if len(stack) == 1:
                raise TemplateError(f"{where}: unexpected {{{{end}}}}")
            stack.pop()
        elif word in ("define", "template", "block", "break", "continue"):
            raise TemplateError(f"{where}: {{{{{word}}}}} is not supported in commit messages")
        else:
            variables, pipe = _split_pipe(_lex(expr, where), where)
            stack[-1][1].append(_Node("action", variables=variables, pipe=pipe))
    if len(stack) != 1:
        raise TemplateError(f"{where}: missing {{{{end}}}}")
    return root


# -- evaluation ---------------------------------------------------------------------------


def _go_str(value: Any) -> str:
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_go_str(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{_go_str(k)}:{_go_str(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _truth(value: Any) -> bool:
    if isinstance(value, Changed | Updated | NamespacedName | ObjectIdentifier | ChangeData):
        return True
    return bool(value)


def _go_print(*args: Any) -> str:
    out = ""
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out += " "
        out += _go_str(arg)
    return out


def _printf(fmt: str, *args: Any) -> str:
    values = iter(args)

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "%%":
            return "%"
        value = next(values, None)
        return repr(str(value)).replace("'", '"') if m.group(1) == "q" else _go_str(value)

    return re.sub(r"%%|%[-+# 0-9.]*([svdqtf])", one, fmt)


def _index(container: Any, *keys: Any) -> Any:
    for key in keys:
        try:
            container = container[key]
        except (KeyError, IndexError, TypeError):
            raise TemplateError(f"index of {_go_str(key)}: out of range") from None
    return container


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "print": _go_print,
    "println": lambda *a: " ".join(_go_str(x) for x in a) + "\n",
    "printf": _printf,
    "len": lambda x: len(x),
    "index": _index,
    "not": lambda x: not _truth(x),
    "and": lambda *a: next((x for x in a if not _truth(x)), a[-1]),
    "or": lambda *a: next((x for x in a if _truth(x)), a[-1]),
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "join": lambda sep, items: sep.join(_go_str(i) for i in items),
    "upper": lambda s: _go_str(s).upper(),
    "lower": lambda s: _go_str(s).lower(),
    "trim": lambda s: _go_str(s).strip(),
    "trimPrefix": lambda p, s: _go_str(s).removeprefix(p),
    "trimSuffix": lambda p, s: _go_str(s).removesuffix(p),
    "replace": lambda old, new, s: _go_str(s).replace(old, new),
    "contains": lambda sub, s: sub in _go_str(s),
    "hasPrefix": lambda s, p: _go_str(s).startswith(p),
    "hasSuffix": lambda s, p: _go_str(s).endswith(p),
    "quote": lambda *a: " ".join('"' + _go_str(x).replace('"', '\\"') + '"' for x in a),
    "squote": lambda *a: " ".join("'" + _go_str(x) + "'" for x in a),
    "default": lambda d, v=None: v if _truth(v) else d,
    "uniq": lambda items: list(dict.fromkeys(items)),
    "sortAlpha": lambda items: sorted(_go_str(i) for i in items),
    "first": lambda items: items[0] if items else None,
    "last": lambda items: items[-1] if items else None,
}


class _Scope:
    def __init__(self, root: Any, where: str) -> None:
        self.vars: list[dict[str, Any]] = [{"$": root}]
        self.where = where
        self.budget = 100_000

    def lookup(self, name: str) -> Any:
        for frame in reversed(self.vars):
            if name in frame:
                return frame[name]
        raise TemplateError(f"{self.where}: undefined variable {name}")


def _field(value: Any, name: str, where: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    allowed = _FIELDS.get(type(value))
    if allowed is None or name not in allowed:
        raise TemplateError(f"{where}: can't evaluate field {name} in type {type(value).__name__}")
    return getattr(value, name)


def _operand(token: tuple[str, str], dot: Any, scope: _Scope) -> Any:
    kind, text = token
    if kind == "str":
        return text[1:-1] if text.startswith("`") else text[1:-1].encode().decode("unicode_escape")
    if kind == "num":
        return int(text)
    if kind == "field":
        if text == ".":
            return dot
        head, *names = text.split(".")
        value = scope.lookup(head) if head else dot
        for name in names:
            value = _field(value, name, scope.where)
        return value
    if kind == "ident" and text in ("true", "false", "nil"):
        return {"true": True, "false": False, "nil": None}[text]
    raise TemplateError(f"{scope.where}: unexpected {text!r}")


def _pipeline(commands: list[list[tuple[str, str]]], dot: Any, scope: _Scope) -> Any:
    value: Any = None
    for i, command in enumerate(commands):
        head = command[0]
        if head[0] == "ident" and head[1] not in ("true", "false", "nil"):
            function = FUNCTIONS.get(head[1])
            if function is None:
                raise TemplateError(f'{scope.where}: function "{head[1]}" not defined')
            args = [_operand(t, dot, scope) for t in command[1:]]
            if i:
                args.append(value)
            try:
                value = function(*args)
            except TemplateError:
                raise
            except (TypeError, ValueError, IndexError, AttributeError) as exc:
                raise TemplateError(f"{scope.where}: error calling {head[1]}: {exc}") from None
        elif len(command) == 1 and i == 0:
            value = _operand(head, dot, scope)
        else:
            raise TemplateError(f"{scope.where}: can't give argument to non-function {head[1]}")
    return value


def _run(nodes: list[_Node], dot: Any, scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        scope.budget -= 1
        if scope.budget < 0:
            raise TemplateError(f"{scope.where}: the template does too much work")
        if node.kind == "text":
            out.append(node.text)
            continue
        value = _pipeline(node.pipe, dot, scope)
        if node.kind == "action":
            if node.variables:
                scope.vars[-1][node.variables[0]] = value
            else:
                out.append(_go_str(value))
        elif node.kind in ("if", "with"):
            if _truth(value):
                scope.vars.append(dict.fromkeys(node.variables, value))
                _run(node.body, value if node.kind == "with" else dot, scope, out)
                scope.vars.pop()
            else:
                _run(node.orelse, dot, scope, out)
        else:
            _range(node, value, scope, out)


def _range(node: _Node, value: Any, scope: _Scope, out: list[str]) -> None:
    if isinstance(value, Mapping):
        items = [(k, value[k]) for k in sorted(value)]
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    elif value is None:
        items = []
    else:
        raise TemplateError(f"{scope.where}: range can't iterate over {_go_str(value)}")
    if not items:
        _run(node.orelse, value, scope, out)
        return
    for key, item in items:
        frame: dict[str, Any] = {}
        if len(node.variables) == 1:
            frame[node.variables[0]] = item
        elif len(node.variables) == 2:
            frame = {node.variables[0]: key, node.variables[1]: item}
        scope.vars.append(frame)
        _run(node.body, item, scope, out)
        scope.vars.pop()


def render(template: str, data: Mapping[str, Any], where: str = "commitMessage") -> str:
    """Execute a Go text/template subset over ``data``."""
    nodes = parse(template, where)
    out: list[str] = []
    _run(nodes, data, _Scope(data, where), out)
    return "".join(out)


def kubevela_message(commit_message: str | None) -> str:
    """The template KubeVela's addon gives Flux: its header line, then ``commitMessage``."""
    return KUBEVELA_HEADER + ("\n" + commit_message if commit_message else "")
