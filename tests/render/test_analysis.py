"""Template analysis: reads under ``parameter`` that the schema does not declare, by line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.definitions import Definition, Registry
from engine.errors import DefinitionError
from engine.render.analysis import undeclared_reads

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["image"],
    "properties": {
        "image": {"type": "string"},
        "ports": {"type": "array", "items": {"$ref": "#/$defs/port"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "free": {"type": "object", "description": "free-form"},
        "probe": {
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"path": {"type": "string"}},
                },
            ]
        },
        "mounts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "pvc": {"type": "array", "items": {"$ref": "#/$defs/pvc"}},
                "secret": {"type": "array", "items": {"$ref": "#/$defs/secret"}},
            },
        },
    },
    "$defs": {
        "port": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"port": {"type": "integer"}, "name": {"type": "string"}},
        },
        "pvc": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "claimName": {"type": "string"}},
        },
        "secret": {
            "allOf": [
                {"properties": {"name": {"type": "string"}}},
                {"properties": {"secretName": {"type": "string"}}},
            ],
            "unevaluatedProperties": False,
        },
    },
}


def reads(template: str, schema: dict[str, Any] | None = None) -> list[str]:
    definition = Definition("demo", "trait", "", Path("defs/demo"), {}, schema or SCHEMA, template)
    return [f"{r.line}: {r.message}" for r in undeclared_reads(definition)]


def test_direct_reads_are_checked_with_their_line() -> None:
    template = "patch:\n  image: {{ parameter.image }}\n  tag: {{ parameter.imageTag }}\n"
    assert reads(template) == ["3: parameter.imageTag is not declared in schema.json"]


def test_loop_variables_over_parameter_lists_are_followed() -> None:
    template = "{% for p in parameter.ports %}\n- {{ p.port }}\n- {{ p.prot }}\n{% endfor %}\n"
    assert reads(template) == ["3: parameter.ports[].prot is not declared in schema.json"]


def test_aliases_subscripts_and_defined_tests_are_followed() -> None:
    template = (
        "{% set p = parameter %}\n"
        "{% if p['ports'] is defined and p.lables is defined %}{% endif %}\n"
        "{{ p.ports[0].nme }}\n"
    )
    assert reads(template) == [
        "2: parameter.lables is not declared in schema.json",
        "3: parameter.ports[].nme is not declared in schema.json",
    ]


def test_maps_and_free_form_objects_take_any_key() -> None:
    template = (
        "{{ parameter.labels.team }}{{ parameter.labels['a/b'] }}{{ parameter.free.x.y }}\n"
        "{% for k, v in parameter.labels | dictsort %}{{ v.oops }}{% endfor %}\n"
        "{% for k, v in parameter.labels.items() %}{{ k }}{% endfor %}\n"
    )
    assert reads(template) == ["2: parameter.labels.<key>.oops is not declared in schema.json"]


def test_methods_of_values_are_not_properties() -> None:
    template = "{{ parameter.image.lower() }}{{ parameter.labels.get('team', '') }}\n"
    assert reads(template) == []
    assert reads("{{ parameter.get('imag') }}") == [
        "1: parameter.imag is not declared in schema.json"
    ]


def test_alternatives_declare_a_key_if_any_of_them_does() -> None:
    template = (
        "{{ parameter.probe.path }}\n"
        "{{ parameter.probe.port }}\n"
        "{% for kind, entries in [('pvc', parameter.mounts.pvc), ('secret', parameter.mounts.secret)] %}\n"
        "{% for v in entries %}{{ v.name }}{{ v.claimName }}{{ v.secretName }}{{ v.cm }}{% endfor %}\n"
        "{% endfor %}\n"
    )
    assert reads(template) == [
        "2: parameter.probe.port is not declared in schema.json",
        "4: parameter.mounts.pvc[].cm or parameter.mounts.secret[].cm is not declared in schema.json",
    ]


def test_keys_from_literal_lists_membership_and_filters() -> None:
    template = (
        "{% for key in ['image', 'imag'] if parameter[key] is defined %}{% endfor %}\n"
        "{% if 'labls' in parameter %}{% endif %}\n"
        "{{ parameter.ports | map(attribute='prt') | list }}\n"
        "{{ (parameter.ports | default([]) | first).nam }}\n"
    )
    assert reads(template) == [
        "1: parameter.imag is not declared in schema.json",
        "2: parameter.labls is not declared in schema.json",
        "3: parameter.ports[].prt is not declared in schema.json",
        "4: parameter.ports[].nam is not declared in schema.json",
    ]


def test_macros_namespaces_and_with_blocks() -> None:
    template = (
        "{% macro port(p) %}{{ p.portt }}{% endmacro %}\n"
        "{{ port(parameter.ports[0]) }}\n"
        "{% set ns = namespace(last=none) %}\n"
        "{% for p in parameter.ports %}{% set ns.last = p %}{% endfor %}\n"
        "{{ ns.last.x }}\n"
        "{% with q = parameter.mounts %}{{ q.cfg }}{% endwith %}\n"
    )
    assert reads(template) == [
        "1: parameter.ports[].portt is not declared in schema.json",
        "5: parameter.ports[].x is not declared in schema.json",
        "6: parameter.mounts.cfg is not declared in schema.json",
    ]


def test_what_cannot_be_followed_is_not_reported() -> None:
    template = (
        "{% set m = merge(parameter, {}) %}{{ m.anything }}\n"
        "{% set d = {'a': parameter.image} %}{{ d.b }}\n"
        "{{ context.output.spec.whatever }}\n"
    )
    assert reads(template) == []


def test_a_syntax_error_names_the_template_line() -> None:
    with pytest.raises(DefinitionError) as caught:
        reads("patch:\n  a: {{ parameter.image }\n")
    assert str(caught.value).startswith("defs/demo/template.yaml.j2:2: template syntax error")


def test_every_builtin_template_reads_only_declared_parameters(registry: Registry) -> None:
    found = {f"{d.name}:{r.line}: {r.message}" for d in registry.all() for r in undeclared_reads(d)}
    assert found == set()


@pytest.mark.parametrize(
    "macros",
    [
        "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}",
        "{% macro f(n) %}{{ f(n + 1) }}{{ f(n + 2) }}{% endmacro %}{{ f(0) }}",
        "{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}",
    ],
)
def test_recursive_macros_are_followed_a_few_levels(macros: str) -> None:
    template = macros + "\n{{ parameter.imag }}\n"
    assert reads(template) == ["2: parameter.imag is not declared in schema.json"]


def test_a_recursive_macro_still_checks_what_it_reads() -> None:
    template = (
        "{% macro walk(p) %}{{ p.portt }}{% for q in [p] %}{{ walk(q) }}{% endfor %}"
        "{% endmacro %}{{ walk(parameter.ports[0]) }}\n"
    )
    assert reads(template) == ["1: parameter.ports[].portt is not declared in schema.json"]


def test_a_template_nested_too_deeply_is_a_definition_error() -> None:
    with pytest.raises(DefinitionError, match="nested too deeply"):
        reads("patch:\n  a: {{ " + "(" * 3000 + "1" + ")" * 3000 + " }}\n")
