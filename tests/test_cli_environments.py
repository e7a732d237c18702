"""Environments from the command line: overlay files, selection, output trees, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from cli import main
from tests.conftest import EXAMPLES
from tests.gitops.test_baseref import git
from tests.harness import app_yaml

OVERLAYS = EXAMPLES / "environments/overlays"
POLICIES = EXAMPLES / "environments/policies/my-app.yaml"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def objects(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A copy of the overlay example to change."""
    shutil.copytree(OVERLAYS, tmp_path / "app")
    return tmp_path / "app"


def test_overlay_files_beside_the_app_are_found(app: Path) -> None:
    result = run("render", str(app / "my-app.yaml"), "--env", "prod")
    assert result.exit_code == 0, result.stderr
    deployment, service, ingress = objects(result.stdout)
    assert deployment["metadata"]["namespace"] == "prod"
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"]["matchLabels"]["env"] == "prod"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert service["spec"]["selector"]["env"] == "prod"
    assert ingress["metadata"]["labels"]["env"] == "prod"


def test_every_environment_is_rendered_under_its_heading(app: Path) -> None:
    result = run("render", str(app))
    assert result.exit_code == 0
    headings = [line for line in result.stdout.splitlines() if line.startswith("# Environment")]
    assert headings == ["# Environment: prod", "# Environment: staging"]


def test_an_environment_file_given_by_path(app: Path, tmp_path: Path) -> None:
    qa = tmp_path / "qa.yaml"
    qa.write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\nnamespace: qa\nnamePrefix: qa-\n"
    )
    result = run("render", str(app / "my-app.yaml"), "--env", str(qa))
    assert result.exit_code == 0, result.stderr
    names = [
        (o["kind"], o["metadata"]["name"], o["metadata"]["namespace"])
        for o in objects(result.stdout)
    ]
    assert names == [
        ("Deployment", "qa-my-server", "qa"),
        ("Service", "qa-my-server", "qa"),
        ("Ingress", "qa-my-server", "qa"),
    ]
    ingress = objects(result.stdout)[2]
    assert (
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
        == "qa-my-server"
    )


def test_a_file_extends_the_policy_environment_of_its_name(tmp_path: Path) -> None:
    shutil.copy(POLICIES, tmp_path / "my-app.yaml")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments/prod.yaml").write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\ncommonAnnotations: {team: web}\n"
    )
    result = run("render", str(tmp_path / "my-app.yaml"), "--env", "deploy-prod")
    assert result.exit_code == 0, result.stderr
    deployment = objects(result.stdout)[0]
    assert deployment["metadata"]["namespace"] == "prod"
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["annotations"] == {"team": "web"}


def test_a_file_named_after_a_step_is_no_environment_of_its_own(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "environments").mkdir(parents=True)
    shutil.copy(POLICIES, repo / "my-app.yaml")
    (repo / "environments/deploy-staging.yaml").write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\nnamePrefix: stg-\n"
    )
    rendered = run("render", str(repo / "my-app.yaml"))
    assert rendered.exit_code == 0, rendered.stderr
    headings = [line for line in rendered.stdout.splitlines() if line.startswith("# Environment")]
    assert headings == ["# Environment: staging", "# Environment: prod"]
    assert "name: stg-my-server" in rendered.stdout.split("# Environment: prod")[0]
    out = tmp_path / "build"
    assert run("render", str(repo), "--all-envs", "--out", str(out)).exit_code == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["prod", "staging"]
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "app")
    diff = run("diff", str(repo / "my-app.yaml"), "--base-ref", "HEAD")
    assert diff.exit_code == 0, diff.stderr
    assert diff.stdout.endswith("no differences in 2 environments\n")


def test_deploy_steps_sharing_a_topology_and_deploy2env_steps(tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(
        app_yaml(
            "    - {name: web, type: worker, properties: {image: nginx}}\n"
            "  policies:\n"
            "    - {name: local, type: topology, properties: {clusters: [local]}}\n"
            "    - name: small\n      type: override\n"
            "      properties: {components: [{name: web, properties: {image: 'nginx:small'}}]}\n"
            "    - name: eb\n      type: env-binding\n      properties:\n"
            "        envs: [{name: qa, placement: {namespaceSelector: {name: qa}}}]\n"
            "  workflow:\n    steps:\n"
            "      - {name: deploy-plain, type: deploy, properties: {policies: [local]}}\n"
            "      - {name: deploy-small, type: deploy, properties: {policies: [local, small]}}\n"
            "      - {name: to-qa, type: deploy2env, properties: {policy: eb, env: qa}}\n",
            name="a",
        )
    )
    small = run("render", str(app), "--env", "deploy-small")
    assert small.exit_code == 0, small.stderr
    assert objects(small.stdout)[0]["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "nginx:small"
    )
    qa = run("render", str(app), "--env", "to-qa")
    assert qa.exit_code == 0, qa.stderr
    assert objects(qa.stdout)[0]["metadata"]["namespace"] == "qa"
    unknown = run("render", str(app), "--env", "local")
    assert unknown.stderr == (
        "error: unknown environment 'local'; known environments: deploy-plain, deploy-small, "
        "qa (also to-qa)\n"
    )


def test_all_envs_out_writes_a_tree(app: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = run("render", str(app), "--all-envs", "--out", str(out))
    assert result.exit_code == 0
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml"))
    assert files == [
        f"{env}/my-app/{kind}-my-server.yaml"
        for env in ("prod", "staging")
        for kind in ("deployment", "ingress", "service")
    ]


def test_unknown_environment_lists_the_known_ones(app: Path) -> None:
    result = run("render", str(app / "my-app.yaml"), "--env", "qa")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown environment 'qa'; known environments: prod, staging\n"


def test_a_patch_that_matches_nothing_is_a_warning(app: Path) -> None:
    (app / "environments/prod.yaml").write_text(
        (app / "environments/prod.yaml").read_text()
        + "- target: {kind: Deployment, name: nope}\n  patch: '[{op: remove, path: /spec/replicas}]'\n"
    )
    result = run("render", str(app / "my-app.yaml"), "--env", "prod")
    assert result.exit_code == 0
    assert "warning: environment prod" in result.stderr
    assert "nope" in result.stderr


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ("[{op: test, path: /spec/replicas, value: 7}]", "does not equal"),
        ("[{op: remove, path: /spec/nope}]", "/spec/nope"),
    ],
)
def test_failing_json_patches_are_errors(app: Path, patch: str, message: str) -> None:
    (app / "environments/prod.yaml").write_text(
        (app / "environments/prod.yaml").read_text()
        + f"- target: {{kind: Deployment}}\n  patch: '{patch}'\n"
    )
    result = run("render", str(app / "my-app.yaml"), "--env", "prod")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "Deployment" in result.stderr


def test_environment_file_errors_name_file_and_line(app: Path) -> None:
    (app / "environments/staging.yaml").write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\nnamePrefx: x-\n"
    )
    result = run("render", str(app / "my-app.yaml"), "--env", "staging")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: {app / 'environments/staging.yaml'}:3: namePrefx: unknown property 'namePrefx'; "
        "did you mean 'namePrefix'?"
    )


def test_patch_files_must_stay_inside_the_folder(app: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-server}\n"
    )
    (app / "environments/prod.yaml").write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\npatches:\n- path: ../../outside.yaml\n"
    )
    result = run("render", str(app / "my-app.yaml"), "--env", "prod")
    assert result.exit_code == 1
    assert "outside" in result.stderr and "must stay inside the folder" in result.stderr


def test_plain_manifests_take_environment_patches(app: Path) -> None:
    (app / "config.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: info}\n"
    )
    (app / "environments/prod.yaml").write_text(
        (app / "environments/prod.yaml").read_text()
        + "- target: {kind: ConfigMap}\n  patch: '{data: {level: warn}}'\n"
    )
    result = run("render", str(app), "--env", "prod")
    assert result.exit_code == 0, result.stderr
    config = next(o for o in objects(result.stdout) if o["kind"] == "ConfigMap")
    assert config["metadata"] == {
        "name": "settings",
        "namespace": "prod",
        "labels": {"env": "prod"},
    }
    assert config["data"] == {"level": "warn"}


def test_validate_checks_every_environment(app: Path) -> None:
    assert run("validate", str(app)).stdout == "ok: 4 file(s), 1 application(s), 6 object(s)\n"
    (app / "environments/prod.yaml").write_text(
        (app / "environments/prod.yaml").read_text().replace("replicas: 3", "replicas: three")
    )
    result = run("validate", str(app))
    assert result.exit_code == 1
    assert (
        f"{app / 'environments/prod.yaml'}:16: overrides[0].traits[0].properties.replicas: "
        "'three' is not of type 'integer' (trait scaler)"
    ) in result.stderr


def test_all_envs_out_refuses_to_replace_the_app_folder(app: Path) -> None:
    before = sorted(str(p.relative_to(app)) for p in app.rglob("*"))
    result = run("render", str(app), "--all-envs", "--out", str(app))
    assert result.exit_code == 1
    assert "holds the input" in result.stderr
    assert sorted(str(p.relative_to(app)) for p in app.rglob("*")) == before
