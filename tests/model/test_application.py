"""Application parsing: KubeVela's format, checked strictly, errors located."""

from __future__ import annotations

import pytest

from engine.errors import SchemaError
from engine.model import load_documents, parse_application

SEED = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: my-app
  labels: {team: web}
spec:
  components:
    - name: my-server
      type: webservice
      properties:
        image: nginx
      dependsOn: [db]
      traits:
        - type: scaler
          properties: {replicas: 2}
    - name: db
      type: worker
      properties: {image: postgres}
  policies:
    - name: prod
      type: topology
      properties: {namespace: prod}
  workflow:
    steps:
      - name: deploy
        type: deploy
        properties: {policies: [prod]}
"""


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_application(load_documents(text, "app.yaml")[0])


def test_parses_components_traits_policies_and_steps() -> None:
    app = parse(SEED)
    assert app.name == "my-app"
    assert app.namespace == "default"
    assert app.labels == {"team": "web"}
    assert [c.name for c in app.components] == ["my-server", "db"]
    assert app.components[0].depends_on == ("db",)
    assert app.components[0].traits[0].type == "scaler"
    assert app.components[0].traits[0].path == ("spec", "components", 0, "traits", 0)
    assert app.policies[0].properties == {"namespace": "prod"}
    assert app.steps[0].name == "deploy"
    assert str(app.locate(app.components[1].path)) == "app.yaml:16: spec.components[1]"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      dependsOn: [db]\n",
            "      dependOn: [db]\n",
            "app.yaml:12: spec.components[0].dependOn: unknown property 'dependOn'; "
            "did you mean 'dependsOn'?",
        ),
        (
            "  name: my-app\n",
            "  nam: my-app\n",
            "app.yaml:3: metadata: missing required property 'name'",
        ),
        (
            "  labels: {team: web}\n",
            "  labels: {team: 3}\n",
            "app.yaml:5: metadata.labels.team: 3 is not of type 'string'",
        ),
        (
            "kind: Application\n",
            "kind: Deployment\n",
            'app.yaml:2: kind: "Deployment" must be "Application"',
        ),
        (
            "    - name: db\n",
            "    - name: Db_\n",
            "app.yaml:16: spec.components[1].name: 'Db_' does not match",
        ),
        (
            "        type: deploy\n",
            "        typ: deploy\n",
            "app.yaml:26: spec.workflow.steps[0].typ: unknown property 'typ'; did you mean 'type'?",
        ),
    ],
)
def test_schema_errors_name_file_line_and_path(old: str, new: str, expected: str) -> None:
    assert old in SEED
    with pytest.raises(SchemaError) as info:
        parse(SEED.replace(old, new))
    assert str(info.value).startswith(expected)


def test_unknown_property_lists_the_valid_ones() -> None:
    with pytest.raises(SchemaError) as info:
        parse(SEED.replace("      dependsOn: [db]\n", "      trait: []\n"))
    message = str(info.value)
    assert "did you mean 'traits'?" in message
    assert "Valid properties: dependsOn, externalRevision, inputs, name, outputs" in message


def test_empty_optional_lists_are_absent_as_the_api_server_prunes_them() -> None:
    app = parse(
        "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: a}\n"
        "spec:\n  components:\n    - name: w\n      type: worker\n      properties:\n"
        "      traits:\n      dependsOn:\n  policies:\n"
    )
    component = app.components[0]
    assert (component.properties, component.traits, component.depends_on) == ({}, (), ())
    assert app.policies == ()


def test_a_component_name_may_appear_once() -> None:
    text = SEED.replace("    - name: db\n", "    - name: my-server\n")
    with pytest.raises(SchemaError) as info:
        parse(text)
    assert str(info.value) == (
        "app.yaml:16: spec.components[1].name: duplicate component name 'my-server' "
        "(also at line 8)"
    )


def test_an_unknown_property_without_a_close_match_lists_the_valid_ones() -> None:
    with pytest.raises(SchemaError) as info:
        parse(SEED.replace("      dependsOn: [db]\n", "      zzz: 1\n"))
    assert "unknown property 'zzz'; valid properties: dependsOn, externalRevision" in str(
        info.value
    )


def test_a_huge_wrong_value_is_quoted_in_part() -> None:
    with pytest.raises(SchemaError) as info:
        parse(SEED.replace("  name: my-app\n", f"  name: my-app\n  namespace: [{'x' * 100_000}]\n"))
    assert len(str(info.value)) < 400
    assert "more characters) is not of type 'string'" in str(info.value)  # the reason stays


def test_a_misspelt_required_property_is_named_as_the_typo() -> None:
    with pytest.raises(SchemaError) as info:
        parse(SEED.replace("      type: worker\n", "      typo: worker\n"))
    assert str(info.value).startswith(
        "app.yaml:17: spec.components[1].typo: unknown property 'typo'; did you mean 'type'?"
    )
