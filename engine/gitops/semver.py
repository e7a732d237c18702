"""Masterminds/semver v3 versions and constraints, as Flux's image policies use them.

Flux picks the newest image tag within a range with ``github.com/Masterminds/semver/v3``
(v3.5.0) after ``fluxcd/pkg/version.ParseVersion``, which first demands exactly three
dot-separated parts. Its rules differ from npm's and from every Python semver library
(reference ``apply-gitops.md`` §7.3, §13.4): wildcards make a comparator "dirty", ``1.2``
means ``~1.2``, ``>1`` means ``>=2.0.0``, and a prerelease version satisfies an AND group
whenever any comparator in the group has a prerelease, whatever its major.minor.patch.
This module ports the library function by function; ``tests/oracles/semver`` checks it
against the Go module itself.

The regular expressions are the library's, with Go's ASCII meaning of ``\\s`` and ``\\d``;
Go's RE2 matches as a backtracking engine would, so Python's ``re`` selects the same
submatches.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import NamedTuple

MAX_VERSION_LEN = 256
MAX_CONSTRAINT_LEN = 512
MAX_CONSTRAINT_GROUPS = 32
_UINT64_MAX = 2**64 - 1

_S = r"[\t\n\f\r ]"  # Go's \s
_LOOSE = (
    r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_LOOSE_RE = re.compile(_LOOSE, re.ASCII)
_CV = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_CONSTRAINT_RE = re.compile(rf"{_S}*({_OPS}){_S}*({_CV}){_S}*", re.ASCII)
_RANGE_RE = re.compile(rf"{_S}*({_CV}){_S}+-{_S}+({_CV}){_S}*", re.ASCII)
_FIND_RE = re.compile(rf"({_OPS}){_S}*({_CV})", re.ASCII)
_VALID_RE = re.compile(
    rf"({_S}*({_OPS}){_S}*({_CV}){_S}*)((?:{_S}+|,{_S}*)({_OPS}){_S}*({_CV}){_S}*)*", re.ASCII
)
_NUM = frozenset("0123456789")
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789")


class SemverError(ValueError):
    """A version or constraint the library would reject; the message is the library's."""


class Version(NamedTuple):
    """A parsed version; ``original`` is the text as written (Flux returns it).

    A named tuple because thousands are made per policy run; order them with ``compare``
    (tuple order is not semver order).
    """

    major: int
    minor: int
    patch: int
    pre: str = ""
    metadata: str = ""
    original: str = ""

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as Masterminds ``Compare`` (metadata ignored)."""
        for a, b in ((self.major, other.major), (self.minor, other.minor)):
            if a != b:
                return -1 if a < b else 1
        if self.patch != other.patch:
            return -1 if self.patch < other.patch else 1
        if not self.pre and not other.pre:
            return 0
        if not self.pre:
            return 1
        if not other.pre:
            return -1
        return _compare_prerelease(self.pre, other.pre)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.metadata:
            text += f"+{self.metadata}"
        return text


def _go_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _uint(text: str) -> int:
    value = int(text)
    if value > _UINT64_MAX:
        raise SemverError(f'error parsing version segment: strconv.ParseUint: parsing "{text}"')
    return value


def _validate_prerelease(pre: str) -> None:
    for part in pre.split("."):
        if part == "":
            raise SemverError("invalid prerelease string")
        if set(part) <= _NUM:
            if len(part) > 1 and part[0] == "0":
                raise SemverError("version segment starts with 0")
        elif not set(part) <= _ALLOWED:
            raise SemverError("invalid prerelease string")


def _validate_metadata(meta: str) -> None:
    for part in meta.split("."):
        if part == "" or not set(part) <= _ALLOWED:
            raise SemverError("invalid metadata string")


def new_version(text: str) -> Version:
    """Masterminds ``NewVersion`` (coercing: ``v`` prefix, missing parts, leading zeros)."""
    if _go_len(text) > MAX_VERSION_LEN:
        raise SemverError(f"version string is too long (max {MAX_VERSION_LEN} bytes)")
    m = _LOOSE_RE.fullmatch(text)
    if m is None:
        raise SemverError("invalid semantic version")
    g = [x or "" for x in m.groups()]
    major = _uint(g[0])
    minor = _uint(g[1][1:]) if g[1] else 0
    patch = _uint(g[2][1:]) if g[2] else 0
    pre, meta = g[4], g[7]
    if pre:
        _validate_prerelease(pre)
    if meta:
        _validate_metadata(meta)
    return Version(major, minor, patch, pre, meta, text)


def parse_version(text: str) -> Version:
    """Flux's ``version.ParseVersion``: exactly three dot-separated parts, then NewVersion."""
    if len(text.split(".", 2)) != 3:
        raise SemverError(f"failed to parse version '{text}': expected three parts")
    return new_version(text)


def _compare_pre_part(s: str, o: str) -> int:
    if s == o:
        return 0
    if s == "":
        return -1
    if o == "":
        return 1
    s_num = s.isascii() and s.isdigit() and int(s) <= _UINT64_MAX
    o_num = o.isascii() and o.isdigit() and int(o) <= _UINT64_MAX
    if not s_num and not o_num:
        return 1 if s.encode() > o.encode() else -1
    if not o_num:
        return -1
    if not s_num:
        return 1
    return 1 if int(s) > int(o) else -1


def _compare_prerelease(v: str, o: str) -> int:
    sp, op = v.split("."), o.split(".")
    for i in range(max(len(sp), len(op))):
        d = _compare_pre_part(sp[i] if i < len(sp) else "", op[i] if i < len(op) else "")
        if d:
            return d
    return 0


@dataclasses.dataclass(frozen=True)
class _Comparator:
    op: str
    con: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool


def _is_x(text: str) -> bool:
    return text in ("x", "X", "*")


def _parse_comparator(text: str) -> _Comparator:
    m = _CONSTRAINT_RE.fullmatch(text)
    if m is None:
        raise SemverError(f"improper constraint: {text!r}")
    g = [x or "" for x in m.groups()]
    op, ver, major, minor, patch, pre = g[0], g[1], g[2], g[3], g[4], g[5]
    dirty = minor_dirty = patch_dirty = False
    if _is_x(major):
        ver, dirty = f"0.0.0{pre}", True
    elif _is_x(minor[1:]) or minor == "":
        ver, dirty, minor_dirty = f"{major}.0.0{pre}", True, True
    elif _is_x(patch[1:]) or patch == "":
        ver, dirty, patch_dirty = f"{major}{minor}.0{pre}", True, True
    try:
        con = new_version(ver)
    except SemverError:
        raise SemverError("constraint parser error") from None
    return _Comparator(op, con, dirty, minor_dirty, patch_dirty)


def _rewrite_range(text: str) -> str:
    out = text
    for m in _RANGE_RE.finditer(text):
        out = out.replace(m.group(0), f">= {m.group(1)}, <= {m.group(11)} ", 1)
    return out


@dataclasses.dataclass(frozen=True)
class Constraints:
    """An OR of AND groups of comparators; ``check`` is Masterminds ``Constraints.Check``."""

    groups: tuple[tuple[_Comparator, ...], ...]
    contains_pre: tuple[bool, ...]
    include_prerelease: bool = False

    def check(self, v: Version) -> bool:
        """Whether ``v`` satisfies one of the groups."""
        for group, has_pre in zip(self.groups, self.contains_pre, strict=True):
            include = self.include_prerelease or has_pre
            if all(_check(v, c, include) for c in group):
                return True
        return False


def new_constraint(text: str) -> Constraints:
    """Masterminds ``NewConstraint``: hyphen ranges, ``||`` groups, comma/space ANDs."""
    if _go_len(text) > MAX_CONSTRAINT_LEN:
        raise SemverError(f"constraint string is too long (max {MAX_CONSTRAINT_LEN} bytes)")
    ors = _rewrite_range(text).split("||")
    if len(ors) > MAX_CONSTRAINT_GROUPS:
        raise SemverError(f"too many constraint groups (max {MAX_CONSTRAINT_GROUPS})")
    groups: list[tuple[_Comparator, ...]] = []
    has_pre: list[bool] = []
    for part in ors:
        if _VALID_RE.fullmatch(part) is None:
            raise SemverError(f"improper constraint: {part!r}")
        found = [m.group(0) for m in _FIND_RE.finditer(part)] or [part]
        comparators = tuple(_parse_comparator(s) for s in found)
        groups.append(comparators)
        has_pre.append(any(c.con.pre for c in comparators))
    return Constraints(tuple(groups), tuple(has_pre))


def _check(v: Version, c: _Comparator, include_pre: bool) -> bool:
    if v.pre and not include_pre:
        return False
    return _OPS_FUNCS[c.op](v, c)


def _not_equal(v: Version, c: _Comparator) -> bool:
    if c.dirty:
        if c.con.major != v.major:
            return True
        if c.con.minor != v.minor and not c.minor_dirty:
            return True
        if c.minor_dirty:
            return False
        if c.con.patch != v.patch and not c.patch_dirty:
            return True
        if c.patch_dirty:
            if v.pre or c.con.pre:
                return _compare_prerelease(v.pre, c.con.pre) != 0
            return False
    return v.compare(c.con) != 0


def _greater(v: Version, c: _Comparator) -> bool:
    if not c.dirty:
        return v.compare(c.con) == 1
    if v.major != c.con.major:
        return v.major > c.con.major
    if c.minor_dirty:
        return False
    if c.patch_dirty:
        return v.minor > c.con.minor
    return v.compare(c.con) == 1


def _less_equal(v: Version, c: _Comparator) -> bool:
    if not c.dirty:
        return v.compare(c.con) <= 0
    if v.major > c.con.major:
        return False
    return not (v.major == c.con.major and v.minor > c.con.minor and not c.minor_dirty)


def _tilde(v: Version, c: _Comparator) -> bool:
    if v.compare(c.con) < 0:
        return False
    con = c.con
    if (con.major, con.minor, con.patch) == (0, 0, 0) and not (c.minor_dirty or c.patch_dirty):
        return True
    if v.major != con.major:
        return False
    return not (v.minor != con.minor and not c.minor_dirty)


def _tilde_or_equal(v: Version, c: _Comparator) -> bool:
    if c.dirty:
        return _tilde(v, c)
    return v.compare(c.con) == 0


def _caret(v: Version, c: _Comparator) -> bool:
    con = c.con
    if v.compare(con) < 0:
        return False
    if con.major > 0 or c.minor_dirty:
        return v.major == con.major
    if v.major > 0:
        return False
    if con.minor > 0 or c.patch_dirty:
        return v.minor == con.minor
    if v.minor > 0:
        return False
    return con.patch == v.patch


_OPS_FUNCS: dict[str, Callable[[Version, _Comparator], bool]] = {
    "": _tilde_or_equal,
    "=": _tilde_or_equal,
    "!=": _not_equal,
    ">": _greater,
    "<": lambda v, c: v.compare(c.con) < 0,
    ">=": lambda v, c: v.compare(c.con) >= 0,
    "=>": lambda v, c: v.compare(c.con) >= 0,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}
