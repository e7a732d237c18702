"""Masterminds/semver v3 constraints, checked against the Go module itself.

``tests/oracles/semver`` is a ten-line Go program that answers with
``github.com/Masterminds/semver/v3`` v3.5.0 (the version Flux's image-reflector pins). It is
built once per content hash into a cache directory with the local Go toolchain through the
Go module proxy; a table of constraints x versions and hypothesis-generated strings must get
the same answers from ``engine.gitops.semver``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.gitops import semver
from tests.gitops.realparts import missing, require

ORACLE = Path(__file__).resolve().parents[1] / "oracles" / "semver"


class Oracle:
    """The oracle binary: request lines in, one answer line each out."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def ask_many(self, requests: list[str]) -> list[str]:
        done = subprocess.run(
            [str(self.binary)],
            input="".join(r + "\n" for r in requests),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        answers = done.stdout.splitlines()
        assert len(answers) == len(requests)
        return answers


def _build_oracle() -> Path:
    go = require("go", "the Go toolchain builds the Masterminds/semver oracle")
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((ORACLE / name).read_bytes())
    cache = Path(os.environ.get("SAILPLAN_TEST_CACHE", Path.home() / ".cache" / "sailplan-tests"))
    binary = cache / f"semver-oracle-{digest.hexdigest()[:16]}"
    if binary.exists():
        return binary
    cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    tmp = binary.with_suffix(".tmp")
    done = subprocess.run(
        [go, "build", "-o", str(tmp), "."],
        cwd=ORACLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        missing(f"cannot build the semver oracle: {done.stderr.strip()[-400:]}")
    tmp.rename(binary)
    return binary


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return Oracle(_build_oracle())


def ours_check(constraint: str, version: str) -> str:
    try:
        c = semver.new_constraint(constraint)
    except semver.SemverError:
        return "cerr"
    try:
        v = semver.new_version(version)
    except semver.SemverError:
        return "verr"
    return "true" if c.check(v) else "false"


def ours_version(version: str) -> str:
    try:
        return f"ok {semver.new_version(version)}"
    except semver.SemverError:
        return "err"


def ours_compare(a: str, b: str) -> str:
    try:
        return str(semver.new_version(a).compare(semver.new_version(b)))
    except semver.SemverError:
        return "err"


CONSTRAINTS = [
    "1.2.3",
    "=1.2.3",
    "v1.2.3",
    "!=1.2.3",
    ">1.2.3",
    "<1.2.3",
    ">=1.2.3",
    "=>1.2.3",
    "<=1.2.3",
    "=<1.2.3",
    "~1.2.3",
    "~>1.2.3",
    "^1.2.3",
    "1.2",
    "1",
    "1.x",
    "1.2.x",
    "1.X",
    "1.*",
    "*",
    "x",
    "X",
    ">1",
    ">1.2",
    ">1.x",
    ">11.1",
    "<1.x",
    "<=1.x",
    "<=2.x",
    "<=1.2",
    ">=1.x",
    "!=1.x",
    "!=1.2.x",
    "!=1.2",
    "~1",
    "~1.2",
    "~1.x",
    "~0",
    "~0.0.0",
    "~0.0.x",
    "^0",
    "^0.0",
    "^0.2.3",
    "^0.0.3",
    "^0.x",
    "^0.0.x",
    "^1.x",
    "^1.x-0",
    "^1.2.3-beta.2",
    "~1.2.3-beta.2",
    ">=1.0.0-0",
    ">0-0",
    ">=0.0.0-0",
    "<2.0.0-0",
    ">=1.2.3 <2",
    ">=1.2.3, <2",
    ">= 1.2.3 , < 2.0.0",
    "1.2 - 1.4.5",
    "1.2.3 - 2.3.4",
    "1 - 2",
    "1.2-1.4.5",
    "<1 || >=2",
    "^1 || ^3.0.0-0",
    "1.2.3 || 2.x",
    ">1.2.3-alpha",
    "=1.2.3-alpha.1",
    "!=1.2.3-alpha.1",
    "1.2.3+build",
    ">=1.2.3+meta",
    "~2.3.4-0",
    "<=1.2.3-rc.1",
    ">1.2.x-0",
    ">=01.2.3",
    "^01.2",
    "1.2.3.4",
    "",
    " ",
    "abc",
    ">=1.2.3 <=",
    "||",
    "1.2.3 ||",
    "=v2",
    "~>v3.1",
    ">= v1.0.0-rc.1",
    "5.0.x",
    "2025.2.x",
    "^2025.2.3",
    ">= 18446744073709551615",
    ">18446744073709551616",
    "1||2",
    "1 | 2",
    "x.1.2",
    "1.x.3",
]

VERSIONS = [
    "0.0.0",
    "0.0.1",
    "0.0.1-alpha",
    "0.0.3",
    "0.0.4",
    "0.1.0",
    "0.2.3",
    "0.2.9",
    "0.3.0",
    "1.0.0",
    "1.0.0-0",
    "1.0.0-rc.1",
    "1.1.9",
    "1.2.0",
    "1.2.2",
    "1.2.3",
    "1.2.3-alpha",
    "1.2.3-alpha.1",
    "1.2.3-beta.2",
    "1.2.3-beta.10",
    "1.2.3+build",
    "1.2.4",
    "1.2.4-beta.2",
    "1.3.0",
    "1.4.5",
    "1.4.6",
    "1.5.0-rc.1",
    "1.9.9",
    "1.99.0",
    "2.0.0",
    "2.0.0-rc.1",
    "2.0.0-0",
    "2.3.4",
    "2.3.5",
    "3.0.0",
    "3.1.0-BETA",
    "3.1.0-alpha",
    "11.1.0",
    "11.2.0",
    "v1.2.3",
    "v2025.02.03-rc.1",
    "2025.2.3",
    "01.2.3",
    "1.2",
    "1",
    "v2",
    "1.2.3.4",
    "1.2.3-01",
    "1.2.3-",
    "1.2.3+",
    "18446744073709551615.0.0",
    "18446744073709551616.0.0",
    "latest",
    "main-76a34322-1697703461",
    "",
]


def test_table_of_constraints_and_versions_agrees_with_masterminds(oracle: Oracle) -> None:
    pairs = [(c, v) for c in CONSTRAINTS for v in VERSIONS]
    assert len(pairs) > 5000
    answers = oracle.ask_many([f"C\t{c}\t{v}" for c, v in pairs])
    wrong = [
        (c, v, want, ours_check(c, v))
        for (c, v), want in zip(pairs, answers, strict=True)
        if ours_check(c, v) != want
    ]
    assert wrong == []
    assert answers.count("true") > 300 and answers.count("false") > 1000


def test_version_parsing_and_order_agree_with_masterminds(oracle: Oracle) -> None:
    assert oracle.ask_many([f"V\t{v}" for v in VERSIONS]) == [ours_version(v) for v in VERSIONS]
    pairs = [(a, b) for a in VERSIONS for b in VERSIONS]
    want = oracle.ask_many([f"P\t{a}\t{b}" for a, b in pairs])
    assert want == [ours_compare(a, b) for a, b in pairs]


PIECE = st.sampled_from(
    [
        "1",
        "0",
        "2",
        "10",
        "01",
        "x",
        "X",
        "*",
        ".",
        "-",
        "+",
        " ",
        ",",
        "||",
        "v",
        "a",
        "rc",
        "alpha",
        "0",
        "=",
        "!=",
        ">",
        "<",
        ">=",
        "<=",
        "~",
        "~>",
        "^",
        " - ",
        "-0",
    ]
)
TEXT = st.lists(PIECE, max_size=10).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(constraint=TEXT, version=TEXT)
def test_generated_strings_agree_with_masterminds(
    oracle: Oracle, constraint: str, version: str
) -> None:
    want = oracle.ask_many(
        [f"C\t{constraint}\t{version}", f"V\t{version}", f"P\t{version}\t{constraint}"]
    )
    assert [
        ours_check(constraint, version),
        ours_version(version),
        ours_compare(version, constraint),
    ] == want


def test_flux_parse_version_wants_three_parts() -> None:
    assert semver.parse_version("v2025.02.03-rc.1").original == "v2025.02.03-rc.1"
    for two in ("1.2", "v1", "latest"):
        with pytest.raises(semver.SemverError):
            semver.parse_version(two)
