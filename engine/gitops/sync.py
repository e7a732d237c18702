"""``sync``: one pass of the pull loop for each git source, on top of the applier.

A source is a ``kustomize`` component with ``repoType: git`` (the seeds'
``clusters/apps.yaml``). A pass is Flux's GitRepository + Kustomization reconcile done
natively (reference §3, §4): shallow-fetch the ref; build every Application and plain
manifest under ``path`` with the renderer (Flux would apply the Applications raw for the
KubeVela controller to render); apply each application and environment as a release with
``engine.apply.deploy`` (which prunes objects that left an application); delete the releases
of applications that left the path when ``prune`` is on; and record the pass in a ConfigMap
``sailplan-sync-<source>`` in the source's namespace: commit, time, result, message and the
applications it owns. A commit that does not render leaves the cluster at the last good
revision and reports the commit and ``file:line``; an unreachable remote keeps the cluster
as it is; a pass that would delete most of the applications this source owns is refused
unless allowed. When the source has ``imageRepository`` the image update runs first.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.apply import deploy
from engine.apply.applier import ApplyOptions, OnEvent
from engine.apply.client import ClusterClient
from engine.apply.plan import release_specs
from engine.definitions import Registry
from engine.environments import Unit, build_every_environment
from engine.errors import GitError, SailplanError, SourceLocation
from engine.gitops import imageupdate
from engine.gitops.git import Git, GitAuth, Ref, safe_url
from engine.model import Document, ResourceId, is_application, parse_application
from engine.workspace import read_units

APPLIED, APPLY_FAILED = "applied", "apply-failed"
RENDER_FAILED, UNREACHABLE, REFUSED = "render-failed", "unreachable", "refused"
SUSPENDED = "suspended"
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclasses.dataclass(frozen=True)
class Source:
    """One git source: where to fetch, what to build, how often."""

    namespace: str
    name: str
    url: str
    ref: Ref
    path: str
    interval: float
    secret_ref: str
    prune: bool
    automation: imageupdate.Automation | None
    location: SourceLocation
    #: Flux's Kustomization fields: where unnamespaced objects (and Applications) land,
    #: the limit for fetch + apply + wait (0: the CLI's), skip the source, recreate objects
    #: whose immutable fields changed.
    target_namespace: str = ""
    timeout: float = 0.0
    suspend: bool = False
    force: bool = False


@dataclasses.dataclass(frozen=True)
class Status:
    """What the last passes did, as kept in the cluster."""

    commit: str = ""
    time: str = ""
    result: str = ""
    message: str = ""
    last_applied: str = ""
    apps: tuple[tuple[str, str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class PassResult:
    """One pass of one source."""

    source: Source
    status: Status
    outcomes: tuple[deploy.Outcome, ...] = ()
    removed: tuple[tuple[str, str, str], ...] = ()
    image_update: imageupdate.Outcome | None = None
    image_error: str = ""


def parse_duration(text: str) -> float:
    """A Go duration such as ``1m`` or ``1h30m`` in seconds."""
    import re

    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise SailplanError(f"{text!r} is not a duration like 30s or 5m")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def sources(documents: Sequence[Document]) -> list[Source]:
    """Every ``kustomize`` component with ``repoType: git`` in ``documents``."""
    automations = {(a.namespace, a.name): a for a in imageupdate.automations(documents)}
    found: list[Source] = []
    for doc in documents:
        if not is_application(doc.data):
            continue
        app = parse_application(doc)
        for component in app.components:
            props = component.properties
            if component.type != "kustomize" or props.get("repoType", "git") != "git":
                continue
            where = doc.source.locate(component.path)
            if not props.get("url") or not props.get("path"):
                raise SailplanError("a git source needs url and path", location=where)
            found.append(
                Source(
                    namespace=app.namespace or "default",
                    name=component.name,
                    url=str(props["url"]),
                    ref=Ref.from_properties(props.get("git")),
                    path=str(props["path"]),
                    interval=parse_duration(str(props.get("pullInterval", "5m"))),
                    secret_ref=str(props.get("secretRef") or ""),
                    prune=bool(props.get("prune", True)),
                    automation=automations.get((app.namespace or "default", component.name)),
                    location=where,
                    target_namespace=str(props.get("targetNamespace") or ""),
                    timeout=_duration_at(props, "timeout", doc, component.path),
                    suspend=_flag_at(props, "suspend", doc, component.path),
                    force=_flag_at(props, "force", doc, component.path),
                )
            )
    return found


def _duration_at(props: Mapping[str, Any], key: str, doc: Document, path: Any) -> float:
    value = props.get(key)
    if value in (None, ""):
        return 0.0
    try:
        return parse_duration(str(value))
    except SailplanError as exc:
        where = doc.source.locate((*path, "properties", key))
        raise SailplanError(f"{key}: {exc}", location=where) from None


def _flag_at(props: Mapping[str, Any], key: str, doc: Document, path: Any) -> bool:
    value = props.get(key, False)
    if not isinstance(value, bool):
        where = doc.source.locate((*path, "properties", key))
        raise SailplanError(f"{key} must be true or false, not {value!r}", location=where)
    return value


class ClusterSecrets:
    """Secrets read from the cluster, as Flux's controllers read ``secretRef``."""

    def __init__(self, client: ClusterClient) -> None:
        self.client = client

    def get(self, namespace: str, name: str) -> Mapping[str, bytes]:
        """The Secret's decoded data; SailplanError naming it when it is missing."""
        import base64

        found = self.client.get(ResourceId("v1", "Secret", namespace, name))
        if found is None:
            raise SailplanError(f"Secret/{namespace}/{name}: not found")
        data = found.get("data") or {}
        return {str(k): base64.b64decode(str(v)) for k, v in data.items()}


def _status_id(source: Source) -> ResourceId:
    return ResourceId("v1", "ConfigMap", source.namespace, f"sailplan-sync-{source.name}")


def read_status(client: ClusterClient, source: Source) -> Status:
    """The status recorded by the last pass (empty before the first)."""
    found = client.get(_status_id(source))
    if found is None:
        return Status()
    try:
        data = json.loads((found.get("data") or {}).get("status", "{}"))
        data["apps"] = tuple(tuple(a) for a in data.get("apps", ()))
        return Status(**data)
    except (ValueError, TypeError):
        return Status()


def _write_status(client: ClusterClient, source: Source, status: Status) -> None:
    body = dataclasses.asdict(status)
    body["apps"] = [list(a) for a in status.apps]
    ident = _status_id(source)
    client.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": ident.name,
                "namespace": ident.namespace,
                "labels": {"app.kubernetes.io/managed-by": "sailplan"},
            },
            "data": {"status": json.dumps(body, sort_keys=True)},
        },
        force=True,
    )


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sync_pass(
    client: ClusterClient,
    source: Source,
    registry: Registry,
    options: ApplyOptions,
    *,
    kube_version: tuple[int, int],
    allow_mass_prune: bool = False,
    on_event: OnEvent | None = None,
    image_update: Callable[[imageupdate.Automation, GitAuth | None], imageupdate.Outcome]
    | None = None,
) -> PassResult:
    """Fetch, build, apply and prune one source once; the result is also recorded."""
    before = read_status(client, source)
    if source.suspend:
        status = dataclasses.replace(
            before,
            time=_now(),
            result=SUSPENDED,
            message="skipped (suspend: true); the cluster is left as it is",
        )
        _write_status(client, source, status)
        return PassResult(source, status)
    options = dataclasses.replace(
        options,
        timeout=source.timeout or options.timeout,
        force=options.force or source.force,
        prune=options.prune and source.prune,
    )
    secrets = ClusterSecrets(client)
    auth = (
        GitAuth.from_secret(secrets.get(source.namespace, source.secret_ref))
        if source.secret_ref
        else None
    )
    image_outcome, image_error = None, ""
    if source.automation is not None and image_update is not None:
        try:
            image_outcome = image_update(source.automation, auth)
        except SailplanError as exc:
            image_error = str(exc)
    with (
        tempfile.TemporaryDirectory(prefix="sailplan-sync-") as tmp,
        Git(source.url, auth, timeout=source.timeout or 120.0) as git,
    ):
        repo = Path(tmp) / "repo"
        try:
            sha = git.clone(source.ref, repo)
        except GitError as exc:
            status = dataclasses.replace(before, time=_now(), result=UNREACHABLE, message=str(exc))
            _write_status(client, source, status)
            return PassResult(source, status, image_update=image_outcome, image_error=image_error)
        revision = f"{_ref_name(source.ref)}@sha1:{sha}"
        try:
            specs = _build(repo, source, registry, kube_version)
        except SailplanError as exc:
            message = f"{revision}: " + str(exc).replace(f"{repo}/", "")
            status = dataclasses.replace(
                before, commit=sha, time=_now(), result=RENDER_FAILED, message=message
            )
            _write_status(client, source, status)
            return PassResult(source, status, image_update=image_outcome, image_error=image_error)
    apps_now = tuple(sorted({(s.app, s.namespace, s.env) for s in specs}))
    removed = tuple(a for a in before.apps if a not in apps_now) if source.prune else ()
    if before.apps and len(removed) * 2 > len(before.apps) and not allow_mass_prune:
        message = (
            f"{revision}: refused: it would delete {len(removed)} of the {len(before.apps)} "
            "applications this source applied (an emptied path or a wrong branch?); "
            "allow it with --allow-mass-prune"
        )
        status = dataclasses.replace(
            before, commit=sha, time=_now(), result=REFUSED, message=message
        )
        _write_status(client, source, status)
        return PassResult(source, status, image_update=image_outcome, image_error=image_error)
    outcomes: list[deploy.Outcome] = []
    try:
        for spec in specs:
            spec = dataclasses.replace(spec, description=f"sync {source.name} {revision}")
            outcomes.append(deploy.apply_release(client, spec, options, on_event=on_event))
        for app, namespace, env in removed:
            deploy.delete_release(client, app, namespace, env, options, on_event=on_event)
    except SailplanError as exc:
        # the releases record what was applied; the next pass converges from there
        applied = tuple(sorted({*before.apps, *apps_now}))
        status = Status(
            sha,
            _now(),
            APPLY_FAILED,
            f"{revision}: " + str(exc).replace(f"{repo}/", ""),
            before.last_applied,
            applied,
        )
        _write_status(client, source, status)
        return PassResult(source, status, tuple(outcomes), (), image_outcome, image_error)
    status = Status(sha, _now(), APPLIED, f"Applied revision: {revision}", sha, apps_now)
    _write_status(client, source, status)
    return PassResult(source, status, tuple(outcomes), removed, image_outcome, image_error)


def _ref_name(ref: Ref) -> str:
    return ref.branch or ref.tag or ref.semver or ref.commit[:12]


def _build(
    repo: Path, source: Source, registry: Registry, kube_version: tuple[int, int]
) -> list[deploy.ReleaseSpec]:
    root = (repo / source.path).resolve()
    if not root.is_relative_to(repo.resolve()) or not root.is_dir():
        raise SailplanError(f"path {source.path!r} is not a folder of {safe_url(source.url)}")
    units = read_units([str(root)])
    if source.target_namespace:
        units = [_in_namespace(unit, source.target_namespace) for unit in units]
    previews = build_every_environment(units, registry, kube_version=kube_version)
    return release_specs(units, previews)


def _in_namespace(unit: Unit, namespace: str) -> Unit:
    """Flux's ``targetNamespace``: Applications, and objects without a namespace, land in it.

    Cluster-scoped objects lose the namespace again when applied (``applier.scoped``).
    """
    docs = []
    for doc in unit.documents:
        data = doc.data
        meta = data.get("metadata") if isinstance(data, dict) else None
        if isinstance(meta, dict) and (is_application(data) or not meta.get("namespace")):
            data = {**data, "metadata": {**meta, "namespace": namespace}}
        docs.append(Document(data, doc.source))
    return Unit(tuple(docs), unit.env_files)


def describe(result: PassResult) -> list[str]:
    """Lines for one pass."""
    s = result.status
    lines = [f"{result.source.namespace}/{result.source.name}: {s.result}: {s.message}"]
    if result.image_error:
        lines.append(f"  image update failed: {result.image_error}")
    elif result.image_update is not None and result.image_update.commit:
        lines.append(f"  image update: committed {result.image_update.commit[:12]}")
    for outcome in result.outcomes:
        where = f"{outcome.spec.namespace}/{outcome.spec.app}"
        counts: dict[str, int] = {}
        for change in outcome.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        listing = ", ".join(f"{n} {a}" for a, n in counts.items()) or "no objects"
        lines.append(f"  {where}: revision {outcome.revision} ({listing})")
    lines += [f"  {ns}/{app}: deleted (left the source)" for app, ns, _env in result.removed]
    return lines


def status_record(result: PassResult) -> dict[str, Any]:
    """JSON for ``-o json``."""
    return {
        "source": f"{result.source.namespace}/{result.source.name}",
        **dataclasses.asdict(result.status),
        "apps": [list(a) for a in result.status.apps],
        "removed": [list(a) for a in result.removed],
        "imageUpdateError": result.image_error,
    }
