"""kustomize field specs: "this field of objects of this kind", and a walker that updates it.

Why: kustomize's transformers (labels, annotations, namespace, images, replicas, name
references) are driven by tables of field specs such as
``{path: spec/selector/matchLabels, kind: Deployment, create: true}``. Writing the tables the
same way keeps them easy to check against kustomize's ``builtinpluginconsts`` and keeps the
path semantics in one place:

- a path is ``/``-separated map keys (``\\/`` is a literal slash in a key);
- a list met on the way is walked element by element (``[]`` after a key only says "this is a
  list", which also means "never create it");
- ``create`` makes missing (or null) maps on the way and the leaf; otherwise a missing
  field leaves the object as it is;
- a scalar where the path needs a map or a list is an error, as in kustomize.

Kind, group and version are matched exactly, an empty one matches anything.
The walker copies the maps and lists it passes through and never changes its input.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from engine.errors import PatchError
from engine.patch._ids import split_api_version, text_field

# Handed to a leaf function for a field that does not exist yet (and is being created).
MISSING: Final = object()

Leaf = Callable[[Any], Any]

_SPLIT: Final = re.compile(r"(?<!\\)/")


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One kustomize field spec; empty kind/group/version match every object."""

    path: str
    kind: str = ""
    group: str = ""
    version: str = ""
    create: bool = False

    def selects(self, obj: Mapping[str, Any]) -> bool:
        """Whether the spec applies to ``obj`` (by its current apiVersion and kind)."""
        if self.kind and self.kind != text_field(obj, "kind"):
            return False
        group, version = split_api_version(text_field(obj, "apiVersion"))
        return (not self.group or self.group == group) and (
            not self.version or self.version == version
        )

    @property
    def parts(self) -> tuple[str, ...]:
        return split_path(self.path)


def split_path(path: str) -> tuple[str, ...]:
    """``("metadata", "annotations", "a/b")`` from ``metadata/annotations/a\\/b``."""
    return tuple(part.replace("\\/", "/") for part in _SPLIT.split(path))


def update(obj: Mapping[str, Any], spec: FieldSpec, leaf: Leaf, *, create: bool = True) -> Any:
    """``obj`` with ``leaf`` applied to every value ``spec`` names (``obj`` if it names none).

    ``leaf`` gets the current value (``MISSING`` when the field is being created) and returns
    the new one. ``create=False`` turns creation off whatever the spec says (the image and
    name-reference transformers never create fields).
    """
    if not spec.selects(obj):
        return obj
    return _walk(obj, spec.parts, 0, leaf, spec.create and create)


def _walk(node: Any, parts: tuple[str, ...], depth: int, leaf: Leaf, create: bool) -> Any:
    if depth == len(parts):
        return leaf(node)
    if node is None:
        return node
    if isinstance(node, list):
        return [_walk(item, parts, depth, leaf, create) for item in node]
    if not isinstance(node, Mapping):
        where = "/".join(parts[:depth]) or "the object"
        raise PatchError(f"{where}: expected a map or a list, got {type(node).__name__}")
    name = parts[depth]
    is_list = name.endswith("[]")
    name = name.removesuffix("[]")
    value = node.get(name)
    if value is None:
        if not create or is_list:
            return node
        value = MISSING if depth == len(parts) - 1 else {}
    updated = _walk(value, parts, depth + 1, leaf, create)
    if updated is MISSING:
        return node
    result = dict(node)
    result[name] = updated
    return result
