"""The set of definitions a build can use: the built-ins plus user sources.

Definitions come through ``DefinitionSource``s (``engine.definitions.sources``): the
built-ins first, then user sources in order (a folder given as a ``Path`` stands for
its ``FolderSource``). Each is indexed up front and a definition is parsed on first
use, so a render pays only for the definitions it needs. A user definition with the
name of a built-in shadows it, and the registry records one notice for each
shadowing. Things derived from a definition (compiled templates) are memoised per
registry through ``memo``; compiled code may also be kept in a ``CodeCache`` handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from engine import data
from engine.definitions.definition import METADATA_FILE, Definition, parse_definition
from engine.definitions.folders import FolderSource
from engine.definitions.sources import CodeCache, DefinitionSource, Kind
from engine.errors import DefinitionError, SourceLocation

T = TypeVar("T")
_KINDS: tuple[Kind, ...] = ("component", "trait", "workflowstep")


class Registry:
    """Definitions by kind and name, loaded lazily and cached."""

    def __init__(
        self,
        sources: Sequence[DefinitionSource | Path] = (),
        *,
        builtin: DefinitionSource | Path | None = None,
        cache: CodeCache | None = None,
    ) -> None:
        #: Where compiled templates are cached between runs (None: nowhere).
        self.cache = cache
        self._where: dict[tuple[Kind, str], DefinitionSource] = {}
        self._loaded: dict[tuple[Kind, str], Definition] = {}
        self._memo: dict[tuple[str, int], Any] = {}
        self.notices: list[str] = []
        if builtin is None:
            builtin = data.builtin_definitions_dir()
        self._builtin = _source(builtin, builtin=True)
        self._where.update(dict.fromkeys(self._builtin.index(), self._builtin))
        for source in sources:
            self._add(_source(source))

    def _add(self, source: DefinitionSource) -> None:
        for key, folder in source.index().items():
            if self._where.get(key) is self._builtin:
                kind, name = key
                self.notices.append(
                    f"{folder}: {kind} definition {name!r} shadows the built-in one"
                )
            self._where[key] = source
            self._loaded.pop(key, None)

    def get(self, kind: Kind, name: str) -> Definition | None:
        """The definition of ``kind`` called ``name``, or None."""
        key = (kind, name)
        if key not in self._loaded:
            source = self._where.get(key)
            if source is None:
                return None
            files = source.read(kind, name)
            definition = parse_definition(files, check_schema=source is not self._builtin)
            if definition.kind != kind or definition.name != name:
                raise DefinitionError(
                    f"expected {kind} definition {name!r}, found {definition.kind} "
                    f"{definition.name!r}",
                    location=SourceLocation(str(Path(files.folder) / METADATA_FILE)),
                )
            self._loaded[key] = definition
        return self._loaded[key]

    def names(self, kind: Kind) -> list[str]:
        """Every definition name of ``kind``, sorted."""
        return sorted(name for k, name in self._where if k == kind)

    def all(self) -> list[Definition]:
        """Every definition, components first, each kind sorted by name."""
        out: list[Definition] = []
        for kind in _KINDS:
            out.extend(d for d in (self.get(kind, n) for n in self.names(kind)) if d)
        return out

    def is_builtin(self, definition: Definition) -> bool:
        """Whether ``definition`` is the built-in one, also when a folder names it again.

        ``def validate definitions/`` loads the built-in folders as user definitions: a
        definition with the built-in's template behaves as the built-in.
        """
        key = (definition.kind, definition.name)
        if self._where.get(key) is self._builtin:
            return True
        if key not in self._builtin.index():
            return False
        return self._builtin.read(*key).template == definition.template

    def memo(self, tag: str, definition: Definition, make: Callable[[Definition], T]) -> T:
        """``make(definition)``, computed once per registry and tag."""
        key = (tag, id(definition))
        if key not in self._memo:
            self._memo[key] = make(definition)
        value: T = self._memo[key]
        return value


def _source(source: DefinitionSource | Path, *, builtin: bool = False) -> DefinitionSource:
    """``source``; a folder stands for its ``FolderSource``."""
    return FolderSource(source, builtin=builtin) if isinstance(source, Path) else source


def kinds() -> Iterable[Kind]:
    """The definition kinds a registry holds."""
    return _KINDS
