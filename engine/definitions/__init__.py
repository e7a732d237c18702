"""Definitions: metadata, parameter schema and template of each component and trait type.

Definitions reach the registry through a ``DefinitionSource`` (``sources``):
``folders.FolderSource`` reads folders (the one module here that opens files),
``sources.MemorySource`` holds definitions given as text.
"""

from engine.definitions.definition import Definition, Example, parse_definition
from engine.definitions.folders import FolderSource, load_definition
from engine.definitions.parameters import prepare, with_defaults
from engine.definitions.registry import Registry
from engine.definitions.sources import (
    CodeCache,
    DefinitionFiles,
    DefinitionSource,
    Kind,
    MemorySource,
)

__all__ = [
    "CodeCache",
    "Definition",
    "DefinitionFiles",
    "DefinitionSource",
    "Example",
    "FolderSource",
    "Kind",
    "MemorySource",
    "Registry",
    "load_definition",
    "parse_definition",
    "prepare",
    "with_defaults",
]
