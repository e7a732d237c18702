"""Serialise manifests for people (YAML with ``# Source:`` headers) and machines (JSON).

Output is deterministic: the same manifests give the same bytes. A string is written
plain only when every common YAML reader gets the same string back: PyYAML (YAML
1.1, with timestamps), and Go's YAML as kubectl reads it (``y``/``n`` booleans,
exponent floats); otherwise it is quoted.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from engine.model import emitter
from engine.model.manifests import Manifest

_STR = "tag:yaml.org,2002:str"
_RESOLVERS = yaml.SafeLoader.yaml_implicit_resolvers
_GO_AMBIGUOUS = re.compile(
    r"[yYnN~]\Z|[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?\Z|[-+]?\.?(inf|Inf|INF|nan|NaN|NAN)\Z"
)


@functools.lru_cache(maxsize=65536)
def _tag_of(value: str) -> str:
    """The tag a plain scalar would get from any reader we care about (str if all agree)."""
    if _GO_AMBIGUOUS.match(value):
        return "ambiguous"
    for tag, regexp in _RESOLVERS.get(value[0] if value else "", []) + _RESOLVERS.get(None, []):
        if regexp.match(value):
            return str(tag)
    return _STR


def to_yaml(value: Any) -> str:
    """One value as a YAML document body."""
    return emitter.dump(value, _tag_of)


def dump_yaml(manifests: Iterable[Manifest], *, heading: str = "") -> str:
    """Manifests as a YAML stream, each preceded by ``# Source: <source>``."""
    parts: list[str] = []
    for manifest in manifests:
        source = f"{heading}: {manifest.source}" if heading else manifest.source
        parts.append(f"---\n# Source: {source}\n{to_yaml(manifest.object)}")
    return "".join(parts)


def dump_json(manifests: Sequence[Manifest]) -> str:
    """Manifests as one JSON list."""
    return json.dumps([m.object for m in manifests], indent=2, ensure_ascii=False) + "\n"
