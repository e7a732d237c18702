"""``sailplan diff``: two environments, or a pull-request preview against a git revision.

Exit codes: 0 no differences (or differences without --exit-code), 3 differences with
--exit-code, 1 errors, 2 usage.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import main
from tests.conftest import ROOT
from tests.test_revisions import APP, ENV_APP, commit, edit, git, make_repo, write


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["diff", *args], input=stdin, catch_exceptions=False)


@pytest.fixture
def app(tmp_path: Path) -> str:
    path = tmp_path / "app.yaml"
    path.write_text(ENV_APP)
    return str(path)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


# -- two environments ------------------------------------------------------------------


def test_two_environments(app: str) -> None:
    result = run(app, "--env", "target-default", "--env", "target-prod")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(
        "diff target-default → target-prod\n"
        "\n"
        "# Environment: target-default → target-prod\n"
        "changed: Deployment/prod/express-server (was Deployment/default/express-server)\n"
        "--- a/Deployment/default/express-server\n"
        "+++ b/Deployment/prod/express-server\n"
    )
    assert "-  namespace: default\n+  namespace: prod\n" in result.stdout
    assert "-  replicas: 1\n+  replicas: 2\n" in result.stdout
    assert "changed: Service/prod/express-server (was Service/default/express-server)\n" in (
        result.stdout
    )
    assert result.stdout.endswith(
        "target-default → target-prod: 0 added, 2 changed, 0 removed, 0 unchanged\n"
        "\n"
        "0 added, 2 changed, 0 removed, 0 unchanged in 1 environment\n"
    )


def test_exit_code_three_when_environments_differ(app: str) -> None:
    differ = run(app, "--env", "target-default", "--env", "deploy2prod", "--exit-code")
    assert differ.exit_code == 3
    same = run(app, "--env", "target-prod", "--env", "deploy2prod", "--exit-code")
    assert same.exit_code == 0
    assert same.stdout.endswith("no differences in 1 environment\n")


def test_an_environment_file_and_stdin(tmp_path: Path, app: str) -> None:
    env_file = tmp_path / "qa.yaml"
    env_file.write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\nmetadata: {name: qa}\n"
        "replicas: [{name: express-server, count: 5}]\n"
    )
    result = run("-", "--env", "target-prod", "--env", str(env_file), stdin=ENV_APP)
    assert result.exit_code == 0, result.stderr
    assert "-  replicas: 2\n+  replicas: 5\n" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --env twice (two environments), --base-ref REF or --live"),
        (("--env", "target-prod"), "give --env twice"),
        (("--env", "a", "--env", "b", "--env", "c"), "give --env twice"),
        (
            ("--base-ref", "HEAD", "-o", "json", "--markdown"),
            "choose one of -o json and --markdown",
        ),
    ],
)
def test_usage_errors_exit_2(app: str, args: tuple[str, ...], message: str) -> None:
    result = run(app, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_stdin_has_no_revision() -> None:
    result = run("-", "--base-ref", "HEAD", stdin=ENV_APP)
    assert result.exit_code == 2
    assert "not from standard input" in result.stderr


def test_an_unknown_environment_exits_1(app: str) -> None:
    result = run(app, "--env", "staging", "--env", "target-prod")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown environment 'staging'; known environments: target-default "
        "(also deploy2default), target-prod (also deploy2prod)\n"
    )


def test_secrets_are_masked(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n"
    )
    env = tmp_path / "environments"
    env.mkdir()
    (env / "prod.yaml").write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\nnamespace: prod\n"
    )
    (env / "qa.yaml").write_text(
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\nnamespace: qa\n"
    )
    result = run(str(tmp_path / "secret.yaml"), "--env", "prod", "--env", "qa")
    assert result.exit_code == 0, result.stderr
    assert "hunter2" not in result.stdout
    assert "   password: '***'\n" in result.stdout


# -- pull-request preview --------------------------------------------------------------


def test_preview_against_head(repo: Path) -> None:
    result = run(str(repo / APP), "--base-ref", "HEAD")
    assert result.exit_code == 0, result.stderr
    head = git(repo, "rev-parse", "HEAD").strip()[:12]
    assert result.stdout.startswith(f"diff HEAD ({head}) → working tree\n\n")
    for namespace in ("default", "prod"):
        section = result.stdout.split(f"# Environment: target-{namespace}\n")[1]
        assert section.startswith(
            f"changed: Deployment/{namespace}/express-server\n"
            f"--- a/Deployment/{namespace}/express-server\n"
            f"+++ b/Deployment/{namespace}/express-server\n"
        )
        assert f"target-{namespace}: 0 added, 1 changed, 0 removed, 1 unchanged\n" in result.stdout
    assert result.stdout.count("+        image: oamdev/hello-world:v2\n") == 2
    assert result.stdout.endswith("0 added, 2 changed, 0 removed, 2 unchanged in 2 environments\n")


def test_preview_exit_codes(repo: Path) -> None:
    assert run(str(repo / APP), "--base-ref", "HEAD", "--exit-code").exit_code == 3
    git(repo, "checkout", "-q", "--", ".")
    unchanged = run(str(repo / APP), "--base-ref", "HEAD", "--exit-code")
    assert unchanged.exit_code == 0
    assert unchanged.stdout.endswith("no differences in 2 environments\n")
    assert run(str(repo / APP), "--base-ref", "HEAD~1", "--exit-code").exit_code == 3


def test_preview_of_a_committed_change(repo: Path) -> None:
    git(repo, "checkout", "-q", "--", ".")
    result = run(str(repo / "apps"), "--base-ref", "HEAD~1")
    assert result.exit_code == 0
    default, prod = result.stdout.split("# Environment: ")[1:]
    assert default.startswith("target-default\ntarget-default: no differences (2 unchanged)\n")
    assert "-  replicas: 2\n+  replicas: 3\n" in prod


def test_preview_json(repo: Path) -> None:
    result = run(str(repo / APP), "--base-ref", "HEAD~1", "-o", "json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["new"] == "working tree"
    assert body["old"].startswith("HEAD~1 (")
    assert body["differs"] is True
    assert [e["name"] for e in body["environments"]] == ["target-default", "target-prod"]
    prod = body["environments"][1]
    assert prod["summary"] == {"added": 0, "changed": 1, "removed": 0, "unchanged": 1}
    (deploy,) = prod["objects"]
    assert (deploy["action"], deploy["id"]) == ("changed", "Deployment/prod/express-server")
    assert "+  replicas: 3\n" in deploy["diff"]


def test_preview_markdown_for_a_pull_request_comment(repo: Path) -> None:
    result = run(str(repo / APP), "--base-ref", "HEAD", "--markdown", "--env", "target-prod")
    assert result.exit_code == 0
    head = git(repo, "rev-parse", "HEAD").strip()[:12]
    assert result.stdout == (
        f"## sailplan diff: `HEAD ({head})` → `working tree`\n"
        "\n"
        "0 added, 1 changed, 0 removed, 1 unchanged in 1 environment\n"
        "\n"
        "### `target-prod`\n"
        "\n"
        "0 added, 1 changed, 0 removed, 1 unchanged\n"
        "\n"
        "<details>\n"
        "<summary>changed: <code>Deployment/prod/express-server</code></summary>\n"
        "\n"
        "```diff\n"
        "--- a/Deployment/prod/express-server\n"
        "+++ b/Deployment/prod/express-server\n"
        "@@ -23,7 +23,7 @@\n"
        "     spec:\n"
        "       containers:\n"
        "       - name: express-server\n"
        "-        image: oamdev/hello-world\n"
        "+        image: oamdev/hello-world:v2\n"
        "         ports:\n"
        "         - containerPort: 8000\n"
        "           protocol: TCP\n"
        "```\n"
        "\n"
        "</details>\n"
    )
    assert run(str(repo / APP), "--base-ref", "HEAD", "-o", "markdown").stdout.startswith("## ")


def test_preview_masks_secret_values(repo: Path) -> None:
    write(
        repo,
        "apps/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2}\n",
    )
    commit(repo, "a secret")
    edit(repo, "apps/secret.yaml", "hunter2", "correct-horse")
    result = run(str(repo / "apps"), "--base-ref", "HEAD")
    assert result.exit_code == 0
    assert "hunter2" not in result.stdout
    assert "correct-horse" not in result.stdout
    assert "-  password: '*** (before)'\n+  password: '*** (after)'\n" in result.stdout


def test_color_on_request_only(repo: Path) -> None:
    assert "\x1b[" not in run(str(repo / APP), "--base-ref", "HEAD").stdout
    colored = run(str(repo / APP), "--base-ref", "HEAD", "--color", "always").stdout
    assert "\x1b[32m+        image: oamdev/hello-world:v2\x1b[0m\n" in colored


def test_an_unknown_revision_exits_1(repo: Path) -> None:
    result = run(str(repo / APP), "--base-ref", "no-such-branch")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: unknown revision 'no-such-branch' in the git repository {repo.resolve()}\n"
    )


def test_outside_a_repository_exits_1(app: str, tmp_path: Path) -> None:
    result = run(app, "--base-ref", "HEAD")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path}: not in a git repository (fatal: ")


def test_a_broken_base_names_the_file_and_revision(repo: Path) -> None:
    edit(repo, APP, "properties: {replicas: 1}", "properties: {replicas: one}")
    commit(repo, "broken")
    git(repo, "checkout", "-q", "HEAD~1", "--", APP)
    result = run(str(repo / APP), "--base-ref", "HEAD")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {repo / APP}:11: spec.components[0].traits[0].properties.replicas: "
        "'one' is not of type 'integer' (trait scaler) (at HEAD)\n"
    )


def test_the_installed_command_exits_3_from_inside_the_repository(repo: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "diff",
            "app.yaml",
            "--base-ref",
            "HEAD",
            "--exit-code",
            "--color",
            "auto",
        ],
        cwd=repo / "apps",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "\x1b[" not in done.stdout
    assert "+++ b/Deployment/prod/express-server\n" in done.stdout
