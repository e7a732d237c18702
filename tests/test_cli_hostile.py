"""Hostile and careless input: each case is a clean, located, one-line error, in seconds.

Every folder under ``tests/cases/hostile/`` is one failure class: its ``case.yaml`` holds
the command line (run in a copy of the folder), the exit code and the parts the message
must contain. Inputs too large to keep in the repository are written by a generator named
in ``case.yaml``. Each case runs as its own process with a time limit and a memory limit,
so a hang or an unbounded allocation fails the test instead of the machine.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT

CASES = Path(__file__).resolve().parent / "cases" / "hostile"
TIME_LIMIT = 20.0  # seconds: generous for a shared machine; the cases take well under one
MEMORY_LIMIT = 2 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _app(components: str, policies: str = "") -> str:
    return (
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: demo\n"
        f"spec:\n  components:\n{components}{policies}"
    )


def _many_traits(folder: Path) -> None:
    traits = "".join(
        f"        - type: scaler\n          properties:\n            replicas: {i % 7 + 1}\n"
        for i in range(20000)
    )
    comp = "    - name: web\n      type: webservice\n      properties:\n        image: nginx\n"
    (folder / "app.yaml").write_text(_app(comp + "      traits:\n" + traits))


def _deep_schema(folder: Path) -> None:
    levels = 5000
    text = '{"type": "object", "properties": {"a": ' * levels + '{"type": "string"}' + "}}" * levels
    (folder / "defs/thing/schema.json").write_text(text)


def _huge_list_template(folder: Path) -> None:
    template = folder / "defs/thing/template.yaml.j2"
    elements = ",".join(["1"] * 100_000)
    template.write_text("{%- set x = [" + elements + "] %}\n" + template.read_text())


def _long_argument(folder: Path) -> None:
    (folder / "arg.txt").write_text("x" * 100_000)


GENERATORS: dict[str, Callable[[Path], None]] = {
    "many-traits": _many_traits,
    "deep-schema": _deep_schema,
    "long-argument": _long_argument,
    "huge-list-template": _huge_list_template,
}


def _expand(arg: str, folder: Path) -> str:
    """``@file`` in an argument list is the text of that file (a long argument)."""
    return (folder / arg[1:]).read_text() if arg.startswith("@") else arg


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_hostile_input(name: str, tmp_path: Path) -> None:
    folder = tmp_path / name
    shutil.copytree(CASES / name, folder)
    case = json.loads("\n".join((folder / "case.yaml").read_text().splitlines()[1:]))
    if "generate" in case:
        GENERATORS[case["generate"]](folder)
    args = [_expand(arg, folder) for arg in case["args"]]
    command = [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import cli; cli.main()",
        *args,
    ]
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        preexec_fn=_limit_memory,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == case["exit"], done.stderr[-3000:]
    for part in case["error"]:
        assert part in done.stderr, done.stderr[-3000:]
    if case["exit"] == 1:
        errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
        assert len(errors) >= 1, done.stderr[-3000:]
        assert all(len(line) < 2000 for line in done.stderr.splitlines()), done.stderr[:3000]
    assert elapsed < TIME_LIMIT
