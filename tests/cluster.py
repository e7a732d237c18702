"""Pytest fixtures for tests against a real Kubernetes control plane.

One control plane per test session (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok on 127.0.0.1, see ``scripts/testcluster.py``), a fresh namespace per
test, and a second cluster on the same etcd, started only when a test asks for it.

    pytestmark = pytest.mark.cluster

    def test_apply(cluster: Cluster, namespace: str) -> None:
        cluster.kubectl("apply", "-n", namespace, "-f", "-", input=manifest)

    def test_two(cluster: Cluster, second_cluster: Cluster, multi_kubeconfig: Path) -> None:
        ...  # multi_kubeconfig has the contexts cluster.context and second_cluster.context

Binaries come from ``TEST_ASSET_<NAME>``, ``KUBEBUILDER_ASSETS`` or the build cache; when
missing they are built if Go is installed (long: a note is printed), otherwise the tests are
skipped, except when ``CI`` is set: then they fail. ``SAILPLAN_TEST_KUBECONFIG=path`` runs
them against an existing cluster instead (its current context; ``SAILPLAN_TEST_SECOND_CONTEXT``
names a second context for ``second_cluster``).
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

import testcluster  # noqa: E402

EXTERNAL = "SAILPLAN_TEST_KUBECONFIG"
SECOND_CONTEXT = "SAILPLAN_TEST_SECOND_CONTEXT"
SECOND = "second"


@dataclass(frozen=True)
class Cluster:
    """One cluster: a kubeconfig whose ``context`` reaches ``server``."""

    name: str
    kubeconfig: Path
    server: str
    context: str

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against this cluster; raise with its stderr when it fails."""
        command = ["kubectl", f"--kubeconfig={self.kubeconfig}", f"--context={self.context}", *args]
        result = subprocess.run(
            command, input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"`{' '.join(command)}` exited {result.returncode}:\n{result.stderr.strip()}"
            )
        return result

    def api_client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` for this cluster (imports ``kubernetes``)."""
        from kubernetes import config

        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(self.kubeconfig), context=self.context
        )


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _skip_or_fail(reason: str) -> NoReturn:
    if _in_ci():
        pytest.fail(f"{reason} (CI is set: cluster tests never skip in CI)", pytrace=False)
    pytest.skip(reason)


def _note(config: pytest.Config, message: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n{message}", yellow=True)


def _binaries(config: pytest.Config) -> dict[str, Path]:
    try:
        return testcluster.find_binaries()
    except testcluster.MissingBinaries as missing:
        if shutil.which("go") is None:
            _skip_or_fail(f"{missing}; Go is not installed to build them")
        _note(
            config,
            "Building the test control plane from Go modules (15-40 min the first time, then "
            f"cached in {testcluster.built_dir()}); `scripts/test-cluster build` does it ahead.",
        )
        try:
            testcluster.build()
        except testcluster.ControlPlaneError as error:
            pytest.fail(f"building the test control plane failed: {error}", pytrace=False)
        return testcluster.find_binaries()


def _external(context: str | None) -> Cluster:
    kubeconfig = Path(os.environ[EXTERNAL]).resolve()
    config = yaml.safe_load(kubeconfig.read_text())
    context = context or config.get("current-context")
    contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
    clusters = {c["name"]: c["cluster"] for c in config.get("clusters") or []}
    if context not in contexts:
        pytest.fail(f"{EXTERNAL}={kubeconfig} has no context {context!r}", pytrace=False)
    server = clusters[contexts[context]["cluster"]]["server"]
    return Cluster(name=str(context), kubeconfig=kubeconfig, server=server, context=str(context))


def _from_info(info: testcluster.ClusterInfo) -> Cluster:
    return Cluster(
        name=info.name, kubeconfig=info.kubeconfig, server=info.server, context=info.context
    )


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest) -> Iterator[testcluster.ControlPlane | None]:
    """The session's control plane; None when ``SAILPLAN_TEST_KUBECONFIG`` is used instead."""
    if os.environ.get(EXTERNAL):
        yield None
        return
    binaries = _binaries(request.config)
    directory = Path(tempfile.mkdtemp(prefix="sailplan-cluster-"))
    started = time.monotonic()
    try:
        plane = testcluster.ControlPlane.start(directory, binaries, tie_to_parent=True)
    except testcluster.ControlPlaneError as error:
        pytest.fail(f"the test control plane did not start ({directory}): {error}", pytrace=False)
    atexit.register(plane.stop)  # also when the session is interrupted
    _note(
        request.config, f"test control plane up in {time.monotonic() - started:.1f} s ({directory})"
    )
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def cluster(control_plane: testcluster.ControlPlane | None) -> Cluster:
    """The session's cluster (context ``sailplan-test``)."""
    if control_plane is None:
        return _external(None)
    return _from_info(control_plane.clusters[testcluster.MAIN])


@pytest.fixture(scope="session")
def second_cluster(control_plane: testcluster.ControlPlane | None, cluster: Cluster) -> Cluster:
    """Another cluster: its own apiserver (and controllers, scheduler, kwok) on the same etcd.

    Started on first use (about 10 s). Its context is ``sailplan-test-second``.
    """
    if control_plane is None:
        context = os.environ.get(SECOND_CONTEXT)
        if not context:
            _skip_or_fail(f"{EXTERNAL} is set but {SECOND_CONTEXT} names no second context")
        return _external(context)
    if SECOND in control_plane.clusters:
        return _from_info(control_plane.clusters[SECOND])
    try:
        return _from_info(control_plane.add_cluster(SECOND))
    except testcluster.ControlPlaneError as error:
        pytest.fail(f"the second test cluster did not start: {error}", pytrace=False)


@pytest.fixture(scope="session")
def multi_kubeconfig(
    control_plane: testcluster.ControlPlane | None, cluster: Cluster, second_cluster: Cluster
) -> Path:
    """A kubeconfig with both contexts (``cluster.context`` is the current one)."""
    if control_plane is None:
        return cluster.kubeconfig
    return control_plane.combined_kubeconfig


def _namespace_name(test_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40].strip("-")
    return f"t-{slug}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace in ``cluster``, with its ``default`` ServiceAccount; deleted after."""
    name = _namespace_name(request.node.name)
    cluster.kubectl("create", "namespace", name)
    deadline = time.monotonic() + 60
    while cluster.kubectl("get", "serviceaccount", "default", "-n", name, check=False).returncode:
        if time.monotonic() > deadline:
            raise AssertionError(f"namespace {name} got no default ServiceAccount in 60 s")
        time.sleep(0.2)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)
