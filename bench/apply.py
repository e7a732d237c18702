"""Apply figures on the test control plane: sailplan against ``kubectl apply --server-side``.

Run from the repository root with sailplan installed and the control plane built
(``scripts/test-cluster build``): ``python bench/apply.py``. It starts a throwaway
control plane (or uses ``--kubeconfig``/``--context``), renders one Application of 100
components (a Deployment and a Service each), and measures in the same run:

- first apply, no waits: ``sailplan apply --no-wait`` vs ``kubectl apply --server-side -f``
  of the same rendered manifests (each into a fresh namespace);
- no-op re-apply of the same: both again;
- sailplan's own CPU (process time) for a no-op re-apply of one app of two components,
  measured in-process around the apply (build + plan + requests), as a controller's
  reconcile would spend it; the CLI's whole-process CPU is printed beside it.

Prints figures; asserts nothing. Targets: first apply <= 1.0x kubectl, no-op re-apply
<= 0.5x, CPU <= 0.05 core-seconds.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))


def app_text(name: str, namespace: str, components: int) -> str:
    parts = [
        f"""\
  - name: c{i}
    type: webservice
    properties:
      image: registry.k8s.io/pause:3.10
      ports: [{{port: 80, expose: true}}]"""
        for i in range(components)
    ]
    body = "\n".join(parts)
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  components:
{body}
"""


def timed(command: list[str], **kwargs: object) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of a command that must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def kubectl(kubeconfig: str, context: str, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["kubectl", f"--kubeconfig={kubeconfig}", f"--context={context}", *args],
        input=stdin,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def bench(kubeconfig: str, context: str, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="sailplan-bench-"))
    sailplan = ["sailplan"]
    base = ["--kubeconfig", kubeconfig, "--context", context]
    first_s, first_k, noop_s, noop_k = [], [], [], []
    for run in range(runs):
        ns_s, ns_k = f"bench-s-{run}-{int(time.time())}", f"bench-k-{run}-{int(time.time())}"
        for ns in (ns_s, ns_k):
            kubectl(kubeconfig, context, "create", "namespace", ns)
        app_s = work / f"{ns_s}.yaml"
        app_s.write_text(app_text("bench", ns_s, 100))
        rendered = work / f"{ns_k}.rendered.yaml"
        rendered.write_text(
            subprocess.run(
                ["sailplan", "render", str(app_s)], check=True, capture_output=True, text=True
            ).stdout.replace(f"namespace: {ns_s}", f"namespace: {ns_k}")
        )
        kube = ["kubectl", f"--kubeconfig={kubeconfig}", f"--context={context}"]
        kube_apply = [*kube, "apply", "--server-side", "--field-manager=kubectl-bench", "-f"]
        first_k.append(timed([*kube_apply, str(rendered)])[0])
        first_s.append(timed([*sailplan, "apply", str(app_s), "--no-wait", *base])[0])
        noop_k.append(timed([*kube_apply, str(rendered)])[0])
        noop_s.append(timed([*sailplan, "apply", str(app_s), "--no-wait", *base])[0])
    fk, fs = statistics.median(first_k), statistics.median(first_s)
    nk, ns_ = statistics.median(noop_k), statistics.median(noop_s)
    print(f"100 components (200 objects), median of {runs} run(s):")
    print(f"  first apply, no waits: sailplan {fs:.2f} s, kubectl {fk:.2f} s -> {fs / fk:.2f}x")
    print(f"  no-op re-apply:        sailplan {ns_:.2f} s, kubectl {nk:.2f} s -> {ns_ / nk:.2f}x")
    cpu(kubeconfig, context, work)


def cpu(kubeconfig: str, context: str, work: Path) -> None:
    """CPU of a no-op re-apply of one app of two components."""
    from engine.apply.applier import ApplyOptions
    from engine.apply.client import connect
    from engine.apply.deploy import apply_release
    from engine.apply.plan import release_specs
    from engine.definitions import Registry
    from engine.environments import build_every_environment
    from engine.workspace import read_units

    ns = f"bench-cpu-{int(time.time())}"
    kubectl(kubeconfig, context, "create", "namespace", ns)
    app = work / "two.yaml"
    app.write_text(app_text("two", ns, 2))
    registry = Registry()
    client = connect(kubeconfig, context)
    options = ApplyOptions(wait=False)

    def reconcile() -> int:
        units = read_units([str(app)])
        specs = release_specs(units, build_every_environment(units, registry))
        return sum(len(apply_release(client, s, options).changes) for s in specs)

    reconcile()  # first apply
    reconcile()  # warm caches (discovery, templates), as a long-running loop has them
    samples = []
    for _ in range(10):
        started = time.process_time()
        reconcile()
        samples.append(time.process_time() - started)
    print(
        f"  CPU, no-op re-apply of 2 components (4 objects), in-process: "
        f"median {statistics.median(samples) * 1000:.1f} ms, min {min(samples) * 1000:.1f} ms"
    )
    wall, child_cpu = timed(
        [
            "sailplan",
            "apply",
            str(app),
            "--no-wait",
            "--kubeconfig",
            kubeconfig,
            "--context",
            context,
        ]
    )
    print(
        f"  the same as a CLI process: {child_cpu:.2f} core-s, {wall:.2f} s wall "
        "(start-up and imports included)"
    )


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
