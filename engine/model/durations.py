"""Durations as KubeVela reads them: Go's ``time.ParseDuration`` (``30s``, ``1m30s``, ``1.5h``).

Step ``timeout`` and the ``suspend`` step's ``duration`` are Go durations; the units are
``ns us µs ms s m h`` and a bare ``0`` is allowed. ``1d`` or ``1min`` are errors there, so
they are errors here too, with the accepted form in the message.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
HINT = "a Go duration such as 30s, 5m, 1h30m or 1.5h"


def parse_duration(text: str) -> float:
    """Seconds in ``text``; ValueError with the accepted form when it is not a duration."""
    body = text.strip()
    sign = 1.0
    if body[:1] in "+-" and body:
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    pos = 0
    total = 0.0
    while pos < len(body):
        match = _PART.match(body, pos)
        if not match:
            raise ValueError(f"invalid duration {text!r}; expected {HINT}")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not body:
        raise ValueError(f"invalid duration {text!r}; expected {HINT}")
    return sign * total
