"""Applying one set of objects, as Flux's ``ResourceManager.ApplyAllStaged`` does.

``apply_set`` takes the desired objects of one release (one application in one
environment on one cluster) and, wave by wave (``order.waves``): reads the live
objects (one LIST per kind and namespace), checks ownership and policies, runs a
server-side dry-run of each object and compares it with the live one, applies only
the objects that changed (field manager ``sailplan``), and waits for the wave to be
healthy when later waves depend on it. It returns the changes; it never writes a
release (``engine.apply.releases`` does, around it), so a workflow runner can call it
for one component at a time.

An object whose desired state is exactly what the last deployed release applied, and
whose live values still equal it, is unchanged without a dry-run: the dry-run could
only confirm it. This keeps a no-op re-apply at one LIST per kind.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine.apply import changes as ch
from engine.apply import order
from engine.apply.client import ClusterClient, subject
from engine.apply.errors import (
    ClusterError,
    ImmutableError,
    NotFoundError,
    OwnershipError,
)
from engine.apply.health import Health
from engine.apply.policies import ObjectPolicy
from engine.apply.sharing import SHARED_BY, add_sharer, shared_by, sharers
from engine.apply.waiting import wait_gone, wait_healthy
from engine.errors import SourceLocation
from engine.model import ResourceId

NAME_LABEL = "app.oam.dev/name"
NAMESPACE_LABEL = "app.oam.dev/namespace"


@dataclasses.dataclass(frozen=True)
class Desired:
    """One object to apply, where it came from, and what the policies say about it."""

    object: Mapping[str, Any]
    source: str = ""
    location: str = ""
    component: str = ""
    policy: ObjectPolicy = dataclasses.field(default_factory=ObjectPolicy)
    #: The definition's health rule (``status.healthPolicy``) and its parameters.
    health_rule: str = ""
    parameter: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def id(self) -> ResourceId:
        meta = self.object.get("metadata") or {}
        return ResourceId(
            str(self.object.get("apiVersion", "")),
            str(self.object.get("kind", "")),
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
        )

    @property
    def subject(self) -> str:
        return subject(self.object)


@dataclasses.dataclass(frozen=True)
class ApplyOptions:
    """How to apply: every field has the CLI flag of the same name."""

    dry_run: bool = False
    wait: bool = True
    timeout: float = 300.0
    prune: bool = True
    force: bool = False
    take_over: bool = False
    #: Kinds pruned although they are normally never pruned (Namespace, CRD, PVC).
    prune_kinds: frozenset[str] = frozenset()
    concurrency: int = 8
    interval: float = 1.0
    #: Releases kept per application and environment (Helm's --history-max; 0: all).
    history_max: int = 10


@dataclasses.dataclass(frozen=True)
class Event:
    """Progress: an object's change or health, or a wave starting."""

    type: str  # "change", "health", "wave"
    subject: str
    action: str = ""
    message: str = ""


OnEvent = Callable[[Event], None]


def _quiet(event: Event) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class SetResult:
    """What ``apply_set`` did: one change per object, in the order applied."""

    changes: tuple[ch.Change, ...]
    #: Objects left alone because another application shares and owns them.
    shared: tuple[ResourceId, ...] = ()


class Owner:
    """The application a release belongs to: its labels mark every object it owns."""

    def __init__(self, app: str, namespace: str) -> None:
        self.app = app
        self.namespace = namespace

    def owns(self, obj: Mapping[str, Any] | None) -> bool:
        labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
        return bool(
            labels.get(NAME_LABEL) == self.app and labels.get(NAMESPACE_LABEL) == self.namespace
        )

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.app}"


def stamped(obj: Mapping[str, Any], owner: Owner) -> dict[str, Any]:
    """``obj`` normalised and carrying the owner labels."""
    out = ch.normalized(obj)
    meta = out.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    labels[NAME_LABEL] = owner.app
    labels[NAMESPACE_LABEL] = owner.namespace
    meta["labels"] = labels
    return out


def scoped(client: ClusterClient, objects: Sequence[Desired]) -> tuple[Desired, ...]:
    """The objects, cluster-scoped ones without a namespace (KubeVela sets one on all).

    Scope comes from discovery, or for kinds not served yet from their CRD in ``objects``.
    """
    crd_scopes = {
        (
            str((o.object.get("spec") or {}).get("group")),
            str(((o.object.get("spec") or {}).get("names") or {}).get("kind")),
        ): (o.object.get("spec") or {}).get("scope") == "Cluster"
        for o in objects
        if o.id.kind == "CustomResourceDefinition"
    }
    out = []
    for d in objects:
        ref = d.id
        if ref.namespace:
            try:
                cluster_wide = not client.resource(ref.api_version, ref.kind).namespaced
            except NotFoundError:
                cluster_wide = crd_scopes.get((ref.group, ref.kind), False)
            if cluster_wide:
                obj = copy.deepcopy(dict(d.object))
                obj["metadata"].pop("namespace", None)
                d = dataclasses.replace(d, object=obj)
        out.append(d)
    return tuple(out)


def read_live(
    client: ClusterClient, objects: Iterable[Desired]
) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """The live objects, read with one LIST per kind and namespace (absent kinds: none)."""
    wanted: dict[tuple[str, str, str], set[str]] = {}
    for d in objects:
        ref = d.id
        wanted.setdefault((ref.api_version, ref.kind, ref.namespace), set()).add(ref.name)
    found: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for (api_version, kind, namespace), names in sorted(wanted.items()):
        try:
            res = client.resource(api_version, kind)
        except NotFoundError:
            continue  # its CRD comes with this apply
        ns = namespace if res.namespaced else ""
        if len(names) == 1 and not ns:
            items = [o for o in [client.get(ResourceId(api_version, kind, "", *names))] if o]
        else:
            try:
                items = client.list(api_version, kind, ns)
            except NotFoundError:
                items = []  # the namespace comes with this apply
        for item in items:
            ident = ResourceId(
                api_version,
                kind,
                str(item["metadata"].get("namespace") or ""),
                item["metadata"]["name"],
            )
            if ident.name in names:
                found[ident.key()] = item
    return found


def check_ownership(
    objects: Sequence[Desired],
    live: Mapping[tuple[str, str, str, str], Mapping[str, Any]],
    owner: Owner,
    take_over: bool,
) -> list[ResourceId]:
    """Raise OwnershipError for the first object this app may not touch.

    Returns the objects that another application owns and shares (left alone).
    """
    shared: list[ResourceId] = []
    for d in objects:
        current = live.get(d.id.key())
        if current is None or owner.owns(current) or d.policy.read_only:
            continue
        labels = (current.get("metadata") or {}).get("labels") or {}
        other = labels.get(NAME_LABEL)
        where = SourceLocation(d.location) if d.location else None
        if other and d.policy.shared:
            if shared_by(current):
                shared.append(d.id)
                continue
            raise OwnershipError(
                f"is managed by application {labels.get(NAMESPACE_LABEL, '')}/{other}, "
                f"which does not share it (no {SHARED_BY} annotation); its shared-resource "
                "policy must select it first",
                subject=d.subject,
                location=where,
            )
        if take_over or d.policy.take_over:
            continue
        if other:
            raise OwnershipError(
                f"exists and is managed by application {labels.get(NAMESPACE_LABEL, '')}/"
                f"{other}, not {owner.key}; a take-over policy or --take-over adopts it",
                subject=d.subject,
                location=where,
            )
        raise OwnershipError(
            "exists and is not managed by any application; a take-over policy or "
            "--take-over adopts it",
            subject=d.subject,
            location=where,
        )
    return shared


#: A plan action: join the shared-by list of an object another application owns.
SHARE = "share"


@dataclasses.dataclass(frozen=True)
class _Plan:
    desired: Desired
    action: str
    body: Mapping[str, Any] | None = None
    message: str = ""
    force: bool = False


def apply_set(
    client: ClusterClient,
    objects: Sequence[Desired],
    owner: Owner,
    options: ApplyOptions,
    *,
    depends_on: Mapping[str, Sequence[str]] | None = None,
    previous: Mapping[tuple[str, str, str, str], Mapping[str, Any]] | None = None,
    live: Mapping[tuple[str, str, str, str], dict[str, Any]] | None = None,
    deadline: float | None = None,
    on_event: OnEvent = _quiet,
) -> SetResult:
    """Apply ``objects`` wave by wave; see the module docstring.

    ``previous`` maps object keys to the manifests the last deployed release applied
    (enables the no-dry-run path for unchanged objects); ``live`` is what ``read_live``
    returned, if the caller already read it.
    """
    deadline = deadline if deadline is not None else time.monotonic() + options.timeout
    previous = previous or {}
    if live is None:
        live = read_live(client, objects)
    shared = set(check_ownership(objects, live, owner, options.take_over))
    done: list[ch.Change] = []
    plan_waves = order.waves(
        [d.object for d in objects], depends_on, components=[d.component for d in objects]
    )
    with ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        for number, wave in enumerate(plan_waves):
            items = [objects[i] for i in wave.items]
            on_event(Event("wave", wave.name, message=f"{len(items)} object(s)"))
            if number and any(d.id.key() not in live for d in items):
                # Objects of earlier waves (a Namespace, a CRD) may have made these readable.
                live = {**live, **read_live(client, [d for d in items if d.id.key() not in live])}
            plans = list(
                pool.map(
                    lambda d, seen=live: _plan(
                        client, d, seen.get(d.id.key()), previous, options, shared, owner
                    ),
                    items,
                )
            )
            results = list(pool.map(lambda p: _execute(client, p, options, deadline), plans))
            for change in results:
                done.append(change)
                on_event(Event("change", change.subject, change.action, change.message))
            must_wait = wave.gate or number == len(plan_waves) - 1
            if not options.dry_run and (
                _needs_established(wave, objects) or (options.wait and must_wait)
            ):
                waited = [p.desired for p in plans if p.action != ch.SKIPPED]
                wait_healthy(
                    client,
                    [d.id for d in waited],
                    deadline,
                    rules={d.id: (d.health_rule, d.parameter) for d in waited if d.health_rule},
                    interval=options.interval,
                    report=lambda s, h: on_event(_health_event(s, h)),
                )
    return SetResult(tuple(done), tuple(sorted(shared, key=str)))


def _needs_established(wave: order.Wave, objects: Sequence[Desired]) -> bool:
    """CRDs are always waited for: their custom resources cannot be applied before."""
    return any(objects[i].id.kind == "CustomResourceDefinition" for i in wave.items)


def _health_event(subject_: str, found: Health) -> Event:
    return Event("health", subject_, found.status, found.message)


def _with_location(exc: ClusterError, d: Desired) -> ClusterError:
    if exc.location is None and d.location:
        exc.location = SourceLocation(d.location)
    if not exc.subject:
        exc.subject = d.subject
    return exc


def _plan(
    client: ClusterClient,
    d: Desired,
    current: Mapping[str, Any] | None,
    previous: Mapping[tuple[str, str, str, str], Mapping[str, Any]],
    options: ApplyOptions,
    shared: set[ResourceId],
    owner: Owner,
) -> _Plan:
    """What to do with one object: the dry-run and the drift test."""
    policy = d.policy
    if d.id in shared:
        return _join(d, current, owner)
    if policy.read_only:
        if current is None:
            raise ClusterError(
                "is marked read-only (read-only policy) but does not exist",
                subject=d.subject,
                location=SourceLocation(d.location) if d.location else None,
            )
        return _Plan(d, ch.SKIPPED, message="read-only")
    last = previous.get(d.id.key())
    whole_once = policy.apply_once and not policy.apply_once_paths
    if current is not None and whole_once and last is not None and dict(last) == dict(d.object):
        return _Plan(d, ch.SKIPPED, message="apply-once: live changes kept")
    body: Mapping[str, Any] = d.object
    if current is not None and policy.apply_once_paths:
        body = _keep_paths(body, current, policy.apply_once_paths)
    same = current is not None and last is not None and dict(last) == dict(body)
    if policy.shared:
        body = _annotated(body, SHARED_BY, add_sharer(shared_by(current), owner.key))
    if same and ch.covers(current, body):
        return _Plan(d, ch.UNCHANGED, body)
    try:
        merged = client.apply(body, dry_run=True, force=_forced(d, current, options))
    except ImmutableError as exc:
        if options.force or policy.recreate_fields:
            message = exc.message.partition(";")[0]
            return _Plan(d, ch.RECREATED, body, message, _forced(d, current, options))
        raise _with_location(exc, d) from exc
    except NotFoundError as exc:
        if current is None and "is its CRD installed" in exc.message:
            # Its CRD is applied in an earlier wave of this same apply.
            return _Plan(d, ch.CREATED, body, "kind not served yet", options.force)
        raise _with_location(exc, d) from exc
    except ClusterError as exc:
        raise _with_location(exc, d) from exc
    force = _forced(d, current, options)
    if current is None:
        return _Plan(d, ch.CREATED, body, force=force)
    if policy.recreate_fields and _differs_at(current, body, policy.recreate_fields):
        return _Plan(d, ch.RECREATED, body, "resource-update recreateFields changed", force)
    if ch.drifted(current, merged):
        return _Plan(d, ch.CONFIGURED, body, force=force)
    return _Plan(d, ch.UNCHANGED, body)


def _join(d: Desired, current: Mapping[str, Any] | None, owner: Owner) -> _Plan:
    """A sharer that does not own the object only adds itself to shared-by (KubeVela)."""
    value = shared_by(current)
    labels = ((current or {}).get("metadata") or {}).get("labels") or {}
    holder = f"{labels.get(NAMESPACE_LABEL, '')}/{labels.get(NAME_LABEL, '')}"
    if owner.key in sharers(value):
        return _Plan(d, ch.SKIPPED, message=f"shared; owned by {holder}")
    meta = d.object.get("metadata") or {}
    patch = {
        "apiVersion": d.object.get("apiVersion"),
        "kind": d.object.get("kind"),
        "metadata": {
            **{k: v for k, v in meta.items() if k in ("name", "namespace")},
            "annotations": {SHARED_BY: add_sharer(value, owner.key)},
            # Two sharers joining at once: the second gets a conflict, not a lost entry.
            "resourceVersion": ((current or {}).get("metadata") or {}).get("resourceVersion"),
        },
    }
    return _Plan(d, SHARE, patch, f"joined {SHARED_BY}; owned by {holder}")


def _annotated(body: Mapping[str, Any], key: str, value: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(body))
    meta = out.setdefault("metadata", {})
    meta["annotations"] = {**(meta.get("annotations") or {}), key: value}
    return out


def _forced(d: Desired, current: Mapping[str, Any] | None, options: ApplyOptions) -> bool:
    """Force field ownership: asked for, or adopting an object (take-over takes its fields)."""
    return options.force or (current is not None and (options.take_over or d.policy.take_over))


def _execute(
    client: ClusterClient, plan: _Plan, options: ApplyOptions, deadline: float
) -> ch.Change:
    d = plan.desired
    action = ch.CONFIGURED if plan.action == SHARE else plan.action
    if plan.action in (ch.UNCHANGED, ch.SKIPPED) or options.dry_run or plan.body is None:
        return ch.Change(d.subject, action, plan.message)
    try:
        if plan.action == SHARE:
            client.patch(plan.body)
            return ch.Change(d.subject, action, plan.message)
        if plan.action == ch.RECREATED:
            client.delete(d.id, propagation="Foreground")
            wait_gone(client, [d.id], deadline)
        if d.policy.update_op == "replace" and plan.action == ch.CONFIGURED:
            current = client.get(d.id) or {}
            body = copy.deepcopy(dict(plan.body))
            body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            client.replace(body)
        else:
            client.apply(plan.body, force=plan.force)
    except ClusterError as exc:
        raise _with_location(exc, d) from exc
    return ch.Change(d.subject, plan.action, plan.message)


def _get_path(obj: Any, path: str) -> tuple[bool, Any]:
    node = obj
    for part in path.strip(".").split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _keep_paths(
    body: Mapping[str, Any], live: Mapping[str, Any], paths: Sequence[str]
) -> dict[str, Any]:
    """apply-once paths: the live values replace the desired ones."""
    out = copy.deepcopy(dict(body))
    for path in paths:
        found, value = _get_path(live, path)
        parts = path.strip(".").split(".")
        node: Any = out
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            if found:
                node[parts[-1]] = copy.deepcopy(value)
            else:
                node.pop(parts[-1], None)
    return out


def _differs_at(live: Mapping[str, Any], body: Mapping[str, Any], paths: Sequence[str]) -> bool:
    return any(_get_path(live, p) != _get_path(body, p) for p in paths)
