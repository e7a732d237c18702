"""Kubernetes strategic merge patch on plain JSON-like values.

Why this module exists: trait patches (``patch:`` in a trait template) and environment patches
(kustomize-style ``patches:``) must merge exactly as Kubernetes users expect from
``kubectl kustomize`` and the API server, without a cluster and without loading the 1.8 MB
OpenAPI document on every render. The list merge keys come from the generated table
``engine.patch._mergekeys`` (``scripts/gen_merge_keys.py``).

Semantics (those of kustomize v5.5 and of the API server, where they agree):

- maps merge recursively; ``null`` deletes a key; a scalar or list replaces the old value;
- a list whose schema field has ``x-kubernetes-patch-strategy: merge`` merges element-wise by
  its key (``x-kubernetes-list-map-keys`` when given, else ``x-kubernetes-patch-merge-key``):
  containers/env/volumes by ``name``, volumeMounts by ``mountPath``, container ports by
  ``containerPort`` + ``protocol``, Service ports by ``port`` + ``protocol``, ...;
  a merge list of scalars (``metadata.finalizers``) merges as a set;
- every other list (``args``, ``tolerations``, lists of custom resources, unknown fields) is
  replaced whole; the ``list_keys`` argument names keys for lists the table does not know;
- ``$patch: replace | delete | merge`` on a map; ``- $patch: replace`` as a list element
  replaces the list; ``{<key>, $patch: delete}`` deletes elements of a list with a merge
  key (in a list without one it is an error: nothing names the element, and the patch's
  list would replace the whole list); ``$retainKeys``; ``$setElementOrder/<field>``;
  ``$deleteFromPrimitiveList/<field>``.
- values with nothing under them in the target are patched onto nothing: nulls and
  directives are dropped, so no directive ever reaches the output.

Deliberate differences, each covered by ``tests/patch/test_vs_kustomize.py``:

1. List order is kept: merged elements stay where they were and new ones are appended in
   patch order. kustomize moves the elements named by the patch to the front
   (kubernetes-sigs/kustomize#3912) and the API server puts new elements first.
   ``$setElementOrder`` reorders as the API server does.
2. ``$retainKeys``, ``$setElementOrder`` and ``$deleteFromPrimitiveList`` are honoured as the
   API server does; kustomize copies them verbatim into its output. Likewise a
   ``- $patch: replace`` marker in a list that has no merge strategy is dropped, not copied.
3. A composite key given in part is an error. A missing ``protocol`` in port lists counts as
   the API server's default ``TCP`` on both sides, so ``{containerPort: 80, name: http}``
   merges into ``{containerPort: 80, protocol: TCP}``. kustomize silently drops such patch
   elements (the element does not match and is lost); the API server merges container and
   Service ports by the port number alone and so can merge a TCP patch into a UDP port.
4. ``{<key>, $patch: replace, ...}`` as a list element replaces that element. kustomize
   ignores the element entirely; the API server replaces the whole list with the other
   elements.
5. A map field with ``x-kubernetes-patch-strategy: replace`` (``PodDisruptionBudget``
   ``spec.selector``) is replaced whole, as the API server does; kustomize merges it.
6. A ``$patch: delete`` at the top of a patch deletes the whole object in kustomize; this
   function cannot return "no object", so it raises ``PatchError``. Callers that support
   deleting objects check ``deletes_object(patch)`` first.
7. ``{..., $patch: delete}`` as an element of a list without a merge key (a list of a custom
   resource, ``tolerations``) is an error; kustomize copies the element into its output.

Inputs are never changed; the result shares unchanged subtrees with ``base`` and copies the
maps and lists on the paths the patch touches, so a patch costs time in proportion to its own
size, not to the object's.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from engine.errors import PatchError, SourceLocation
from engine.patch import _mergekeys
from engine.patch._json import type_name as _type_name

__all__ = ["deletes_object", "strategic_merge"]

PATCH: Final = "$patch"
RETAIN_KEYS: Final = "$retainKeys"
SET_ORDER: Final = "$setElementOrder/"
DELETE_FROM_PRIMITIVES: Final = "$deleteFromPrimitiveList/"
_PATCH_VALUES: Final = ("replace", "delete", "merge")
_PREFIXES: Final = (SET_ORDER, DELETE_FROM_PRIMITIVES)
# ``dict`` first: the usual case passes isinstance without the slower ABC check.
_MAP: Final = (dict, Mapping)
_CONTAINER: Final = (dict, list, Mapping)

Path = tuple[str | int, ...]
Field = tuple[str | None, bool, tuple[str, ...], str]
Key = tuple[Hashable, ...]


class _Gone(enum.Enum):
    """Marker for "this value is deleted" (``$patch: delete`` on a map)."""

    GONE = enum.auto()


GONE: Final = _Gone.GONE


@dataclass(frozen=True)
class _ListSpec:
    """How a list merges: by ``keys`` (none: as a set of scalars)."""

    keys: tuple[str, ...]
    item: str | None
    defaults: Mapping[str, str]


def strategic_merge(
    base: Mapping[str, Any],
    patch: Mapping[str, Any],
    *,
    api_version: str | None = None,
    kind: str | None = None,
    list_keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return ``base`` with the strategic merge ``patch`` applied; neither input changes.

    ``api_version``/``kind`` pick the schema (default: ``base``'s own); unknown kinds merge
    maps and replace lists. ``list_keys`` maps a dotted field path without list indices
    (``"spec.routes"``, ``"spec.template.spec.containers"``) to the merge key of that list,
    ``"a,b"`` for a composite key; it takes precedence over the table.
    Raises ``PatchError`` naming the path inside the object for any patch that cannot apply.
    """
    if not isinstance(base, _MAP):
        raise PatchError(f"strategic merge needs a map to patch, got {_type_name(base)}")
    if not isinstance(patch, _MAP):
        raise PatchError(f"a strategic merge patch must be a map, got {_type_name(patch)}")
    if deletes_object(patch):
        raise PatchError("'$patch: delete' at the top of a patch deletes the whole object")
    root = _root_definition(base, api_version, kind)
    merger = _Merger(_parse_list_keys(list_keys))
    try:
        result = merger.merge_map(base, patch, root, ())
    except RecursionError:
        raise PatchError("the patch or the object is nested too deeply") from None
    assert isinstance(result, dict)  # only a '$patch: delete' map yields GONE
    return result


def deletes_object(patch: Any) -> bool:
    """Whether ``patch`` is a whole-object ``$patch: delete`` (kustomize deletes the object)."""
    return isinstance(patch, _MAP) and patch.get(PATCH) == "delete"


def _root_definition(
    base: Mapping[str, Any], api_version: str | None, kind: str | None
) -> str | None:
    """The table's definition for the object's apiVersion and kind, if known."""
    version = api_version if api_version is not None else base.get("apiVersion")
    kind_name = kind if kind is not None else base.get("kind")
    if not isinstance(version, str) or not isinstance(kind_name, str):
        return None
    return _mergekeys.ROOTS.get((version, kind_name))


def _parse_list_keys(list_keys: Mapping[str, str] | None) -> dict[str, tuple[str, ...]]:
    """Validate ``list_keys`` and split composite keys."""
    if list_keys is None:
        return {}
    if not isinstance(list_keys, _MAP):
        raise PatchError(f"list_keys must be a map of field path to key, got {list_keys!r}")
    parsed: dict[str, tuple[str, ...]] = {}
    for path, key in list_keys.items():
        parts = tuple(part.strip() for part in key.split(",")) if isinstance(key, str) else ()
        if not isinstance(path, str) or not parts or not all(parts):
            raise PatchError(f"list_keys: {path!r}: the merge key must be a field name")
        parsed[path] = parts
    return parsed


class _Merger:
    """One strategic merge: the walk over patch and target, with the ``list_keys`` given."""

    def __init__(self, list_keys: Mapping[str, tuple[str, ...]]) -> None:
        self.list_keys = list_keys

    # -- maps ------------------------------------------------------------------------------

    def merge_map(
        self, base: Mapping[Any, Any] | None, patch: Mapping[Any, Any], defn: str | None, path: Path
    ) -> dict[Any, Any] | _Gone:
        """Merge a patch map into ``base`` (``None``: into nothing)."""
        directive = _map_directive(patch, path)
        if directive == "delete":
            return GONE
        result: dict[Any, Any] = {} if base is None or directive == "replace" else dict(base)
        if RETAIN_KEYS in patch:
            _retain_keys(result, patch, path)
        for name in _field_names(patch, path):
            self._merge_field(result, name, patch, _field(defn, name), (*path, str(name)))
        return result

    def _merge_field(
        self,
        result: dict[Any, Any],
        name: Any,
        patch: Mapping[Any, Any],
        field: Field | None,
        path: Path,
    ) -> None:
        """Apply everything the patch says about one field of ``result``."""
        before = result.get(name)
        if isinstance(name, str) and DELETE_FROM_PRIMITIVES + name in patch:
            _delete_from_primitives(result, name, patch[DELETE_FROM_PRIMITIVES + name], path)
        if name in patch:
            value = patch[name]
            merged = (
                GONE if value is None else self.merge_value(result.get(name), value, field, path)
            )
            if merged is GONE:
                result.pop(name, None)
            else:
                result[name] = merged
        if isinstance(name, str) and SET_ORDER + name in patch:
            order = patch[SET_ORDER + name]
            self._set_element_order(result, name, order, patch.get(name), before, field, path)

    def merge_value(self, base: Any, value: Any, field: Field | None, path: Path) -> Any:
        """Merge one patch value into the old value ``base`` (``None`` when absent)."""
        if isinstance(value, _MAP):
            keep = isinstance(base, _MAP) and not (field and field[3] == "replace")
            return self.merge_map(base if keep else None, value, field[0] if field else None, path)
        if isinstance(value, list):
            old = base if isinstance(base, list) else []
            return self.merge_list(old, value, field, path)
        return value

    # -- lists -----------------------------------------------------------------------------

    def merge_list(self, base: list[Any], patch: list[Any], field: Field | None, path: Path) -> Any:
        """Merge a patch list into ``base`` by the list's strategy."""
        spec = self.list_spec(field, path)
        if spec is None:
            return self.replace_list(patch, path)
        if spec.keys:
            return self._merge_keyed(base, patch, spec, path)
        return _merge_set(base, patch, path)

    def list_spec(self, field: Field | None, path: Path) -> _ListSpec | None:
        """The merge rule of the list at ``path``; ``None`` when it is replaced whole."""
        if self.list_keys:
            keys = self.list_keys.get(_dotted(path))
            if keys is not None:
                return _ListSpec(keys, field[0] if field else None, {})
        if field is None or not field[1] or field[3] != "merge":
            return None
        defaults = _mergekeys.KEY_DEFAULTS.get(field[0] or "", {})
        return _ListSpec(field[2], field[0], defaults)

    def replace_list(self, patch: list[Any], path: Path) -> list[Any]:
        """The patch list itself, cleaned of directives and of nulls inside its maps.

        An element with ``$patch: delete`` is an error: without a merge key nothing says
        which element it deletes, and dropping it would silently replace the whole list.
        """
        result: list[Any] = []
        for index, item in enumerate(patch):
            if _is_list_marker(item):
                continue
            if isinstance(item, _MAP) and item.get(PATCH) == "delete":
                raise _error(
                    (*path, index),
                    "'$patch: delete' needs a list with a merge key; this list has none and "
                    "is replaced whole by the patch's list, so give the list without the element",
                )
            result.append(self._onto_nothing(item, (*path, index)))
        return result

    def _onto_nothing(self, value: Any, path: Path) -> Any:
        """A value of a replaced list, patched onto nothing."""
        if isinstance(value, _MAP):
            return self.merge_map(None, value, None, path)
        if isinstance(value, list):
            return self.replace_list(value, path)
        return value

    def _merge_keyed(
        self, base: list[Any], patch: list[Any], spec: _ListSpec, path: Path
    ) -> list[Any]:
        """Merge a list of maps element-wise by ``spec.keys``."""
        replace, deletes, items = _split_keyed(patch, spec, path)
        if replace or deletes:
            result = [] if replace else [e for e in base if _base_key(e, spec) not in deletes]
        else:
            result = list(base)
        positions: dict[Key | None, int] = {}
        for position, element in enumerate(result):
            positions.setdefault(_base_key(element, spec), position)
        for index, key, item in items:
            found = positions.get(key)
            old = result[found] if found is not None else None
            merged = self.merge_map(old, item, spec.item, (*path, index))
            if found is not None:
                result[found] = merged
            else:
                positions[key] = len(result)
                result.append(merged)
        return result

    def _set_element_order(
        self,
        result: dict[Any, Any],
        name: str,
        order: Any,
        patch_list: Any,
        before: Any,
        field: Field | None,
        path: Path,
    ) -> None:
        """Reorder ``result[name]`` by ``$setElementOrder/<name>`` as the API server does."""
        where = (*path[:-1], SET_ORDER + name)
        if not isinstance(order, list):
            raise _error(where, f"must be a list, got {_type_name(order)}")
        spec = self.list_spec(field, path)
        merged = result.get(name)
        if spec is None or not isinstance(merged, list):
            return  # a replaced list already has the patch's order
        order_keys = [_order_key(item, spec, (*where, i)) for i, item in enumerate(order)]
        if isinstance(patch_list, list):
            _check_patch_order(patch_list, order_keys, spec, where)
        old = before if isinstance(before, list) else []
        result[name] = _reorder(merged, order_keys, old, lambda e: _element_key(e, spec))


# -- map helpers ---------------------------------------------------------------------------


def _field(defn: str | None, name: Any) -> Field | None:
    """The table entry of field ``name`` in definition ``defn``."""
    if defn is None:
        return None
    fields = _mergekeys.FIELDS.get(defn)
    if fields is None:
        return None
    return fields.get(name) or fields.get("*")


def _map_directive(patch: Mapping[Any, Any], path: Path) -> str | None:
    """The map's ``$patch`` value, validated."""
    if PATCH not in patch:
        return None
    value = patch[PATCH]
    if value not in _PATCH_VALUES:
        raise _error(path, f"unknown $patch directive {value!r} (use replace, delete or merge)")
    return str(value)


def _field_names(patch: Mapping[Any, Any], path: Path) -> list[Any]:
    """The fields a patch map talks about, directives folded into their field, in order."""
    names: dict[Any, None] = {}
    for key in patch:
        if key in (PATCH, RETAIN_KEYS):
            continue
        name = key
        if isinstance(key, str):
            for prefix in _PREFIXES:
                if key.startswith(prefix):
                    name = key[len(prefix) :]
                    if not name:
                        raise _error(path, f"directive {key!r} names no field")
        names[name] = None
    return list(names)


def _is_directive(key: Any) -> bool:
    """Whether a map key is a strategic-merge directive rather than a field."""
    if not isinstance(key, str):
        return False
    return key in (PATCH, RETAIN_KEYS) or key.startswith(_PREFIXES)


def _retain_keys(result: dict[Any, Any], patch: Mapping[Any, Any], path: Path) -> None:
    """``$retainKeys``: drop every field of ``result`` not listed (API server semantics)."""
    keys = patch[RETAIN_KEYS]
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise _error(path, "$retainKeys must be a list of field names")
    allowed = set(keys)
    for name, value in patch.items():
        if value is not None and not _is_directive(name) and name not in allowed:
            raise _error(path, f"field {name!r} is set by the patch but not in $retainKeys")
    for name in [name for name in result if name not in allowed]:
        del result[name]


def _delete_from_primitives(result: dict[Any, Any], name: str, values: Any, path: Path) -> None:
    """``$deleteFromPrimitiveList/<name>``: remove these scalars from the list ``name``."""
    if not isinstance(values, list) or any(isinstance(v, _CONTAINER) for v in values):
        raise _error(path, f"{DELETE_FROM_PRIMITIVES}{name} must be a list of scalars")
    current = result.get(name)
    if isinstance(current, list):
        drop = {_scalar_key(value) for value in values}
        result[name] = [item for item in current if _hashable_key(item) not in drop]


# -- list helpers --------------------------------------------------------------------------


def _is_list_marker(item: Any) -> bool:
    """Whether a list element is a bare ``{$patch: replace}`` (or ``merge``) marker."""
    return isinstance(item, _MAP) and len(item) == 1 and item.get(PATCH) in ("replace", "merge")


def _split_keyed(
    patch: list[Any], spec: _ListSpec, path: Path
) -> tuple[bool, set[Key], list[tuple[int, Key, Mapping[Any, Any]]]]:
    """Sort patch elements into the replace marker, keys to delete and elements to merge."""
    replace = False
    deletes: set[Key] = set()
    items: list[tuple[int, Key, Mapping[Any, Any]]] = []
    for index, item in enumerate(patch):
        where = (*path, index)
        if _is_list_marker(item):
            replace = replace or item[PATCH] == "replace"
            continue
        if not isinstance(item, _MAP):
            raise _error(
                where, f"expected a map with merge key {_keys_text(spec)}, got {_type_name(item)}"
            )
        key = _patch_key(item, spec, where)
        if item.get(PATCH) == "delete":
            deletes.add(key)
        else:
            items.append((index, key, item))
    return replace, deletes, items


def _patch_key(item: Mapping[Any, Any], spec: _ListSpec, where: Path) -> Key:
    """The merge key of a patch element; every part must be there (or have a default)."""
    parts: list[Hashable] = []
    for name in spec.keys:
        value = item.get(name)
        if value is None:
            value = spec.defaults.get(name)
        if value is None:
            raise _error(where, _missing_key_text(name, spec))
        if isinstance(value, _CONTAINER):
            raise _error(where, f"merge key {name!r} must be a scalar, got {_type_name(value)}")
        parts.append(_scalar_key(value))
    return tuple(parts)


def _base_key(element: Any, spec: _ListSpec) -> Key | None:
    """The merge key of a target element, ``None`` when it has none (it never matches)."""
    if not isinstance(element, _MAP):
        return None
    parts: list[Hashable] = []
    for name in spec.keys:
        value = element.get(name)
        if value is None:
            value = spec.defaults.get(name)
        if value is None or isinstance(value, _CONTAINER):
            return None
        parts.append(_scalar_key(value))
    return tuple(parts)


def _element_key(element: Any, spec: _ListSpec) -> Hashable | None:
    """Identity of an element for ordering: its merge key, or itself for scalars."""
    return _base_key(element, spec) if spec.keys else _hashable_key(element)


def _order_key(item: Any, spec: _ListSpec, where: Path) -> Hashable:
    """Identity of a ``$setElementOrder`` entry."""
    if not spec.keys:
        if isinstance(item, _CONTAINER):
            raise _error(where, f"expected a scalar, got {_type_name(item)}")
        return _scalar_key(item)
    if not isinstance(item, _MAP):
        raise _error(where, f"expected a map with merge key {_keys_text(spec)}")
    return _patch_key(item, spec, where)


def _check_patch_order(
    patch_list: list[Any], order_keys: list[Hashable], spec: _ListSpec, where: Path
) -> None:
    """The patch list must follow ``$setElementOrder`` (API server rule)."""
    positions = iter(order_keys)
    for item in patch_list:
        if isinstance(item, _MAP) and PATCH in item:
            continue  # markers, deletions and replaced elements are not ordered
        key = _element_key(item, spec)
        if not any(key == candidate for candidate in positions):
            raise _error(
                where,
                "the patch list is not in $setElementOrder order, or has "
                "elements the order list lacks",
            )


def _reorder(
    merged: list[Any],
    order_keys: list[Hashable],
    before: list[Any],
    key_of: Callable[[Any], Hashable | None],
) -> list[Any]:
    """Elements named by the order list in that order, the others kept where they were."""
    rank: dict[Hashable, int] = {}
    for index, key in enumerate(order_keys):
        rank.setdefault(key, index)
    named = sorted((e for e in merged if key_of(e) in rank), key=lambda e: rank[key_of(e)])
    others = [e for e in merged if key_of(e) not in rank]
    old_index: dict[Hashable, int] = {}
    for index, element in enumerate(before):
        old_index.setdefault(key_of(element), index)
    return _merge_sorted(others, named, old_index, key_of)


def _merge_sorted(
    left: list[Any],
    right: list[Any],
    old_index: Mapping[Hashable, int],
    key_of: Callable[[Any], Hashable | None],
) -> list[Any]:
    """Interleave two ordered lists by the target's old order (apimachinery mergeSortedSlice)."""
    out: list[Any] = []
    i = j = 0
    while i < len(left) and j < len(right):
        li, ri = old_index.get(key_of(left[i])), old_index.get(key_of(right[j]))
        if li is not None and ri is not None and li < ri:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


def _merge_set(base: list[Any], patch: list[Any], path: Path) -> list[Any]:
    """Merge a list of scalars as a set: old elements first, then new ones, no duplicates."""
    replace = False
    items: list[Any] = []
    for index, item in enumerate(patch):
        if _is_list_marker(item):
            replace = replace or item[PATCH] == "replace"
        elif isinstance(item, _CONTAINER):
            raise _error((*path, index), f"expected a scalar, got {_type_name(item)}")
        else:
            items.append(item)
    return _unique(items if replace else [*base, *items])


def _unique(values: Iterable[Any]) -> list[Any]:
    """``values`` without repeated scalars, first occurrence kept."""
    seen: set[Hashable] = set()
    result: list[Any] = []
    for value in values:
        key = _hashable_key(value)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        result.append(value)
    return result


# -- small helpers -------------------------------------------------------------------------


def _scalar_key(value: Any) -> Hashable:
    """A key for a scalar that keeps JSON's distinctions (``true`` is not ``1``)."""
    return (type(value) is bool, isinstance(value, str), value)


def _hashable_key(value: Any) -> Hashable | None:
    """``_scalar_key`` for scalars, ``None`` for maps, lists and unhashable values."""
    if isinstance(value, _CONTAINER):
        return None
    try:
        hash(value)
    except TypeError:
        return None
    return _scalar_key(value)


def _keys_text(spec: _ListSpec) -> str:
    return " + ".join(repr(key) for key in spec.keys)


def _missing_key_text(name: str, spec: _ListSpec) -> str:
    if len(spec.keys) == 1:
        return f"merge key {name!r} missing"
    return f"merge key {name!r} missing (the list is keyed by {_keys_text(spec)})"


def _dotted(path: Path) -> str:
    """``spec.template.spec.containers`` from a path, list indices left out."""
    return ".".join(str(part) for part in path if isinstance(part, str))


def _format_path(path: Path) -> str:
    """``spec.template.spec.containers[1]`` from a path."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else part
    return text


def _error(path: Path, message: str) -> PatchError:
    return PatchError(message, location=SourceLocation(yaml_path=_format_path(path)))
