"""Tags from an OCI registry (distribution API v2), with the registries' two auth schemes.

``GET /v2/<name>/tags/list`` answers 401 with a ``WWW-Authenticate`` challenge: ``Basic``
(send the credentials) or ``Bearer realm,service,scope`` (get a token from the realm with the
credentials, then send the token). Listings are followed through ``Link: <…>; rel="next"``
pages when the registry paginates (distribution 2.8 does not, and returns tags unsorted —
reference §14.1). Credentials come from the content of a ``kubernetes.io/dockerconfigjson``
Secret, as Flux's ImageRepository ``secretRef`` gives them; they travel only in headers and
never appear in a URL, a log or an error. Registries on loopback are spoken to in plain
HTTP, as Docker treats 127.0.0.0/8 as an insecure registry; every other one over HTTPS.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

from engine.errors import RegistryError

DOCKER_HUB = "registry-1.docker.io"
_HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_MAX_PAGES = 10_000
_HINT = "set imageRepository.secretRef"
_PAGE_SIZE = 1000
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


@dataclasses.dataclass(frozen=True)
class ImageName:
    """An image without tag, split as registries address it."""

    written: str  # as the user wrote it (what Flux writes back)
    host: str  # registry host[:port]
    repository: str  # path inside the registry


def parse_image(image: str) -> ImageName:
    """``cnych/app`` → Docker Hub ``cnych/app``; ``127.0.0.1:5000/demo/app`` → that host."""
    name = image.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, name
    if host in _HUB_NAMES:
        host = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    if not path or not re.fullmatch(
        r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*", path
    ):
        raise RegistryError(f"{image}: not a valid image name")
    return ImageName(image, host, path)


@dataclasses.dataclass(frozen=True, repr=False)
class Credentials:
    """A username and password for one registry; repr hides them."""

    username: str
    password: str

    def __repr__(self) -> str:
        return "Credentials(***)"


def credentials_for(dockerconfig: Mapping[str, Any] | str | bytes, host: str) -> Credentials | None:
    """The entry of a ``.dockerconfigjson`` document for ``host`` (Docker Hub aliases too)."""
    try:
        config = json.loads(dockerconfig) if isinstance(dockerconfig, str | bytes) else dockerconfig
        auths = config.get("auths", {})
    except (ValueError, AttributeError):
        raise RegistryError(
            f"{host}: the registry Secret is not a .dockerconfigjson document"
        ) from None
    wanted = {host}
    if host == DOCKER_HUB:
        wanted |= {*_HUB_NAMES, "https://index.docker.io/v1/"}
    for key, entry in auths.items():
        bare = re.sub(r"^https?://", "", key).split("/", 1)[0]
        if (key in wanted or bare in wanted) and isinstance(entry, dict):
            user, password = entry.get("username"), entry.get("password")
            if (not user or password is None) and entry.get("auth"):
                try:
                    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                except ValueError:
                    raise RegistryError(
                        f"{host}: the registry Secret's auth is not base64"
                    ) from None
            if user:
                return Credentials(str(user), str(password or ""))
    return None


def _is_loopback(host: str) -> bool:
    bare = (
        host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    )
    if bare == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


class RegistryClient:
    """Lists tags and reads digests of one image's repository."""

    def __init__(
        self,
        image: str,
        credentials: Credentials | None = None,
        *,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = parse_image(image)
        scheme = "http" if _is_loopback(self.name.host) else "https"
        self.base = f"{scheme}://{self.name.host}"
        self._credentials = credentials
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=True)
        self._auth_header: str | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tags(self) -> list[str]:
        """Every tag, following ``Link`` pages, in the registry's order."""
        url: str | None = f"/v2/{self.name.repository}/tags/list?" + urlencode({"n": _PAGE_SIZE})
        seen: set[str] = set()
        out: list[str] = []
        while url is not None:
            if url in seen or len(seen) >= _MAX_PAGES:
                raise self._error(
                    f"the tag listing does not end (page {url.split('?')[0]} repeats)"
                )
            seen.add(url)
            response = self._get(url)
            try:
                body = response.json()
                page = body.get("tags") or []
            except (ValueError, AttributeError):
                raise self._error("the tag list is not JSON") from None
            if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise self._error("the tag list is malformed")
            out.extend(page)
            url = _next_link(response.headers.get("link", ""))
        return out

    def digest(self, tag: str) -> str:
        """The digest the registry reports for ``tag`` (an index digest for multi-arch)."""
        response = self._get(
            f"/v2/{self.name.repository}/manifests/{tag}",
            method="HEAD",
            headers={"Accept": MANIFEST_TYPES},
        )
        value = str(response.headers.get("docker-content-digest", ""))
        if not value:
            raise self._error(f"no digest for tag {tag!r}")
        return value

    def _error(self, reason: str) -> RegistryError:
        return RegistryError(f"{self.name.written}: {reason}")

    def _get(
        self, path: str, *, method: str = "GET", headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        url = urljoin(self.base + "/", path)
        if not url.startswith(self.base + "/"):
            # a Link to another host would take our credentials with it
            raise self._error("the registry sent a next-page link to another host")
        sent = dict(headers or {})
        response = self._send(method, url, sent)
        if response.status_code == 401:
            self._authenticate(response.headers.get("www-authenticate", ""))
            response = self._send(method, url, sent)
        if response.status_code == 401:
            if self._credentials:
                raise self._error("the registry refused the credentials (401 Unauthorized)")
            raise self._error(f"the registry requires credentials (401 Unauthorized); {_HINT}")
        if response.status_code == 403:
            raise self._error("access denied (403 Forbidden)")
        if response.status_code == 404:
            raise self._error("repository not found (404 Not Found)")
        if response.status_code >= 400:
            raise self._error(
                f"the registry answered {response.status_code} {response.reason_phrase}"
            )
        return response

    def _send(self, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        if self._auth_header:
            headers = {**headers, "Authorization": self._auth_header}
        try:
            return self._client.request(method, url, headers=headers)
        except httpx.TimeoutException:
            raise self._error(f"{self.name.host} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise self._error(
                f"cannot reach {self.name.host}: {type(exc).__name__}: {_reason(exc)}"
            ) from None

    def _authenticate(self, challenge: str) -> None:
        scheme, _, params_text = challenge.strip().partition(" ")
        params = dict(_CHALLENGE.findall(params_text))
        if scheme.lower() == "basic":
            if self._credentials is None:
                raise self._error(
                    "the registry requires credentials (Basic auth); set imageRepository.secretRef"
                )
            self._auth_header = _basic(self._credentials)
        elif scheme.lower() == "bearer":
            self._auth_header = "Bearer " + self._token(params)
        else:
            raise self._error(f"unsupported authentication challenge {scheme or '(none)'!r}")

    def _token(self, params: Mapping[str, str]) -> str:
        realm = params.get("realm", "")
        if not realm.startswith(("http://", "https://")):
            raise self._error("the Bearer challenge has no usable realm")
        query = {k: params[k] for k in ("service", "scope") if params.get(k)}
        if "scope" not in query:
            query["scope"] = f"repository:{self.name.repository}:pull"
        headers = {"Authorization": _basic(self._credentials)} if self._credentials else {}
        try:
            response = self._client.get(realm, params=query, headers=headers)
        except httpx.HTTPError as exc:
            raise self._error(
                f"cannot reach the token service: {type(exc).__name__}: {_reason(exc)}"
            ) from None
        if response.status_code in (401, 403) and not self._credentials:
            status = response.status_code
            raise self._error(
                f"the registry requires credentials (token service: {status}); {_HINT}"
            )
        if response.status_code in (401, 403):
            raise self._error(f"the token service refused the credentials ({response.status_code})")
        if response.status_code >= 400:
            raise self._error(f"the token service answered {response.status_code}")
        try:
            body = response.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise self._error("the token service returned no token")
        return token


def _basic(credentials: Credentials) -> str:
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:200]


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        m = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if m and re.search(r'rel="?next"?', m.group(2)):
            return m.group(1)
    return None
