"""The git CLI, run without a shell, prompts or credentials on the command line.

Every git command goes through ``Git.run``: argv only (never ``shell=True``),
``GIT_TERMINAL_PROMPT=0`` so a missing credential fails instead of waiting, and credentials
passed out of sight: HTTP(S) basic auth or a bearer token as an ``http.extraHeader`` given
through ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n`` (environment, not
argv or URL), SSH keys as a 0600 file named in ``GIT_SSH_COMMAND`` with its own
``known_hosts``. Errors name the remote without any user info and git's own last words.
Clones are shallow fetches of one ref (branch, tag, commit, or the highest tag matching a
semver range, as Flux's GitRepository ``ref``; reference §4).
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.errors import GitError
from engine.gitops import semver

_SECRET_IN_URL = re.compile(r"(://)[^/@\s]+@")
#: ``ssh://git@host/...`` names an account, not a secret; ``user:password@`` still is one
_SSH_PASSWORD = re.compile(r"^(ssh://[^/@\s:]+):[^/@\s]*@")


@dataclasses.dataclass(frozen=True, repr=False)
class GitAuth:
    """Credentials for a remote, from a Secret as Flux reads it (reprs hide them)."""

    username: str = ""
    password: str = ""
    bearer_token: str = ""
    identity: bytes = b""  # an SSH private key
    known_hosts: bytes = b""

    def __repr__(self) -> str:
        return "GitAuth(***)"

    @classmethod
    def from_secret(cls, data: Mapping[str, bytes]) -> GitAuth:
        """``username``/``password``, ``bearerToken`` or ``identity`` + ``known_hosts``."""

        def text(key: str) -> str:
            return data.get(key, b"").decode("utf-8", "replace").strip("\n")

        return cls(
            username=text("username"),
            password=text("password"),
            bearer_token=text("bearerToken"),
            identity=data.get("identity", b""),
            known_hosts=data.get("known_hosts", b""),
        )


@dataclasses.dataclass(frozen=True)
class Ref:
    """Which revision to check out; Flux's precedence: commit, semver, tag, branch."""

    branch: str = ""
    tag: str = ""
    commit: str = ""
    semver: str = ""

    @classmethod
    def from_properties(cls, git: Mapping[str, str] | None) -> Ref:
        """From the ``kustomize`` component's ``git:`` block; Flux's default is master."""
        git = git or {}
        ref = cls(
            str(git.get("branch", "")),
            str(git.get("tag", "")),
            str(git.get("commit", "")),
            str(git.get("semver", "")),
        )
        return ref if (ref.tag or ref.commit or ref.semver or ref.branch) else cls("master")


def safe_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages (SSH users are kept)."""
    if url.startswith("ssh://"):
        return _SSH_PASSWORD.sub(r"\1@", url)
    return _SECRET_IN_URL.sub(r"\1", url)


def _secret_in(url: str) -> bool:
    if url.startswith("ssh://"):
        return _SSH_PASSWORD.search(url) is not None
    return _SECRET_IN_URL.search(url) is not None


class Git:
    """Runs git with one remote's credentials; a context manager owning a key folder."""

    def __init__(self, url: str, auth: GitAuth | None = None, *, timeout: float = 120.0) -> None:
        if _secret_in(url):
            raise GitError(f"{safe_url(url)}: put credentials in the Secret, not in the URL")
        self.url = url
        self.timeout = timeout
        self._auth = auth or GitAuth()
        self._private = Path(tempfile.mkdtemp(prefix="sailplan-git-"))
        os.chmod(self._private, 0o700)
        self._env = self._environment()

    def close(self) -> None:
        """Remove the key folder."""
        for item in self._private.iterdir():
            item.unlink()
        self._private.rmdir()

    def __enter__(self) -> Git:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("GIT_") and k not in ("SSH_ASKPASS", "SSH_AUTH_SOCK")
        }
        env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        config: list[tuple[str, str]] = [("protocol.version", "2")]
        auth = self._auth
        if auth.bearer_token:
            config.append(("http.extraHeader", f"Authorization: Bearer {auth.bearer_token}"))
        elif auth.username or auth.password:
            raw = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
            config.append(("http.extraHeader", f"Authorization: Basic {raw}"))
        if auth.identity:
            key = self._private / "identity"
            key.write_bytes(
                auth.identity if auth.identity.endswith(b"\n") else auth.identity + b"\n"
            )
            os.chmod(key, 0o600)
            hosts = self._private / "known_hosts"
            hosts.write_bytes(auth.known_hosts)
            os.chmod(hosts, 0o600)
            env["GIT_SSH_COMMAND"] = shlex.join(
                [
                    "ssh",
                    "-i",
                    str(key),
                    "-o",
                    "IdentitiesOnly=yes",
                    "-o",
                    "BatchMode=yes",
                    "-o",
                    f"UserKnownHostsFile={hosts}",
                    "-o",
                    "StrictHostKeyChecking=yes",
                ]
            )
        env["GIT_CONFIG_COUNT"] = str(len(config))
        for i, (key_name, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{i}"] = key_name
            env[f"GIT_CONFIG_VALUE_{i}"] = value
        return env

    def run(
        self,
        args: Sequence[str],
        cwd: Path | None = None,
        *,
        stdin: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """``git ARGS`` in ``cwd``; GitError naming the remote and git's reason on failure."""
        env = {**self._env, **(extra_env or {})}
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                env=env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed") from None
        except subprocess.TimeoutExpired:
            raise GitError(f"{safe_url(self.url)}: git {args[0]} timed out") from None
        if check and done.returncode != 0:
            raise GitError(
                f"{safe_url(self.url)}: git {args[0]} failed: {_last_words(done.stderr)}"
            )
        return done

    # -- remote operations ---------------------------------------------------------------

    def resolve(self, ref: Ref) -> tuple[str, str]:
        """(refspec to fetch, branch name or '') for ``ref``; semver lists remote tags."""
        if ref.commit:
            return ref.commit, ref.branch
        if ref.semver:
            return f"refs/tags/{self._highest_tag(ref.semver)}", ""
        if ref.tag:
            return f"refs/tags/{ref.tag}", ""
        return f"refs/heads/{ref.branch}", ref.branch

    def _highest_tag(self, text: str) -> str:
        try:
            constraint = semver.new_constraint(text)
        except semver.SemverError as exc:
            raise GitError(f"{safe_url(self.url)}: git.semver {text!r}: {exc}") from None
        listing = self.run(["ls-remote", "--tags", "--refs", self.url]).stdout
        best: semver.Version | None = None
        for line in listing.splitlines():
            name = line.split("\trefs/tags/", 1)[-1]
            try:
                v = semver.new_version(name)
            except semver.SemverError:
                continue
            if constraint.check(v) and (best is None or v.compare(best) > 0):
                best = v
        if best is None:
            raise GitError(f"{safe_url(self.url)}: no tag matches semver {text!r}")
        return best.original

    def clone(self, ref: Ref, dest: Path) -> str:
        """A shallow checkout of ``ref`` in ``dest`` (created); returns the commit SHA."""
        refspec, branch = self.resolve(ref)
        dest.mkdir(parents=True, exist_ok=True)
        self.run(["init", "--quiet", "--initial-branch", branch or "sailplan", str(dest)])
        self.run(["remote", "add", "origin", self.url], dest)
        self.fetch(dest, refspec)
        self.run(["checkout", "--quiet", "-B", branch or "sailplan", "FETCH_HEAD"], dest)
        return self.head(dest)

    def fetch(self, repo: Path, refspec: str) -> str:
        """Shallow-fetch ``refspec`` into FETCH_HEAD; returns its SHA."""
        done = self.run(["fetch", "--quiet", "--depth", "1", "origin", refspec], repo, check=False)
        if done.returncode != 0:
            reason = _last_words(done.stderr)
            if "couldn't find remote ref" in reason or "not our ref" in reason:
                reason = f"{refspec.removeprefix('refs/heads/')} does not exist ({reason})"
            raise GitError(f"{safe_url(self.url)}: cannot fetch {refspec}: {reason}")
        return self.run(["rev-parse", "FETCH_HEAD"], repo).stdout.strip()

    def head(self, repo: Path) -> str:
        """The SHA checked out in ``repo``."""
        return self.run(["rev-parse", "HEAD"], repo).stdout.strip()

    def commit(
        self, repo: Path, message: str, author: tuple[str, str], *, signing_key: str = ""
    ) -> str | None:
        """Commit every change in ``repo``; None when nothing is staged. ``-S`` if a key."""
        self.run(["add", "--all"], repo)
        if self.run(["diff", "--cached", "--quiet"], repo, check=False).returncode == 0:
            return None
        name, email = author
        people = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        sign = [f"--gpg-sign={signing_key}"] if signing_key else ["--no-gpg-sign"]
        self.run(["commit", "--quiet", "--file=-", *sign], repo, stdin=message, extra_env=people)
        return self.head(repo)

    def push(self, repo: Path, branch: str, *, force: bool = False) -> bool:
        """Push HEAD to ``branch``; False when the remote rejected it as not a fast-forward."""
        args = ["push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}"]
        done = self.run([*args, "--force"] if force else args, repo, check=False)
        if done.returncode == 0:
            return True
        words = done.stdout + done.stderr
        if "[rejected]" in words or "non-fast-forward" in words or "fetch first" in words:
            return False
        raise GitError(f"{safe_url(self.url)}: cannot push to {branch}: {_last_words(done.stderr)}")


def _last_words(stderr: str) -> str:
    if "could not read Username" in stderr or "Authentication failed" in stderr:
        return "authentication failed: the remote wants credentials or refused them (secretRef)"
    if "Host key verification failed" in stderr:
        return "host key verification failed: the server's key is not in known_hosts (secretRef)"
    if "Permission denied (publickey" in stderr:
        return "authentication failed: the server refused the SSH key (secretRef identity)"
    lines = [safe_url(line.strip()) for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines
    return meaningful[-1][:300] if meaningful else "no message"
