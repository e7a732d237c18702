"""``sailplan image-update`` end to end: a real registry, real git remotes, the seed files."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import GitError
from engine.gitops import imageupdate
from engine.workspace import read_documents
from tests.gitops.conftest import PASSWORD, USER, Registry, Remote, free_port, git

SEED_IMAGE_LINE = '      image: {image}:{tag} # {{"$imagepolicy": "default:apps"}}'


def source(tmp_path: Path, url: str, image: str, **extra: object) -> Path:
    """The seed's clusters/apps.yaml pointed at the loopback remote and registry."""
    props: dict[str, object] = {
        "repoType": "git",
        "url": url,
        "secretRef": "git-secret",
        "pullInterval": "1m",
        "git": {"branch": "main"},
        "path": "./apps",
        "imageRepository": {
            "image": image,
            "secretRef": "dockerhub-secret",
            "filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
            "policy": {"numerical": {"order": "asc"}},
            "commitMessage": "Image: {{range .Updated.Images}}{{println .}}{{end}}",
        },
    }
    props.update(extra)
    app = {
        "apiVersion": "core.oam.dev/v1beta1",
        "kind": "Application",
        "metadata": {"name": "apps"},
        "spec": {"components": [{"name": "apps", "type": "kustomize", "properties": props}]},
    }
    path = tmp_path / "apps.yaml"
    path.write_text(json.dumps(app, indent=2))
    return path


def secrets(tmp_path: Path, host: str, password: str = PASSWORD) -> Path:
    auth = base64.b64encode(f"{USER}:{password}".encode()).decode()
    docker = json.dumps({"auths": {host: {"auth": auth}}})
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: dockerhub-secret}\n"
        "type: kubernetes.io/dockerconfigjson\n"
        f"data: {{.dockerconfigjson: {base64.b64encode(docker.encode()).decode()}}}\n"
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: git-secret}\n"
        f"stringData: {{username: {USER}, password: {password}}}\n"
    )
    path = tmp_path / "secrets.yaml"
    path.write_text(text)
    return path


def sailplan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_the_seed_loop_commits_the_newest_tag_on_the_marked_line(
    tmp_path: Path, remote: Remote, basic_registry: Registry
) -> None:
    image = f"{basic_registry.host}/cnych/kubevela-gitops-demo"
    for tag in (
        "main-76a34322-1697703461",
        "main-9f0c1e2a-1697800000",
        "latest",
        "main-0a1b2c3d-1697799999",
    ):
        basic_registry.push("cnych/kubevela-gitops-demo", tag)
    before = remote.show("apps/my-app.yaml")
    src, sec = source(tmp_path, remote.url, image), secrets(tmp_path, basic_registry.host)

    done = sailplan("image-update", str(src), "--once", "--secrets", str(sec))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"default:apps: {image} -> main-9f0c1e2a-1697800000"
    assert (
        "apps/my-app.yaml:11: cnych/kubevela-gitops-demo:main-76a34322-1697703461 -> "
        in done.stdout
    )

    after = remote.show("apps/my-app.yaml")
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        (
            SEED_IMAGE_LINE.format(
                image="cnych/kubevela-gitops-demo", tag="main-76a34322-1697703461"
            ),
            SEED_IMAGE_LINE.format(image=image, tag="main-9f0c1e2a-1697800000"),
        )
    ]
    message = git("log", "-1", "--format=%B%n--%n%an <%ae>", "main", cwd=remote.bare)
    assert message == (
        f"Update image automatically.\nImage: {image}:main-9f0c1e2a-1697800000\n\n--\n"
        "kubevelabot <kubevelabot@users.noreply.github.com>\n"
    )
    # nothing new: no commit
    again = sailplan("image-update", str(src), "--once", "--secrets", str(sec))
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert remote.log() == ["Update image automatically.", "demo"]


def test_dry_run_prints_the_diff_and_commits_nothing(
    tmp_path: Path, remote: Remote, basic_registry: Registry
) -> None:
    basic_registry.push("demo/dry", "main-abc-1800000000")
    image = f"{basic_registry.host}/demo/dry"
    src, sec = source(tmp_path, remote.url, image), secrets(tmp_path, basic_registry.host)
    done = sailplan("image-update", str(src), "--dry-run", "--secrets", str(sec))
    assert done.returncode == 0, done.stderr
    assert "--- a/apps/my-app.yaml\n+++ b/apps/my-app.yaml\n" in done.stdout
    assert f"+{SEED_IMAGE_LINE.format(image=image, tag='main-abc-1800000000')}\n" in done.stdout
    assert remote.log() == ["demo"]


def test_http_remote_with_basic_auth_and_token_registry(
    tmp_path: Path, remote: Remote, http_remote: str, token_registry: Registry
) -> None:
    token_registry.push("demo/app", "main-1234abcd-1900000000")
    image = f"{token_registry.host}/demo/app"
    src, sec = source(tmp_path, http_remote, image), secrets(tmp_path, token_registry.host)
    done = sailplan(
        "image-update", str(src), "--once", "--secrets", str(sec), "--push-branch", "auto"
    )
    assert done.returncode == 0, done.stderr
    assert "pushed to auto" in done.stdout
    assert remote.log("auto")[0] == "Update image automatically."
    assert remote.log("main") == ["demo"]
    assert f"{image}:main-1234abcd-1900000000" in remote.show("apps/my-app.yaml", "auto")


def test_wrong_git_credentials_are_reported_without_the_password(
    tmp_path: Path, http_remote: str, basic_registry: Registry
) -> None:
    basic_registry.push("demo/app", "main-1234abcd-1900000000")
    src = source(tmp_path, http_remote, f"{basic_registry.host}/demo/app")
    (tmp_path / "s").mkdir()
    sec = secrets(tmp_path / "s", basic_registry.host)
    text = sec.read_text().replace(f"password: {PASSWORD}}}", "password: hunter2}")
    sec.write_text(text)
    done = sailplan("image-update", str(src), "--once", "--secrets", str(sec))
    assert done.returncode == 1
    assert done.stderr == (
        f"error: {http_remote}: cannot fetch refs/heads/main: authentication failed: "
        "the remote wants credentials or refused them (secretRef)\n"
    )
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_push_race_is_fetched_reapplied_and_retried(
    tmp_path: Path, remote: Remote, basic_registry: Registry
) -> None:
    basic_registry.push("demo/race", "main-aaaa-2000000000")
    image = f"{basic_registry.host}/demo/race"
    src = source(tmp_path, remote.url, image)
    [automation] = imageupdate.automations(read_documents([str(src)]))
    setters = imageupdate.setters_for([automation], {automation.marker: "main-aaaa-2000000000"})
    raced = []

    def someone_else_pushes() -> None:
        if not raced:
            raced.append(True)
            remote.commit_file("apps/README.md", "hello\n", "someone else")

    outcome = imageupdate.update(
        automation, setters, "main-aaaa-2000000000", auth=None, before_push=someone_else_pushes
    )
    assert outcome.attempts == 2
    assert remote.log() == ["Update image automatically.", "someone else", "demo"]
    assert f"{image}:main-aaaa-2000000000" in remote.show("apps/my-app.yaml")


def test_numerical_policy_meeting_a_non_number(
    tmp_path: Path, remote: Remote, basic_registry: Registry
) -> None:
    for tag in ("1", "2", "nightly"):
        basic_registry.push("demo/numbers", tag)
    image = f"{basic_registry.host}/demo/numbers"
    src = source(tmp_path, remote.url, image)
    data = json.loads(src.read_text())
    data["spec"]["components"][0]["properties"]["imageRepository"].pop("filterTags")
    src.write_text(json.dumps(data))
    done = sailplan(
        "image-update", str(src), "--once", "--secrets", str(secrets(tmp_path, basic_registry.host))
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {src}:")
    assert done.stderr.endswith(f"{image}: failed to parse invalid numeric value 'nightly'\n")
    assert remote.log() == ["demo"]


def test_unreachable_remote_and_registry(tmp_path: Path, basic_registry: Registry) -> None:
    basic_registry.push("demo/app", "main-1234abcd-1900000000")
    src = source(tmp_path, (tmp_path / "missing.git").as_uri(), f"{basic_registry.host}/demo/app")
    done = sailplan(
        "image-update", str(src), "--once", "--secrets", str(secrets(tmp_path, basic_registry.host))
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {(tmp_path / 'missing.git').as_uri()}: cannot fetch")
    image = f"127.0.0.1:{free_port()}/demo/app"
    src = source(tmp_path, (tmp_path / "missing.git").as_uri(), image)
    done = sailplan(
        "image-update", str(src), "--once", "--secrets", str(secrets(tmp_path, basic_registry.host))
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {image}: cannot reach 127.0.0.1:")


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(GitError, match="put credentials in the Secret") as info:
        imageupdate.Git("https://bob:pw@example.com/repo.git")
    assert "pw" not in str(info.value)
