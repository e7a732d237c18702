"""Image tag filters and policies with image-reflector-controller's exact semantics.

Flux keeps the tags a registry lists minus its exclusion list (cosign ``.sig`` tags), keeps
those ``filterTags.pattern`` matches anywhere (Go RE2, unanchored), replaces each by
``filterTags.extract`` expanded from the match (``$name``, ``${name}``, ``$1``), and asks one
policy for the latest value, mapped back to the tag it came from (reference §7.2). The sharp
edges are kept on purpose: ``numerical`` fails on the first value that is not a Go float,
``alphabetical`` ``asc`` means the byte-wise maximum, ``semver`` skips tags that are not three
dot-separated parts and keeps the first of equal versions. Where Flux depends on Go's random
map order (two tags extracting the same value; ties) sailplan is deterministic: the later tag
wins the value and the order is the registry's listing order.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.errors import ImagePolicyError
from engine.gitops import semver
from engine.model import regexes

DEFAULT_EXCLUSIONS = (r"^.*\.sig$",)

_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+)",
    re.ASCII,
)
_GO_SPECIAL = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}


def go_regexp(pattern: str, what: str) -> regexes.Regex:
    """Compile a Go RE2 pattern with RE2 itself: Go's syntax, linear-time matching."""
    try:
        return regexes.compile(pattern)
    except regexes.RegexError as exc:
        raise ImagePolicyError(f"{what}: {exc}") from None


def parse_go_float(text: str) -> float:
    """Go's ``strconv.ParseFloat(text, 64)``; ValueError for what Go rejects (range too)."""
    special = text.lstrip("+-").lower()
    if special in _GO_SPECIAL and len(text) - len(special) <= 1:
        value = _GO_SPECIAL[special]
        return -value if text.startswith("-") else value
    if not _GO_FLOAT.fullmatch(text):
        raise ValueError(text)
    value = float.fromhex(text) if "x" in text.lower() else float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


def expand(template: str, match: Any) -> str:
    """Go's ``Regexp.ExpandString``: ``$$``, ``$name``, ``${name}``, ``$1``; unknown → ''."""
    out: list[str] = []
    rest = template
    while True:
        before, dollar, rest = rest.partition("$")
        out.append(before)
        if not dollar:
            return "".join(out)
        if rest.startswith("$"):
            out.append("$")
            rest = rest[1:]
            continue
        parsed = _expand_name(rest)
        if parsed is None:
            out.append("$")
            continue
        name, rest = parsed
        out.append(_group(match, name))


def _expand_name(text: str) -> tuple[str, str] | None:
    brace = text.startswith("{")
    body = text[1:] if brace else text
    i = 0
    while i < len(body) and (body[i].isalnum() or body[i] == "_"):
        i += 1
    if i == 0 or (brace and not body[i:].startswith("}")):
        return None
    return body[:i], body[i + 1 :] if brace else body[i:]


def _group(match: Any, name: str) -> str:
    if name.isascii() and name.isdigit():
        if (len(name) > 1 and name[0] == "0") or len(name) > 8:
            return ""
        index = int(name)
        return (match.group(index) or "") if index <= match.re.groups else ""
    if name in match.re.groupindex:
        return match.group(name) or ""
    return ""


def exclude(tags: Iterable[str], patterns: Sequence[str] = DEFAULT_EXCLUSIONS) -> list[str]:
    """Drop tags matching any exclusion regex (Flux does this before storing tags)."""
    compiled = [go_regexp(p, "exclusionList") for p in patterns]
    return [t for t in tags if not any(c.search(t) for c in compiled)]


def filter_tags(tags: Iterable[str], pattern: str = "", extract: str = "") -> dict[str, str]:
    """The filtered values mapped to the tags they came from (later duplicates win)."""
    regexp = go_regexp(pattern, "filterTags.pattern")
    out: dict[str, str] = {}
    for tag in tags:
        match = regexp.search(tag)
        if match is not None:
            out[expand(extract, match) if extract else tag] = tag
    return out


@dataclasses.dataclass(frozen=True)
class Policy:
    """One of Flux's three policies, as written under ``policy:``."""

    kind: str  # semver | alphabetical | numerical
    order: str = "ASC"
    range: str = ""

    def latest(self, values: Sequence[str]) -> str:
        """The latest value by this policy; ImagePolicyError as Flux words its failures."""
        if not values:
            raise ImagePolicyError("version list argument cannot be empty")
        if self.kind == "semver":
            return _latest_semver(self.range, values)
        if self.kind == "alphabetical":
            ordered = sorted(values, key=lambda v: v.encode("utf-8", "surrogatepass"))
            return ordered[-1] if self.order == "ASC" else ordered[0]
        return _latest_numerical(values, self.order)


def policy_from(spec: Mapping[str, Any]) -> Policy:
    """Read ``policy: {semver: {range}} | {alphabetical: {order}} | {numerical: {order}}``."""
    if len(spec) != 1:
        raise ImagePolicyError("policy: give exactly one of semver, alphabetical, numerical")
    kind, body = next(iter(spec.items()))
    body = body or {}
    if kind == "semver":
        text = str(body.get("range", ""))
        try:
            semver.new_constraint(text)
        except semver.SemverError as exc:
            raise ImagePolicyError(f"invalid semver range '{text}': {exc}") from None
        return Policy("semver", range=text)
    if kind in ("alphabetical", "numerical"):
        order = str(body.get("order") or "asc").upper()
        if order not in ("ASC", "DESC"):
            raise ImagePolicyError(f"invalid order argument provided: '{order}'")
        return Policy(kind, order=order)
    raise ImagePolicyError(f"policy: unknown policy {kind!r}")


def _latest_semver(text: str, values: Sequence[str]) -> str:
    constraint = semver.new_constraint(text)
    latest: semver.Version | None = None
    for value in values:
        try:
            v = semver.parse_version(value)
        except semver.SemverError:
            continue
        if constraint.check(v) and (latest is None or v.compare(latest) > 0):
            latest = v
    if latest is None:
        raise ImagePolicyError("unable to determine latest version from provided list")
    return latest.original


def _latest_numerical(values: Sequence[str], order: str) -> str:
    latest, previous = "", 0.0
    for i, value in enumerate(values):
        try:
            current = parse_go_float(value)
        except ValueError:
            raise ImagePolicyError(f"failed to parse invalid numeric value '{value}'") from None
        if i > 0 and (current < previous if order == "ASC" else current > previous):
            continue
        latest, previous = value, current
    return latest


def choose(tags: Iterable[str], policy: Policy, pattern: str = "", extract: str = "") -> str:
    """The tag Flux's ImagePolicy would report: exclusions, filter, policy, mapped back."""
    kept = exclude(tags)
    filtered = pattern or extract
    mapping = filter_tags(kept, pattern, extract) if filtered else {t: t for t in kept}
    return mapping[policy.latest(list(mapping))]
