"""RFC 7396 JSON merge patch on plain JSON-like values.

Why: traits may declare ``patchStrategy: jsonMergePatch`` (KubeVela's ``json-merge-patch``
trait) and environment files may carry merge patches. A merge patch is the simplest of the
three kinds: maps merge recursively, ``null`` deletes a member, anything else - lists
included - replaces the old value whole; a patch that is not a map replaces the whole
document. There are no merge keys and no directives: use ``strategic`` for those.

Inputs are never changed: the result copies the maps on the paths the patch touches and
shares the rest of ``doc``; values taken from the patch are copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import PatchError
from engine.patch._json import copy_json

__all__ = ["apply_merge_patch"]


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
