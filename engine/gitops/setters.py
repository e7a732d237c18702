"""Image policy markers in YAML files, rewritten by changing only the marked bytes.

Flux's image automation (reference §8.1-8.3) screens ``*.yaml``, ``*.yml`` and
``Kustomization`` files for the literal ``"$imagepolicy"``, reads each scalar's line comment
(then its head comment) as one JSON object of strings, and sets the scalar named by the
``$imagepolicy`` key when that setter exists: ``NS:NAME`` → ``image:tag``, ``NS:NAME:tag``,
``NS:NAME:name``, ``NS:NAME:digest``. Flux re-serialises the whole file through kyaml, which
reformats untouched content (image-automation-controller#68, #312, #616); here PyYAML only
locates each scalar and its bytes are spliced, so comments, quotes, order and indentation
stay as they were. Markers for setters we do not have, and comments that are not one JSON
object, are left alone.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import yaml

TOKEN = '"$imagepolicy"'
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclasses.dataclass(frozen=True)
class Change:
    """One rewritten scalar: where, which setter, old and new value."""

    file: str
    line: int
    setter: str
    old: str
    new: str


@dataclasses.dataclass(frozen=True)
class FileResult:
    """A file's new text and its changes; ``problem`` when it was not valid YAML."""

    text: str
    changes: tuple[Change, ...] = ()
    problem: str = ""


def image_setters(marker: str, image: str, tag: str, digest: str = "") -> dict[str, str]:
    """The setters Flux defines for one policy named ``marker`` (``NS:NAME``)."""
    ref = f"{image}:{tag}" + (f"@{digest}" if digest else "")
    setters = {marker: ref, f"{marker}:tag": tag, f"{marker}:name": image}
    if digest:
        setters[f"{marker}:digest"] = digest
    return setters


def marker_of(comment: str) -> str | None:
    """The setter a comment names, as kyaml reads it, or None when it is not a marker."""
    text = comment.lstrip("#")
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    name = data.get("$imagepolicy", "")
    return name or None


def rewrite(text: str, setters: Mapping[str, str], file: str = "") -> FileResult:
    """Set every marked scalar whose setter is in ``setters``; other bytes are kept."""
    if TOKEN not in text:
        return FileResult(text)
    try:
        scalars = list(_scalars(text))
    except yaml.YAMLError as exc:
        return FileResult(text, problem=f"{file}: not valid YAML: {exc}".replace("\n", " "))
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    changes: list[Change] = []
    for node in scalars:
        setter = _marker_for(node, lines, starts)
        if setter is None or setter not in setters:
            continue
        new = setters[setter]
        if node.value == new:
            continue
        start, end = node.start, node.end
        edits.append((start, end, _render(new, node.style)))
        changes.append(Change(file, node.line + 1, setter, node.value, new))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    changes.sort(key=lambda c: c.line)
    return FileResult(text, tuple(changes))


class _Scalar(NamedTuple):
    value: str
    style: str | None
    start: int
    line: int  # 0-based, of the start
    end: int
    end_line: int


def _scalar(event: yaml.ScalarEvent) -> _Scalar:
    start, end = event.start_mark, event.end_mark
    assert start is not None and end is not None  # the parser always sets marks
    return _Scalar(str(event.value), event.style, start.index, start.line, end.index, end.line)


def _scalars(text: str) -> Iterator[_Scalar]:
    """Scalars that are mapping values or sequence items, from the parser's events.

    Events, not composed nodes: composing resolves every scalar's tag, which costs more
    than everything else here. Keys are never set; block scalars (``|``, ``>``) neither.
    """
    # per open collection: True for a mapping expecting a key, False for a mapping
    # expecting a value, None for a sequence
    stack: list[bool | None] = []
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.ScalarEvent):
            is_key = bool(stack) and stack[-1] is True
            if stack and stack[-1] is not None:
                stack[-1] = not stack[-1]
            if stack and not is_key and event.style not in ("|", ">"):
                yield _scalar(event)
        elif isinstance(event, yaml.AliasEvent):
            if stack and stack[-1] is not None:
                stack[-1] = not stack[-1]
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if stack and stack[-1] is not None:
                stack[-1] = not stack[-1]
            stack.append(True if isinstance(event, yaml.MappingStartEvent) else None)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()


def _marker_for(node: _Scalar, lines: list[str], starts: list[int]) -> str | None:
    """The line comment's marker, else the head comment's (a comment line just above)."""
    end_line = node.end_line
    if end_line >= len(lines):
        return _head_marker(node, lines, starts)
    tail = lines[end_line][node.end - starts[end_line] :]
    stripped = tail.strip()
    if stripped.startswith("#") and tail[:1] in (" ", "\t"):
        found = marker_of(stripped)
        if found is not None:
            return found
    return _head_marker(node, lines, starts)


def _head_marker(node: _Scalar, lines: list[str], starts: list[int]) -> str | None:
    """A one-line comment block directly above a node that starts its line (``- value``)."""
    line = node.line
    if line == 0 or line >= len(lines):
        return None
    before = lines[line][: node.start - starts[line]]
    if before.strip() not in ("", "-"):
        return None
    above = lines[line - 1].strip()
    if not above.startswith("#"):
        return None
    if line >= 2 and lines[line - 2].strip().startswith("#"):
        return None
    return marker_of(above)


def _render(value: str, style: str | None) -> str:
    """The new scalar in the old one's quote style; plain only if it loads back as a string."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or not _plain_ok(value):
        return json.dumps(value, ensure_ascii=False)
    return value


@functools.lru_cache(maxsize=256)
def _plain_ok(value: str) -> bool:
    if not value or value != value.strip() or any(c in value for c in "#\n\r\t{}[],&*!|>'\"%`"):
        return False
    try:
        loaded = yaml.load(f"k: {value}\n", Loader=_Loader)
    except yaml.YAMLError:
        return False
    return bool(loaded == {"k": value})


def yaml_files(root: Path) -> Iterator[Path]:
    """Files Flux screens under ``root``, sorted; symlinks leading outside are skipped."""
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            if not (name.endswith((".yaml", ".yml")) or name == "Kustomization"):
                continue
            path = Path(folder) / name
            if path.is_symlink():
                try:
                    if not path.resolve(strict=True).is_relative_to(real_root):
                        continue
                except OSError:
                    continue
            yield path


def rewrite_tree(
    root: Path, setters: Mapping[str, str], *, relative_to: Path | None = None
) -> dict[Path, FileResult]:
    """Rewrite every screened file under ``root`` in memory (nothing is written).

    Returns the files with changes, and files that were not valid YAML with ``problem`` set.
    """
    base = relative_to or root
    out: dict[Path, FileResult] = {}
    for path in yaml_files(root):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if TOKEN.encode() not in data:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        result = rewrite(text, setters, path.relative_to(base).as_posix())
        if result.changes or result.problem:
            out[path] = result
    return out
