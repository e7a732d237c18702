"""The cluster client: the one place that talks HTTP to a Kubernetes API server.

``ClusterClient`` is the seam (a Protocol) the applier is written against;
``connect(kubeconfig, context)`` gives the implementation over the ``kubernetes``
package, which is imported here and only when a command needs a cluster. Requests go
out as raw JSON through the package's ``ApiClient`` (its kubeconfig loading, TLS,
token refresh and exec plugins), not through its generated models: that keeps the
CPU per request small. Discovery (which resource serves an apiVersion/kind, and
whether it is namespaced) is asked once per group-version and cached.

Server errors become ``ClusterError`` subclasses naming the object, the server's
reason, and for conflicts the other field manager and the field.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from engine.apply.errors import (
    ClusterError,
    ConflictError,
    ForbiddenError,
    ImmutableError,
    InvalidError,
    NotFoundError,
    UnreachableError,
)
from engine.model import ResourceId

FIELD_MANAGER = "sailplan"
#: Seconds to connect, and to read one answer.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0

Obj = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Resource:
    """What discovery says about a kind: its plural name and whether it is namespaced."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool


class ClusterClient(Protocol):
    """What the applier needs from a cluster."""

    @property
    def context(self) -> str: ...

    def resource(self, api_version: str, kind: str) -> Resource: ...

    def get(self, ref: ResourceId) -> Obj | None: ...

    def apply(self, obj: Mapping[str, Any], *, dry_run: bool = False, force: bool = False) -> Obj:
        """Server-side apply with field manager ``sailplan``."""
        ...

    def create(self, obj: Mapping[str, Any]) -> Obj: ...

    def replace(self, obj: Mapping[str, Any]) -> Obj: ...

    def patch(self, obj: Mapping[str, Any]) -> Obj:
        """A JSON merge patch of the object ``obj`` names (null removes a key)."""
        ...

    def delete(self, ref: ResourceId, *, propagation: str = "Background") -> bool:
        """Delete; False when the object (or its kind) is already gone."""
        ...

    def list(
        self, api_version: str, kind: str, namespace: str = "", label_selector: str = ""
    ) -> list[Obj]: ...

    def close(self) -> None: ...


def subject(obj: Mapping[str, Any]) -> str:
    """``Kind/namespace/name`` (``Kind/name`` for cluster-scoped objects)."""
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns + '/' if ns else ''}{meta.get('name')}"


def ref_of(obj: Mapping[str, Any]) -> ResourceId:
    meta = obj.get("metadata") or {}
    return ResourceId(
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
    )


def connect(kubeconfig: str | None = None, context: str | None = None) -> KubeClient:
    """A client for ``context`` of ``kubeconfig`` (defaults as kubectl: $KUBECONFIG, current).

    A missing or broken kubeconfig or an unknown context is an ``UnreachableError`` at
    once; an unreachable server fails the first request within about 10 seconds.
    """
    import os

    from kubernetes.config import kube_config  # the only import of the package

    files = kubeconfig or os.environ.get("KUBECONFIG") or kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    first = files.split(os.pathsep)[0]
    if not os.path.exists(os.path.expanduser(first)):
        raise UnreachableError(f"kubeconfig {first} does not exist")
    try:
        loader = kube_config._get_kube_config_loader(  # type: ignore[no-untyped-call]
            filename=files, active_context=context, persist_config=False
        )
        name = str(loader.current_context["name"])
        from kubernetes.client import ApiClient, Configuration

        config = Configuration()
        loader.load_and_set(config)
    except Exception as exc:  # the package raises ConfigException, ValueError, YAML errors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreachableError(f"kubeconfig {first}: {reason}") from exc
    import urllib3

    config.retries = urllib3.Retry(
        total=2, connect=1, read=0, status=0, redirect=0, raise_on_status=False
    )
    if not config.verify_ssl:  # the kubeconfig says insecure-skip-tls-verify: no warning each time
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    config.connection_pool_maxsize = 16
    return KubeClient(ApiClient(config), name)


class KubeClient:
    """``ClusterClient`` over the ``kubernetes`` package's ``ApiClient``."""

    def __init__(self, api: Any, context: str) -> None:
        self._api = api
        self._context = context
        self._lock = threading.Lock()
        self._groups: dict[str, dict[str, Resource]] = {}

    @property
    def context(self) -> str:
        return self._context

    @property
    def server(self) -> str:
        return str(self._api.configuration.host)

    def close(self) -> None:
        self._api.rest_client.close()

    # -- HTTP ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        about: str = "",
        timeout: float = READ_TIMEOUT,
    ) -> tuple[int, Obj]:
        """(status, JSON answer) of one request; transport failures are UnreachableError."""
        import urllib3

        headers = dict(self._api.default_headers)
        headers["Accept"] = "application/json"
        if body is not None:
            headers["Content-Type"] = content_type
        queries: list[tuple[str, str]] = list(query)
        self._api.update_params_for_auth(headers, queries, ["BearerToken"], path, method, body)
        url = self._api.configuration.host + path + ("?" + urlencode(queries) if queries else "")
        try:
            for attempt in range(_BUSY_RETRIES + 1):
                response = self._api.call_api(
                    method, url, headers, body, None, _request_timeout=(CONNECT_TIMEOUT, timeout)
                )
                raw = response.read()
                if response.status not in (429, 503) or attempt == _BUSY_RETRIES:
                    break
                # Busy (priority and fairness), or a new API group not served yet: retry.
                time.sleep(_retry_after(response, attempt))
        except urllib3.exceptions.HTTPError as exc:
            raise UnreachableError(
                f"cannot reach the API server {self.server} (context {self._context}): "
                f"{_transport_reason(exc)}",
                subject=about,
            ) from exc
        except Exception as exc:  # ApiException for TLS failures
            if type(exc).__name__ != "ApiException":
                raise
            reason = str(getattr(exc, "reason", exc)).strip().splitlines()[-1]
            raise UnreachableError(
                f"cannot talk to the API server {self.server}: {reason}", subject=about
            ) from exc
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"message": raw[:200].decode("utf-8", "replace")}
        return response.status, data if isinstance(data, dict) else {}

    # -- discovery -------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> Resource:
        found = self._kinds(api_version).get(kind)
        if found is None:
            found = self._kinds(api_version, refresh=True).get(kind)
        if found is None:
            raise NotFoundError(
                f"the server has no kind {kind} in {api_version} (is its CRD installed?)",
                status=404,
            )
        return found

    def _kinds(self, api_version: str, refresh: bool = False) -> dict[str, Resource]:
        with self._lock:
            if not refresh and api_version in self._groups:
                return self._groups[api_version]
        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        status, data = self.request("GET", path)
        kinds: dict[str, Resource] = {}
        if status == 200:
            for res in data.get("resources") or ():
                if "/" in res.get("name", ""):
                    continue  # a subresource
                kinds[res["kind"]] = Resource(
                    api_version, res["kind"], res["name"], bool(res.get("namespaced"))
                )
        elif status in (401, 403):
            raise _error(status, data, f"discovery of {api_version}", "discover")
        elif api_version == "v1" or status not in (404, 503):
            # Every Kubernetes API server serves the core group: this is something else.
            raise UnreachableError(
                f"the server {self.server} (context {self._context}) does not answer as a "
                f"Kubernetes API server: GET {path} gave HTTP {status}"
                + (f" ({data['message']})" if data.get("message") else ""),
                status=status,
            )
        with self._lock:
            self._groups[api_version] = kinds
        return kinds

    def _path(self, api_version: str, kind: str, namespace: str, name: str = "") -> str:
        res = self.resource(api_version, kind)
        base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        if res.namespaced:
            base += f"/namespaces/{quote(namespace or 'default', safe='')}"
        base += f"/{res.plural}"
        return base + (f"/{quote(name, safe='')}" if name else "")

    # -- verbs -----------------------------------------------------------------------

    def get(self, ref: ResourceId) -> Obj | None:
        about = str(ref)
        try:
            path = self._path(ref.api_version, ref.kind, ref.namespace, ref.name)
        except NotFoundError:
            return None
        status, data = self.request("GET", path, about=about)
        if status == 404:
            return None
        if status != 200:
            raise _error(status, data, about, "get")
        return data

    def apply(self, obj: Mapping[str, Any], *, dry_run: bool = False, force: bool = False) -> Obj:
        ref = ref_of(obj)
        about = subject(obj)
        query = [("fieldManager", FIELD_MANAGER)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        path = self._path(ref.api_version, ref.kind, ref.namespace, ref.name)
        status, data = self.request(
            "PATCH",
            path,
            query=query,
            body=obj,
            content_type="application/apply-patch+yaml",
            about=about,
        )
        if status not in (200, 201):
            raise _error(status, data, about, "patch")
        return data

    def create(self, obj: Mapping[str, Any]) -> Obj:
        ref = ref_of(obj)
        path = self._path(ref.api_version, ref.kind, ref.namespace)
        query = [("fieldManager", FIELD_MANAGER)]
        status, data = self.request("POST", path, query=query, body=obj, about=subject(obj))
        if status not in (200, 201):
            raise _error(status, data, subject(obj), "create")
        return data

    def replace(self, obj: Mapping[str, Any]) -> Obj:
        ref = ref_of(obj)
        path = self._path(ref.api_version, ref.kind, ref.namespace, ref.name)
        query = [("fieldManager", FIELD_MANAGER)]
        status, data = self.request("PUT", path, query=query, body=obj, about=subject(obj))
        if status != 200:
            raise _error(status, data, subject(obj), "update")
        return data

    def patch(self, obj: Mapping[str, Any]) -> Obj:
        ref = ref_of(obj)
        path = self._path(ref.api_version, ref.kind, ref.namespace, ref.name)
        query = [("fieldManager", FIELD_MANAGER)]
        status, data = self.request(
            "PATCH",
            path,
            query=query,
            body=obj,
            content_type="application/merge-patch+json",
            about=subject(obj),
        )
        if status != 200:
            raise _error(status, data, subject(obj), "patch")
        return data

    def delete(self, ref: ResourceId, *, propagation: str = "Background") -> bool:
        about = str(ref)
        try:
            path = self._path(ref.api_version, ref.kind, ref.namespace, ref.name)
        except NotFoundError:
            return False  # the kind is gone (its CRD was deleted): so is the object
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        status, data = self.request("DELETE", path, body=body, about=about)
        if status == 404:
            return False
        if status not in (200, 202):
            raise _error(status, data, about, "delete")
        return True

    def list(
        self, api_version: str, kind: str, namespace: str = "", label_selector: str = ""
    ) -> list[Obj]:
        res = self.resource(api_version, kind)
        base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        if res.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        query = [("labelSelector", label_selector)] if label_selector else []
        status, data = self.request("GET", f"{base}/{res.plural}", query=query, about=kind)
        if status != 200:
            raise _error(status, data, f"{kind} list", "list")
        items = data.get("items") or []
        for item in items:  # a list's items carry no apiVersion/kind
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return list(items)


_BUSY_RETRIES = 6


def _retry_after(response: Any, attempt: int) -> float:
    try:
        given = float(response.getheader("Retry-After") or 0)
    except ValueError:
        given = 0.0
    return min(2.0, given or 0.1 * 2**attempt)


def _transport_reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text.split(": ", 1)[-1][:200]


_CONFLICT = re.compile(
    r'conflict with "([^"]+)"(?: using [^:]+)?(?: with subresource "[^"]+")?: (\S+)'
)


def _error(status: int, data: Mapping[str, Any], about: str, verb: str) -> ClusterError:
    """The ClusterError for a failed answer: the server's message, kept whole."""
    message = str(data.get("message") or data.get("reason") or f"HTTP {status}")
    if status == 409 and "conflict" in message.lower() and "Apply failed" in message:
        owners = _CONFLICT.findall(message)
        if owners:
            fields = ", ".join(f"{field} (owned by field manager {mgr!r})" for mgr, field in owners)
            message = f"field conflict: {fields}; --force takes the field(s) over"
        return ConflictError(message, subject=about, status=status)
    if _is_immutable(message):
        field = _immutable_field(data, message)
        return ImmutableError(
            f"field {field} is immutable: {_short(message, about)}; --force deletes and "
            "recreates the object",
            subject=about,
            status=status,
        )
    if status == 422 or status == 400:
        return InvalidError(_short(message, about), subject=about, status=status)
    if status == 403:
        return ForbiddenError(f"forbidden: {_short(message, about)}", subject=about, status=403)
    if status == 401:
        return ForbiddenError(
            "unauthorized: the credentials of the kubeconfig were refused",
            subject=about,
            status=401,
        )
    if status == 404:
        return NotFoundError(_short(message, about), subject=about, status=404)
    return ClusterError(f"{verb} failed: {_short(message, about)}", subject=about, status=status)


def _is_immutable(message: str) -> bool:
    return bool(re.search(r"is\simmutable|immutable\sfield|field is immutable", message))


def _immutable_field(data: Mapping[str, Any], message: str) -> str:
    for cause in (data.get("details") or {}).get("causes") or ():
        text = str(cause.get("message", ""))
        if _is_immutable(text) and cause.get("field"):
            return str(cause["field"])
    found = re.search(r"([\w.\[\]]+): Invalid value: .*?(?:is\s)?immutable", message)
    return found.group(1) if found else "(see message)"


def _short(message: str, about: str) -> str:
    """The server's message without the object id it repeats (we print our own first)."""
    kind, _, rest = about.partition("/")
    name = rest.rpartition("/")[2]
    for prefix in (f'{kind} "{name}" is invalid: ', f'{kind.lower()}s "{name}" is invalid: '):
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message
