"""Reading inputs from disk: the file-system edge of ``render`` and ``diff``.

Paths (files, folders, ``-`` for stdin) become units: the documents of one folder and
the Environment files of its ``environments/`` subfolder (other files there are the
patches those files refer to, not manifests). Files an Environment refers
to (``patches[].path``) are read relative to the Environment file and must stay inside
the unit's folder, as kustomize's default load restrictor demands.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from engine.environments import Unit
from engine.errors import InputError, SourceLocation
from engine.model import Document, load_documents
from engine.model.documents import MAX_INPUT_BYTES
from engine.model.envfiles import is_environment, parse_environment
from engine.model.environment import Environment

YAML_SUFFIXES = (".yaml", ".yml")
ENVIRONMENTS = "environments"
STDIN = "-"


def input_files(paths: Iterable[str]) -> list[Path]:
    """Every YAML file named or found (recursively, hidden ones skipped) under ``paths``.

    A file named twice (also through a folder) counts once. Named files may be pipes
    (``<(...)``) or devices; only folders are searched for ``*.yaml`` and ``*.yml``.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if raw != STDIN and not path.exists():
            raise InputError("no such file or directory", location=SourceLocation(raw))
        for found in _yaml_files(path) if path.is_dir() else [path]:
            key = found if raw == STDIN else found.resolve()
            if key not in seen:
                seen.add(key)
                files.append(found)
    return files


def _yaml_files(folder: Path) -> list[Path]:
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.suffix in YAML_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]


def read_text(path: Path) -> str:
    """A file's text (``-``: stdin, read once), as UTF-8, with a located error if it can't be.

    At most ``MAX_INPUT_BYTES`` are read, so an endless pipe or device is an error, not
    a machine out of memory.
    """
    name = "<stdin>" if str(path) == STDIN else str(path)
    try:
        raw = _stdin() if name == "<stdin>" else _read_bounded(path)
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", location=SourceLocation(name)) from None
    if len(raw) > MAX_INPUT_BYTES:
        raise InputError(
            f"input is larger than the limit of {MAX_INPUT_BYTES // 2**20} MiB",
            location=SourceLocation(name),
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded",
            location=SourceLocation(name, line),
        ) from None


_stdin_read: list[tuple[object, bytes]] = []  # the stream read and its bytes


def _stdin() -> bytes:
    """Standard input, read once per stream however often ``-`` is named."""
    stream = sys.stdin
    if not _stdin_read or _stdin_read[0][0] is not stream:
        _stdin_read[:] = [(stream, stream.buffer.read(MAX_INPUT_BYTES + 1))]
    return _stdin_read[0][1]


def _read_bounded(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(MAX_INPUT_BYTES + 1)


def read_documents(paths: Iterable[str]) -> list[Document]:
    """Every document of every input file, in order."""
    documents: list[Document] = []
    for path in input_files(paths):
        name = "<stdin>" if str(path) == STDIN else str(path)
        documents.extend(load_documents(read_text(path), name))
    return documents


def read_units(paths: Iterable[str]) -> list[Unit]:
    """The inputs grouped by folder, each with the Environment files beside it."""
    folders: dict[Path, list[Document]] = {}
    env_docs: dict[Path, list[tuple[Path, Document]]] = {}
    for path in input_files(paths):
        name = "<stdin>" if str(path) == STDIN else str(path)
        folder = _unit_folder(path)
        folders.setdefault(folder, [])
        in_environments = path.parent.name == ENVIRONMENTS
        for doc in load_documents(read_text(path), name):
            if is_environment(doc.data):
                env_docs.setdefault(folder, []).append((path, doc))
            elif not in_environments:  # other files there are the overlays' patches
                folders[folder].append(doc)
    units = []
    for folder, docs in folders.items():
        found = env_docs.get(folder) or _discover(folder)
        units.append(Unit(tuple(docs), tuple(_environment(p, d, folder) for p, d in found)))
    return units


def _unit_folder(path: Path) -> Path:
    if str(path) == STDIN:
        return Path("<stdin>")
    folder = path.parent
    return folder.parent if folder.name == ENVIRONMENTS else folder


def _discover(folder: Path) -> list[tuple[Path, Document]]:
    env_folder = folder / ENVIRONMENTS
    found: list[tuple[Path, Document]] = []
    for path in _yaml_files(env_folder) if env_folder.is_dir() else []:
        found.extend((path, d) for d in load_documents(read_text(path), str(path)))
    return [(p, d) for p, d in found if is_environment(d.data)]


def read_environment_file(path: Path) -> Environment:
    """An Environment given by path (``--env FILE``)."""
    docs = [d for d in load_documents(read_text(path), str(path)) if is_environment(d.data)]
    if len(docs) != 1:
        raise InputError(
            "expected exactly one document of kind Environment", location=SourceLocation(str(path))
        )
    return _environment(path, docs[0], path.parent)


def _environment(path: Path, doc: Document, root: Path) -> Environment:
    return parse_environment(doc, _reader(path.parent, root), default_name=path.stem)


def _reader(base: Path, root: Path) -> Callable[[str], str]:
    """Reads files relative to ``base``, refusing any outside ``root``."""

    def read(relative: str) -> str:
        target = (base / relative).resolve()
        if not target.is_relative_to(root.resolve()):
            raise InputError(
                f"{relative!r} is outside {root}: patch files must stay inside the folder",
                location=SourceLocation(str(base / relative)),
            )
        return read_text(target)

    return read


MARKER = ".sailplan-output"
_MARKER_TEXT = (
    "Written by `sailplan render --all-envs --out`, which replaces this whole folder\n"
    "on every run. Do not keep other files here.\n"
)


def write_tree(root: Path, files: Mapping[str, str], inputs: Iterable[Path] = ()) -> None:
    """Replace folder ``root`` with exactly ``files`` (relative path -> text), atomically.

    The tree is written beside ``root`` first and swapped in by renames, so a reader
    sees the old tree or the new one, never half of one; on failure nothing changes.
    Only an empty folder or one sailplan wrote (it holds ``MARKER``) is replaced, and
    never one that holds an input: replacing means deleting what was there. Every file
    is created new (never through a link) and must lie inside ``root``; a path that
    would leave it is refused before anything is written.
    """
    if not str(root) or not root.parts:
        raise InputError("the output folder is empty ('')", location=SourceLocation("--out"))
    where = SourceLocation(str(root))
    for relative in files:
        _check_relative(relative, where)
    try:
        root = root.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise InputError(f"cannot resolve the output folder: {exc}", location=where) from None
    _check_replaceable(root, inputs)
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    except OSError as exc:
        raise InputError(f"cannot make the output folder: {_reason(exc)}", location=where) from None
    try:
        _set_default_mode(staging)
        for relative, text in {MARKER: _MARKER_TEXT, **files}.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as fh:  # "x": never over a file or link
                fh.write(text)
        _swap(staging, root)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"cannot write the output: {_reason(exc)}", location=where) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check_relative(relative: str, where: SourceLocation) -> None:
    """A relative path that stays inside the folder it is written to, or an error."""
    parts = relative.split("/")
    bad = (
        not relative
        or relative.startswith("/")
        or "\0" in relative
        or any(p in ("", ".", "..") for p in parts)
    )
    if bad:
        raise InputError(f"refusing to write {relative!r}: it leaves the folder", location=where)


def _reason(exc: OSError) -> str:
    name = exc.filename if isinstance(exc.filename, str) else ""
    return f"{exc.strerror or exc}" + (f": {name}" if name else "")


def _check_replaceable(root: Path, inputs: Iterable[Path]) -> None:
    where = SourceLocation(str(root))
    for path in inputs:
        if str(path) != STDIN and path.resolve().is_relative_to(root):
            raise InputError(
                f"the output folder holds the input {path}: choose another --out folder",
                location=where,
            )
    if not root.exists():
        return
    if not root.is_dir():
        raise InputError("the output path exists and is not a folder", location=where)
    if root == Path.cwd() or Path.cwd().is_relative_to(root):
        raise InputError("the output folder holds the current folder", location=where)
    if any(root.iterdir()) and not (root / MARKER).is_file():
        raise InputError(
            f"the output folder is not empty and was not written by sailplan (no {MARKER}); "
            "it would be replaced whole, so choose an empty or new folder",
            location=where,
        )


def _set_default_mode(folder: Path) -> None:
    """Give a folder made by ``mkdtemp`` (mode 0700) the mode ``mkdir`` would have."""
    mask = os.umask(0)
    os.umask(mask)
    folder.chmod(0o777 & ~mask)


def _swap(staging: Path, root: Path) -> None:
    if not root.exists():
        os.rename(staging, root)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{root.name}.old.", dir=root.parent))
    os.rename(root, retired / root.name)
    try:
        os.rename(staging, root)
    except OSError:
        os.rename(retired / root.name, root)
        raise
    shutil.rmtree(retired, ignore_errors=True)
