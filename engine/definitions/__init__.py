"""Definitions: metadata, parameter schema and template of each component and trait type."""

from engine.definitions.definition import Definition, Example, Kind, load_definition
from engine.definitions.parameters import prepare, with_defaults
from engine.definitions.registry import Registry

__all__ = [
    "Definition",
    "Example",
    "Kind",
    "Registry",
    "load_definition",
    "prepare",
    "with_defaults",
]
