"""One entry point over the three patch kinds, chosen by name.

Traits name their strategy in ``definition.yaml`` (``patchStrategy``); environment
patches are strategic merges or JSON patches. All go through ``apply_patch``.
"""

from __future__ import annotations

from typing import Any

from engine.errors import PatchError
from engine.patch import jsonpatch, mergepatch, strategic

STRATEGIES = ("strategicMerge", "jsonMergePatch", "jsonPatch")


def apply_patch(target: dict[str, Any], patch: Any, strategy: str = "strategicMerge") -> Any:
    """``target`` with ``patch`` applied by ``strategy``; ``target`` is not changed."""
    if strategy == "jsonPatch":
        operations = patch.get("operations") if isinstance(patch, dict) else patch
        return jsonpatch.apply_json_patch(target, operations)
    if strategy == "jsonMergePatch":
        return mergepatch.apply_merge_patch(target, patch)
    if strategy != "strategicMerge":
        raise PatchError(f"unknown patch strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    if not isinstance(patch, dict):
        raise PatchError(f"a strategic merge patch must be a mapping, not {type(patch).__name__}")
    return strategic.strategic_merge(
        target, patch, api_version=target.get("apiVersion"), kind=target.get("kind")
    )
