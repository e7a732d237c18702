"""Templates run sandboxed, strict, and cannot be broken by property values."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionError, TemplateError
from engine.model import load_yaml
from engine.render import json_literal
from tests.harness import CONFIGMAP, Harness, app_yaml

HOSTILE = [
    "a: b",
    "line one\nline two",
    "{{ context.name }}",
    "{% if true %}x{% endif %}",
    "---",
    "--- \n...\n",
    "# not a comment",
    "&anchor *alias",
    "- item",
    "'single' \"double\"",
    "\u2028\u2029\x85\ufeff\x7f",
    "emoji 🚀 and ünïcode",
    "\t tab and trailing space ",
    "null",
    "true",
    "0x1F",
    "1e3",
    "",
]


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def one_component(value_yaml: str, type_: str = "cm") -> str:
    return app_yaml(
        f"    - name: web\n      type: {type_}\n      properties:\n        value: {value_yaml}\n"
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_come_out_as_the_literal_string(harness: Harness, value: str) -> None:
    harness.component("cm", CONFIGMAP)
    quoted = json_literal(value)
    [obj] = harness.objects(one_component(quoted))
    assert obj["data"]["value"] == value
    rendered = harness.render(one_component(quoted))
    assert load_yaml(rendered, "out")[0]["data"]["value"] == value


@pytest.mark.parametrize("value", HOSTILE)
def test_json_literals_read_back_unchanged(value: str) -> None:
    assert load_yaml(f"v: {json_literal(value)}\n", "t")[0] == {"v": value}


def test_templates_cannot_mutate_parameters(harness: Harness) -> None:
    harness.component(
        "cm",
        "{% set _ = parameter.value.append(1) %}\n" + CONFIGMAP,
    )
    with pytest.raises(TemplateError, match=r"unsafe|not safely callable"):
        harness.objects(one_component("[1]"))


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "'x' * 100000000",
        "[1] * 100000000",
        "2 ** 100000000",
        "range(10000000) | list",
    ],
)
def test_sandbox_blocks_escapes_and_resource_abuse(harness: Harness, expression: str) -> None:
    harness.component("cm", f"{{% set x = {expression} %}}\n" + CONFIGMAP)
    with pytest.raises(TemplateError):
        harness.objects(one_component('"v"'))


def test_undefined_values_are_errors_naming_the_template_line(harness: Harness) -> None:
    folder = harness.component("cm", CONFIGMAP.replace("parameter.value", "parameter.missing"))
    with pytest.raises(TemplateError) as info:
        harness.objects(one_component('"v"'))
    message = str(info.value)
    assert message.startswith(f"{folder / 'template.yaml.j2'}:5: undefined value:")
    assert "'missing'" in message
    assert "rendering component cm for app.yaml:" in message


def test_fail_reports_a_user_error_at_the_application(harness: Harness) -> None:
    harness.component(
        "cm",
        '{% if parameter.value == "bad" %}{{ fail("value must not be bad") }}{% endif %}\n'
        + CONFIGMAP,
    )
    with pytest.raises(TemplateError) as info:
        harness.objects(one_component('"bad"'))
    assert str(info.value) == "app.yaml:7: spec.components[0]: value must not be bad (component cm)"


def test_template_syntax_errors_are_definition_errors(harness: Harness) -> None:
    folder = harness.component("cm", "output:\n  {% if %}\n")
    with pytest.raises(DefinitionError) as info:
        harness.objects(one_component('"v"'))
    assert str(info.value).startswith(f"{folder / 'template.yaml.j2'}:2: template syntax error")


def test_rendering_invalid_yaml_shows_the_rendered_line(harness: Harness) -> None:
    harness.component("cm", "output:\n  apiVersion: v1\n kind: [\n")
    with pytest.raises(TemplateError, match=r"rendered invalid YAML.*rendered line"):
        harness.objects(one_component('"v"'))


def test_unknown_top_level_keys_are_rejected(harness: Harness) -> None:
    harness.component("cm", CONFIGMAP + "extra: 1\n")
    with pytest.raises(TemplateError, match="unexpected top-level key 'extra'"):
        harness.objects(one_component('"v"'))


def test_tojson_and_toyaml_filters(harness: Harness) -> None:
    harness.component(
        "cm",
        "output:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n"
        "    flow: {{ parameter.value | tojson | tojson }}\n"
        "  binaryData: {{ parameter.bin | toyaml(4) }}\n",
    )
    app = app_yaml(
        "    - name: web\n      type: cm\n      properties:\n"
        "        value: {a: 'x: y'}\n        bin: {k: \"a\\nb\", j: [1, 2]}\n"
    )
    [obj] = harness.objects(app)
    assert obj["data"]["flow"] == '{"a": "x: y"}'
    assert obj["binaryData"] == {"k": "a\nb", "j": [1, 2]}


@pytest.mark.parametrize("call", ['{% set _ = warn("careful") %}', '{{ warn("careful") }}'])
def test_warn_collects_warnings(harness: Harness, call: str) -> None:
    harness.component("cm", call + "\n" + CONFIGMAP)
    result = harness.build(one_component('"v"'))
    assert result.warnings == ("app.yaml:7: spec.components[0]: careful (component cm)",)
