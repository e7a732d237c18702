"""RFC 7396 JSON merge patch on plain JSON-like values.

Why: traits may declare ``patchStrategy: jsonMergePatch`` (KubeVela's ``json-merge-patch``
trait) and environment files may carry merge patches. A merge patch is the simplest of the
three kinds: maps merge recursively, ``null`` deletes a member, anything else - lists
included - replaces the old value whole; a patch that is not a map replaces the whole
document. There are no merge keys and no directives: use ``strategic`` for those.

``apply_merge_patch`` never changes its inputs: the result copies the maps on the paths the
patch touches and shares the rest of ``doc``; values taken from the patch are copied. That
copy is proportional to the maps touched, so N patches each adding a key to one map cost
N^2: ``merge_into`` applies a patch in place to a document its caller owns (one private
copy, then N in-place merges), with the same result and key order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import PatchError
from engine.patch._json import copy_json

__all__ = ["apply_merge_patch", "merge_into"]


def apply_merge_patch(doc: Any, patch: Any) -> Any:
    """Return ``doc`` with the RFC 7396 merge ``patch`` applied; ``doc`` does not change."""
    try:
        return _merge(doc, patch)
    except RecursionError:
        raise PatchError("the merge patch or the document is nested too deeply") from None


def _merge(target: Any, patch: Any) -> Any:
    """The RFC's MergePatch(Target, Patch) function."""
    if not isinstance(patch, Mapping):
        return copy_json(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = _merge(result.get(name), value)
    return result


def merge_into(doc: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Apply the merge ``patch`` (a map) to ``doc`` in place.

    Every map inside ``doc`` must be a ``dict`` the caller owns (``copy_json`` makes
    one); values taken from ``patch`` are copied, so ``doc`` stays private.
    """
    try:
        _merge_into(doc, patch)
    except RecursionError:
        raise PatchError("the merge patch or the document is nested too deeply") from None


def _merge_into(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for name, value in patch.items():
        if value is None:
            target.pop(name, None)
        elif isinstance(value, Mapping):
            old = target.get(name)
            if type(old) is dict:
                _merge_into(old, value)
            else:
                target[name] = _merge(None, value)
        else:
            target[name] = copy_json(value)
