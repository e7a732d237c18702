"""``sailplan sync``: the seed's whole loop on the real control plane, registry and git."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.apply.test_cluster import available, get, wait_for
from tests.cluster import Cluster
from tests.gitops.conftest import PASSWORD, USER, Registry, Remote, git

pytestmark = pytest.mark.cluster

OLD, NEW = "main-76a34322-1697703461", "main-9f0c1e2a-1697800000"
EXTRA = """apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: extra, namespace: {ns}}}
spec:
  components:
  - name: extra-web
    type: webservice
    properties: {{image: "registry.k8s.io/pause:3.10", port: 80}}
"""


def run(cluster: Cluster, *args: str) -> tuple[int, str]:
    from cli import main

    extra = ["--kubeconfig", str(cluster.kubeconfig), "--context", cluster.context]
    result = CliRunner().invoke(main, [*args, *extra], env={"NO_COLOR": "1"})
    return result.exit_code, result.output


def image_of(registry: Registry, ns: str) -> str:
    """The seed's image, in a repository of this test's own (the registry is shared)."""
    return f"{registry.host}/{repository(ns)}"


def repository(ns: str) -> str:
    return f"cnych/{ns}"


def prepare(tmp_path: Path, remote: Remote, registry: Registry, ns: str, cluster: Cluster) -> Path:
    image = image_of(registry, ns)
    seed = remote.show("apps/my-app.yaml")
    seed = (
        seed.replace("namespace: default", f"namespace: {ns}")
        .replace("cnych/kubevela-gitops-demo:", f"{image}:")
        .replace('"default:apps"', f'"{ns}:apps"')
    )
    remote.commit_file("apps/my-app.yaml", seed, "my-app in the test namespace")
    remote.commit_file("apps/extra.yaml", EXTRA.format(ns=ns), "extra app")
    registry.push(repository(ns), OLD)
    docker = json.dumps({"auths": {registry.host: {"username": USER, "password": PASSWORD}}})
    cluster.kubectl(
        "create",
        "secret",
        "docker-registry",
        "dockerhub-secret",
        "-n",
        ns,
        "--from-file=.dockerconfigjson=/dev/stdin",
        input=docker,
    )
    props = {
        "repoType": "git",
        "url": remote.url,
        "pullInterval": "1m",
        "git": {"branch": "main"},
        "path": "./apps",
        "imageRepository": {
            "image": image,
            "secretRef": "dockerhub-secret",
            "filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
            "policy": {"numerical": {"order": "asc"}},
            "commitMessage": "Image: {{range .Updated.Images}}{{println .}}{{end}}",
        },
    }
    app = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "apps", "namespace": ns},
        "spec": {"components": [{"name": "apps", "type": "kustomize", "properties": props}]},
    }
    path = tmp_path / "apps.yaml"
    path.write_text(json.dumps(app, indent=2))
    return path


def deployment(cluster: Cluster, ns: str, name: str) -> dict[str, Any]:
    return get(cluster, "-n", ns, "deployment", name)


def test_the_seed_loop(
    tmp_path: Path, remote: Remote, basic_registry: Registry, cluster: Cluster, namespace: str
) -> None:
    source = prepare(tmp_path, remote, basic_registry, namespace, cluster)
    image = image_of(basic_registry, namespace)

    # first pass: my-app (and extra) deployed at the tag in git; no image commit
    code, out = run(cluster, "sync", str(source), "--once")
    assert code == 0, out
    assert f"{namespace}/apps: applied: Applied revision: main@sha1:" in out
    assert (
        deployment(cluster, namespace, "my-server")["spec"]["template"]["spec"]["containers"][0][
            "image"
        ]
        == f"{image}:{OLD}"
    )
    assert remote.log()[0] == "extra app"

    # CI pushes a new tag; one pass later git has the commit and the cluster runs it
    basic_registry.push(repository(namespace), NEW)
    code, out = run(cluster, "sync", str(source), "--once")
    assert code == 0, out
    assert remote.log()[0] == "Update image automatically."
    assert f'image: {image}:{NEW} # {{"$imagepolicy": "{namespace}:apps"}}' in remote.show(
        "apps/my-app.yaml"
    )
    live = wait_for(
        lambda: (d := deployment(cluster, namespace, "my-server")) and available(d) and d,
        "my-server Available",
    )
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == f"{image}:{NEW}"

    # a file removed from git is pruned
    git("pull", "--quiet", "origin", "main", cwd=remote.work)
    git("rm", "--quiet", "apps/extra.yaml", cwd=remote.work)
    git("commit", "--quiet", "-m", "remove extra", cwd=remote.work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=remote.work)
    code, out = run(cluster, "sync", str(source), "--once")
    assert code == 0, out
    assert f"{namespace}/extra: deleted (left the source)" in out
    wait_for(
        lambda: (
            "extra-web"
            not in cluster.kubectl("get", "deploy", "-n", namespace, "-o", "name").stdout
        ),
        "extra-web pruned",
    )

    # a bad commit keeps the last good revision and names the commit and file:line
    remote.commit_file(
        "apps/broken.yaml",
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: broken}\nspec:\n  components:\n  - name: x\n    type: nosuchtype\n",
        "broken",
    )
    sha = git("rev-parse", "main", cwd=remote.bare).strip()
    code, out = run(cluster, "sync", str(source), "--once")
    assert code == 1
    assert f"render-failed: main@sha1:{sha}: apps/broken.yaml:" in out
    assert (
        deployment(cluster, namespace, "my-server")["spec"]["template"]["spec"]["containers"][0][
            "image"
        ]
        == f"{image}:{NEW}"
    )
    code, out = run(cluster, "sync", str(source), "--status")
    assert code == 0 and f"render-failed {sha[:12]}" in out


def test_an_unreachable_remote_and_an_emptied_path(
    tmp_path: Path, remote: Remote, basic_registry: Registry, cluster: Cluster, namespace: str
) -> None:
    source = prepare(tmp_path, remote, basic_registry, namespace, cluster)
    code, out = run(cluster, "sync", str(source), "--once")
    assert code == 0, out
    # the path emptied: refused unless allowed
    git("pull", "--quiet", "origin", "main", cwd=remote.work)
    git("rm", "--quiet", "apps/extra.yaml", "apps/my-app.yaml", cwd=remote.work)
    (remote.work / "apps").mkdir(exist_ok=True)
    (remote.work / "apps" / "README.md").write_text("moved\n")
    git("add", "apps/README.md", cwd=remote.work)
    git("commit", "--quiet", "-m", "empty", cwd=remote.work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=remote.work)
    code, out = run(cluster, "sync", str(source), "--once")
    assert code == 1 and "refused: it would delete 2 of the 2 applications" in out
    assert deployment(cluster, namespace, "my-server")
    # the remote goes away: the cluster stays as it is
    moved = remote.bare.with_name("gone.git")
    remote.bare.rename(moved)
    code, out = run(cluster, "sync", str(source), "--once")
    assert code == 1 and "unreachable" in out and "cannot fetch" in out
    assert deployment(cluster, namespace, "my-server")


def test_sigterm_ends_the_loop_after_a_clean_pass(
    tmp_path: Path, remote: Remote, basic_registry: Registry, cluster: Cluster, namespace: str
) -> None:
    import signal
    import subprocess
    import sys
    import time

    source = prepare(tmp_path, remote, basic_registry, namespace, cluster)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "sync",
            str(source),
            "--interval",
            "1s",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--context",
            cluster.context,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        wait_for(
            lambda: (
                "applied"
                in cluster.kubectl(
                    "get",
                    "configmap",
                    "sailplan-sync-apps",
                    "-n",
                    namespace,
                    "-o",
                    "jsonpath={.data.status}",
                    check=False,
                ).stdout
            ),
            "the first pass",
            timeout=120,
        )
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"{namespace}/apps: applied" in out
    status = json.loads(
        cluster.kubectl(
            "get",
            "configmap",
            "sailplan-sync-apps",
            "-n",
            namespace,
            "-o",
            "jsonpath={.data.status}",
        ).stdout
    )
    assert status["result"] == "applied"
