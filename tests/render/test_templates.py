"""Templates run sandboxed, strict, and cannot be broken by property values."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DefinitionError, TemplateError
from engine.model import load_yaml
from engine.render import json_literal
from engine.render.templates import environment
from tests.conftest import ROOT
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
        "'x' * 1000000000",
        "[1] * 100000000",
        "2 ** 100000000",
        "range(10000000) | list",
    ],
)
def test_sandbox_blocks_escapes_and_resource_abuse(harness: Harness, expression: str) -> None:
    harness.component("cm", f"{{% set x = {expression} %}}\n" + CONFIGMAP)
    with pytest.raises(TemplateError):
        harness.objects(one_component('"v"'))


@pytest.mark.parametrize(
    "statement",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{{ 'x' | center(10**10) }}",
        "{{ 'x' | center(9999999999) }}",
        "{{ ('a\\nb') | indent(10**9) }}",
        "{{ ('a\\n' * 1000) | indent('x' * 100000) }}",
        "{{ '{:>999999999}'.format('x') }}",
        "{{ '{0:{1}}'.format('x', '>99999999') }}",
        "{{ '{x:.999999999f}'.format_map({'x': 1.0}) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '%*d' % (999999999, 1) }}",
        "{{ '%s' | format('a' * 10**8) }}",
        "{% set ns = namespace(s='a' * 99999) %}"
        "{% for i in range(99) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
        "{% set l = range(100000) | list %}{% for i in l %}{% if i in l %}{% endif %}{% endfor %}",
        "{{ 'ab' | replace('', 'x' * 10**6) | replace('x', 'y' * 100) }}",
        "{{ ('x' * 10000).join(range(100000) | map('string')) }}",
        "{{ range(100000) | map('string') | join('x' * 10000) }}",
        "{{ {'a': 1} | toyaml(10**9) }}",
        "{% set chunk = range(1000) | list %}{{ ([chunk] * 50000) | sum(start=[]) | length }}",
        "{{ ([{'a': range(1000) | list}] * 50000) | sum(attribute='a', start=[]) | length }}",
    ],
)
def test_templates_that_would_run_for_long_or_fill_memory_fail(
    harness: Harness, statement: str
) -> None:
    harness.component("cm", f"{statement}\n" + CONFIGMAP)
    with pytest.raises(TemplateError) as caught:
        harness.objects(one_component('"v"'))
    assert "does too much work" in str(caught.value)
    assert "(rendering component cm for app.yaml:7: spec.components[0])" in str(caught.value)


@pytest.mark.parametrize(
    "statement",
    [
        "{% set ns = namespace(x=10) %}{% for i in range(64) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
        "{% set ns = namespace(x=7) %}{% for i in range(9999) %}{% set ns.x = ns.x * 10**18 %}{% endfor %}",
        "{% set ns = namespace(x=3) %}{% for i in range(9999) %}{% set ns.x = ns.x + ns.x %}{% endfor %}",
        "{% set ns = namespace(x=3) %}{% for i in range(9999) %}{% set ns.x = ns.x - -ns.x %}{% endfor %}",
        "{{ 10 ** (10 ** 10) }}",
    ],
)
def test_integers_growing_without_bound_fail(harness: Harness, statement: str) -> None:
    harness.component("cm", f"{statement}\n" + CONFIGMAP)
    with pytest.raises(TemplateError) as caught:
        harness.objects(one_component('"v"'))
    assert "too large (over 4096 bits)" in str(caught.value)


def test_integer_arithmetic_within_reason_still_works(harness: Harness) -> None:
    harness.component(
        "cm",
        "{% set x = 2 ** 64 * 3 - 1 %}\n" + CONFIGMAP.replace("{{ parameter.value }}", "{{ x }}"),
    )
    [obj] = harness.objects(one_component('"v"'))
    assert obj["data"]["value"] == 2**64 * 3 - 1


def test_lipsum_is_not_available(harness: Harness) -> None:
    harness.component("cm", "{{ lipsum(n=10**7) }}\n" + CONFIGMAP)
    with pytest.raises(TemplateError, match="'lipsum' is undefined"):
        harness.objects(one_component('"v"'))


def test_formatting_padding_and_loops_within_reason_still_work(harness: Harness) -> None:
    template = (
        "output:\n  apiVersion: v1\n  kind: ConfigMap\n  data:\n"
        "    a: {{ '%05d' % 7 }}\n"
        "    b: {{ '{:>4}|{:.2f}'.format('x', 1) }}\n"
        "    c: {{ 'x' | center(5) }}\n"
        "    d: {{ 'a\\nb' | indent(2) }}\n"
        "    e: {{ (range(3) | join(',')) ~ '-' ~ ('ab' * 2) + 'c' }}\n"
        "    f: {% set n = namespace(t=0) %}{% for i in range(300) %}{% for j in range(300) %}"
        "{% set n.t = n.t + 1 %}{% endfor %}{% endfor %}{{ n.t }}\n"
    )
    harness.component("cm", template)
    [obj] = harness.objects(one_component('"v"'))
    assert obj["data"] == {
        "a": "00007",
        "b": "   x|1.00",
        "c": "  x  ",
        "d": "a\n  b",
        "e": "0,1,2-ababc",
        "f": 90000,
    }


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("output:\n  kind: [\n", "the template rendered invalid YAML"),
        ("output:\n  a: 1\n  a: 2\n", "duplicate key 'a' at rendered line 3"),
        ("- 1\n", "the template must render one YAML mapping"),
        ("output: 5\n", "'output' must be an object with apiVersion and kind"),
        ("outputs: [1]\n", "'outputs' must map names to objects"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}\n", "template recursion too deep"),
    ],
)
def test_errors_about_what_a_template_rendered_name_the_application(
    harness: Harness, template: str, message: str
) -> None:
    folder = harness.component("cm", template)
    with pytest.raises(TemplateError) as caught:
        harness.objects(one_component('"v"'))
    text = str(caught.value)
    assert text.startswith(f"{folder / 'template.yaml.j2'}")
    assert message in text
    assert text.endswith("(rendering component cm for app.yaml:7: spec.components[0])")


def test_fail_messages_are_one_bounded_line(harness: Harness) -> None:
    harness.component("cm", "{{ fail('bad: ' ~ parameter.value) }}\n" + CONFIGMAP)
    with pytest.raises(TemplateError) as caught:
        harness.objects(one_component(json_literal("x\nerror: other.yaml:1: fake\u2028")))
    assert str(caught.value) == (
        "app.yaml:7: spec.components[0]: bad: x\\nerror: other.yaml:1: fake\\u2028 (component cm)"
    )
    with pytest.raises(TemplateError) as caught:
        harness.objects(one_component(json_literal("y" * 5000)))
    assert len(str(caught.value)) < 600
    assert "more characters" in str(caught.value)


@pytest.mark.parametrize("length", [1000, 1030, 5000])
def test_mappings_with_long_keys_round_trip(harness: Harness, length: int) -> None:
    value = {"k" * length: {"x" * length: [1, {"y" * length: "z"}]}, "short": 1}
    assert load_yaml(f"v: {json_literal(value)}\n", "t")[0] == {"v": value}
    harness.component("cm", CONFIGMAP)
    [obj] = harness.objects(one_component(json_literal(value)))
    assert obj["data"]["value"] == value


def test_a_long_label_key_renders_in_a_builtin_definition(harness: Harness) -> None:
    key = "example.com/" + "a" * 1100
    app = app_yaml(
        "    - name: web\n      type: webservice\n      properties:\n"
        f"        image: nginx\n        labels: {{? {json_literal(key)}: v}}\n"
    )
    [deployment] = [o for o in harness.objects(app) if o["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["metadata"]["labels"][key] == "v"


def test_mapping_keys_named_like_methods_do_not_hide_the_methods(harness: Harness) -> None:
    app = app_yaml(
        "    - name: web\n      type: webservice\n      properties: {image: nginx}\n"
        "      traits:\n        - type: gateway\n          properties:\n"
        "            http: {/: 80}\n            annotations: {items: a, values: b, get: c}\n"
    )
    [ingress] = [o for o in harness.objects(app) if o["kind"] == "Ingress"]
    assert ingress["metadata"]["annotations"]["items"] == "a"
    harness.component(
        "keys",
        CONFIGMAP.replace("parameter.value", '[parameter["items"], parameter.items() | list]'),
    )
    [obj] = harness.objects(one_component("1", type_="keys").replace("value: 1", "items: [1]"))
    assert obj["data"]["value"] == [[1], [["items", [1]]]]


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


def test_compiled_code_is_the_same_every_time() -> None:
    """The budget's code generator marks nodes by identity; a reused id must not leak."""
    env = environment()
    for path in sorted((ROOT / "definitions").glob("*/*/template.yaml.j2")):
        source = path.read_text()
        first = env.compile(source, raw=True)
        for _ in range(5):
            garbage = [object() for _ in range(1000)]  # churn ids between compiles
            assert env.compile(source, raw=True) == first, path
            del garbage
