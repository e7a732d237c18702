"""Tag filters and policies behave as image-reflector-controller's, sharp edges included."""

from __future__ import annotations

import time

import pytest

from engine.errors import ImagePolicyError
from engine.gitops import policies
from engine.gitops.policies import Policy, choose, policy_from

SEED_TAGS = [
    "latest",
    "main-76a34322-1697703461",
    "main-9f0c1e2a-1697800000",
    "main-0a1b2c3d-1697799999",
    "main-0a1b2c3d-1697799999.sig",
    "feature-x-1697900000",
]


def test_the_seed_policy_picks_the_newest_timestamp() -> None:
    policy = policy_from({"numerical": {"order": "asc"}})
    picked = choose(SEED_TAGS, policy, "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "$ts")
    assert picked == "main-9f0c1e2a-1697800000"
    desc = policy_from({"numerical": {"order": "desc"}})
    assert choose(SEED_TAGS, desc, "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "$ts") == (
        "main-76a34322-1697703461"
    )


def test_numerical_fails_on_the_first_value_that_is_not_a_number() -> None:
    with pytest.raises(ImagePolicyError, match="failed to parse invalid numeric value 'latest'"):
        choose(SEED_TAGS, Policy("numerical"))
    # Go's ParseFloat: no underscores, no spaces, no out-of-range values; inf and hex are numbers
    for bad in ("1_000", " 1", "1e400", "0x10", ""):
        with pytest.raises(ImagePolicyError, match="invalid numeric value"):
            Policy("numerical").latest(["1", bad])
    assert Policy("numerical").latest(["1", "Inf", "2"]) == "Inf"
    assert Policy("numerical").latest(["0x1p4", "15.5"]) == "0x1p4"


def test_numerical_ties_go_to_the_later_tag() -> None:
    assert Policy("numerical").latest(["1.0", "1", "0.5"]) == "1"
    assert Policy("numerical", order="DESC").latest(["1", "1.0", "2"]) == "1.0"


def test_alphabetical_asc_is_the_bytewise_maximum() -> None:
    tags = ["RELEASE.2023-01-31", "RELEASE.2023-02-01", "release.2022"]
    assert policy_from({"alphabetical": {}}).latest(tags) == "release.2022"
    assert policy_from({"alphabetical": {"order": "desc"}}).latest(tags) == "RELEASE.2023-01-31"
    with pytest.raises(ImagePolicyError, match="invalid order argument"):
        policy_from({"alphabetical": {"order": "up"}})


def test_semver_skips_tags_without_three_parts_and_keeps_the_first_of_equals() -> None:
    policy = policy_from({"semver": {"range": ">=1.0.0"}})
    assert policy.latest(["1.2", "v1.1.0", "1.1.0+build", "latest", "v1.0.0"]) == "v1.1.0"
    assert policy_from({"semver": {"range": "^1.x-0"}}).latest(["1.4.0", "1.5.0-rc.1"]) == (
        "1.5.0-rc.1"
    )
    assert policy_from({"semver": {"range": "1.x"}}).latest(["v2025.02.03", "1.9.0"]) == "1.9.0"
    with pytest.raises(ImagePolicyError, match="unable to determine latest version"):
        policy.latest(["0.9.0", "main"])
    with pytest.raises(ImagePolicyError, match="invalid semver range"):
        policy_from({"semver": {"range": ">= nope"}})


def test_empty_list_and_filter_that_keeps_nothing() -> None:
    with pytest.raises(ImagePolicyError, match="version list argument cannot be empty"):
        choose(["a", "b"], Policy("alphabetical"), pattern="^v")


def test_extract_expands_like_go() -> None:
    m = policies.go_regexp(r"^(?P<ver>[0-9.]+)-(?<os>\w+)$", "p").search("1.2.3-alpine")
    assert m is not None
    assert policies.expand("$ver", m) == "1.2.3"
    assert policies.expand("${os}_$1", m) == "alpine_1.2.3"
    assert policies.expand("$ver_x", m) == ""  # longest name: ver_x, unknown → empty
    assert policies.expand("$$ver $nope ${", m) == "$ver  ${"
    # the later tag wins a duplicated extracted value
    mapping = policies.filter_tags(["a-1", "b-1", "c-2"], r"-(?P<n>\d)", "$n")
    assert mapping == {"1": "b-1", "2": "c-2"}


def test_patterns_are_unanchored_and_go_syntax_errors_are_reported() -> None:
    assert policies.filter_tags(["x-main-1"], "main") == {"x-main-1": "x-main-1"}
    assert policies.filter_tags(["v1", "vé"], r"^v[[:alpha:]\d]$") == {"v1": "v1"}
    with pytest.raises(ImagePolicyError, match=r"lookahead .* is not supported"):
        policies.go_regexp(r"(?=x)", "filterTags.pattern")
    with pytest.raises(ImagePolicyError, match=r"filterTags\.pattern: '\(' is not a valid"):
        policies.go_regexp("(", "filterTags.pattern")


def test_choosing_among_ten_thousand_tags_is_fast() -> None:
    tags = [f"main-{i:08x}-{1_600_000_000 + i}" for i in range(10_000)]
    start = time.perf_counter()
    picked = choose(tags, Policy("numerical"), "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "$ts")
    assert picked == tags[-1]
    assert time.perf_counter() - start < 2.0  # the bench target is 0.2 s; slack for loaded CI


def test_a_catastrophic_pattern_matches_in_linear_time() -> None:
    tags = ["a" * 50_000 + "!"]  # (a+)+$ backtracks exponentially in Python's re
    assert policies.filter_tags(tags, r"^(a+)+$") == {}
