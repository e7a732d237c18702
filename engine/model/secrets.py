"""Secret values are never shown: the one place that masks them in objects and in text.

A Secret's ``data`` and ``stringData`` values must not reach a terminal, a CI log or a
pull-request comment, whether through a diff, an error message or an event. Three
tools, used by every message and diff (``diff``, ``diff --live``, errors, events):

- ``mask_secret(obj)``: a copy of a Secret with every value replaced by ``***``, and
  every copy of a value elsewhere in the object (``last-applied-configuration`` and
  other annotations) masked too; other objects come back unchanged;
- ``secret_values(tree)``: every value of every Secret found anywhere in ``tree`` (an
  object, a list of them, an Application's properties), in the forms it may be
  printed in: as written, base64-decoded (``data``) or encoded (``stringData``);
- ``redact_text(text, secrets)``: ``text`` with each of those values, and their quoted
  and escaped spellings, replaced by ``***``. ``redacted(error, secrets)`` does that to
  a ``SailplanError``'s message.

A Secret is any mapping with ``kind: Secret`` (whatever its apiVersion: masking a
look-alike costs nothing). Values shorter than ``MIN_REDACTED`` characters are masked
in objects but not searched for in text, where they would hide ordinary words.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from engine.errors import SailplanError

MASK = "***"
SECRET_FIELDS = ("data", "stringData")
#: Shorter values are masked in objects, not hunted for in free text.
MIN_REDACTED = 4

E = TypeVar("E", bound=SailplanError)


def is_secret(obj: Any) -> bool:
    """Whether ``obj`` is a Secret (a mapping of ``kind: Secret``)."""
    return isinstance(obj, Mapping) and obj.get("kind") == "Secret"


def mask_secret(obj: Any) -> Any:
    """``obj`` with its Secret values masked, if it is a Secret; else ``obj`` itself."""
    if not is_secret(obj):
        return obj
    values = secret_values(obj)
    out = {k: _masked_field(v) if k in SECRET_FIELDS else v for k, v in obj.items()}
    meta = out.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
        annotations = {k: mask_copies(v, values) for k, v in meta["annotations"].items()}
        out["metadata"] = {**meta, "annotations": annotations}
    return out


def _masked_field(values: Any) -> Any:
    if isinstance(values, Mapping):
        return dict.fromkeys(values, MASK)
    return None if values is None else MASK


def mask_copies(value: Any, secrets: Iterable[str]) -> Any:
    """An annotation value with Secret values masked: a Secret written in it as JSON
    (``kubectl.kubernetes.io/last-applied-configuration``) is masked field by field,
    then any value still in the text is masked."""
    if not isinstance(value, str):
        return value
    try:
        embedded = json.loads(value) if value.lstrip().startswith("{") else None
    except ValueError:
        embedded = None
    if is_secret(embedded):
        value = json.dumps(mask_secret(embedded), separators=(",", ":"))
    return redact_text(value, secrets)


def secret_values(tree: Any) -> frozenset[str]:
    """Every Secret value anywhere in ``tree``, in each form it may be printed in."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if node.get("kind") == "Secret":
                found.update(_values_of(node))
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return frozenset(found)


def _values_of(secret: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()
    for field in SECRET_FIELDS:
        values = secret.get(field)
        items = values.values() if isinstance(values, Mapping) else [values]
        for value in items:
            if value is None:
                continue
            if not isinstance(value, str):  # a wrong type: its leaves and its spellings
                out.update(str(leaf) for leaf in _leaves(value))
                out.update((repr(value), json.dumps(value, default=str)))
                continue
            out.add(value)
            if field == "data":
                out.update(_decoded(value))
            else:
                out.add(base64.b64encode(value.encode()).decode())
    return out


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield k
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _decoded(text: str) -> set[str]:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return set()
    decoded = raw.decode("utf-8", errors="replace")
    return {decoded} if decoded else set()


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value (and its escaped spellings,
    as ``repr`` and JSON write them) replaced by ``***``."""
    pattern = _pattern(frozenset(secrets))
    return pattern.sub(MASK, text) if pattern is not None else text


def _pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    forms: set[str] = set()
    for value in secrets:
        if len(value) < MIN_REDACTED:
            continue
        forms.update((value, json.dumps(value)[1:-1], repr(value)[1:-1]))
        forms.update(value.splitlines())  # a value cut across lines in a message
    forms = {f for f in forms if len(f) >= MIN_REDACTED}
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def redacted(error: E, secrets: Iterable[str]) -> E:
    """``error`` with secret values masked in its message (changed in place, returned)."""
    error.message = redact_text(error.message, secrets)
    return error
