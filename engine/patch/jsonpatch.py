"""RFC 6902 JSON patch on plain JSON-like values.

Why not the ``jsonpatch`` package alone: a patch written in an Application or environment
file fails for user reasons (a wrong path, a ``test`` that does not hold), and the message
must say which operation failed and why, e.g.
``operation 2 (test /spec/replicas): value 3 does not equal 1`` (operations count from 0, as
list indices do in the rest of sailplan's messages). The library also deep-copies the whole
document per call and treats ``true`` as equal to ``1`` in ``test``. This module follows the
RFC to the letter instead, copying only the maps and lists along each operation's path.

All six operations are supported, with ``-`` (end of a list) for ``add`` and ``~1``/``~0``
escapes in pointers. Unlike kustomize (which is lenient), ``replace`` of a missing member is
an error, as RFC 6902 requires. Inputs are never changed; values taken from the patch are
copied, so one operation list can be applied to many documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from engine.errors import PatchError
from engine.model.secrets import is_secret
from engine.patch._json import copy_json, json_equal, show, type_name

__all__ = ["apply_json_patch"]

OPERATIONS: Final = ("add", "remove", "replace", "move", "copy", "test")
_INDEX: Final = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE: Final = re.compile(r"~(?![01])")


#: Units (one per value, plus the characters of strings and keys) a document may reach
#: through ``copy`` operations: each can double it, and a chain of them would fill memory.
MAX_SIZE: Final = 64 * 1024 * 1024


def measure(value: Any, limit: int) -> int:
    """The units of ``value``, counted until they pass ``limit`` (then that count)."""
    total = 0
    todo = [value]
    while todo and total <= limit:
        node = todo.pop()
        total += 1
        if isinstance(node, str):
            total += len(node)
        elif isinstance(node, Mapping):
            total += sum(len(k) if isinstance(k, str) else 1 for k in node)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return total


class _Failure(Exception):
    """An operation that cannot apply; becomes a PatchError naming the operation."""


@dataclass(frozen=True)
class _Operation:
    op: str
    path: str
    tokens: tuple[str, ...]
    value: Any = None
    source: str = ""
    source_tokens: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.op} {self.path or '(root)'}"


def apply_json_patch(doc: Any, operations: Any) -> Any:
    """Return ``doc`` with the RFC 6902 ``operations`` applied; ``doc`` does not change.

    Raises ``PatchError`` for a malformed operation list or an operation that fails.
    """
    parsed = _parse_operations(operations)
    result = doc
    room: int | None = None  # measured at the first copy: most patches have none
    for index, operation in enumerate(parsed):
        try:
            if operation.op == "copy":  # the one operation that can double a document
                if room is None:
                    room = MAX_SIZE - measure(result, MAX_SIZE)
                room -= measure(_get(result, operation.source_tokens), room)
                if room < 0:
                    raise _Failure(f"the document grows too large (over {MAX_SIZE:,} units)")
            result = _APPLY[operation.op](result, operation)
        except _Failure as failure:
            raise PatchError(f"operation {index} ({operation}): {failure}") from None
        except RecursionError:
            raise PatchError(f"operation {index} ({operation}): nested too deeply") from None
    return result


# -- parsing -------------------------------------------------------------------------------


def _parse_operations(operations: Any) -> list[_Operation]:
    """Check the shape of the operation list and parse every pointer."""
    if not isinstance(operations, list | tuple):
        raise PatchError(f"a JSON patch must be a list of operations, got {type_name(operations)}")
    parsed: list[_Operation] = []
    for index, raw in enumerate(operations):
        try:
            parsed.append(_parse_operation(raw))
        except _Failure as failure:
            raise PatchError(f"operation {index}: {failure}") from None
    return parsed


def _parse_operation(raw: Any) -> _Operation:
    """One operation, with its required members checked."""
    if not isinstance(raw, Mapping):
        raise _Failure(f"must be a map with 'op' and 'path', got {type_name(raw)}")
    op = raw.get("op")
    if op not in OPERATIONS:
        raise _Failure(f"'op' must be one of {', '.join(OPERATIONS)}, got {show(op)}")
    path = _member(raw, "path", op)
    source = _member(raw, "from", op) if op in ("move", "copy") else ""
    if op in ("add", "replace", "test") and "value" not in raw:
        raise _Failure(f"{op} {path or '(root)'}: missing 'value'")
    return _Operation(
        op=op,
        path=path,
        tokens=_parse_pointer(path, "path"),
        value=raw.get("value"),
        source=source,
        source_tokens=_parse_pointer(source, "from"),
    )


def _member(raw: Mapping[Any, Any], name: str, op: str) -> str:
    """A required string member of an operation."""
    value = raw.get(name)
    if not isinstance(value, str):
        found = "missing" if name not in raw else f"not a string ({show(value)})"
        raise _Failure(f"{op}: {name!r} is {found}")
    return value


def _parse_pointer(pointer: str, member: str) -> tuple[str, ...]:
    """RFC 6901 pointer -> reference tokens (``~1`` is ``/``, ``~0`` is ``~``)."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise _Failure(f"{member} {pointer!r} must be empty or start with '/'")
    if _BAD_ESCAPE.search(pointer):
        raise _Failure(f"{member} {pointer!r} has '~' not followed by 0 or 1")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


# -- reading -------------------------------------------------------------------------------


def _pointer(tokens: tuple[str, ...]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _child(node: Any, tokens: tuple[str, ...], depth: int) -> Any:
    """The value ``tokens[depth]`` names inside ``node``."""
    token = tokens[depth]
    if isinstance(node, Mapping):
        if token not in node:
            raise _Failure(f"{_pointer(tokens[: depth + 1])} does not exist")
        return node[token]
    if isinstance(node, list):
        return node[_list_index(node, tokens, depth, allow_end=False)]
    raise _Failure(
        f"{_pointer(tokens[:depth]) or 'the document'} is {type_name(node)}, not a map or list"
    )


def _get(doc: Any, tokens: tuple[str, ...]) -> Any:
    node = doc
    for depth in range(len(tokens)):
        node = _child(node, tokens, depth)
    return node


def _list_index(node: list[Any], tokens: tuple[str, ...], depth: int, *, allow_end: bool) -> int:
    """A list index token: digits without leading zeros, in range (``len`` when adding)."""
    token = tokens[depth]
    where = _pointer(tokens[: depth + 1])
    if token == "-":
        if allow_end:
            return len(node)
        raise _Failure(f"{where}: '-' names no element here")
    if not _INDEX.fullmatch(token):
        raise _Failure(f"{where}: {token!r} is not a list index")
    index = int(token)
    if index > len(node) or (index == len(node) and not allow_end):
        raise _Failure(f"{where}: index {index} is out of range (the list has {len(node)} items)")
    return index


# -- writing (copy on write along the path) ------------------------------------------------

Change = Callable[[Any, tuple[str, ...]], None]


def _update(node: Any, tokens: tuple[str, ...], depth: int, change: Change) -> Any:
    """A copy of ``node`` with ``change`` applied to the container of the last token."""
    if not isinstance(node, Mapping | list):
        where = _pointer(tokens[:depth]) or "the document"
        raise _Failure(f"{where} is {type_name(node)}, not a map or list")
    container: Any = dict(node) if isinstance(node, Mapping) else list(node)
    if depth == len(tokens) - 1:
        change(container, tokens)
        return container
    child = _child(node, tokens, depth)
    key: Any = tokens[depth] if isinstance(node, Mapping) else int(tokens[depth])
    container[key] = _update(child, tokens, depth + 1, change)
    return container


def _adder(value: Any) -> Change:
    def change(container: Any, tokens: tuple[str, ...]) -> None:
        if isinstance(container, dict):
            container[tokens[-1]] = value
        else:
            container.insert(_list_index(container, tokens, len(tokens) - 1, allow_end=True), value)

    return change


def _remover(container: Any, tokens: tuple[str, ...]) -> None:
    _child(container, tokens, len(tokens) - 1)  # must exist
    key: Any = tokens[-1] if isinstance(container, dict) else int(tokens[-1])
    del container[key]


def _replacer(value: Any) -> Change:
    def change(container: Any, tokens: tuple[str, ...]) -> None:
        _child(container, tokens, len(tokens) - 1)  # must exist
        key: Any = tokens[-1] if isinstance(container, dict) else int(tokens[-1])
        container[key] = value

    return change


# -- the six operations --------------------------------------------------------------------


def _add(doc: Any, operation: _Operation) -> Any:
    return _add_value(doc, operation.tokens, copy_json(operation.value))


def _add_value(doc: Any, tokens: tuple[str, ...], value: Any) -> Any:
    if not tokens:
        return value
    return _update(doc, tokens, 0, _adder(value))


def _remove(doc: Any, operation: _Operation) -> Any:
    return _remove_value(doc, operation.tokens)


def _remove_value(doc: Any, tokens: tuple[str, ...]) -> Any:
    if not tokens:
        raise _Failure("cannot remove the whole document")
    return _update(doc, tokens, 0, _remover)


def _replace(doc: Any, operation: _Operation) -> Any:
    value = copy_json(operation.value)
    if not operation.tokens:
        return value
    return _update(doc, operation.tokens, 0, _replacer(value))


def _move(doc: Any, operation: _Operation) -> Any:
    source, target = operation.source_tokens, operation.tokens
    value = _get(doc, source)
    if source == target:
        return doc
    if target[: len(source)] == source:
        raise _Failure(f"cannot move {operation.source} into itself")
    return _add_value(_remove_value(doc, source), target, value)


def _copy(doc: Any, operation: _Operation) -> Any:
    return _add_value(doc, operation.tokens, copy_json(_get(doc, operation.source_tokens)))


def _test(doc: Any, operation: _Operation) -> Any:
    actual = _get(doc, operation.tokens)
    if not json_equal(actual, operation.value):
        if is_secret(doc) and operation.tokens[:1] in (("data",), ("stringData",)):
            raise _Failure("the Secret's value does not equal the one tested (values not shown)")
        raise _Failure(f"value {show(actual)} does not equal {show(operation.value)}")
    return doc


_APPLY: Final[dict[str, Callable[[Any, _Operation], Any]]] = {
    "add": _add,
    "remove": _remove,
    "replace": _replace,
    "move": _move,
    "copy": _copy,
    "test": _test,
}
