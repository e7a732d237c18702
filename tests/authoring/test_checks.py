"""``def validate`` checks: each kind of broken definition, reported with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.authoring.checks import check_folders, definition_folders, schema_problems
from engine.authoring.scaffold import scaffold
from engine.data import builtin_definitions_dir
from engine.errors import DefinitionError


def write(root: Path, name: str, kind: str = "component", **changes: str) -> Path:
    """A scaffolded definition with some files replaced (``template``, ``schema``, ...)."""
    files = scaffold(name, kind)
    names = {
        "meta": "definition.yaml",
        "schema": "schema.json",
        "template": "template.yaml.j2",
        "example": "examples/basic.yaml",
    }
    for key, text in changes.items():
        files[names[key]] = text
    for relative, text in files.items():
        path = root / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / name


def problems(*folders: Path) -> list[str]:
    return [str(p) for p in check_folders(list(folders)).problems]


def test_every_builtin_definition_passes() -> None:
    report = check_folders(definition_folders([builtin_definitions_dir()]))
    assert [str(p) for p in report.problems] == []
    assert report.kube.checked > 0
    assert len(report.definitions) >= 17


def test_an_undeclared_parameter_is_reported_at_its_line(tmp_path: Path) -> None:
    template = scaffold("web", "component")["template.yaml.j2"].replace(
        "image: {{ parameter.image }}", "image: {{ parameter.image }}:{{ parameter.tag }}"
    )
    folder = write(tmp_path, "web", template=template)
    line = template.splitlines().index(
        "            image: {{ parameter.image }}:{{ parameter.tag }}"
    )
    found = problems(folder)
    assert (
        found[0]
        == f"{folder}/template.yaml.j2:{line + 1}: parameter.tag is not declared in schema.json"
    )
    # The example then fails too, as StrictUndefined stops the render at the same line.
    assert found[1].startswith(f"{folder}/template.yaml.j2:{line + 1}: undefined value")


def test_a_loop_variable_read_is_followed(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "ports": {
                "type": "array",
                "default": [],
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"port": {"type": "integer"}},
                },
            }
        },
    }
    template = (
        "patch:\n  spec:\n    template:\n      spec:\n        containers:\n"
        "{% for p in parameter.ports %}\n"
        "          - name: {{ context.name }}\n"
        "            ports: [{containerPort: {{ p.port }}}]\n"
        "{% if p.portNumber is defined %}\n"
        "            # never rendered: the schema calls it port\n"
        "{% endif %}\n"
        "{% endfor %}\n"
    )
    folder = write(
        tmp_path,
        "ports",
        "trait",
        schema=json.dumps(schema),
        template=template,
        example="properties: {ports: [{port: 8080}]}\n",
    )
    assert problems(folder) == [
        f"{folder}/template.yaml.j2:9: parameter.ports[].portNumber is not declared in schema.json"
    ]


def test_an_invalid_schema_is_reported_at_its_line(tmp_path: Path) -> None:
    schema = '{\n  "type": "object",\n  "properties": {\n    "image": {"type": "text"}\n  }\n}\n'
    folder = write(tmp_path, "web", schema=schema)
    [problem] = problems(folder)
    assert problem.startswith(
        f"{folder}/schema.json:4: properties.image.type: not a valid JSON Schema"
    )


def test_schema_json_syntax_and_dangling_references(tmp_path: Path) -> None:
    broken = write(tmp_path, "broken", schema='{\n  "type": "object",\n}\n')
    [problem] = problems(broken)
    assert problem.startswith(f"{broken}/schema.json:3: invalid JSON: ")
    schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}
    text = json.dumps(schema, indent=2)
    (tmp_path / "s.json").write_text(text)
    [problem] = [str(p) for p in schema_problems(tmp_path / "s.json")]
    assert (
        problem
        == f"{tmp_path}/s.json:5: properties.a.$ref: $ref '#/$defs/missing' points at nothing in this schema"
    )


def test_a_ref_loop_is_reported_at_its_line(tmp_path: Path) -> None:
    schema = {"type": "object", "$defs": {"a": {"$ref": "#/$defs/a"}}}
    folder = write(tmp_path, "web", schema=json.dumps(schema, indent=2))
    [problem] = problems(folder)
    assert problem.startswith(f"{folder}/schema.json:5: $defs.a.$ref: this $ref leads back")


def test_a_default_its_schema_rejects_is_reported_at_its_line(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "$defs": {"port": {"type": "integer", "minimum": 1}},
        "properties": {
            "name": {"type": "string", "default": 5},
            "port": {"$ref": "#/$defs/port", "default": 0},
            "ok": {"$ref": "#/$defs/port", "default": 80},
            "tags": {"type": "array", "items": {"type": "string", "default": "x"}},
        },
    }
    (tmp_path / "s.json").write_text(json.dumps(schema, indent=2))
    assert [str(p) for p in schema_problems(tmp_path / "s.json")] == [
        f"{tmp_path}/s.json:12: properties.name.default: the default does not match the "
        "schema: 5 is not of type 'string'",
        f"{tmp_path}/s.json:16: properties.port.default: the default does not match the "
        "schema: 0 is less than the minimum of 1",
    ]


def test_a_key_given_twice_in_the_schema_is_reported(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{\n  "type": "object",\n  "type": "array"\n}\n')
    [problem] = [str(p) for p in schema_problems(tmp_path / "s.json")]
    assert problem == f"{tmp_path}/s.json:3: duplicate key 'type'"


def test_a_recursive_macro_is_checked_and_rendered(tmp_path: Path) -> None:
    template = scaffold("web", "component")["template.yaml.j2"].replace(
        "image: {{ parameter.image }}",
        "image: {% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}{{ parameter.image }}"
        "{% endif %}{% endmacro %}{{ f(3) }}",
    )
    assert problems(write(tmp_path, "web", template=template)) == []


def test_a_template_syntax_error_is_reported_once_at_its_line(tmp_path: Path) -> None:
    template = "output:\n  apiVersion: v1\n  kind: {{ 'ConfigMap' }\n"
    folder = write(tmp_path, "web", template=template)
    assert problems(folder) == [
        f"{folder}/template.yaml.j2:3: template syntax error: unexpected '}}'"
    ]


def test_a_failing_example_is_reported_at_its_line(tmp_path: Path) -> None:
    example = "description: wrong type\nproperties:\n  image: nginx\n  replicas: two\n"
    folder = write(tmp_path, "web", example=example)
    assert problems(folder) == [
        f"{folder}/examples/basic.yaml:4: properties.replicas: 'two' is not of type 'integer' "
        "(component web) (example basic)"
    ]


def test_an_example_with_an_unknown_key_is_reported(tmp_path: Path) -> None:
    example = "properties:\n  image: nginx\nproperty:\n  replicas: 2\n"
    folder = write(tmp_path, "web", example=example)
    [problem] = problems(folder)
    assert problem.startswith(f"{folder}/examples/basic.yaml:3: property: unknown key 'property'")


def test_a_kubernetes_schema_violation_names_the_object(tmp_path: Path) -> None:
    template = scaffold("web", "component")["template.yaml.j2"].replace(
        "replicas: {{ parameter.replicas }}", "replicas: {{ parameter.replicas | string }}"
    )
    folder = write(tmp_path, "web", template=template)
    assert problems(folder) == [
        f"{folder}/examples/basic.yaml: Deployment/demo-ns/demo-comp (demo/demo-comp): "
        "spec.replicas: '2' is not of type 'integer', 'null' (Kubernetes 1.37 schema, example basic)"
    ]


def test_a_bad_metadata_file_is_reported_at_its_line(tmp_path: Path) -> None:
    meta = "kind: ComponentDefinition\nname: web\ndescription: x\nappliesTo: 3\n"
    folder = write(tmp_path, "web", meta=meta)
    [problem] = problems(folder)
    assert problem.startswith(f"{folder}/definition.yaml:4: appliesTo: 3 is not of type 'array'")


def test_the_other_folders_are_still_checked(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad", schema="[]")
    good = write(tmp_path, "good", "trait")
    report = check_folders(definition_folders([tmp_path]))
    assert [(d.folder, len(d.problems)) for d in report.definitions] == [(bad, 1), (good, 0)]


def test_two_folders_with_the_same_definition(tmp_path: Path) -> None:
    first = write(tmp_path / "a", "web")
    second = write(tmp_path / "b", "web")
    found = problems(first, second)
    assert found == [
        f"{first}/definition.yaml: component 'web' is also defined in {second}, which is the one used"
    ]


def test_a_definition_without_examples_is_a_warning(tmp_path: Path) -> None:
    folder = write(tmp_path, "web")
    (folder / "examples/basic.yaml").unlink()
    report = check_folders([folder])
    assert report.problems == []
    assert report.warnings == [f"{folder}: no examples/*.yaml to render"]


def test_folders_must_hold_definitions(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match=r"no definition\.yaml found"):
        definition_folders([tmp_path])
    with pytest.raises(DefinitionError, match="no such definition folder"):
        definition_folders([tmp_path / "missing"])
