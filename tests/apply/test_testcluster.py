"""scripts/testcluster.py without a cluster: where binaries come from, what is ready."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster import testcluster


def executables(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("#!/bin/sh\n")
        (folder / name).chmod(0o755)
    return folder


@pytest.fixture
def no_assets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in (*testcluster.BINARIES, "kwok-stages"):
        monkeypatch.delenv(testcluster.asset_variable(name), raising=False)
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    monkeypatch.setenv("SAILPLAN_CONTROL_PLANE_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_asset_variables_follow_envtest() -> None:
    assert testcluster.asset_variable("kube-apiserver") == "TEST_ASSET_KUBE_APISERVER"
    assert testcluster.asset_variable("etcd") == "TEST_ASSET_ETCD"


def test_versions_come_from_the_tool_modules() -> None:
    versions = testcluster.read_versions()
    assert versions.k8s.startswith("v1.")
    assert versions.key == f"{versions.k8s}-{versions.etcd}-{versions.kwok}"


def test_missing_binaries_are_named(no_assets: Path) -> None:
    with pytest.raises(testcluster.MissingBinaries, match="etcd, kube-apiserver"):
        testcluster.find_binaries()


def test_lookup_order_is_test_asset_then_kubebuilder_assets_then_cache(
    no_assets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = executables(testcluster.built_dir(), *testcluster.BINARIES, "kwok-stages.yaml")
    (cache / ".complete").write_text("{}")
    assets = executables(no_assets / "assets", "etcd", "kube-apiserver")
    own = executables(no_assets / "own", "etcd")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(assets))
    monkeypatch.setenv("TEST_ASSET_ETCD", str(own / "etcd"))

    found = testcluster.find_binaries()

    assert found["etcd"] == own / "etcd"
    assert found["kube-apiserver"] == assets / "kube-apiserver"
    assert found["kwok"] == cache / "kwok"
    assert found["kwok-stages.yaml"] == cache / "kwok-stages.yaml"


def test_an_unfinished_build_is_not_used(no_assets: Path) -> None:
    executables(testcluster.built_dir(), *testcluster.BINARIES, "kwok-stages.yaml")
    with pytest.raises(testcluster.MissingBinaries):
        testcluster.find_binaries()


def test_deployment_available_needs_every_replica() -> None:
    deployment = {
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 2,
            "updatedReplicas": 2,
            "availableReplicas": 1,
            "conditions": [{"type": "Available", "status": "True"}],
        },
    }
    assert not testcluster.deployment_available(deployment)
    deployment["status"]["availableReplicas"] = 2
    assert testcluster.deployment_available(deployment)
    deployment["status"]["observedGeneration"] = 1
    assert not testcluster.deployment_available(deployment)
