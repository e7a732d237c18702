"""A small block-style YAML writer for JSON-like data.

PyYAML's representer builds a node object for every value before its emitter
writes anything, which makes dumping the slowest step of a large render. Manifests
are only dicts, lists, strings, numbers, booleans and null, so this writer emits
them directly, in the style kubectl uses: block mappings, sequences not indented
under their key, strings plain when that reads back as the same string, else single-
quoted, multi-line strings as literal blocks, anything unusual JSON-quoted (valid
YAML). Tests check that everything it writes reads back unchanged.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any

_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN = re.compile(r"(?:[A-Za-z0-9_./($^=+;<\\~]|--?(?=[^\s-]))[\x20-\x7e]*\Z")
_PRINTABLE = re.compile(
    "[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*\\Z"
)
_BLOCK_SAFE = re.compile(
    "[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*\\Z"
)
MAX_SIMPLE_KEY = 512


def dump(value: Any, tag_of: Callable[[str], str]) -> str:
    """``value`` as a YAML document; ``tag_of`` names the implicit tag of a plain scalar."""
    out: list[str] = []
    writer = _Writer(tag_of, out)
    if isinstance(value, dict) and value:
        writer.mapping(value, 0)
    elif isinstance(value, list) and value:
        writer.sequence(value, 0)
    else:
        out.append(writer.scalar(value, 2) + "\n")
    return "".join(out)


class _Writer:
    def __init__(self, tag_of: Callable[[str], str], out: list[str]) -> None:
        self.tag_of = tag_of
        self.out = out

    def string(self, value: str) -> str:
        return _string(value, self.tag_of)

    def mapping(self, value: dict[str, Any], indent: int, first: str = "") -> None:
        pad = " " * indent
        lead = first
        for key, item in value.items():
            text = str(key)
            if len(text) > MAX_SIMPLE_KEY:  # YAML readers limit implicit keys
                self.out.append(f"{lead or pad}? {_json(text)}\n{pad}")
            else:
                self.out.append(
                    (lead or pad) + (self.string(text) if "\n" not in text else _json(text))
                )
            lead = ""
            self.value(item, indent)

    def sequence(self, value: list[Any], indent: int, first: str = "") -> None:
        pad = " " * indent
        lead = first
        for item in value:
            self.out.append((lead or pad) + "-")
            lead = ""
            if isinstance(item, dict) and item:
                self.mapping(item, indent + 2, first=" ")
            elif isinstance(item, list) and item:
                self.sequence(item, indent + 2, first=" ")
            else:
                self.out.append(" " + self.scalar(item, indent + 2) + "\n")

    def value(self, item: Any, indent: int) -> None:
        if isinstance(item, dict) and item:
            self.out.append(":\n")
            self.mapping(item, indent + 2)
        elif isinstance(item, list) and item:
            self.out.append(":\n")
            self.sequence(item, indent)
        else:
            self.out.append(": " + self.scalar(item, indent + 2) + "\n")

    def scalar(self, value: Any, indent: int) -> str:
        if isinstance(value, str):
            if "\n" in value:
                return _block(value, indent)
            return self.string(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, dict):
            return "{}"
        if isinstance(value, list):
            return "[]"
        raise TypeError(f"cannot write a value of type {type(value).__name__} as YAML")


@functools.lru_cache(maxsize=65536)
def _string(value: str, tag_of: Callable[[str], str]) -> str:
    """A one-line string: plain when it reads back as itself, else quoted."""
    if _PLAIN.match(value) and _plain_ok(value) and tag_of(value) == _STR_TAG:
        return value
    if _PRINTABLE.match(value) and "\t" not in value:
        return "'" + value.replace("'", "''") + "'"
    return _json(value)


def _plain_ok(value: str) -> bool:
    return not (value.endswith((" ", ":")) or ": " in value or " #" in value)


def _block(value: str, indent: int) -> str:
    """A literal block scalar, or a JSON string where a block cannot hold the value."""
    body = value.rstrip("\n")
    if not _BLOCK_SAFE.match(value) or not body or body[0] in " \n" or value.endswith(" "):
        return _json(value)
    trailing = len(value) - len(body)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    pad = " " * indent
    lines = [pad + line if line else "" for line in body.split("\n")]
    extra = "\n" * (trailing - 1) if trailing > 1 else ""
    return "|" + chomp + "\n" + "\n".join(lines) + extra


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


def _json(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return re.sub(
        "[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]",
        lambda m: f"\\u{ord(m.group()):04x}",
        text,
    )
