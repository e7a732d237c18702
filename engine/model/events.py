"""Build JSON-like data straight from libyaml's event stream.

PyYAML's loader first builds a node tree and then a generator-driven constructor
walks it; for the many small documents a render parses (every template output),
that is most of the time spent. Without aliases, the event stream is all we need:
this builder turns it into dicts, lists and scalars in one loop, with the same
strict rules as the node-based loader (string keys, no duplicates, no unsupported
tags, finite numbers, bounded nesting). Documents with aliases or merge keys are
left to the node-based loader, which guards against alias bombs.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import yaml

STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
try:
    _Parser: Any = importlib.import_module("yaml._yaml").CParser
except (ImportError, AttributeError):  # PyYAML without libyaml
    _Parser = None


class Unsupported(Exception):
    """The document needs the node-based loader (aliases, merge keys)."""


class EventError(Exception):
    """Input that breaks the strict rules; carries the 1-based line."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def available() -> bool:
    """Whether libyaml's C parser is there to produce events quickly."""
    return _Parser is not None


_constructor = yaml.SafeLoader("")
_CONSTRUCT: dict[str, Callable[[yaml.ScalarNode], Any]] = {
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": _constructor.construct_yaml_null,
}


#: Characters of an integer scalar: far beyond int64, and short enough that Python can
#: print the number (it refuses more than 4,300 decimal digits).
MAX_INT_CHARS = 1000
INT = "tag:yaml.org,2002:int"


def check_int(value: str) -> None:
    """Refuse an integer scalar too long to be a number anything here could use."""
    if len(value) > MAX_INT_CHARS:
        raise ValueError(
            f"an integer of {len(value):,} characters is too long "
            f"(at most {MAX_INT_CHARS:,}; Kubernetes integers have at most 19 digits)"
        )


@functools.lru_cache(maxsize=65536)
def _typed(tag: str, value: str) -> Any:
    if tag == INT:
        check_int(value)
    result = _CONSTRUCT[tag](yaml.ScalarNode(tag, value))
    if isinstance(result, float) and not math.isfinite(result):
        raise ValueError(f"{value!r} is not a finite number (JSON has no NaN or infinity)")
    return result


def build_all(text: str, tag_of: Callable[[str], str], max_depth: int) -> Iterator[Any]:
    """Every non-empty document of ``text``; raises Unsupported or EventError."""
    parser = _Parser(text)
    try:
        yield from _documents(parser, tag_of, max_depth)
    finally:
        parser.dispose()


def _documents(parser: Any, tag_of: Callable[[str], str], max_depth: int) -> Iterator[Any]:
    stack: list[Any] = []  # open containers
    keys: list[Any] = []  # per open container: the pending key of a mapping (or None)
    root: Any = None
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if stack and type(stack[-1]) is dict and keys[-1] is None:
                if event.tag not in (None, "!", STR):
                    raise Unsupported
                if event.implicit[0] and tag_of(event.value) == _MERGE:
                    raise Unsupported
                keys[-1] = _Key(event.value, event.start_mark)
                continue
            value = _scalar(event, tag_of)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                raise EventError(
                    f"unsupported YAML tag {event.tag}: input must be plain JSON-like data",
                    _line(event),
                )
            if stack and type(stack[-1]) is dict and keys[-1] is None:
                raise EventError("mapping keys must be scalars", _line(event))
            if len(stack) >= max_depth:
                raise EventError(f"YAML is nested more than {max_depth} levels deep", _line(event))
            stack.append({} if kind is yaml.MappingStartEvent else [])
            keys.append(None)
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            value = stack.pop()
            keys.pop()
        elif kind is yaml.AliasEvent:
            raise Unsupported
        elif kind is yaml.DocumentEndEvent:
            if root is not None:
                yield root
            root = None
            continue
        elif kind is yaml.StreamEndEvent:
            return
        else:
            continue
        if not stack:
            root = value
        elif type(stack[-1]) is list:
            stack[-1].append(value)
        else:
            key = keys[-1]
            if key.text in stack[-1]:
                raise EventError(f"duplicate key {key.text!r}", key.line)
            stack[-1][key.text] = value
            keys[-1] = None


class _Key:
    __slots__ = ("line", "text")

    def __init__(self, text: str, mark: Any) -> None:
        self.text = text
        self.line = mark.line + 1 if mark is not None else None


def _scalar(event: Any, tag_of: Callable[[str], str]) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = tag_of(event.value) if event.implicit[0] else STR
    if tag == STR:
        return event.value
    if tag == _MERGE:
        raise Unsupported
    if tag not in _CONSTRUCT:
        raise EventError(
            f"unsupported YAML tag {tag}: input must be plain JSON-like data", _line(event)
        )
    try:
        return _typed(tag, event.value)
    except (ValueError, yaml.YAMLError) as exc:
        raise EventError(str(exc), _line(event)) from None


def _line(event: Any) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None
