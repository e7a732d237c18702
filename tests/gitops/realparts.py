"""Real parts the GitOps tests need (Go, docker-registry, git): skip locally, fail in CI.

A missing tool on a developer machine skips the test with the install hint; under ``CI``
the same absence is a failure, so CI can never pass by skipping the real-component tests.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(tool: str, hint: str) -> str:
    """The path of ``tool``; skip (or fail under CI) when it is not installed."""
    path = shutil.which(tool)
    if path is None:
        missing(f"{tool} not found ({hint})")
    assert path is not None
    return path


def missing(reason: str) -> None:
    """Skip locally, fail when the environment variable CI is set."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run this test", pytrace=False)
    pytest.skip(reason)
