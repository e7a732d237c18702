"""Helpers for the apply tests on the real control plane: run the CLI, read objects, restart."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from tests.cluster import Cluster

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def seed_app(namespace: str) -> str:
    """The seed's my-app, placed in ``namespace`` (its own namespace in each test)."""
    text = (EXAMPLES / "gitops-demo" / "apps" / "my-app.yaml").read_text()
    return text.replace("namespace: default", f"namespace: {namespace}", 1)


def sailplan(cluster: Cluster, *args: str, check: bool = True) -> Result:
    """``sailplan ARGS --kubeconfig ... --context ...`` in-process, with NO_COLOR."""
    from cli import main

    extra = ["--kubeconfig", str(cluster.kubeconfig), "--context", cluster.context]
    runner = CliRunner()
    result = runner.invoke(main, [*args, *extra], env={"NO_COLOR": "1"}, catch_exceptions=False)
    if check and result.exit_code != 0:
        raise AssertionError(
            f"sailplan {' '.join(args)} exited {result.exit_code}:\n{result.output}"
        )
    return result


def sailplan_process(cluster: Cluster, *args: str) -> subprocess.Popen[str]:
    """The installed command as a user runs it (for signals)."""
    command = [
        sys.executable,
        "-c",
        "import cli; cli.main()",
        *args,
        "--kubeconfig",
        str(cluster.kubeconfig),
        "--context",
        cluster.context,
    ]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )


def get(cluster: Cluster, *args: str, check: bool = True) -> dict[str, Any] | None:
    result = cluster.kubectl("get", "-o", "json", *args, check=check)
    return json.loads(result.stdout) if result.returncode == 0 else None


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.3)
    return result


def events(output: str) -> list[dict[str, Any]]:
    """The JSON events of ``-o json`` output."""
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def actions(output: str) -> dict[str, str]:
    """``{Kind/ns/name: action}`` from text output lines."""
    found = {}
    for line in output.splitlines():
        match = re.match(
            r"^([A-Z]\w*/\S+) (created|configured|unchanged|pruned|skipped|deleted|recreated|orphaned|failed)\b",
            line,
        )
        if match:
            found[match.group(1)] = match.group(2)
    return found


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return _write


def stop_apiserver(plane: Any) -> tuple[str, list[str]]:
    """Stop the main kube-apiserver (SIGTERM); returns what ``start_apiserver`` needs."""
    import signal

    component = next(c for c in plane.components if c.name == "main-kube-apiserver")
    raw = Path(f"/proc/{component.pid}/cmdline").read_bytes()
    argv = [a.decode() for a in raw.split(b"\0") if a]
    component.signal(signal.SIGTERM)
    if not component.wait_gone(5):  # it drains watches for a while; enough waiting
        component.signal(signal.SIGKILL)
    assert component.wait_gone(30), "the apiserver did not stop"
    plane.components.remove(component)
    return component.name, argv


def start_apiserver(plane: Any, stopped: tuple[str, list[str]]) -> None:
    """Start the apiserver ``stop_apiserver`` stopped, with the same flags; wait for it."""
    name, argv = stopped
    started = plane._spawn(name, argv, plane.dir / "main")
    server = plane.clusters["main"].server
    plane._wait(started, f"{server}/readyz", plane.pki)


#: Third-party kinds the examples use: (group, version, kind, plural).
STAND_INS = (
    ("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases"),
    ("image.toolkit.fluxcd.io", "v1", "ImagePolicy", "imagepolicies"),
    ("image.toolkit.fluxcd.io", "v1", "ImageRepository", "imagerepositories"),
    ("image.toolkit.fluxcd.io", "v1", "ImageUpdateAutomation", "imageupdateautomations"),
    ("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations"),
    ("mysql.presslabs.org", "v1alpha1", "MysqlCluster", "mysqlclusters"),
    ("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories"),
    ("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories"),
)


def stand_in_crds() -> str:
    """CRDs with open schemas for the third-party kinds the examples use."""
    docs = []
    for group, version, kind, plural in STAND_INS:
        docs.append(
            yaml.safe_dump(
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "CustomResourceDefinition",
                    "metadata": {"name": f"{plural}.{group}"},
                    "spec": {
                        "group": group,
                        "names": {"kind": kind, "plural": plural, "listKind": f"{kind}List"},
                        "scope": "Namespaced",
                        "versions": [
                            {
                                "name": version,
                                "served": True,
                                "storage": True,
                                "schema": {
                                    "openAPIV3Schema": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    }
                                },
                            }
                        ],
                    },
                }
            )
        )
    return "\n---\n".join(docs)


@pytest.fixture(scope="session")
def third_party_kinds(cluster: Cluster) -> None:
    """The stand-in CRDs, installed once per session and Established."""
    cluster.kubectl("apply", "--server-side", "-f", "-", input=stand_in_crds())
    for group, _, _, plural in STAND_INS:
        cluster.kubectl(
            "wait", "--for=condition=Established", f"crd/{plural}.{group}", "--timeout=60s"
        )
