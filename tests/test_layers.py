"""The pure layers touch no file system: ``build()`` is loaded values in, manifests out.

import-linter checks which packages import which; this checks what the pure modules
call. Below the edges (``engine/workspace.py``, ``engine/templatecache.py``,
``engine/definitions/folders.py``, ``engine/data.py``, ``engine/apply``,
``engine/gitops``) no module opens, lists, stats or writes a file, and none imports a
module whose job is I/O.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"
PURE = ["model", "definitions", "render", "patch", "build.py", "environments.py", "diff.py"]
#: The file-system edge inside a pure package, named in its docstring.
EDGES = {ENGINE / "definitions" / "folders.py"}

FORBIDDEN_IMPORTS = {
    "os",
    "shutil",
    "tempfile",
    "io",
    "subprocess",
    "socket",
    "glob",
    "urllib",
    "http",
    "engine.workspace",
    "engine.templatecache",
    "engine.definitions.folders",
}
FORBIDDEN_CALLS = {
    "open",
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "iterdir",
    "glob",
    "rglob",
    "exists",
    "is_file",
    "is_dir",
    "is_symlink",
    "mkdir",
    "unlink",
    "rmdir",
    "stat",
    "lstat",
    "listdir",
    "scandir",
    "walk",
    "touch",
    "symlink_to",
}
#: The registry turns a folder given as a Path into its FolderSource, and the package
#: re-exports it: wiring, no I/O.
ALLOWED = {
    ("definitions/registry.py", "engine.definitions.folders"),
    ("definitions/__init__.py", "engine.definitions.folders"),
}


def _modules() -> list[Path]:
    out: list[Path] = []
    for name in PURE:
        path = ENGINE / name
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return [p for p in out if p not in EDGES]


def _violations(text: str, relative: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(text, relative)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            banned = any(name == b or name.startswith(b + ".") for b in FORBIDDEN_IMPORTS)
            if banned and (relative, name) not in ALLOWED:
                found.append(f"{relative}:{node.lineno}: imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else None
            called = func.attr if isinstance(func, ast.Attribute) else called
            if called in FORBIDDEN_CALLS:
                found.append(f"{relative}:{node.lineno}: calls {called}()")
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ENGINE).as_posix())
def test_pure_modules_touch_no_files(path: Path) -> None:
    assert _violations(path.read_text(), path.relative_to(ENGINE).as_posix()) == []


def test_the_check_finds_file_access() -> None:
    text = (
        "import os\nfrom pathlib import Path\n\ndef f(p: Path) -> str:\n    return p.read_text()\n"
    )
    assert _violations(text, "model/probe.py") == [
        "model/probe.py:1: imports os",
        "model/probe.py:5: calls read_text()",
    ]
