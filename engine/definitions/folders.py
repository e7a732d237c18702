"""Definition folders on disk: the file-system edge of the definitions layer.

This is the one module under ``engine/definitions/`` that reads files (a test keeps
the rest of the pure layers free of file access). ``FolderSource`` is the
``DefinitionSource`` of a folder: the built-ins are laid out as
``components/<name>/`` and ``traits/<name>/``; a user folder (``-d DIR``) is searched
for ``definition.yaml`` at any depth. A definition's files are read only from inside
its own folder: a link leading out of it is refused, never followed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePath

from engine.definitions.definition import (
    KINDS,
    METADATA_FILE,
    NAME,
    SCHEMA_FILE,
    TEMPLATE_FILE,
    TEMPLATE_OPTIONAL,
    Definition,
    parse_definition,
)
from engine.definitions.sources import DefinitionFiles, Kind
from engine.errors import DefinitionError, SourceLocation
from engine.model import load_documents

_LAYOUT: dict[Kind, str] = {
    "component": "components",
    "trait": "traits",
    "workflowstep": "workflowsteps",
}


class FolderSource:
    """The definitions of one folder (built-in layout, or searched for ``definition.yaml``)."""

    def __init__(self, root: Path, *, builtin: bool = False) -> None:
        self.root = root
        self._folders: dict[tuple[Kind, str], Path] = {}
        if builtin:
            for kind, sub in _LAYOUT.items():
                folder = root / sub
                for child in sorted(folder.iterdir()) if folder.is_dir() else ():
                    if (child / METADATA_FILE).is_file():
                        self._folders[(kind, child.name)] = child
            return
        if not root.is_dir():
            raise DefinitionError("definition folder not found", location=SourceLocation(str(root)))
        for meta_file in sorted(root.rglob(METADATA_FILE)):
            self._folders[_peek(meta_file)] = meta_file.parent

    def index(self) -> Mapping[tuple[Kind, str], PurePath]:
        return dict(self._folders)

    def read(self, kind: Kind, name: str) -> DefinitionFiles:
        return read_folder(self._folders[(kind, name)], kind, name)


def read_folder(folder: Path, kind: Kind, name: str) -> DefinitionFiles:
    """The texts of the definition in ``folder`` (examples read when first asked for)."""
    return DefinitionFiles(
        kind=kind,
        name=name,
        folder=folder,
        metadata=read_file(folder / METADATA_FILE, folder),
        schema=read_file(folder / SCHEMA_FILE, folder),
        template=_template(folder, kind),
        examples=_Examples(folder),
    )


def _template(folder: Path, kind: Kind) -> str:
    """The template; a workflow step that renders nothing may have none."""
    path = folder / TEMPLATE_FILE
    if kind in TEMPLATE_OPTIONAL and not path.exists() and not path.is_symlink():
        return ""
    return read_file(path, folder)


def load_definition(folder: Path, *, check_schema: bool = True) -> Definition:
    """Read and check the definition folder ``folder``."""
    meta = read_file(folder / METADATA_FILE, folder)
    peeked = _kind_and_name(meta, folder / METADATA_FILE)
    files = read_folder(folder, *peeked) if peeked else None
    if files is None:  # let the parser explain what is wrong with the metadata
        files = DefinitionFiles("component", "", folder, meta, "{}", "")
    return parse_definition(files, check_schema=check_schema)


class _Examples(Mapping[str, str]):
    """``examples/*.yaml`` of a folder, by file name, read on first use."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._texts: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._texts is None:
            sub = self._folder / "examples"
            paths = sorted(sub.glob("*.yaml")) if sub.is_dir() else []
            self._texts = {p.name: read_file(p, self._folder) for p in paths}
        return self._texts

    def __getitem__(self, key: str) -> str:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def read_file(path: Path, folder: Path) -> str:
    """A file of the definition ``folder``; a link leading out of the folder is refused.

    A definition may come from anyone: a ``template.yaml.j2`` linked to a credentials
    file would otherwise be read, and its lines quoted in error messages.
    """
    try:
        real = os.path.realpath(path)
        inside = os.path.realpath(folder)
        if os.path.commonpath([real, inside]) != inside:
            raise DefinitionError(
                "is a link leading out of its definition folder; it is not followed",
                location=SourceLocation(str(path)),
            )
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DefinitionError(
            f"cannot read: {reason}", location=SourceLocation(str(path))
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DefinitionError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
            location=SourceLocation(str(path), line),
        ) from None


def _peek(meta_file: Path) -> tuple[Kind, str]:
    """Kind and name of a definition without loading the rest of it."""
    found = _kind_and_name(read_file(meta_file, meta_file.parent), meta_file)
    if found is None:
        raise DefinitionError(
            f"needs 'kind' ({' or '.join(KINDS)}) and 'name'",
            location=SourceLocation(str(meta_file)),
        )
    return found


def _kind_and_name(text: str, meta_file: Path) -> tuple[Kind, str] | None:
    docs = load_documents(text, str(meta_file))
    raw = docs[0].data if docs else None
    if not isinstance(raw, dict) or raw.get("kind") not in KINDS or not raw.get("name"):
        return None
    name = raw["name"]
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise DefinitionError(
            f"{str(name)[:80]!r} is not a valid definition name (lower-case letters, digits "
            "and '-', at most 63)",
            location=docs[0].source.locate(("name",)),
        )
    return KINDS[raw["kind"]], name
