"""Real parts on loopback: docker-registry (htpasswd and token auth) and git remotes.

The registry is Debian's ``docker-registry`` run as a plain process with its own config on
127.0.0.1 (reference §14.1); images are pushed by plain HTTP (§14.2). Git remotes are bare
repositories over ``file://`` and over HTTP with basic auth (``git http-backend`` behind a
small Python server). A missing tool skips locally and fails under CI.
"""

from __future__ import annotations

import base64
import getpass
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.gitops.realparts import missing, require

USER, PASSWORD = "alice", "s3cret"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gitops-demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Registry:
    """A running registry: its host, and how to get push credentials."""

    host: str
    token_url: str = ""

    def push_headers(
        self, repository: str, user: str = USER, password: str = PASSWORD
    ) -> dict[str, str]:
        basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if not self.token_url:
            return {"Authorization": basic}
        scope = f"repository:{repository}:pull,push"
        got = httpx.get(
            self.token_url,
            params={"service": "test-registry", "scope": scope},
            headers={"Authorization": basic},
        )
        got.raise_for_status()
        return {"Authorization": "Bearer " + got.json()["token"]}

    def push(self, repository: str, tag: str) -> str:
        """Push a tiny image as ``repository:tag``; returns the manifest digest."""
        headers = self.push_headers(repository)
        base = f"http://{self.host}/v2/{repository}"
        layer_tar = io.BytesIO()
        with tarfile.open(fileobj=layer_tar, mode="w") as tar:
            info = tarfile.TarInfo("hello.txt")
            body = f"{repository}:{tag}\n".encode()
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        layer = gzip.compress(layer_tar.getvalue(), mtime=0)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "rootfs": {
                    "type": "layers",
                    "diff_ids": ["sha256:" + hashlib.sha256(layer_tar.getvalue()).hexdigest()],
                },
            }
        ).encode()
        with httpx.Client(headers=headers, timeout=30) as client:
            for blob in (layer, config):
                digest = "sha256:" + hashlib.sha256(blob).hexdigest()
                if client.head(f"{base}/blobs/{digest}").status_code == 200:
                    continue
                start = client.post(f"{base}/blobs/uploads/")
                assert start.status_code == 202, start.text
                location = start.headers["location"]
                sep = "&" if "?" in location else "?"
                url = location if location.startswith("http") else f"http://{self.host}{location}"
                done = client.put(
                    f"{url}{sep}digest={digest}",
                    content=blob,
                    headers={"Content-Type": "application/octet-stream"},
                )
                assert done.status_code == 201, done.text
            manifest = json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {
                        "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                        "size": len(config),
                    },
                    "layers": [
                        {
                            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
                            "size": len(layer),
                        }
                    ],
                }
            ).encode()
            put = client.put(
                f"{base}/manifests/{tag}",
                content=manifest,
                headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
            )
            assert put.status_code == 201, put.text
            return str(put.headers["docker-content-digest"])


def _start_registry(workdir: Path, auth: dict[str, object]) -> Iterator[str]:
    binary = require("docker-registry", "apt-get install -y docker-registry")
    port = free_port()
    config = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "data")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": uuid.uuid4().hex},
        "auth": auth,
    }
    (workdir / "config.yml").write_text(json.dumps(config))
    log = (workdir / "registry.log").open("w")
    proc = subprocess.Popen(
        [binary, "serve", str(workdir / "config.yml")], stdout=log, stderr=subprocess.STDOUT
    )
    host = f"127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://{host}/v2/", timeout=1).status_code == 401:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(
                    f"docker-registry exited: {(workdir / 'registry.log').read_text()[-500:]}"
                )
            time.sleep(0.05)
        yield host
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _htpasswd(path: Path) -> None:
    tool = require("htpasswd", "apt-get install -y apache2-utils")
    done = subprocess.run(
        [tool, "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True
    )
    path.write_text(done.stdout)


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    work = tmp_path_factory.mktemp("basic-registry")
    _htpasswd(work / "htpasswd")
    auth = {"htpasswd": {"realm": "basic-realm", "path": str(work / "htpasswd")}}
    for host in _start_registry(work, auth):
        yield Registry(host)


class _TokenHandler(BaseHTTPRequestHandler):
    key: Path
    cert_der: bytes

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.end_headers()
            return
        query = parse_qs(urlsplit(self.path).query)
        access = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": "test-issuer",
            "sub": USER,
            "aud": query.get("service", [""])[0],
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            capture_output=True,
            check=True,
        ).stdout
        token = f"{signing_input}.{_b64url(signature)}"
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    openssl = require("openssl", "apt-get install -y openssl")
    work = tmp_path_factory.mktemp("token-registry")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(work / "token.key"),
            "-out",
            str(work / "token.crt"),
            "-days",
            "2",
            "-subj",
            "/CN=test-issuer",
        ],
        capture_output=True,
        check=True,
    )
    der = subprocess.run(
        [openssl, "x509", "-in", str(work / "token.crt"), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    handler = type("Handler", (_TokenHandler,), {"key": work / "token.key", "cert_der": der})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token_url = f"http://127.0.0.1:{server.server_address[1]}/token"
    auth = {
        "token": {
            "realm": token_url,
            "service": "test-registry",
            "issuer": "test-issuer",
            "rootcertbundle": str(work / "token.crt"),
        }
    }
    try:
        for host in _start_registry(work, auth):
            yield Registry(host, token_url)
    finally:
        server.shutdown()


# -- git ----------------------------------------------------------------------------------


def git(*args: str, cwd: Path | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout


@dataclass
class Remote:
    """A bare repository seeded with the demo, and a working clone to push from."""

    bare: Path
    work: Path

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def log(self, branch: str = "main") -> list[str]:
        """The first line of each commit message, newest first."""
        text = git("log", "--format=%B%x00", branch, cwd=self.bare)
        return [m.strip().splitlines()[0] for m in text.split("\0") if m.strip()]

    def show(self, path: str, branch: str = "main") -> str:
        return git("show", f"{branch}:{path}", cwd=self.bare)

    def commit_file(self, path: str, text: str, message: str) -> None:
        git("pull", "--quiet", "origin", "main", cwd=self.work)
        (self.work / path).parent.mkdir(parents=True, exist_ok=True)
        (self.work / path).write_text(text)
        git("add", path, cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", "HEAD:main", cwd=self.work)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    require("git", "apt-get install -y git")
    bare = tmp_path / "demo.git"
    git("init", "--quiet", "--bare", "--initial-branch", "main", str(bare))
    work = tmp_path / "work"
    shutil.copytree(EXAMPLE, work)
    git("init", "--quiet", "--initial-branch", "main", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "demo", cwd=work)
    git("remote", "add", "origin", bare.as_uri(), cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    return Remote(bare, work)


class _GitHttpHandler(BaseHTTPRequestHandler):
    root: Path

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def _cgi(self) -> None:
        want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": USER,
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        ).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def http_remote(remote: Remote) -> Iterator[str]:
    """The same bare repository over HTTP with basic auth; yields its URL."""
    git("config", "http.receivepack", "true", cwd=remote.bare)
    handler = type("Handler", (_GitHttpHandler,), {"root": remote.bare.parent})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{remote.bare.name}"
    finally:
        server.shutdown()


@dataclass
class SshRemote:
    """The bare repository behind a real ``sshd`` on 127.0.0.1, and the Secret's keys."""

    url: str
    identity: bytes
    known_hosts: bytes
    log: Path


@pytest.fixture
def ssh_remote(remote: Remote, tmp_path: Path) -> Iterator[SshRemote]:
    """``/usr/sbin/sshd -D`` as a plain process on a free port, one authorized key.

    The account is the one running the tests (root in CI); ``known_hosts`` holds the
    generated host key for ``[127.0.0.1]:PORT``, as the Secret's ``known_hosts`` key would.
    """
    sshd = "/usr/sbin/sshd"
    if not os.access(sshd, os.X_OK):
        missing("sshd not found (apt-get install -y openssh-server)")
    keygen = require("ssh-keygen", "apt-get install -y openssh-client")
    work = tmp_path / "sshd"
    work.mkdir(mode=0o700)
    for name in ("host", "client"):
        subprocess.run(
            [keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(work / name)],
            check=True,
            capture_output=True,
        )
    (work / "authorized_keys").write_bytes((work / "client.pub").read_bytes())
    os.chmod(work / "authorized_keys", 0o600)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    port = free_port()
    (work / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPidFile none\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nLogLevel VERBOSE\n"
    )
    log = work / "sshd.log"
    proc = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(work / "sshd_config")],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(200):
            if proc.poll() is not None:
                pytest.fail(f"sshd exited: {log.read_text()[-500:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        host_key = (work / "host.pub").read_text().split()
        known = f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n".encode()
        user = getpass.getuser()
        yield SshRemote(
            f"ssh://{user}@127.0.0.1:{port}{remote.bare}",
            (work / "client").read_bytes(),
            known,
            log,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
