"""sailplan's environment overlay against ``kubectl kustomize`` on the same patches.

For N components (each a webservice with three traits) it writes:
- ``app/my-app.yaml`` and ``app/environments/bench.yaml``: an overlay with, per
  Deployment, a strategic-merge patch (resources, an env var, a label) and a JSON
  patch (replicas, an annotation);
- ``kustomize/``: the same base (sailplan's plain render) with an equivalent
  kustomization.
Then it times ``sailplan render app --env bench`` and ``kubectl kustomize kustomize``
as whole processes and prints both, their ratio and peak memory. Prints; asserts nothing.

Usage: python bench/overlay.py [N ...]   (default: 100 1000)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import application
from run import measure, report, sailplan


def patches(count: int) -> list[dict[str, object]]:
    """Two kustomize ``patches`` entries per Deployment."""
    out: list[dict[str, object]] = []
    for i in range(count):
        name = f"svc-{i:04d}"
        smp = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "bench", "labels": {"patched": "yes"}},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": name,
                                "env": [{"name": "REGION", "value": "eu-west-1"}],
                                "resources": {"limits": {"memory": "512Mi"}},
                            }
                        ]
                    }
                }
            },
        }
        ops = [
            {"op": "replace", "path": "/spec/replicas", "value": 4},
            {"op": "add", "path": "/metadata/annotations/bench", "value": "true"},
        ]
        target = {"group": "apps", "version": "v1", "kind": "Deployment", "name": name}
        out.append({"patch": yaml.safe_dump(smp, sort_keys=False)})
        out.append({"patch": yaml.safe_dump(ops, sort_keys=False), "target": target})
    return out


def prepare(count: int, root: Path, cmd: list[str]) -> tuple[Path, Path]:
    app_dir, kust_dir = root / "app", root / "kustomize"
    (app_dir / "environments").mkdir(parents=True)
    kust_dir.mkdir()
    (app_dir / "my-app.yaml").write_text(yaml.safe_dump(application(count), sort_keys=False))
    overlay = {
        "apiVersion": "sailplan.dev/v1alpha1",
        "kind": "Environment",
        "metadata": {"name": "bench"},
        "patches": patches(count),
    }
    (app_dir / "environments/bench.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
    (kust_dir / "base.yaml").write_text(_plain_render(cmd, count, root))
    kustomization = {"resources": ["base.yaml"], "patches": patches(count)}
    (kust_dir / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    return app_dir, kust_dir


def _plain_render(cmd: list[str], count: int, root: Path) -> str:
    """The app without the overlay: kustomize's base."""
    plain_dir = root / "plain"
    plain_dir.mkdir()
    (plain_dir / "my-app.yaml").write_text(yaml.safe_dump(application(count), sort_keys=False))
    done = subprocess.run(
        [*cmd, "render", str(plain_dir / "my-app.yaml")], capture_output=True, text=True, check=True
    )
    return done.stdout


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [100, 1000]
    cmd = sailplan()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is not installed")
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            app_dir, kust_dir = prepare(count, Path(tmp), cmd)
            runs = 7 if count <= 100 else 1
            ours = measure([*cmd, "render", str(app_dir / "my-app.yaml"), "--env", "bench"], runs)
            theirs = measure([kubectl, "kustomize", str(kust_dir)], runs)
            report(f"sailplan overlay, {count} components", ours)
            report(f"kubectl kustomize, {count} components", theirs)
            target = "0.5" if count <= 100 else "0.15"
            ratio = ours.median / theirs.median
            print(f"{'ratio of the medians':<40} {ratio:8.3f}   (target <= {target})", flush=True)


if __name__ == "__main__":
    main()
