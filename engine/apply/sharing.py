"""The ``app.oam.dev/shared-by`` list of KubeVela's ``shared-resource`` policy.

An object several applications share names them in this annotation, comma-separated
``namespace/name`` keys, in the order they joined; the first one is its owner (its
``app.oam.dev/name`` and ``app.oam.dev/namespace`` labels). A sharer that leaves is
removed from the list; the next one becomes the owner; the last one deletes the
object. Pure string functions; the applier and the garbage collector use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHARED_BY = "app.oam.dev/shared-by"


def sharers(value: str) -> list[str]:
    """The keys of a shared-by value, without empty entries (hand-written lists have them)."""
    return [s.strip() for s in value.split(",") if s.strip()]


def shared_by(obj: Mapping[str, Any] | None) -> str:
    """The object's shared-by annotation ("" when it has none)."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(SHARED_BY) or "")


def add_sharer(value: str, key: str) -> str:
    """``value`` with ``key`` appended, unless it is there already."""
    found = sharers(value)
    return ",".join(found if key in found else [*found, key])


def remove_sharer(value: str, key: str) -> str:
    """``value`` without ``key``."""
    return ",".join(s for s in sharers(value) if s != key)


def first_sharer(value: str) -> str:
    """The key that owns a shared object: the first in the list ("" for none)."""
    found = sharers(value)
    return found[0] if found else ""
