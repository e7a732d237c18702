"""Rendering: the sandboxed Jinja environment and one-definition rendering."""

from engine.render.rendering import Rendered, render, template_of
from engine.render.templates import YamlText, environment, json_literal

__all__ = [
    "Rendered",
    "YamlText",
    "environment",
    "json_literal",
    "render",
    "template_of",
]
