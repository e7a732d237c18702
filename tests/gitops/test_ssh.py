"""git over SSH against a real ``sshd`` on loopback: the Secret's ``identity`` and
``known_hosts``, StrictHostKeyChecking, and the key kept out of argv, logs and errors."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from engine.errors import GitError
from engine.gitops.git import Git, GitAuth, Ref
from tests.gitops.conftest import Registry, Remote, SshRemote, git
from tests.gitops.test_imageupdate import sailplan, source


def key_body(ssh: SshRemote) -> str:
    """The base64 body of the private key (what must never leak)."""
    lines = ssh.identity.decode().strip().splitlines()
    return "".join(lines[1:-1])


def test_clone_and_push_over_ssh_with_the_secret_keys(
    tmp_path: Path, remote: Remote, ssh_remote: SshRemote
) -> None:
    auth = GitAuth.from_secret(
        {"identity": ssh_remote.identity, "known_hosts": ssh_remote.known_hosts}
    )
    with Git(ssh_remote.url, auth) as client:
        command = client._env["GIT_SSH_COMMAND"]
        assert "StrictHostKeyChecking=yes" in command and "BatchMode=yes" in command
        assert key_body(ssh_remote)[:40] not in command
        assert all(key_body(ssh_remote)[:40] not in v for v in client._env.values())
        key_dir = Path(command.split("-i ", 1)[1].split()[0]).parent
        sha = client.clone(Ref("main"), tmp_path / "repo")
        assert sha == git("rev-parse", "main", cwd=remote.bare).strip()
        (tmp_path / "repo" / "NOTE").write_text("over ssh\n")
        made = client.commit(tmp_path / "repo", "over ssh", ("bot", "bot@example.com"))
        assert made is not None
        assert client.push(tmp_path / "repo", "main")
    assert not key_dir.exists()  # the key file is gone with the client
    assert remote.log()[0] == "over ssh"
    log = ssh_remote.log.read_text()
    assert "Accepted publickey" in log


def test_an_unknown_host_key_is_refused(
    tmp_path: Path, remote: Remote, ssh_remote: SshRemote
) -> None:
    other = tmp_path / "other"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
        check=True,
        capture_output=True,
    )
    wrong = ssh_remote.known_hosts.split(b" ")[0] + b" " + (tmp_path / "other.pub").read_bytes()
    auth = GitAuth(identity=ssh_remote.identity, known_hosts=wrong)
    with Git(ssh_remote.url, auth) as client, pytest.raises(GitError) as info:
        client.clone(Ref("main"), tmp_path / "repo")
    message = str(info.value)
    assert message.startswith(f"{ssh_remote.url}: cannot fetch refs/heads/main: ")
    assert message.endswith(
        "host key verification failed: the server's key is not in known_hosts (secretRef)"
    )
    assert key_body(ssh_remote)[:40] not in message
    assert remote.log() == ["demo"]


def test_a_key_the_server_does_not_know_is_refused(
    tmp_path: Path, remote: Remote, ssh_remote: SshRemote
) -> None:
    other = tmp_path / "other"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
        check=True,
        capture_output=True,
    )
    auth = GitAuth(identity=other.read_bytes(), known_hosts=ssh_remote.known_hosts)
    with Git(ssh_remote.url, auth) as client, pytest.raises(GitError) as info:
        client.clone(Ref("main"), tmp_path / "repo")
    assert str(info.value).endswith(
        "authentication failed: the server refused the SSH key (secretRef identity)"
    )


def test_image_update_pushes_over_ssh(
    tmp_path: Path, remote: Remote, ssh_remote: SshRemote, basic_registry: Registry
) -> None:
    from tests.gitops.test_imageupdate import secrets

    basic_registry.push("ssh/app", "main-1234abcd-1900000000")
    image = f"{basic_registry.host}/ssh/app"
    src = source(tmp_path, ssh_remote.url, image)
    sec = secrets(tmp_path, basic_registry.host)
    text = sec.read_text().split("---\n")[0] + (
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: git-secret}\ndata:\n"
        f"  identity: {base64.b64encode(ssh_remote.identity).decode()}\n"
        f"  known_hosts: {base64.b64encode(ssh_remote.known_hosts).decode()}\n"
    )
    sec.write_text(text)
    done = sailplan("image-update", str(src), "--once", "--secrets", str(sec))
    assert done.returncode == 0, done.stderr
    assert key_body(ssh_remote)[:40] not in done.stdout + done.stderr
    assert remote.log()[0] == "Update image automatically."
    assert f"{image}:main-1234abcd-1900000000" in remote.show("apps/my-app.yaml")
