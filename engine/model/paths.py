"""YAML paths: the address of a value inside a document, as users read it.

A path is a tuple of keys and indexes; it prints as
``spec.components[0].properties["app.oam.dev/name"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

Segment = str | int
YamlPath = tuple[Segment, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")


def format_path(path: Iterable[Segment]) -> str:
    """Render a path the way error messages show it."""
    out: list[str] = []
    for seg in path:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
        elif _PLAIN_KEY.match(seg):
            out.append(f".{seg}" if out else seg)
        else:
            out.append(f"[{json.dumps(seg, ensure_ascii=False)}]")
    return "".join(out)
