"""Image-update hot paths: choosing a tag among 10,000 and rewriting a 1,000-file repository.

Usage: python bench/gitops.py   (prints the best of five runs of each; targets 0.2 s and 1 s)
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.gitops import policies, setters

SEED = Path(__file__).resolve().parents[1] / "examples" / "gitops-demo" / "apps" / "my-app.yaml"


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings of ``work``, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    tags = [f"main-{i * 2654435761 % 2**32:08x}-{1_600_000_000 + i}" for i in range(10_000)]
    tags += ["latest", "main-deadbeef-1.sig"]
    numerical = policies.policy_from({"numerical": {"order": "asc"}})
    pattern, extract = "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "$ts"
    seconds = best_of(5, lambda: policies.choose(tags, numerical, pattern, extract))
    print(
        f"choose among {len(tags)} tags (numerical, filter+extract): {seconds:.3f} s (target 0.2)"
    )
    versions = [f"{i // 100}.{i % 100}.{i % 7}" for i in range(10_000)]
    ranged = policies.policy_from({"semver": {"range": ">=1.0.0 <90.0.0"}})
    seconds = best_of(5, lambda: policies.choose(versions, ranged))
    print(f"choose among {len(versions)} tags (semver range): {seconds:.3f} s (target 0.2)")

    marked = setters.image_setters("default:apps", "cnych/kubevela-gitops-demo", "main-new-2")
    text = SEED.read_text()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(1000):
            folder = root / f"team{i % 25}"
            folder.mkdir(exist_ok=True)
            (folder / f"app{i}.yaml").write_text(text)
        seconds = best_of(5, lambda: setters.rewrite_tree(root, marked))
    print(f"rewrite markers across 1000 files (all marked): {seconds:.3f} s (target 1.0)")


if __name__ == "__main__":
    main()
