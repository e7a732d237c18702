"""User regular expressions: RE2, linear time, readable refusals."""

from __future__ import annotations

import time

import pytest

from engine.model import regexes


def test_catastrophic_backtracking_patterns_match_in_linear_time() -> None:
    pattern = regexes.compile("^(a+)+$")
    started = time.monotonic()
    assert pattern.search("a" * 200_000 + "!") is None
    assert pattern.search("a" * 200_000) is not None
    assert time.monotonic() - started < 2  # Python's re takes longer than the universe


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(?=a)a", "lookahead '(?=' is not supported"),
        ("(?<!a)b", "negative lookbehind '(?<!' is not supported"),
        (r"(a)\1", "backreferences are not supported"),
        ("web[", "missing ]"),
        ("a{1001}", "invalid repetition size"),
        ("a\x00b", "NUL"),
    ],
)
def test_patterns_re2_refuses_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(regexes.RegexError) as info:
        regexes.compile(pattern)
    assert reason in str(info.value)
    assert "is not a valid regular expression" in str(info.value)


def test_a_long_pattern_is_quoted_in_part() -> None:
    with pytest.raises(regexes.RegexError) as info:
        regexes.compile("(" * 10_000)
    assert len(str(info.value)) < 300
    assert "more characters" in str(info.value)


def test_go_syntax_is_accepted() -> None:
    assert regexes.compile(r"^\pL+$").search("héllo")
    assert regexes.compile("(?P<name>web)-[0-9]+").search("web-12")
