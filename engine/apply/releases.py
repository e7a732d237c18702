"""Releases: the inventory of one application in one environment, kept in the cluster.

As Helm stores releases: one Secret per revision, of our own type
``sailplan.dev/release.v1``, named ``sailplan.<app>.<env>.v<N>`` in the application's
namespace, labelled ``owner=sailplan, name, env, version, status``; its ``release``
key holds the record as gzip-compressed JSON. A record holds the revision, the time,
the digest of the rendered manifests, the manifests themselves (so rollback needs no
source), the object list, the outcome, and a free ``workflow`` dict for the workflow
runner, so ``resume`` works from any machine. A revision is written (``pending``)
before any object is applied, so an interrupted apply never leaves an object that no
release lists. Encoding and decoding are pure; reading and writing take a client.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from engine.apply.errors import ClusterError
from engine.model import ResourceId

if TYPE_CHECKING:
    from engine.apply.client import ClusterClient

SECRET_TYPE = "sailplan.dev/release.v1"
OWNER_LABEL = "owner"
OWNER = "sailplan"

PENDING = "pending"
DEPLOYED = "deployed"
FAILED = "failed"
SUPERSEDED = "superseded"
DELETING = "deleting"


@dataclasses.dataclass(frozen=True)
class Entry:
    """One object of a release: its identity and where it came from."""

    api_version: str
    kind: str
    namespace: str
    name: str
    component: str = ""
    source: str = ""
    location: str = ""
    #: A prune that failed: the object is kept listed so the next apply retries.
    stale: bool = False
    #: What the apply-side policies said about it (``ObjectPolicy.to_json``).
    policy: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: The definition's health rule and its parameters, so status and rollback keep them.
    health: str = ""
    parameter: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def id(self) -> ResourceId:
        return ResourceId(self.api_version, self.kind, self.namespace, self.name)

    def key(self) -> tuple[str, str, str, str]:
        return self.id.key()

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: v for k, v in out.items() if v not in ("", False, {})}


@dataclasses.dataclass(frozen=True)
class Release:
    """One revision of an application in one environment (on one cluster)."""

    app: str
    namespace: str
    env: str
    revision: int
    time: str
    digest: str
    status: str
    manifests: tuple[Mapping[str, Any], ...]
    entries: tuple[Entry, ...]
    #: ``{subject: action}`` of the apply that made this revision.
    changes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    message: str = ""
    description: str = ""
    cluster: str = ""
    #: Free state for the workflow runner, stored with the release.
    workflow: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: dependsOn of the components, so a rollback keeps the order.
    depends_on: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)

    @property
    def secret_name(self) -> str:
        return secret_name(self.app, self.env, self.revision)


def env_key(env: str) -> str:
    """The environment as it appears in names and labels ("default" when unnamed)."""
    return _dns(env) or "default"


def _dns(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")


def secret_name(app: str, env: str, revision: int) -> str:
    return f"sailplan.{app}.{env_key(env)}.v{revision}"


def digest(manifests: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the manifests as canonical JSON: same input, same digest."""
    text = json.dumps(list(manifests), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def encode(release: Release) -> dict[str, Any]:
    """The release as a Secret object."""
    record = {
        "app": release.app,
        "namespace": release.namespace,
        "env": release.env,
        "revision": release.revision,
        "time": release.time,
        "digest": release.digest,
        "status": release.status,
        "manifests": list(release.manifests),
        "objects": [e.to_json() for e in release.entries],
        "changes": dict(release.changes),
        "message": release.message,
        "description": release.description,
        "cluster": release.cluster,
        "workflow": dict(release.workflow),
        "dependsOn": {k: list(v) for k, v in release.depends_on.items()},
    }
    packed = gzip.compress(json.dumps(record, separators=(",", ":")).encode(), mtime=0)
    data = base64.b64encode(base64.b64encode(packed)).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {
            "name": release.secret_name,
            "namespace": release.namespace,
            "labels": {
                OWNER_LABEL: OWNER,
                "name": release.app,
                "env": env_key(release.env),
                "version": str(release.revision),
                "status": release.status,
            },
        },
        "data": {"release": data},
    }


def decode(secret: Mapping[str, Any]) -> Release:
    """The release a Secret holds; a damaged one is a ClusterError naming it."""
    name = (secret.get("metadata") or {}).get("name", "")
    try:
        packed = base64.b64decode(base64.b64decode((secret.get("data") or {})["release"]))
        record = json.loads(gzip.decompress(packed))
        return Release(
            app=record["app"],
            namespace=record["namespace"],
            env=record.get("env", ""),
            revision=int(record["revision"]),
            time=record.get("time", ""),
            digest=record.get("digest", ""),
            status=record.get("status", ""),
            manifests=tuple(record.get("manifests") or ()),
            entries=tuple(Entry(**e) for e in record.get("objects") or ()),
            changes=record.get("changes") or {},
            message=record.get("message", ""),
            description=record.get("description", ""),
            cluster=record.get("cluster", ""),
            workflow=record.get("workflow") or {},
            depends_on={k: tuple(v) for k, v in (record.get("dependsOn") or {}).items()},
        )
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise ClusterError(
            f"release record is damaged ({type(exc).__name__}: {exc})",
            subject=f"Secret/{(secret.get('metadata') or {}).get('namespace', '')}/{name}",
        ) from exc


def list_releases(
    client: ClusterClient, namespace: str = "", app: str = "", env: str | None = None
) -> list[Release]:
    """Releases in ``namespace`` (all namespaces when empty), oldest first."""
    selector = f"{OWNER_LABEL}={OWNER}"
    if app:
        selector += f",name={app}"
    if env is not None:
        selector += f",env={env_key(env)}"
    secrets = client.list("v1", "Secret", namespace, selector)
    found = [decode(s) for s in secrets if s.get("type") == SECRET_TYPE]
    return sorted(found, key=lambda r: (r.namespace, r.app, r.env, r.revision))


def write(client: ClusterClient, release: Release, *, new: bool) -> None:
    """Create (``new``) or replace the release's Secret."""
    body = encode(release)
    if new:
        client.create(body)
    else:
        client.replace(body)


def trim(client: ClusterClient, found: Sequence[Release], keep: int) -> list[Release]:
    """Delete the oldest releases beyond ``keep`` (Helm's MaxHistory), never a deployed one.

    ``found`` is one application's releases in one environment, oldest first; returns
    those deleted. A release already gone is fine (another apply trimmed it).
    """
    if keep <= 0 or len(found) <= keep:
        return []
    ordered = sorted(found, key=lambda r: r.revision)
    excess = len(ordered) - keep
    doomed = [r for r in ordered if r.status != DEPLOYED][:excess]
    for release in doomed:
        client.delete(ResourceId("v1", "Secret", release.namespace, release.secret_name))
    return doomed
