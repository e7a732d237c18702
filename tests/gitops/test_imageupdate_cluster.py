"""``image-update --kubeconfig/--context``: secretRef Secrets read from the control plane."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.cluster import Cluster
from tests.gitops.conftest import PASSWORD, USER, Registry, Remote
from tests.gitops.test_imageupdate import sailplan, source

pytestmark = pytest.mark.cluster


def in_namespace(src: Path, remote: Remote, ns: str) -> None:
    """The source Application and the seed's marker in ``ns``."""
    data = json.loads(src.read_text())
    data["metadata"]["namespace"] = ns
    src.write_text(json.dumps(data))
    seed = remote.show("apps/my-app.yaml").replace('"default:apps"', f'"{ns}:apps"')
    remote.commit_file("apps/my-app.yaml", seed, "marker in the test namespace")


def create_secrets(cluster: Cluster, ns: str, host: str, password: str) -> None:
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    docker = json.dumps({"auths": {host: {"auth": auth}}})
    cluster.kubectl(
        "create", "secret", "generic", "dockerhub-secret", "-n", ns,
        "--type=kubernetes.io/dockerconfigjson", "--from-file=.dockerconfigjson=/dev/stdin",
        input=docker,
    )  # fmt: skip
    cluster.kubectl(
        "create", "secret", "generic", "git-secret", "-n", ns,
        f"--from-literal=username={USER}", "--from-file=password=/dev/stdin",
        input=password,
    )  # fmt: skip


def test_secret_refs_are_read_from_the_cluster(
    tmp_path: Path,
    remote: Remote,
    http_remote: str,
    basic_registry: Registry,
    cluster: Cluster,
    namespace: str,
) -> None:
    basic_registry.push("cluster/app", "main-1234abcd-1900000000")
    image = f"{basic_registry.host}/cluster/app"
    src = source(tmp_path, http_remote, image)
    in_namespace(src, remote, namespace)
    kube = ["--kubeconfig", str(cluster.kubeconfig), "--context", cluster.context]

    # no Secret yet: named, one line, exit 1
    done = sailplan("image-update", str(src), "--once", *kube)
    assert done.returncode == 1
    assert done.stderr == f"error: Secret/{namespace}/dockerhub-secret: not found\n"

    # wrong passwords in the cluster: refused, without the password anywhere
    create_secrets(cluster, namespace, basic_registry.host, "hunter2")
    done = sailplan("image-update", str(src), "--once", *kube)
    assert done.returncode == 1 and "hunter2" not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr

    cluster.kubectl("delete", "secret", "-n", namespace, "dockerhub-secret", "git-secret")
    create_secrets(cluster, namespace, basic_registry.host, PASSWORD)
    done = sailplan("image-update", str(src), "--once", *kube)
    assert done.returncode == 0, done.stderr
    assert f"{namespace}:apps: {image} -> main-1234abcd-1900000000" in done.stdout
    assert remote.log()[0] == "Update image automatically."
    assert f"{image}:main-1234abcd-1900000000" in remote.show("apps/my-app.yaml")
