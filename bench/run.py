"""Whole-process figures for sailplan: start-up, the seed example, and large apps.

Run from the repository root with sailplan installed: ``python bench/run.py``.
Each figure is the median wall time of several runs of the real command, and the
peak resident memory of the slowest of them. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = ROOT / "examples/gitops-demo/apps/my-app.yaml"


class Figure(NamedTuple):
    """One measured command: median and fastest wall time, peak memory, median CPU time."""

    median: float
    fastest: float
    peak_mib: float
    cpu: float = 0.0  # user + system seconds: steadier than wall time on a busy machine


def measure(command: list[str], runs: int, env: dict[str, str] | None = None) -> Figure:
    """Wall time and peak memory of ``command`` (which must succeed) over ``runs`` runs.

    The machines here are shared and their speed drifts by tens of percent from one
    minute to the next: a warm-up run comes first (not counted, unless ``runs`` is 1),
    the median is the figure compared with a target, and the fastest run is printed
    beside it.
    """
    times: list[float] = []
    cpus: list[float] = []
    peak = 0.0
    warmup = 1 if runs > 1 else 0
    for i in range(runs + warmup):
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            error = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"failed: {' '.join(command)}: {error}")
        if i >= warmup:
            times.append(elapsed)
            cpus.append(usage.ru_utime + usage.ru_stime)
        peak = max(peak, usage.ru_maxrss / 1024)
    return Figure(statistics.median(times), min(times), peak, statistics.median(cpus))


def sailplan() -> list[str]:
    found = shutil.which("sailplan")
    if not found:
        raise SystemExit("sailplan is not installed: pip install . first")
    return [found]


def generated(count: int, folder: Path) -> Path:
    path = folder / f"app-{count}.yaml"
    with path.open("w") as out:
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(count)], stdout=out, check=True
        )
    return path


def report(label: str, figure: Figure, target: str = "") -> None:
    line = (
        f"{label:<40} {figure.median * 1000:8.1f} ms (fastest {figure.fastest * 1000:7.1f})"
        f"   peak {figure.peak_mib:6.1f} MiB   cpu {figure.cpu * 1000:8.1f} ms"
    )
    print(f"{line}   {target}" if target else line, flush=True)


def main() -> None:
    cmd = sailplan()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    report("sailplan --version", measure([*cmd, "--version"], 15), "(target <= 100 ms)")
    seed = [*cmd, "render", str(SEED)]
    cold = {**os.environ, "SAILPLAN_NO_CACHE": "1"}
    report("sailplan render <seed example>", measure(seed, 15), "(target <= 250 ms)")
    report("  the same, template cache off", measure(seed, 15, env=cold))
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for count in (100, 1000):
            app = generated(count, Path(tmp))
            figure = measure([*cmd, "render", str(app)], 7 if count < 1000 else 5)
            figures[count] = figure.median
            target = "(target <= 2.0 s, <= 150 MiB)" if count == 1000 else ""
            report(f"render {count} components x 3 traits", figure, target)
    ratio = figures[1000] / figures[100]
    print(f"{'time(1000) / time(100)':<44} {ratio:9.2f}      (target <= 11)")


if __name__ == "__main__":
    main()
