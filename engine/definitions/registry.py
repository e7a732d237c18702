"""The set of definitions a build can use: the built-ins plus user folders.

Built-ins are indexed by folder name and loaded on first use, so a render pays only
for the definitions it needs. User folders (``-d DIR``) are scanned for
``definition.yaml``; a user definition with the name of a built-in shadows it, and
the registry records one notice for each shadowing. Things derived from a definition
(compiled templates) are memoised per registry through ``memo``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from engine import data
from engine.definitions.definition import (
    KINDS,
    METADATA_FILE,
    Definition,
    Kind,
    load_definition,
)
from engine.errors import DefinitionError, SourceLocation
from engine.model import load_documents

T = TypeVar("T")
_FOLDERS: dict[Kind, str] = {
    "component": "components",
    "trait": "traits",
    "workflowstep": "workflowsteps",
}


class Registry:
    """Definitions by kind and name, loaded lazily and cached."""

    def __init__(
        self,
        user_dirs: Sequence[Path] = (),
        *,
        builtin: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        #: Where compiled templates may be cached between runs (None: nowhere).
        self.cache_dir = cache_dir
        self._folders: dict[tuple[Kind, str], Path] = {}
        self._loaded: dict[tuple[Kind, str], Definition] = {}
        self._memo: dict[tuple[str, int], Any] = {}
        self.notices: list[str] = []
        root = data.builtin_definitions_dir() if builtin is None else builtin
        for kind, sub in _FOLDERS.items():
            folder = root / sub
            for child in sorted(folder.iterdir()) if folder.is_dir() else ():
                if (child / METADATA_FILE).is_file():
                    self._folders[(kind, child.name)] = child
        self._builtin = dict(self._folders)
        for user_dir in user_dirs:
            self._add_user_dir(Path(user_dir))

    def _add_user_dir(self, root: Path) -> None:
        if not root.is_dir():
            raise DefinitionError("definition folder not found", location=SourceLocation(str(root)))
        for meta_file in sorted(root.rglob(METADATA_FILE)):
            kind, name = _peek(meta_file)
            key = (kind, name)
            if key in self._builtin and self._folders[key] == self._builtin[key]:
                self.notices.append(
                    f"{meta_file.parent}: {kind} definition {name!r} shadows the built-in one"
                )
            self._folders[key] = meta_file.parent
            self._loaded.pop(key, None)

    def get(self, kind: Kind, name: str) -> Definition | None:
        """The definition of ``kind`` called ``name``, or None."""
        key = (kind, name)
        if key not in self._loaded:
            folder = self._folders.get(key)
            if folder is None:
                return None
            definition = load_definition(folder, check_schema=self._builtin.get(key) != folder)
            if definition.kind != kind or definition.name != name:
                raise DefinitionError(
                    f"expected {kind} definition {name!r}, found {definition.kind} "
                    f"{definition.name!r}",
                    location=SourceLocation(str(folder / METADATA_FILE)),
                )
            self._loaded[key] = definition
        return self._loaded[key]

    def names(self, kind: Kind) -> list[str]:
        """Every definition name of ``kind``, sorted."""
        return sorted(name for k, name in self._folders if k == kind)

    def all(self) -> list[Definition]:
        """Every definition, components first, each kind sorted by name."""
        out: list[Definition] = []
        for kind in _FOLDERS:
            out.extend(d for d in (self.get(kind, n) for n in self.names(kind)) if d)
        return out

    def is_builtin(self, definition: Definition) -> bool:
        return self._builtin.get((definition.kind, definition.name)) == definition.folder

    def memo(self, tag: str, definition: Definition, make: Callable[[Definition], T]) -> T:
        """``make(definition)``, computed once per registry and tag."""
        key = (tag, id(definition))
        if key not in self._memo:
            self._memo[key] = make(definition)
        value: T = self._memo[key]
        return value


def _peek(meta_file: Path) -> tuple[Kind, str]:
    """Kind and name of a definition without loading the rest of it."""
    try:
        docs = load_documents(meta_file.read_text(encoding="utf-8"), str(meta_file))
    except OSError as exc:
        raise DefinitionError(str(exc), location=SourceLocation(str(meta_file))) from None
    raw = docs[0].data if docs else None
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS or not raw.get("name"):
        raise DefinitionError(
            f"needs 'kind' ({' or '.join(KINDS)}) and 'name'",
            location=SourceLocation(str(meta_file)),
        )
    return KINDS[raw["kind"]], str(raw["name"])


def kinds() -> Iterable[Kind]:
    """The definition kinds a registry holds."""
    return tuple(_FOLDERS)
