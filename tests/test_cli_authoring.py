"""The definition-authoring commands: def init, def validate, def render, validate --strict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from tests.conftest import EXAMPLES, ROOT


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: shop
  namespace: prod
spec:
  components:
    - name: web
      type: webservice
      properties:
        image: nginx:1.27
      traits:
        - type: owner-label
          properties:
            owner: team-a
"""


def test_a_trait_from_def_init_works_in_an_application_at_once(tmp_path: Path) -> None:
    defs = tmp_path / "defs"
    created = run("def", "init", "owner-label", "--type", "trait", "--dir", str(defs))
    assert created.exit_code == 0, created.output
    assert f"  {defs}/owner-label/template.yaml.j2\n" in created.stdout
    validated = run("def", "validate", str(defs / "owner-label"))
    assert validated.exit_code == 0, validated.output
    assert validated.stdout == (
        "ok: 1 definition(s), 1 example(s), 2 object(s) valid against the Kubernetes 1.37 schemas\n"
    )
    (tmp_path / "app.yaml").write_text(APP)
    rendered = run("render", str(tmp_path / "app.yaml"), "-d", str(defs), "-o", "json")
    assert rendered.exit_code == 0, rendered.output
    deployment, config = json.loads(rendered.stdout)
    assert deployment["metadata"]["labels"]["owner"] == "team-a"
    assert deployment["spec"]["template"]["metadata"]["labels"]["owner"] == "team-a"
    assert (config["kind"], config["metadata"]["name"]) == ("ConfigMap", "web-owner-label")
    assert config["metadata"]["namespace"] == "prod"


def test_a_component_from_def_init_validates_and_renders(tmp_path: Path) -> None:
    assert run("def", "init", "box", "--type", "component", "--dir", str(tmp_path)).exit_code == 0
    assert run("def", "validate", str(tmp_path)).exit_code == 0
    rendered = run("def", "render", str(tmp_path / "box"), "-p", '{"image": "busybox:1.36"}')
    assert rendered.exit_code == 0, rendered.output
    assert "kind: Deployment\n" in rendered.stdout
    assert "image: busybox:1.36\n" in rendered.stdout


def test_def_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    result = run("def", "init", "taken", "--type", "trait", "--dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path}/taken: already exists; choose another name or --dir "
        "(nothing was written)\n"
    )
    assert list((tmp_path / "taken").iterdir()) == []


def test_def_init_says_when_it_shadows_a_builtin(tmp_path: Path) -> None:
    result = run("def", "init", "scaler", "--type", "trait", "--dir", str(tmp_path))
    assert result.exit_code == 0
    assert result.stderr == "notice: it shadows the built-in trait 'scaler' wherever it is used\n"
    assert run("def", "init", "fresh", "--type", "trait", "--dir", str(tmp_path)).stderr == ""


@pytest.mark.parametrize("name", ["My_Trait", "x-", "a" * 64])
def test_def_init_names_must_be_dns_labels(tmp_path: Path, name: str) -> None:
    result = run("def", "init", name, "--type", "trait", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "is not a valid definition name" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_def_validate_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    run("def", "init", "web", "--type", "component", "--dir", str(tmp_path))
    template = tmp_path / "web/template.yaml.j2"
    template.write_text(
        template.read_text().replace(
            "{{ parameter.replicas }}", "{{ parameter.replicas | string }}"
        )
    )
    run("def", "init", "tag", "--type", "trait", "--dir", str(tmp_path))
    (tmp_path / "tag/examples/basic.yaml").write_text("properties: {owner: 7}\n")
    result = run("def", "validate", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {tmp_path}/tag/examples/basic.yaml:1: properties.owner: 7 is not of type 'string' "
        "(trait tag) (example basic)",
        f"error: {tmp_path}/web/examples/basic.yaml: Deployment/demo-ns/demo-comp "
        "(demo/demo-comp): spec.replicas: '2' is not of type 'integer', 'null' "
        "(Kubernetes 1.37 schema, example basic)",
        "2 problem(s) in 2 definition(s)",
    ]


def test_def_validate_passes_for_every_builtin_definition() -> None:
    result = run("def", "validate", str(ROOT / "definitions"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    assert "not checked, the Kubernetes 1.37 schemas have no such kind: " in result.stderr


def test_def_validate_takes_the_builtin_folder_by_a_relative_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)  # ref-objects renders only as the built-in (the applier reads)
    result = run("def", "validate", "definitions/components/ref-objects")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: 1 definition(s)")


def test_def_render_with_inline_json_a_file_and_a_host_component(tmp_path: Path) -> None:
    inline = run("def", "render", "scaler", "--properties", '{"replicas": 3}')
    assert inline.exit_code == 0, inline.output
    assert "  replicas: 3\n" in inline.stdout
    assert "# Source: demo/demo-comp\n" in inline.stdout
    (tmp_path / "props.yaml").write_text("replicas: 5\n")
    (tmp_path / "host.yaml").write_text("type: statefulset\nproperties:\n  image: postgres:16\n")
    from_files = run(
        "def",
        "render",
        "scaler",
        "-p",
        str(tmp_path / "props.yaml"),
        "--trait-of",
        str(tmp_path / "host.yaml"),
        "-o",
        "json",
    )
    assert from_files.exit_code == 0, from_files.output
    [workload] = json.loads(from_files.stdout)
    assert (workload["kind"], workload["spec"]["replicas"]) == ("StatefulSet", 5)
    stdin = run("def", "render", "scaler", "-p", "-", stdin="replicas: 2\n")
    assert "  replicas: 2\n" in stdin.stdout


def test_def_render_errors(tmp_path: Path) -> None:
    bad = run("def", "render", "scaler", "-p", '{"replicas": "x"}')
    assert bad.exit_code == 1
    assert bad.stderr == (
        "error: --properties:1: replicas: 'x' is not of type 'integer' (trait scaler)\n"
    )
    missing = run("def", "render", "scaler", "-p", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"error: {tmp_path}/nope.yaml: cannot read:")
    unknown = run("def", "render", "scalr")
    assert unknown.stderr == "error: no definition called 'scalr'; did you mean 'scaler'?\n"
    component = run("def", "render", "worker", "--trait-of", str(tmp_path / "x.yaml"))
    assert component.exit_code == 2
    assert "--trait-of is for traits; 'worker' is a component" in component.stderr


def test_validate_strict_passes_the_seed_examples_with_a_note() -> None:
    result = run("validate", "--strict", str(EXAMPLES / "gitops-demo"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")
    assert "object(s) checked against the Kubernetes 1.37 schemas" in result.stderr
    assert "GitRepository (source.toolkit.fluxcd.io/v1)" in result.stderr
    assert "Kustomization (kustomize.toolkit.fluxcd.io/v1)" in result.stderr


def test_validate_strict_reports_a_schema_violation_with_the_object(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec:\n  replicas: x\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: nginx}]}\n"
    )
    plain = run("validate", str(tmp_path))
    assert plain.exit_code == 0
    strict = run("validate", "--strict", str(tmp_path))
    assert strict.exit_code == 1
    assert (
        f"error: {tmp_path}/deploy.yaml:1: Deployment/shop/web ({tmp_path}/deploy.yaml): "
        "spec.replicas: 'x' is not of type 'integer', 'null' (Kubernetes 1.37 schema)\n"
    ) in strict.stderr
