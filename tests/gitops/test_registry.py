"""The registry client against a real docker-registry on loopback."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from engine.errors import RegistryError
from engine.gitops.registry import Credentials, RegistryClient, credentials_for, parse_image
from tests.gitops.conftest import PASSWORD, USER, Registry, free_port

GOOD = Credentials(USER, PASSWORD)


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_tags_are_listed_with_either_auth(kind: str, request: pytest.FixtureRequest) -> None:
    registry: Registry = request.getfixturevalue(f"{kind}_registry")
    repo = f"demo/{kind}-list"
    tags = ["1.0.0", "main-76a34322-1697703461", "1.0.0.sig", "latest"]
    digests = {t: registry.push(repo, t) for t in tags}
    with RegistryClient(f"{registry.host}/{repo}", GOOD) as client:
        assert sorted(client.tags()) == sorted(tags)
        assert client.digest("latest") == digests["latest"]


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_wrong_or_missing_credentials(kind: str, request: pytest.FixtureRequest) -> None:
    registry: Registry = request.getfixturevalue(f"{kind}_registry")
    registry.push("demo/private", "1.0.0")
    image = f"{registry.host}/demo/private"
    with (
        pytest.raises(RegistryError) as wrong,
        RegistryClient(image, Credentials(USER, "nope")) as c,
    ):
        c.tags()
    assert str(wrong.value).startswith(f"{image}: ")
    assert "refused the credentials" in str(wrong.value)  # by the registry or its token service
    assert "nope" not in str(wrong.value)
    with pytest.raises(RegistryError, match="requires credentials"), RegistryClient(image) as c:
        c.tags()


def test_an_unknown_repository_and_an_unreachable_registry(basic_registry: Registry) -> None:
    with (
        pytest.raises(RegistryError, match="repository not found"),
        RegistryClient(f"{basic_registry.host}/demo/none", GOOD) as client,
    ):
        client.tags()
    image = f"127.0.0.1:{free_port()}/demo/app"
    with (
        pytest.raises(RegistryError, match=rf"^{image}: cannot reach 127\.0\.0\.1"),
        RegistryClient(image, GOOD) as c,
    ):
        c.tags()


def test_dockerconfigjson_credentials_and_image_names() -> None:
    config = {
        "auths": {
            "127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"},
            "https://index.docker.io/v1/": {"username": "bob", "password": "pw"},
        }
    }
    assert credentials_for(json.dumps(config), "127.0.0.1:5000") == GOOD
    assert credentials_for(config, "registry-1.docker.io") == Credentials("bob", "pw")
    assert credentials_for(config, "ghcr.io") is None
    assert "s3cret" not in repr(GOOD)
    assert parse_image("cnych/kubevela-gitops-demo").repository == "cnych/kubevela-gitops-demo"
    assert parse_image("nginx").repository == "library/nginx"
    assert parse_image("localhost:5000/a/b").host == "localhost:5000"
    with pytest.raises(RegistryError, match="not a valid image name"):
        parse_image("Bad/Name")


class _PagingRegistry(BaseHTTPRequestHandler):
    """distribution 2.8 ignores ``n``; newer registries page with ``Link``: this one does."""

    pages: ClassVar[dict[str, tuple[list[str], str]]] = {
        "": (["c", "a"], '</v2/demo/app/tags/list?n=2&last=a>; rel="next"'),
        "a": (["b", "d"], '</v2/demo/app/tags/list?n=2&last=d>; rel="next"'),
        "d": (["e"], ""),
        "evil": ([], '<http://example.com/v2/demo/app/tags/list?last=x>; rel="next"'),
    }

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != want:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="r"')
            self.end_headers()
            return
        last = parse_qs(urlsplit(self.path).query).get("last", [""])[0]
        if self.path.startswith("/v2/evil/"):
            last = "evil"
        tags, link = self.pages[last]
        body = json.dumps({"name": "demo/app", "tags": tags}).encode()
        self.send_response(200)
        if link:
            self.send_header("Link", link)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_link_pages_are_followed_on_the_same_host_only() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PagingRegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        with RegistryClient(f"{host}/demo/app", GOOD) as client:
            assert client.tags() == ["c", "a", "b", "d", "e"]
        with (
            pytest.raises(RegistryError, match="next-page link to another host"),
            RegistryClient(f"{host}/evil/app", GOOD) as client,
        ):
            client.tags()
    finally:
        server.shutdown()
