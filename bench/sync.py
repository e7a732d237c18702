"""A no-op ``sailplan sync`` pass against ``sailplan apply`` of the same files (test cluster).

Run from the repository root with sailplan installed and the control plane built
(``scripts/test-cluster build``): ``python bench/sync.py``. It starts a throwaway control
plane (or uses ``--kubeconfig``/``--context``), commits 100 Applications (one webservice
each) to a bare git repository, syncs them once, then times in the same run a no-op sync
pass (``sync --once``: fetch, render, compare, record) and a no-op ``apply`` of the same
files from a checkout. Prints figures; asserts nothing. Target: sync <= 1.5x apply.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scripts"))
sys.path.insert(0, str(HERE))

from apply import app_text, kubectl, timed  # noqa: E402


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def bench(kubeconfig: str, context: str, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="sailplan-bench-sync-"))
    ns = f"bench-sync-{int(time.time())}"
    kubectl(kubeconfig, context, "create", "namespace", ns)
    checkout = work / "checkout"
    (checkout / "apps").mkdir(parents=True)
    for i in range(100):
        text = app_text(f"app{i:03d}", ns, 1).replace("- name: c0", f"- name: app{i:03d}-web")
        (checkout / "apps" / f"app{i:03d}.yaml").write_text(text)
    git("init", "--quiet", "--initial-branch", "main", cwd=checkout)
    git("add", ".", cwd=checkout)
    git(
        "-c", "user.name=b", "-c", "user.email=b@b", "commit", "--quiet", "-m", "apps", cwd=checkout
    )
    bare = work / "apps.git"
    git("clone", "--quiet", "--bare", str(checkout), str(bare), cwd=work)
    source = work / "source.yaml"
    props = {"url": bare.as_uri(), "git": {"branch": "main"}, "path": "./apps"}
    app = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "apps", "namespace": ns},
        "spec": {"components": [{"name": "apps", "type": "kustomize", "properties": props}]},
    }
    source.write_text(json.dumps(app))
    base = ["--kubeconfig", kubeconfig, "--context", context]
    first = subprocess.run(
        ["sailplan", "sync", str(source), "--once", *base], capture_output=True, text=True
    )
    if first.returncode:
        raise SystemExit(f"the first sync failed:\n{first.stdout[-2000:]}{first.stderr}")
    syncs, applies = [], []
    for _ in range(runs):
        syncs.append(timed(["sailplan", "sync", str(source), "--once", *base])[0])
        applies.append(timed(["sailplan", "apply", str(checkout / "apps"), *base])[0])
    s, a = statistics.median(syncs), statistics.median(applies)
    print(f"100 Applications, no-op, median of {runs} run(s):")
    print(f"  sync --once {s:.2f} s, apply {a:.2f} s -> {s / a:.2f}x (target 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig")
    parser.add_argument("--context", default="")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.kubeconfig:
        bench(args.kubeconfig, args.context, args.runs)
        return
    import testcluster

    directory = Path(tempfile.mkdtemp(prefix="sailplan-bench-cluster-")) / "c"
    plane = testcluster.ControlPlane.start(directory, testcluster.find_binaries())
    try:
        info = plane.clusters[testcluster.MAIN]
        bench(str(info.kubeconfig), info.context, args.runs)
    finally:
        plane.stop()


if __name__ == "__main__":
    main()
