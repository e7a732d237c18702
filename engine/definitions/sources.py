"""The seams through which definitions and compiled templates reach the pure layers.

``build()`` opens no file: definitions come through a ``DefinitionSource`` and compiled
template code through a ``CodeCache``, both handed in by the caller. Folders are one
source (``engine.definitions.folders``, the file-system edge); ``MemorySource`` holds
definitions given as text, for tests and for callers that fetched them elsewhere (a
git revision, a bundle).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Literal, Protocol

Kind = Literal["component", "trait", "workflowstep"]


@dataclasses.dataclass(frozen=True)
class DefinitionFiles:
    """The texts of one definition, and the folder they are named after in messages."""

    kind: Kind
    name: str
    #: Where the definition lives, for messages (``<folder>/template.yaml.j2:3``).
    folder: PurePath
    metadata: str
    schema: str
    template: str
    #: Example name -> YAML text (read lazily by folder sources).
    examples: Mapping[str, str] = dataclasses.field(default_factory=dict)


class DefinitionSource(Protocol):
    """Where definitions come from: what it holds, and the texts of one of them."""

    def index(self) -> Mapping[tuple[Kind, str], PurePath]:
        """Every definition it holds: (kind, name) -> folder (for messages)."""
        ...

    def read(self, kind: Kind, name: str) -> DefinitionFiles:
        """The texts of one definition of ``index()``; a located error if unreadable."""
        ...


class MemorySource:
    """Definitions given as text: a ``DefinitionSource`` that touches no file."""

    def __init__(self, definitions: Iterable[DefinitionFiles]) -> None:
        self._files = {(d.kind, d.name): d for d in definitions}

    def index(self) -> Mapping[tuple[Kind, str], PurePath]:
        return {key: files.folder for key, files in self._files.items()}

    def read(self, kind: Kind, name: str) -> DefinitionFiles:
        return self._files[(kind, name)]


class CodeCache(Protocol):
    """Bytes by key, kept between runs: where compiled template code is cached.

    ``load`` returns only what this cache itself stored under ``key`` (an
    implementation must verify that), or None.
    """

    def load(self, key: str) -> bytes | None: ...

    def store(self, key: str, data: bytes) -> None: ...
