"""Where the bundled data lives: built-in definitions and the engine's JSON Schemas.

In a source checkout they sit at the repository root (``definitions/``, ``schemas/``);
in an installed wheel they are shipped inside the package as ``engine/_data/``. One
lookup serves both, so a plain ``pip install .`` works from any working directory.
Reading the engine's own schemas happens here, so the pure layers open no file.
"""

from __future__ import annotations

import functools
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def data_root() -> Path:
    """The folder holding ``definitions/`` and ``schemas/``."""
    installed = _PACKAGE / "_data"
    if (installed / "schemas").is_dir():
        return installed
    return _PACKAGE.parent


def builtin_definitions_dir() -> Path:
    """The folder of built-in definitions (``components/``, ``traits/``)."""
    return data_root() / "definitions"


def schema_dir() -> Path:
    """The folder of the engine's own JSON Schemas."""
    return data_root() / "schemas"


def schema_file(name: str) -> Path:
    """The path of a bundled JSON Schema, e.g. ``application``."""
    return data_root() / "schemas" / f"{name}.schema.json"


def schema_text(name: str) -> str:
    """The text of a bundled JSON Schema, e.g. ``application``."""
    return schema_file(name).read_text(encoding="utf-8")


def schema_names() -> list[str]:
    """The names of every bundled JSON Schema."""
    return sorted(path.name.split(".")[0] for path in schema_dir().glob("*.json"))
