"""Local ``$ref`` loops in a definition's schema: the ones no validator can finish.

Why: a reference back into a schema is fine when the way back enters a property or an
array item (a tree of nodes: each turn reads a smaller part of the value). A way back
that stays on the same value, such as ``{"$defs": {"a": {"$ref": "#/$defs/a"}}}`` or a
``$ref`` inside its own target's ``allOf``, makes every validator recurse until Python
gives up. Such a schema is rejected when it is loaded, with the path of the ``$ref``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Path = tuple[str | int, ...]

LOOP_MESSAGE = (
    "this $ref leads back to itself without entering a property or array item: "
    "checking a value against it would never end"
)

#: Keywords whose subschemas apply to the same value as the schema holding them.
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE = ("not", "if", "then", "else")
_NOT_SCHEMAS = frozenset({"enum", "const", "default", "examples"})


def ref_loop(schema: Any) -> Path | None:
    """The path of a ``$ref`` that leads back to itself on the same value, if any."""
    nodes = dict(_schemas(schema, ()))
    state: dict[Path, int] = {}  # 1: on the current way, 2: done
    for start in nodes:
        if start in state:
            continue
        stack: list[tuple[Path, Iterator[Path]]] = [(start, _next(nodes, schema, start))]
        state[start] = 1
        while stack:
            path, following = stack[-1]
            step = next(following, None)
            if step is None:
                state[path] = 2
                stack.pop()
            elif state.get(step) == 1:
                return _ref_on_way([p for p, _ in stack], step, nodes)
            elif step not in state:
                state[step] = 1
                stack.append((step, _next(nodes, schema, step)))
    return None


def _schemas(node: Any, path: Path) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """Every mapping in the schema document (each a possible subschema), by path."""
    todo: list[tuple[Any, Path]] = [(node, path)]
    while todo:
        node, path = todo.pop()
        if isinstance(node, Mapping):
            yield path, node
            todo.extend((v, (*path, k)) for k, v in node.items() if k not in _NOT_SCHEMAS)
        elif isinstance(node, list):
            todo.extend((v, (*path, i)) for i, v in enumerate(node))


def _next(nodes: Mapping[Path, Any], root: Any, path: Path) -> Iterator[Path]:
    """The subschemas that apply to the same value as the one at ``path``."""
    node = nodes[path]
    steps: list[Path] = [(*path, key) for key in _IN_PLACE]
    for key in _IN_PLACE_LISTS:
        items = node.get(key)
        steps.extend((*path, key, i) for i in range(len(items) if isinstance(items, list) else 0))
    dependent = node.get("dependentSchemas")
    steps.extend(
        (*path, "dependentSchemas", k) for k in dependent or () if isinstance(dependent, Mapping)
    )
    ref = node.get("$ref")
    target = _target(root, ref) if isinstance(ref, str) else None
    if target is not None:
        steps.append(target)
    return (step for step in steps if step in nodes)


def _target(root: Any, ref: str) -> Path | None:
    """The path a local ``#/a/b`` reference names, if it names a mapping."""
    if ref == "#":
        return ()
    if not ref.startswith("#/"):
        return None
    path: list[str | int] = []
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            path.append(int(part))
        else:
            return None
    return tuple(path) if isinstance(node, Mapping) else None


def _ref_on_way(way: list[Path], back_to: Path, nodes: Mapping[Path, Any]) -> Path:
    """A ``$ref`` in the loop from ``back_to`` along ``way`` (there is one: trees have none)."""
    loop = way[way.index(back_to) :]
    with_ref = [p for p in loop if "$ref" in nodes[p]]
    return (*with_ref[0], "$ref") if with_ref else loop[0]
