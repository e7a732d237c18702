"""Inputs as they are at a git revision: the git edge behind ``sailplan diff --base-ref``.

A pull-request preview answers "what does this change do to each environment?": the
same paths are built as they are at the base revision and as they are in the working
tree, and the two builds are diffed per environment. The base side is exported with the
git CLI (``ls-tree`` + ``cat-file --batch``, no shell) into a temporary folder that is
always removed, then read and built by the very code that reads the working tree, so
both sides mean the same thing.

Errors on the base side name files as the user typed them (plus the revision), never
the temporary copy. A path missing on one side makes that side empty: everything it
builds is added (new path) or removed (deleted path).
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from engine.build import DEFAULT_KUBE_VERSION
from engine.definitions import Registry
from engine.diff import Report, diff_environments, select_environments
from engine.environments import (
    Preview,
    Unit,
    build_every_environment,
    check_environment_name,
    known_environments,
)
from engine.errors import GitError, InputError, SailplanError, SourceLocation
from engine.model import Manifest
from engine.workspace import ENVIRONMENTS, STDIN, YAML_SUFFIXES, read_units

WORKING_TREE = "working tree"
#: Besides the file itself, what a file input may read from its folder at a revision:
#: its ``environments/`` folder and the YAML or JSON patches its Environments name.
_FOLDER_SUFFIXES = (*YAML_SUFFIXES, ".json")
_BLOB_MODES = ("100644", "100755")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """A diff of every environment between a revision and the working tree."""

    report: Report
    #: Warnings of the working-tree build (the base side's are the past's).
    warnings: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class _Input:
    """One path as the user typed it, and the same path relative to the repository root."""

    typed: str
    relative: str  # POSIX, "" for the root itself


def compare_with_revision(
    paths: Sequence[str],
    ref: str,
    registry: Registry,
    *,
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
    only: Sequence[str] = (),
) -> Comparison:
    """What the working tree changes, per environment, against ``paths`` at ``ref``.

    ``only`` keeps the environments answering to these names (an unknown one is an error).
    """
    if STDIN in paths:
        raise InputError("standard input ('-') has no revision to compare with")
    root = find_repository(paths)
    commit = resolve_commit(root, ref)
    inputs = [_Input(p, _relative(root, p)) for p in paths]
    old_units, old, at_ref = _build_revision(root, commit, ref, inputs, registry, kube_version)
    new_units, new = _build_working_tree(inputs, at_ref, registry, kube_version)
    is_hash = re.fullmatch("[0-9a-f]{4,40}", ref.lower()) and commit.startswith(ref.lower())
    name = commit[:12] if is_hash else f"{ref} ({commit[:12]})"
    report = Report(name, WORKING_TREE, diff_environments(_by_name(old), _by_name(new)))
    if only:
        report = select_environments(report, _canonical_names([*new_units, *old_units], only))
    warnings = tuple(w for p in new for w in p.build.warnings)
    return Comparison(report, warnings)


# -- git -------------------------------------------------------------------------------


def find_repository(paths: Sequence[str]) -> Path:
    """The top folder of the one git working tree holding every path."""
    roots = {_toplevel(_existing_folder(Path(p))) for p in paths}
    if len(roots) > 1:
        listed = ", ".join(sorted(str(r) for r in roots))
        raise GitError(f"the paths are in different git repositories: {listed}")
    (root,) = roots
    return root


def resolve_commit(root: Path, ref: str) -> str:
    """The commit ``ref`` names (a branch, tag, ``HEAD~1``, a hash), or a clear error."""
    unknown = GitError(f"unknown revision {ref!r} in the git repository {root}")
    if not ref or ref.startswith("-"):
        raise unknown
    try:
        out = _git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
        )
    except GitError:
        raise unknown from None
    return out.decode().strip()


def _toplevel(folder: Path) -> Path:
    try:
        out = _git(folder, "rev-parse", "--show-toplevel")
    except GitError as exc:
        raise GitError(f"{folder}: not in a git repository ({exc.message})") from None
    return Path(os.fsdecode(out.strip())).resolve()


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git in ``cwd`` without a shell; its stdout, or its first error line."""
    command = ["git", "--literal-pathspecs", "-C", str(cwd), *args]
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; --base-ref needs the git command") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(lines[0] if lines else f"git {args[0]} failed ({done.returncode})")
    return done.stdout


def _existing_folder(path: Path) -> Path:
    """The nearest existing folder at or above ``path`` (inputs may be gone from the tree)."""
    folder = path if path.is_dir() else path.parent
    folder = Path(os.path.abspath(folder))
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    return folder


def _relative(root: Path, typed: str) -> str:
    absolute = Path(os.path.abspath(typed))
    real = Path(os.path.realpath(absolute.parent)) / absolute.name if absolute.name else absolute
    try:
        relative = real.relative_to(root).as_posix()
    except ValueError:
        raise InputError(
            f"not inside the git repository {root}", location=SourceLocation(typed)
        ) from None
    return "" if relative == "." else relative


def _tree(root: Path, commit: str, folders: Sequence[str]) -> dict[str, str]:
    """Every regular file under ``folders`` at ``commit``: repository path -> blob id.

    A crafted commit may hold any name in its trees: every path is checked to be a
    plain relative path (no ``..``, ``.`` or empty parts) that is not also a folder of
    another path, or the revision is refused with an error naming the entry.
    """
    specs = sorted({f or "." for f in folders})
    out = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", *specs)
    files: dict[str, str] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        path = os.fsdecode(name)
        _check_entry(path, commit)
        if kind == "blob" and mode in _BLOB_MODES:  # symlinks and submodules are skipped
            files[path] = blob
    for path in files:
        parent = posixpath.dirname(path)
        while parent:
            if parent in files:
                raise GitError(
                    f"the tree of commit {commit[:12]} holds both a file and a folder "
                    f"named {parent!r}; it cannot be read"
                )
            parent = posixpath.dirname(parent)
    return files


def _check_entry(path: str, commit: str) -> None:
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise GitError(
            f"the tree of commit {commit[:12]} holds the unsafe path {path[:200]!r}; it is not read"
        )


def _blobs(root: Path, ids: Sequence[str]) -> dict[str, bytes]:
    """The contents of blobs, read by one ``git cat-file --batch``."""
    unique = sorted(set(ids))
    out = _git(root, "cat-file", "--batch", stdin="".join(f"{i}\n" for i in unique).encode())
    contents: dict[str, bytes] = {}
    pos = 0
    for blob in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode().split(" ")
        if len(header) != 3:
            raise GitError(f"git cannot read blob {blob}: {' '.join(header)}")
        size = int(header[2])
        contents[blob] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return contents


# -- the base side ---------------------------------------------------------------------


def _build_revision(
    root: Path,
    commit: str,
    ref: str,
    inputs: Sequence[_Input],
    registry: Registry,
    kube: tuple[int, int],
) -> tuple[list[Unit], list[Preview], list[_Input]]:
    """The units and previews at ``commit``, and the inputs that exist there."""
    with _exported(root, commit, inputs) as (folder, present):
        rename = _renamer(folder, present, root)
        try:
            units = read_units(
                [str(folder / i.relative) if i.relative else str(folder) for i in present]
            )
            previews = build_every_environment(units, registry, kube_version=kube)
        except SailplanError as exc:
            _relocate(exc, rename, ref)
            raise
        return units, [_renamed_preview(p, rename) for p in previews], present


@contextmanager
def _exported(
    root: Path, commit: str, inputs: Sequence[_Input]
) -> Iterator[tuple[Path, list[_Input]]]:
    """A temporary copy of what ``inputs`` may read at ``commit``, and which inputs exist."""
    folder = Path(tempfile.mkdtemp(prefix="sailplan-base-")).resolve()
    try:
        tree = _tree(root, commit, [_scope(i.relative) for i in inputs])
        present = [i for i in inputs if _exists(tree, i.relative)]
        wanted = {
            p: b for p, b in tree.items() if any(_wanted(p, tree, i.relative) for i in present)
        }
        contents = _blobs(root, list(wanted.values()))
        for path, blob in wanted.items():
            target = folder / path
            if not Path(os.path.realpath(target.parent)).is_relative_to(folder):
                raise GitError(f"refusing to export {path!r}: it leaves the export folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("xb") as fh:  # never over a file or through a link
                fh.write(contents[blob])
        yield folder, present
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scope(relative: str) -> str:
    """The folder to list for an input: its parent (it may be a file or a folder there)."""
    return posixpath.dirname(relative)


def _exists(tree: dict[str, str], relative: str) -> bool:
    if not relative:
        return bool(tree)
    return relative in tree or any(p.startswith(relative + "/") for p in tree)


def _wanted(path: str, tree: dict[str, str], relative: str) -> bool:
    """Whether the export for input ``relative`` needs the file ``path``."""
    if relative not in tree:  # a folder, or the root: all of it
        return not relative or path.startswith(relative + "/")
    if path == relative:
        return True
    parent = posixpath.dirname(relative)
    inside = posixpath.relpath(path, parent or ".")
    if inside.startswith("../"):
        return False
    return inside.startswith(ENVIRONMENTS + "/") or path.endswith(_FOLDER_SUFFIXES)


# -- the working-tree side -------------------------------------------------------------


def _build_working_tree(
    inputs: Sequence[_Input], at_ref: Sequence[_Input], registry: Registry, kube: tuple[int, int]
) -> tuple[list[Unit], list[Preview]]:
    """The units and previews now; a path deleted since the revision builds nothing."""
    for i in inputs:
        if not os.path.exists(i.typed) and i not in at_ref:
            raise InputError(
                "no such file or directory, in the working tree or at the revision",
                location=SourceLocation(i.typed),
            )
    units = read_units([i.typed for i in inputs if os.path.exists(i.typed)])
    return units, build_every_environment(units, registry, kube_version=kube)


# -- names -----------------------------------------------------------------------------


def _by_name(previews: Sequence[Preview]) -> dict[str, tuple[Manifest, ...]]:
    return {p.name: p.build.manifests for p in previews}


def _canonical_names(units: Sequence[Unit], names: Sequence[str]) -> list[str]:
    """The environment each of ``names`` (a name or an alias) stands for, on either side."""
    known = known_environments(units)
    out: list[str] = []
    for name in names:
        check_environment_name(units, name)
        out.extend(e.name for e in known if e.answers_to(name))
    return out


def _renamer(folder: Path, inputs: Sequence[_Input], root: Path) -> Callable[[str], str]:
    """Turns temporary paths in text back into the paths the user typed."""
    names: dict[str, str] = {str(folder): os.path.relpath(root)}
    for i in inputs:
        typed = Path(i.typed)
        parent = posixpath.dirname(i.relative)
        names[str(folder / parent) if parent else str(folder)] = str(typed.parent)
        names[str(folder / i.relative) if i.relative else str(folder)] = str(typed)
    pattern = re.compile(
        "("
        + "|".join(re.escape(t) for t in sorted(names, key=len, reverse=True))
        + r")(?:(/)|(?![\w.-]))"
    )

    def display(match: re.Match[str]) -> str:
        shown, slash = names[match.group(1)], match.group(2)
        if slash:
            return "" if shown == "." else shown + "/"
        return shown

    return lambda text: pattern.sub(display, text)


def _relocate(exc: SailplanError, rename: Callable[[str], str], ref: str) -> None:
    """Name the user's files and the revision in an error raised on the temporary copy."""
    exc.message = f"{rename(exc.message)} (at {ref})"
    location = exc.location
    if location is not None:
        exc.location = SourceLocation(
            rename(location.file), yaml_path=location.yaml_path, line_of=lambda: location.line
        )


def _renamed_preview(preview: Preview, rename: Callable[[str], str]) -> Preview:
    manifests = tuple(
        dataclasses.replace(m, source=rename(m.source)) for m in preview.build.manifests
    )
    build = dataclasses.replace(preview.build, manifests=manifests)
    return dataclasses.replace(preview, build=build)
