"""sailplan's environment overlay against ``kubectl kustomize`` on the same patches.

For N components (each a webservice with three traits) it writes:
- ``app/my-app.yaml`` and ``app/environments/bench.yaml``: an overlay with, per
  Deployment, a strategic-merge patch (resources, an env var, a label) and a JSON
  patch (replicas, an annotation);
- ``kustomize/``: the same base (sailplan's plain render) with an equivalent
  kustomization.
Then it times, as whole processes in the same run, ``sailplan render app --env bench``,
the plain render of the same app without the overlay, and ``kubectl kustomize kustomize``,
and prints each with its peak memory and the two ratios: overlay / plain (the overlay's
own cost; target <= 1.3) and overlay / kustomize (target <= 0.15 at 1,000 components).
Prints; asserts nothing.

Usage: python bench/overlay.py [--no-kustomize] [N ...]   (default: 100 1000)

Ratios are printed for wall time and for CPU time (user + system), which a busy shared
machine disturbs far less.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import application
from run import Figure, measure, report, sailplan


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


def prepare(count: int, root: Path, cmd: list[str]) -> tuple[Path, Path, Path]:
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
    return app_dir, kust_dir, root / "plain"


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
    args = sys.argv[1:]
    if any(a in ("-h", "--help") for a in args):
        raise SystemExit(__doc__)
    with_kustomize = "--no-kustomize" not in args
    try:
        counts = [int(a) for a in args if a != "--no-kustomize"] or [100, 1000]
    except ValueError:
        raise SystemExit("usage: python bench/overlay.py [--no-kustomize] [N ...]") from None
    cmd = sailplan()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl is not installed")
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            app_dir, kust_dir, plain_dir = prepare(count, Path(tmp), cmd)
            runs = 7 if count <= 100 else 3
            ours, plain = _interleaved(
                [
                    [*cmd, "render", str(app_dir / "my-app.yaml"), "--env", "bench"],
                    [*cmd, "render", str(plain_dir / "my-app.yaml")],
                ],
                runs,
            )
            report(f"sailplan overlay, {count} components", ours)
            report(f"sailplan plain render, {count} components", plain)
            _ratio("overlay / plain render", ours.median / plain.median, "1.3")
            _ratio("overlay / plain render, CPU", ours.cpu / plain.cpu, "1.3")
            if not with_kustomize:
                continue
            theirs = measure([kubectl, "kustomize", str(kust_dir)], 1 if count > 100 else runs)
            report(f"kubectl kustomize, {count} components", theirs)
            target = "0.5" if count <= 100 else "0.15"
            _ratio("overlay / kubectl kustomize", ours.median / theirs.median, target)
            _ratio("overlay / kubectl kustomize, CPU", ours.cpu / theirs.cpu, target)


def _interleaved(commands: list[list[str]], runs: int) -> list[Figure]:
    """Each command ``runs`` times, taking turns: a drifting machine slows all alike."""
    for command in commands:
        measure(command, 1)  # warm-up
    figures: list[list[Figure]] = [[] for _ in commands]
    for _ in range(runs):
        for command, found in zip(commands, figures, strict=True):
            found.append(measure(command, 1))
    return [
        Figure(
            statistics.median(f.median for f in found),
            min(f.fastest for f in found),
            max(f.peak_mib for f in found),
            statistics.median(f.cpu for f in found),
        )
        for found in figures
    ]


def _ratio(label: str, value: float, target: str) -> None:
    print(f"{label + ' (medians)':<40} {value:8.3f}   (target <= {target})", flush=True)


if __name__ == "__main__":
    main()
