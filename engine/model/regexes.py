"""Regular expressions written by users, matched in linear time (RE2).

Why: a pattern from a definition's schema (``pattern``, ``patternProperties``), an
override's component name or an overlay's patch target is input from whoever wrote the
repository, and Python's backtracking ``re`` takes exponential time on patterns such as
``(a+)+$``. RE2 (``google-re2``) matches in time linear in the text and refuses what it
cannot do that way (lookarounds, backreferences); its syntax is Go's, which KubeVela and
kustomize use for the same fields. Every user pattern goes through :func:`compile`: a
pattern RE2 refuses is a :class:`RegexError` whose message says why.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

__all__ = ["Regex", "RegexError", "compile", "quote"]

#: Memory RE2 may use for one compiled pattern; a larger pattern is refused.
MAX_MEMORY = 8 << 20
#: Characters of a pattern quoted in a message.
_QUOTED = 80


# A few escapes RE2 reads differently or not at all, with what to say instead.
_HINTS = (
    ("(?=", "lookahead '(?=' is not supported"),
    ("(?!", "negative lookahead '(?!' is not supported"),
    ("(?<=", "lookbehind '(?<=' is not supported"),
    ("(?<!", "negative lookbehind '(?<!' is not supported"),
)


class Regex(Protocol):
    """A compiled pattern: the part of RE2's API the engine uses."""

    def search(self, text: str) -> Any: ...

    def match(self, text: str) -> Any: ...

    def fullmatch(self, text: str) -> Any: ...


class RegexError(ValueError):
    """A pattern RE2 cannot compile; ``str()`` quotes (a cut of) it and says why."""

    def __init__(self, pattern: str, reason: str) -> None:
        self.pattern = pattern
        self.reason = reason
        super().__init__(f"{quote(pattern)} is not a valid regular expression: {reason}")


def quote(pattern: str) -> str:
    """``pattern`` as ``repr`` shows it, cut to a readable length."""
    if len(pattern) <= _QUOTED:
        return repr(pattern)
    return f"{pattern[:_QUOTED]!r}... ({len(pattern) - _QUOTED} more characters)"


@functools.lru_cache(maxsize=4096)
def compile(pattern: str) -> Regex:
    """``pattern`` compiled by RE2 (Go syntax, linear-time matching); cached.

    Raises:
        RegexError: RE2 refuses the pattern (bad syntax, lookaround, backreference,
            or too large); the message gives RE2's reason.
    """
    if not isinstance(pattern, str):
        raise RegexError(str(pattern), f"a pattern is a string, not {type(pattern).__name__}")
    if "\x00" in pattern:
        raise RegexError(pattern, "it holds a NUL character")
    re2 = _re2()
    try:
        compiled: Regex = re2.compile(pattern, _options())
    except re2.error as exc:
        raise RegexError(pattern, _reason(pattern, exc)) from None
    return compiled


def _re2() -> Any:
    """The RE2 module, imported on first use (renders without patterns never need it)."""
    import re2  # type: ignore[import-untyped]

    return re2


@functools.cache
def _options() -> Any:
    options = _re2().Options()
    options.log_errors = False  # RE2 would print each refusal on stderr
    options.max_mem = MAX_MEMORY
    return options


def _reason(pattern: str, exc: Exception) -> str:
    for marker, hint in _HINTS:
        if marker in pattern:
            return f"{hint} (RE2 matches in linear time, without lookarounds)"
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if "invalid escape sequence: \\" in text and text[-1:].isdigit():
        return "backreferences are not supported (RE2 matches in linear time)"
    if "pattern too large" in text:
        return "the pattern is too large"
    return text.split(": ", 1)[0] if len(text) > _QUOTED else text or "invalid pattern"
