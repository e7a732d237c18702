"""The ``kustomize`` source's Flux fields in ``sync``: targetNamespace, timeout, suspend,
force and prune, on the real control plane with a real git remote."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import Cluster
from tests.gitops.conftest import Remote, git
from tests.gitops.test_sync import run

pytestmark = pytest.mark.cluster

SETTINGS = """apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
immutable: {immutable}
data: {{level: "{level}"}}
"""
CLAIM = """apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: no-such-class
  resources: {requests: {storage: 1Mi}}
"""


def source(tmp_path: Path, remote: Remote, ns: str, **props: Any) -> Path:
    """An Application with one git source on ``remote``'s ``apps`` path."""
    properties = {
        "repoType": "git",
        "url": remote.url,
        "git": {"branch": "main"},
        "path": "./apps",
        "targetNamespace": ns,
        **props,
    }
    app = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "apps", "namespace": ns},
        "spec": {"components": [{"name": "apps", "type": "kustomize", "properties": properties}]},
    }
    path = tmp_path / "apps.yaml"
    path.write_text(json.dumps(app, indent=2))
    return path


def names(cluster: Cluster, ns: str, kind: str) -> set[str]:
    out = cluster.kubectl("get", kind, "-n", ns, "-o", "name").stdout
    return {line.split("/", 1)[1] for line in out.split()}


def test_target_namespace_places_applications_and_unnamespaced_objects(
    tmp_path: Path, remote: Remote, cluster: Cluster, namespace: str
) -> None:
    # the seed's my-app says namespace: default; the ConfigMap says nothing
    remote.commit_file("apps/settings.yaml", SETTINGS.format(immutable="false", level=1), "cm")
    code, out = run(cluster, "sync", str(source(tmp_path, remote, namespace)), "--once")
    assert code == 0, out
    assert f"{namespace}/my-app: revision 1" in out
    assert "my-server" in names(cluster, namespace, "deployment")
    assert "settings" in names(cluster, namespace, "configmap")
    assert "my-server" not in names(cluster, "default", "deployment")


def test_suspend_skips_the_source_and_says_so(
    tmp_path: Path, remote: Remote, cluster: Cluster, namespace: str
) -> None:
    path = source(tmp_path, remote, namespace, suspend=True)
    code, out = run(cluster, "sync", str(path), "--once")
    assert code == 0, out
    assert f"{namespace}/apps: suspended: skipped (suspend: true)" in out
    assert "my-server" not in names(cluster, namespace, "deployment")
    code, out = run(cluster, "sync", str(path), "--status")
    assert code == 0 and "suspended" in out
    # resumed: the next pass applies
    code, out = run(cluster, "sync", str(source(tmp_path, remote, namespace)), "--once")
    assert code == 0, out
    assert "my-server" in names(cluster, namespace, "deployment")


def test_prune_false_keeps_what_left_git(
    tmp_path: Path, remote: Remote, cluster: Cluster, namespace: str
) -> None:
    remote.commit_file("apps/settings.yaml", SETTINGS.format(immutable="false", level=1), "cm")
    path = source(tmp_path, remote, namespace, prune=False)
    code, out = run(cluster, "sync", str(path), "--once")
    assert code == 0, out
    git("pull", "--quiet", "origin", "main", cwd=remote.work)
    git("rm", "--quiet", "apps/settings.yaml", cwd=remote.work)
    git("commit", "--quiet", "-m", "no settings", cwd=remote.work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=remote.work)
    code, out = run(cluster, "sync", str(path), "--once")
    assert code == 0, out
    assert "deleted" not in out
    assert "settings" in names(cluster, namespace, "configmap")
    # as in Flux, it is left orphaned: a later pass with prune does not delete it either


def test_force_recreates_an_object_whose_immutable_field_changed(
    tmp_path: Path, remote: Remote, cluster: Cluster, namespace: str
) -> None:
    remote.commit_file("apps/settings.yaml", SETTINGS.format(immutable="true", level=1), "cm")
    code, out = run(cluster, "sync", str(source(tmp_path, remote, namespace)), "--once")
    assert code == 0, out
    remote.commit_file("apps/settings.yaml", SETTINGS.format(immutable="true", level=2), "cm 2")
    code, out = run(cluster, "sync", str(source(tmp_path, remote, namespace)), "--once")
    assert code == 1, out
    assert "apply-failed" in out and "immutable" in out
    code, out = run(cluster, "sync", str(source(tmp_path, remote, namespace, force=True)), "--once")
    assert code == 0, out
    live = cluster.kubectl("get", "configmap", "settings", "-n", namespace, "-o", "json").stdout
    assert json.loads(live)["data"] == {"level": "2"}


def test_timeout_limits_the_wait_of_a_source(
    tmp_path: Path, remote: Remote, cluster: Cluster, namespace: str
) -> None:
    remote.commit_file("apps/claim.yaml", CLAIM, "a claim that never binds")
    path = source(tmp_path, remote, namespace, timeout="3s")
    started = time.monotonic()
    code, out = run(cluster, "sync", str(path), "--once", "--timeout", "10m")
    assert code == 1, out
    assert time.monotonic() - started < 60
    assert "apply-failed" in out and "PersistentVolumeClaim" in out


def test_a_bad_timeout_names_its_line(tmp_path: Path, remote: Remote, cluster: Cluster) -> None:
    path = source(tmp_path, remote, "x", timeout="soon")
    code, out = run(cluster, "sync", str(path), "--once")
    assert code == 1
    assert f"{path}:" in out and "timeout" in out and "'soon' is not a duration" in out
