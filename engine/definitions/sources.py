"""The seams through which definitions and compiled templates reach the pure layers.

``build()`` opens no file: definitions come through a ``DefinitionSource`` and compiled
template code through a ``CodeCache``, both handed in by the edge that made them (the
CLI, ``engine.workspace``). Tests and other callers can hand in memory-backed ones.
"""

from __future__ import annotations

from typing import Protocol


class CodeCache(Protocol):
    """Bytes by key, kept between runs: where compiled template code is cached.

    ``load`` returns only what this cache itself stored under ``key`` (an
    implementation must verify that), or None.
    """

    def load(self, key: str) -> bytes | None: ...

    def store(self, key: str, data: bytes) -> None: ...
