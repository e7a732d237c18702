"""Pull-request previews on real git repositories: a revision against the working tree."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from engine.definitions import Registry
from engine.errors import BuildError, GitError, InputError, SailplanError
from engine.gitops.baseref import compare_with_revision

ENV_APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: first-vela-app}
spec:
  components:
    - name: express-server
      type: webservice
      properties: {image: oamdev/hello-world, ports: [{port: 8000, expose: true}]}
      traits:
        - type: scaler
          properties: {replicas: 1}
  policies:
    - name: target-default
      type: topology
      properties: {clusters: [local], namespace: default}
    - name: target-prod
      type: topology
      properties: {clusters: [local], namespace: prod}
    - name: deploy-ha
      type: override
      properties:
        components:
          - type: webservice
            traits:
              - type: scaler
                properties: {replicas: 2}
  workflow:
    steps:
      - name: deploy2default
        type: deploy
        properties: {policies: [target-default]}
      - name: manual-approval
        type: suspend
      - name: deploy2prod
        type: deploy
        properties: {policies: [target-prod, deploy-ha]}
"""
APP = "apps/app.yaml"


def git(repo: Path, *args: str) -> str:
    """Run git in a test repository (never in the project's own)."""
    command = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    command += ["-c", "commit.gpgsign=false", "-C", str(repo), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def write(repo: Path, relative: str, text: str) -> None:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    path = repo / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def make_repo(root: Path) -> Path:
    """A repository whose history has the app, then prod at 3 replicas (committed), and
    a working tree that changes the image."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    write(repo, APP, ENV_APP)
    commit(repo, "add the app")
    edit(repo, APP, "properties: {replicas: 2}", "properties: {replicas: 3}")
    commit(repo, "prod gets 3 replicas")
    edit(repo, APP, "image: oamdev/hello-world", "image: oamdev/hello-world:v2")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def summaries(paths: list[str], ref: str, registry: Registry) -> dict[str, str]:
    report = compare_with_revision(paths, ref, registry).report
    return {e.title: str(e.diff.summary) for e in report.environments}


def test_a_working_tree_change_shows_in_every_environment(repo: Path, registry: Registry) -> None:
    report = compare_with_revision([str(repo / APP)], "HEAD", registry).report
    head = git(repo, "rev-parse", "HEAD").strip()
    assert (report.old, report.new) == (f"HEAD ({head[:12]})", "working tree")
    assert [e.title for e in report.environments] == ["target-default", "target-prod"]
    for env, namespace in zip(report.environments, ["default", "prod"], strict=True):
        assert str(env.diff.summary) == "0 added, 1 changed, 0 removed, 1 unchanged"
        (deploy,) = env.diff.objects
        assert deploy.label == f"Deployment/{namespace}/express-server"
        assert deploy.diff.startswith(
            f"--- a/Deployment/{namespace}/express-server\n"
            f"+++ b/Deployment/{namespace}/express-server\n"
        )
        changed = [line for line in deploy.diff.splitlines()[2:] if line[:1] in "+-"]
        assert changed == [
            "-        image: oamdev/hello-world",
            "+        image: oamdev/hello-world:v2",
        ]


def test_a_committed_change_against_an_older_revision(repo: Path, registry: Registry) -> None:
    report = compare_with_revision([str(repo / APP)], "HEAD~1", registry).report
    default, prod = report.environments
    assert "replicas" not in default.diff.objects[0].diff
    assert "-  replicas: 2\n+  replicas: 3\n" in prod.diff.objects[0].diff
    assert "+        image: oamdev/hello-world:v2\n" in prod.diff.objects[0].diff


def test_no_change_means_no_differences(repo: Path, registry: Registry) -> None:
    git(repo, "checkout", "-q", "--", ".")
    report = compare_with_revision([str(repo / "apps")], "HEAD", registry).report
    assert not report.differs
    assert str(report.summary) == "0 added, 0 changed, 0 removed, 4 unchanged"


def test_a_branch_name_a_folder_and_the_repository_root_work(
    repo: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "branch", "-q", "base", "HEAD~1")
    expected = {
        "target-default": "0 added, 1 changed, 0 removed, 1 unchanged",
        "target-prod": "0 added, 1 changed, 0 removed, 1 unchanged",
    }
    assert summaries([str(repo / "apps")], "base", registry) == expected
    monkeypatch.chdir(repo)
    assert summaries(["."], "base", registry) == expected


def test_a_new_path_is_all_added_and_a_deleted_one_all_removed(
    repo: Path, registry: Registry
) -> None:
    other = ENV_APP.replace("first-vela-app", "second-app").replace("express-server", "api")
    write(repo, "apps/other.yaml", other)
    assert summaries([str(repo / "apps/other.yaml")], "HEAD", registry) == {
        "target-default (new environment)": "2 added, 0 changed, 0 removed, 0 unchanged",
        "target-prod (new environment)": "2 added, 0 changed, 0 removed, 0 unchanged",
    }
    (repo / APP).unlink()
    assert summaries([str(repo / APP)], "HEAD", registry) == {
        "target-default (environment removed)": "0 added, 0 changed, 2 removed, 0 unchanged",
        "target-prod (environment removed)": "0 added, 0 changed, 2 removed, 0 unchanged",
    }


def test_a_path_missing_on_both_sides_is_an_error(repo: Path, registry: Registry) -> None:
    with pytest.raises(InputError, match="no such file or directory"):
        compare_with_revision([str(repo / "apps/nothing.yaml")], "HEAD", registry)


def test_environments_can_be_picked_by_name_or_alias(repo: Path, registry: Registry) -> None:
    for name in ("target-prod", "deploy2prod"):
        report = compare_with_revision([str(repo / APP)], "HEAD", registry, only=[name]).report
        assert [e.title for e in report.environments] == ["target-prod"]
    with pytest.raises(BuildError, match="unknown environment 'staging'; known environments"):
        compare_with_revision([str(repo / APP)], "HEAD", registry, only=["staging"])


def test_an_unknown_revision_is_a_clear_error(repo: Path, registry: Registry) -> None:
    for ref in ("no-such-branch", "--output=x", "HEAD~9"):
        with pytest.raises(GitError, match=f"unknown revision '{ref}'"):
            compare_with_revision([str(repo / APP)], ref, registry)


def test_outside_a_repository_is_a_clear_error(tmp_path: Path, registry: Registry) -> None:
    write(tmp_path / "plain", "app.yaml", ENV_APP)
    with pytest.raises(GitError, match="not in a git repository"):
        compare_with_revision([str(tmp_path / "plain/app.yaml")], "HEAD", registry)


def test_paths_in_two_repositories_are_an_error(tmp_path: Path, registry: Registry) -> None:
    first, second = make_repo(tmp_path / "a"), make_repo(tmp_path / "b")
    with pytest.raises(GitError, match="different git repositories"):
        compare_with_revision([str(first / APP), str(second / APP)], "HEAD", registry)


def test_errors_at_the_revision_name_the_file_as_typed(
    repo: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(repo, APP, "properties: {replicas: 1}", "properties: {replicas: one}")
    commit(repo, "broken")
    git(repo, "checkout", "-q", "HEAD~1", "--", APP)
    monkeypatch.chdir(repo / "apps")
    cases = {
        "app.yaml": "app.yaml:11: ",
        ".": "app.yaml:11: ",
        "../apps": "../apps/app.yaml:11: ",
        str(repo / APP): f"{repo / APP}:11: ",
    }
    for typed, start in cases.items():
        with pytest.raises(SailplanError) as caught:
            compare_with_revision([typed], "HEAD", registry)
        message = str(caught.value)
        assert message.startswith(start), message
        assert message.endswith("'one' is not of type 'integer' (trait scaler) (at HEAD)")
        assert "sailplan-base" not in message


def test_temporary_copies_are_always_removed(
    repo: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = repo.parent / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    compare_with_revision([str(repo / APP)], "HEAD", registry)
    edit(repo, APP, "properties: {replicas: 1}", "properties: {replicas: one}")
    commit(repo, "broken")
    with pytest.raises(SailplanError):
        compare_with_revision([str(repo / APP)], "HEAD", registry)
    assert os.listdir(scratch) == []


def test_environment_files_and_their_patches_come_from_the_revision(
    repo: Path, registry: Registry
) -> None:
    write(
        repo,
        "apps/environments/target-prod.yaml",
        "apiVersion: sailplan.dev/v1alpha1\nkind: Environment\nmetadata: {name: target-prod}\n"
        "images: [{name: oamdev/hello-world, newTag: v1}]\n"
        "patches: [{path: ../patches/prod.yaml}]\n",
    )
    write(
        repo,
        "apps/patches/prod.yaml",
        "apiVersion: apps/v1\nkind: Deployment\n"
        "metadata: {name: express-server, namespace: prod}\nspec: {minReadySeconds: 5}\n",
    )
    commit(repo, "prod overlay")
    edit(repo, "apps/environments/target-prod.yaml", "newTag: v1", "newTag: v2")
    edit(repo, "apps/patches/prod.yaml", "minReadySeconds: 5", "minReadySeconds: 7")
    report = compare_with_revision([str(repo / APP)], "HEAD", registry).report
    default, prod = report.environments
    assert not default.diff.differs
    (deploy,) = prod.diff.objects
    assert "-        image: oamdev/hello-world:v1\n+        image: oamdev/hello-world:v2\n" in (
        deploy.diff
    )
    assert "-  minReadySeconds: 5\n+  minReadySeconds: 7\n" in deploy.diff


# -- crafted trees -----------------------------------------------------------------------


def _crafted_commit(repo: Path, entries: str) -> str:
    """A commit whose ``apps`` folder is the tree ``entries`` (mktree lines, ``{blob}``
    ``{inner}``, ``{deep}`` filled in: a YAML blob, a tree holding it as ``escaped.yaml``,
    a tree holding that one as ``..``)."""
    blob = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
        input=ENV_APP,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    inner = git_in(repo, f"100644 blob {blob}\tescaped.yaml\n", "mktree")
    deep = git_in(repo, f"040000 tree {inner}\t..\n", "mktree")
    apps = git_in(repo, entries.format(blob=blob, inner=inner, deep=deep), "mktree")
    top = git_in(repo, f"040000 tree {apps}\tapps\n", "mktree")
    return git(repo, "commit-tree", top, "-m", "crafted").strip()


def git_in(repo: Path, stdin: str, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_tree_with_dotdot_entries_is_refused_and_writes_nothing(
    repo: Path, registry: Registry, tmp_path: Path
) -> None:
    crafted = _crafted_commit(repo, "040000 tree {deep}\t..\n100644 blob {blob}\tapp.yaml\n")
    before = set(os.listdir(tempfile.gettempdir()))
    with pytest.raises(GitError, match=r"holds the unsafe path 'apps/\.\./\.\./escaped\.yaml'"):
        compare_with_revision([str(repo / "apps")], crafted, registry)
    after = set(os.listdir(tempfile.gettempdir()))
    assert "escaped.yaml" not in after - before
    assert not any(p.name == "escaped.yaml" for p in tmp_path.rglob("*"))


def test_a_tree_with_a_file_and_a_folder_of_one_name_is_a_clean_error(
    repo: Path, registry: Registry
) -> None:
    crafted = _crafted_commit(repo, "100644 blob {blob}\tapp.yaml\n040000 tree {inner}\tapp.yaml\n")
    with pytest.raises(GitError, match=r"both a file and a folder named 'apps/app\.yaml'"):
        compare_with_revision([str(repo / "apps")], crafted, registry)
