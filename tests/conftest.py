"""Shared fixtures: the built-in registry, a render helper, and golden YAML snapshots.

Golden files live in ``golden/<test folder>/<test module>/<case>.yaml`` at the
repository root; ``pytest --snapshot-update`` is the only way to regenerate them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode
from syrupy.location import PyTestLocation

from engine.build import DEFAULT_KUBE_VERSION, Build, build_documents
from engine.definitions import Registry
from engine.model import dump_yaml, load_documents

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
GOLDEN = ROOT / "golden"
EXAMPLES = ROOT / "examples"


class GoldenYaml(SingleFileSnapshotExtension):
    """One YAML file per snapshot under ``golden/``, mirroring ``tests/``."""

    file_extension = "yaml"
    _write_mode = WriteMode.TEXT

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        folder = Path(test_location.filepath).parent.relative_to(TESTS)
        return str(GOLDEN / folder / test_location.basename)


@pytest.fixture
def golden(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(GoldenYaml)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry()


def build_text(
    text: str,
    registry: Registry,
    *,
    file: str = "app.yaml",
    kube_version: tuple[int, int] = DEFAULT_KUBE_VERSION,
) -> Build:
    """Build every document of a YAML text."""
    return build_documents(load_documents(text, file), registry, kube_version=kube_version)


def render_text(text: str, registry: Registry, **kwargs: Any) -> str:
    """The YAML ``sailplan render`` prints for a YAML text."""
    return dump_yaml(build_text(text, registry, **kwargs).manifests)


def objects(text: str, registry: Registry, **kwargs: Any) -> list[dict[str, Any]]:
    """The rendered objects of a YAML text."""
    return [m.object for m in build_text(text, registry, **kwargs).manifests]


# The real control plane (tests/cluster.py): cluster, namespace, second_cluster, multi_kubeconfig.
from tests.cluster import (  # noqa: E402, F401
    cluster,
    control_plane,
    multi_kubeconfig,
    namespace,
    second_cluster,
)
