"""Strict, safe YAML loading that remembers where every value came from.

Kubernetes and KubeVela read YAML as JSON: string keys, no timestamps, no sets, no
NaN. This loader enforces that, rejects duplicate keys, alias bombs, recursive
aliases and oversized input with an error naming the file and line, and keeps the
source text so that any later error can be mapped back to ``file:line`` by YAML
path. Line lookup is lazy: the happy path pays only for one C-accelerated parse.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterator
from typing import Any, ClassVar

import yaml

from engine.errors import InputError, SourceLocation
from engine.model import events
from engine.model.paths import YamlPath, format_path

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_EXPANDED_NODES = 2_000_000
#: A long scalar counts as one node per this many characters, so that aliases repeating
#: one long string are bounded too.
SCALAR_BYTES_PER_NODE = 64
_EXPANDED_MIB = MAX_EXPANDED_NODES * SCALAR_BYTES_PER_NODE // 2**20
MAX_DEPTH = 100

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that builds JSON-compatible data only."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _implicit_tag(value)
        return _DEFAULT_TAGS[kind]

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise _error("expected a mapping", node)
        merged = any(key.tag == _MERGE_TAG for key, _ in node.value)
        if merged:
            _reject_duplicate_keys(node)
            self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _error("mapping keys must be scalars", key_node)
            key = key_node.value
            if not merged and key in mapping:
                raise _error(f"duplicate key {key!r}", key_node)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_float(self, node: yaml.Node) -> float:
        value: float = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise _error(
                f"{node.value!r} is not a finite number (JSON has no NaN or infinity)",
                node,
            )
        return value

    def construct_yaml_int(self, node: yaml.Node) -> int:
        try:
            events.check_int(node.value)
        except ValueError as exc:
            raise _error(str(exc), node) from None
        value: int = super().construct_yaml_int(node)
        return value

    def construct_unsupported(self, node: yaml.Node) -> Any:
        raise _error(f"unsupported YAML tag {node.tag}: input must be plain JSON-like data", node)


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
for _tag in ("binary", "set", "omap", "pairs", "timestamp"):
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _StrictLoader.construct_unsupported)
_StrictLoader.add_constructor(None, _StrictLoader.construct_unsupported)


_MERGE_TAG = "tag:yaml.org,2002:merge"
_DEFAULT_TAGS: dict[type[yaml.Node], str] = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}


@functools.lru_cache(maxsize=65536)
def _implicit_tag(value: str) -> str:
    """The tag of a plain scalar; memoised, as the same keys and values recur."""
    resolvers = _StrictLoader.yaml_implicit_resolvers
    candidates = resolvers.get(value[0] if value else "", []) + resolvers.get(None, [])
    for tag, regexp in candidates:
        if regexp.match(value):
            return str(tag)
    return str(_StrictLoader.DEFAULT_SCALAR_TAG)


class _LocatedError(Exception):
    """Raised inside the loader; turned into an InputError with the file name."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _error(message: str, node: yaml.Node) -> _LocatedError:
    return _LocatedError(message, node.start_mark.line + 1 if node.start_mark else None)


def _reject_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
            if key_node.value in seen:
                raise _error(f"duplicate key {key_node.value!r}", key_node)
            seen.add(key_node.value)


def _check_structure(root: yaml.Node) -> None:
    """Reject alias bombs, recursive aliases and absurd nesting before anything walks the data."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _error("recursive YAML alias", node)
        if depth > MAX_DEPTH:
            raise _error(f"YAML is nested more than {MAX_DEPTH} levels deep", node)
        active.add(key)
        total = (
            1 + len(node.value) // SCALAR_BYTES_PER_NODE if isinstance(node, yaml.ScalarNode) else 1
        )
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        active.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_NODES:
            raise _error(
                f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes "
                f"or {_EXPANDED_MIB} MiB of text (alias bomb?)",
                node,
            )
        return total

    size(root, 0)


@dataclasses.dataclass(frozen=True, eq=False)
class SourceText:
    """The text of one input file, and a lazy index from YAML path to line."""

    file: str
    text: str
    _nodes: list[yaml.Node] = dataclasses.field(default_factory=list, repr=False)

    def line_of(self, doc: int, path: YamlPath) -> int | None:
        """The 1-based line of the deepest node along ``path`` in document ``doc``."""
        if not self._nodes:
            self._nodes.extend(_compose_all(self.text))
        if doc >= len(self._nodes):
            return None
        node = self._nodes[doc]
        line = node.start_mark.line + 1
        for seg in path:
            child = _child(node, seg)
            if child is None:
                break
            line, node = child
        return line


def _compose_all(text: str) -> list[yaml.Node]:
    try:
        return [n for n in yaml.compose_all(text, Loader=_StrictLoader) if n is not None]
    except yaml.YAMLError:
        return []


def _child(node: yaml.Node, seg: str | int) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(seg, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == seg:
                return key_node.start_mark.line + 1, value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(seg, int) and 0 <= seg < len(node.value):
        child: yaml.Node = node.value[seg]
        return child.start_mark.line + 1, child
    return None


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a document came from: its file text and its index in the file."""

    text: SourceText
    index: int = 0

    @property
    def file(self) -> str:
        return self.text.file

    def locate(self, path: YamlPath) -> SourceLocation:
        """A SourceLocation for ``path`` inside this document (its line found on demand)."""
        return SourceLocation(
            self.file,
            yaml_path=format_path(path),
            line_of=lambda: self.text.line_of(self.index, path),
        )


@dataclasses.dataclass(frozen=True)
class Document:
    """One parsed YAML document and its source."""

    data: Any
    source: Source


def load_documents(text: str, file: str) -> list[Document]:
    """Parse every non-empty document of ``text`` (the contents of ``file``)."""
    if len(text) > MAX_INPUT_BYTES:
        raise InputError(
            f"input is {len(text) / 2**20:.0f} MiB; the limit is {MAX_INPUT_BYTES // 2**20} MiB",
            location=SourceLocation(file),
        )
    source_text = SourceText(file, text)
    return [
        Document(data, Source(source_text, index))
        for index, data in enumerate(_load_all(text, file))
    ]


def load_yaml(text: str, file: str) -> list[Any]:
    """Parse YAML text (a rendered template, say) into plain data, with the strict rules."""
    return _load_all(text, file)


def _load_all(text: str, file: str) -> list[Any]:
    """Every non-empty document, from the event stream when possible, else from nodes."""
    if events.available():
        try:
            return list(events.build_all(text, _implicit_tag, MAX_DEPTH))
        except events.Unsupported:
            pass
        except events.EventError as exc:
            raise InputError(exc.message, location=SourceLocation(file, exc.line)) from None
        except yaml.MarkedYAMLError as exc:
            raise InputError(_yaml_message(exc), location=_mark_location(file, exc)) from None
        except yaml.reader.ReaderError as exc:
            raise _reader_error(text, file, exc) from None
        except yaml.YAMLError as exc:
            raise InputError(f"invalid YAML: {exc}", location=SourceLocation(file)) from None
    return list(_load_nodes(text, file))


def _load_nodes(text: str, file: str) -> Iterator[Any]:
    loader = _StrictLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            _check_structure(node)
            data = loader.construct_document(node)
            if data is not None:
                yield data
    except _LocatedError as exc:
        raise InputError(exc.message, location=SourceLocation(file, exc.line)) from None
    except yaml.MarkedYAMLError as exc:
        raise InputError(_yaml_message(exc), location=_mark_location(file, exc)) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, file, exc) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", location=SourceLocation(file)) from None
    except RecursionError:
        raise InputError("YAML is nested too deeply", location=SourceLocation(file)) from None
    finally:
        loader.dispose()


def _reader_error(text: str, file: str, exc: yaml.reader.ReaderError) -> InputError:
    """A character YAML does not allow (NUL, control characters), at its line."""
    position = exc.position if isinstance(exc.position, int) else 0
    char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)[:1]
    shown = f"U+{ord(char):04X} {char!r}" if char else "?"
    line = text.count("\n", 0, position) + 1
    message = f"invalid YAML: character {shown} is not allowed (control characters and NUL)"
    return InputError(message, location=SourceLocation(file, line))


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "invalid YAML: " + ", ".join(parts)


def _mark_location(file: str, exc: yaml.MarkedYAMLError) -> SourceLocation:
    mark = exc.problem_mark or exc.context_mark
    return SourceLocation(file, mark.line + 1 if mark else None)
