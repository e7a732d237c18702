"""Releases end to end: apply, delete, roll back, and read the status of an application.

``apply_release`` is Helm's upgrade with Flux's applier inside: read the application's
releases, check ownership, write the new revision as ``pending`` before any object is
applied, apply wave by wave with health waits, prune what the previous revisions had
and this one lacks (after the new objects are healthy, and only objects whose live
labels still name this application), then mark the revision ``deployed`` (or
``failed``, with the reason) and the one before ``superseded``. Nothing changed and the
same digest as the deployed revision: no new revision. ``gitops`` and the workflow
runner call these functions; the CLI only formats their results.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import time
from collections.abc import Mapping, Sequence
from typing import Any

from engine.apply import changes as ch
from engine.apply import health, order, releases
from engine.apply.applier import (
    NAME_LABEL,
    NAMESPACE_LABEL,
    ApplyOptions,
    Desired,
    Event,
    OnEvent,
    Owner,
    apply_set,
    read_live,
    scoped,
)
from engine.apply.client import ClusterClient
from engine.apply.errors import ClusterError, NotFoundError
from engine.apply.policies import ObjectPolicy
from engine.apply.releases import Entry, Release
from engine.apply.sharing import SHARED_BY, first_sharer, remove_sharer, shared_by, sharers
from engine.apply.waiting import wait_gone, with_rule
from engine.model import ResourceId

#: Kinds never pruned or deleted unless asked for by name (``--prune-kinds``).
PROTECTED_KINDS = frozenset({"Namespace", "CustomResourceDefinition", "PersistentVolumeClaim"})


@dataclasses.dataclass(frozen=True)
class ReleaseSpec:
    """What to deliver: one application in one environment, to one cluster."""

    app: str
    namespace: str
    env: str
    objects: tuple[Desired, ...]
    depends_on: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)
    cluster: str = ""
    description: str = ""
    workflow: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What an apply did: the changes, and the release now current (if any)."""

    spec: ReleaseSpec
    changes: tuple[ch.Change, ...]
    release: Release | None
    new_revision: bool

    @property
    def revision(self) -> int:
        return self.release.revision if self.release else 0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(d: Desired, stale: bool = False) -> Entry:
    ref = d.id
    return Entry(
        ref.api_version,
        ref.kind,
        ref.namespace,
        ref.name,
        component=d.component,
        source=d.source,
        location=d.location,
        stale=stale,
        policy=d.policy.to_json(),
        health=d.health_rule,
        parameter=dict(d.parameter),
    )


def history(
    client: ClusterClient, app: str, namespace: str, env: str | None = None
) -> list[Release]:
    """Every revision of ``app`` in ``namespace`` (one environment when ``env`` is given)."""
    return releases.list_releases(client, namespace, app, env)


def existing_history(
    client: ClusterClient, app: str, namespace: str, env: str | None = None
) -> list[Release]:
    """``history``, which must not be empty: no release is an error naming the app."""
    found = history(client, app, namespace, env)
    if not found:
        raise NotFoundError(
            f"no release of application {app} in namespace {namespace}"
            + (f" for environment {env}" if env else ""),
        )
    return found


def _since_deployed(found: Sequence[Release]) -> list[Release]:
    """The last deployed revision and every later one: what may still have live objects."""
    last = max((i for i, r in enumerate(found) if r.status == releases.DEPLOYED), default=0)
    return list(found[last:])


def apply_release(
    client: ClusterClient,
    spec: ReleaseSpec,
    options: ApplyOptions,
    *,
    on_event: OnEvent | None = None,
) -> Outcome:
    """Deliver ``spec`` as a new revision (or confirm the current one); see the module doc."""
    emit = on_event or (lambda e: None)
    deadline = time.monotonic() + options.timeout
    owner = Owner(spec.app, spec.namespace)
    spec = dataclasses.replace(spec, objects=scoped(client, spec.objects))
    found = history(client, spec.app, spec.namespace, spec.env)
    latest = found[-1] if found else None
    manifests = tuple(d.object for d in spec.objects)
    digest = releases.digest(manifests)
    steady = latest is not None and latest.status == releases.DEPLOYED and latest.digest == digest
    previous: dict[tuple[str, str, str, str], Mapping[str, Any]] = {}
    if latest is not None and latest.status == releases.DEPLOYED:
        previous = {_key(m): m for m in latest.manifests}
    live = read_live(client, spec.objects)
    new_keys = {d.id.key() for d in spec.objects}
    old_entries = _old_entries(found, new_keys)
    apply_objects = functools.partial(
        apply_set,
        client,
        spec.objects,
        owner,
        options,
        depends_on=spec.depends_on,
        previous=previous,
        live=live,
        deadline=deadline,
        on_event=emit,
    )
    if steady or options.dry_run:
        result = apply_objects()
        prunes = (
            [] if steady or not options.prune else _would_prune(client, old_entries, owner, options)
        )
        for change in prunes:
            emit(Event("change", change.subject, change.action, change.message))
        return Outcome(spec, result.changes + tuple(prunes), latest, new_revision=False)
    revision = (latest.revision if latest else 0) + 1
    release = Release(
        app=spec.app,
        namespace=spec.namespace,
        env=spec.env,
        revision=revision,
        time=_now(),
        digest=digest,
        status=releases.PENDING,
        manifests=manifests,
        entries=tuple(_entry(d) for d in spec.objects) + tuple(old_entries),
        description=spec.description or ("Install" if latest is None else "Upgrade"),
        cluster=spec.cluster,
        workflow=spec.workflow,
        depends_on={k: tuple(v) for k, v in spec.depends_on.items()},
    )
    _write_first(client, release)
    emit(Event("release", f"{spec.app} revision {revision}", releases.PENDING))
    done: list[ch.Change] = []
    try:
        result = apply_objects()
        done.extend(result.changes)
        kept: list[Entry] = []
        if options.prune:
            pruned, kept = prune(
                client,
                old_entries,
                owner,
                options,
                deadline,
                emit,
                depends_on=_all_depends_on(found, spec.depends_on),
            )
            done.extend(pruned)
        else:
            kept = list(old_entries)
    except BaseException as exc:
        message = str(exc) if str(exc) else type(exc).__name__
        failed = dataclasses.replace(
            release,
            status=releases.FAILED,
            message=message,
            changes={c.subject: c.action for c in done},
        )
        _best_effort_write(client, failed)
        raise
    final = dataclasses.replace(
        release,
        status=releases.DEPLOYED,
        entries=tuple(_entry(d) for d in spec.objects) + tuple(kept),
        changes={c.subject: c.action for c in done},
    )
    releases.write(client, final, new=False)
    for older in found:
        if older.status == releases.DEPLOYED:
            releases.write(
                client, dataclasses.replace(older, status=releases.SUPERSEDED), new=False
            )
    emit(Event("release", f"{spec.app} revision {revision}", releases.DEPLOYED))
    if options.history_max > 0:
        earlier = [
            dataclasses.replace(r, status=releases.SUPERSEDED)
            if r.status == releases.DEPLOYED
            else r
            for r in found
        ]
        releases.trim(client, [*earlier, final], options.history_max)
    return Outcome(spec, tuple(done), final, new_revision=True)


def _all_depends_on(
    found: Sequence[Release], current: Mapping[str, Sequence[str]] | None = None
) -> dict[str, tuple[str, ...]]:
    """dependsOn of every component the releases (and the new spec) name, newest first."""
    out: dict[str, tuple[str, ...]] = {}
    for release in found:
        out.update({k: tuple(v) for k, v in release.depends_on.items()})
    out.update({k: tuple(v) for k, v in (current or {}).items()})
    return out


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    meta = obj.get("metadata") or {}
    return ResourceId(
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
    ).key()


def _old_entries(found: Sequence[Release], new_keys: set[tuple[str, str, str, str]]) -> list[Entry]:
    """Objects of the recent revisions that the new one does not have (prune candidates)."""
    out: dict[tuple[str, str, str, str], Entry] = {}
    for release in _since_deployed(found):
        for entry in release.entries:
            if entry.key() not in new_keys:
                out[entry.key()] = entry
    return list(out.values())


def _write_first(client: ClusterClient, release: Release) -> None:
    try:
        releases.write(client, release, new=True)
    except NotFoundError as exc:
        raise ClusterError(
            f"cannot record the release: namespace {release.namespace} does not exist "
            "(create it first; the application's namespace holds its releases)",
            subject=f"Secret/{release.namespace}/{release.secret_name}",
        ) from exc
    except ClusterError as exc:
        if exc.status == 409:
            raise ClusterError(
                "another apply of this application is writing the same revision; try again",
                subject=f"Secret/{release.namespace}/{release.secret_name}",
                status=409,
            ) from exc
        raise


def _best_effort_write(client: ClusterClient, release: Release) -> None:
    # The cluster may be the thing that failed; then the pending record stays.
    with contextlib.suppress(Exception):
        releases.write(client, release, new=False)


def _candidate_order(entries: Sequence[Entry]) -> list[Entry]:
    objs = [
        {"apiVersion": e.api_version, "kind": e.kind, "metadata": {"name": e.name}} for e in entries
    ]
    return [entries[i] for i in order.delete_order(objs)]


def _delete_groups(
    entries: Sequence[Entry], depends_on: Mapping[str, Sequence[str]]
) -> list[list[Entry]]:
    """The entries in the order to delete, in groups deleted one after the other.

    One group, unless a garbage-collect policy says ``order: dependency``: then one
    group per component, every component after all the components that depend on it.
    """
    ordered = _candidate_order(entries)
    if not any(ObjectPolicy.from_json(e.policy).gc_order == "dependency" for e in entries):
        return [ordered] if ordered else []
    remaining = {e.component for e in ordered}
    needs = {c: set(depends_on.get(c, ())) for c in remaining}
    groups: list[list[Entry]] = []
    while remaining:
        # A component is next once no remaining component depends on it.
        ready = {c for c in remaining if not any(c in needs[o] for o in remaining if o != c)}
        ready = ready or set(remaining)  # a cycle: the rest together
        groups.append([e for e in ordered if e.component in ready])
        remaining -= ready
    return groups


def _guard(
    client: ClusterClient, entry: Entry, owner: Owner, options: ApplyOptions, deleting: bool
) -> tuple[str, str, dict[str, Any] | None]:
    """("delete" | action to report, reason, live object) for one object leaving."""
    policy = ObjectPolicy.from_json(entry.policy)
    if entry.kind in PROTECTED_KINDS and entry.kind not in options.prune_kinds:
        return ch.SKIPPED, f"{entry.kind} is never pruned unless --prune-kinds {entry.kind}", None
    if policy.read_only:
        return ch.SKIPPED, "read-only", None
    if policy.gc_strategy == "never":
        return ch.SKIPPED, "garbage-collect policy keeps it", None
    if policy.keep_legacy and not deleting:
        return "keep", "garbage-collect keepLegacyResource: deleted with the application", None
    if policy.gc_strategy == "onAppDelete" and not deleting:
        return "keep", "garbage-collect: deleted with the application", None
    live = client.get(entry.id)
    if live is None:
        return "gone", "", None
    value = shared_by(live) if policy.shared else ""
    if owner.key in sharers(value) and remove_sharer(value, owner.key):
        rest = remove_sharer(value, owner.key)
        return SHARE_LEFT, f"still shared by {rest}; owned by {first_sharer(rest)}", live
    if not owner.owns(live):
        return ch.SKIPPED, "its labels no longer name this application", None
    if policy.orphan:
        return ch.ORPHANED, "", live
    return "delete", "", live


def prune(
    client: ClusterClient,
    entries: Sequence[Entry],
    owner: Owner,
    options: ApplyOptions,
    deadline: float,
    emit: OnEvent,
    *,
    deleting: bool = False,
    depends_on: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[ch.Change], list[Entry]]:
    """Delete what left the application; returns the changes and the entries to keep.

    ``depends_on`` (component → components it needs) orders the deletes when a
    garbage-collect policy says ``order: dependency``.
    """
    changes: list[ch.Change] = []
    kept: list[Entry] = []
    gone: list[ResourceId] = []
    groups = _delete_groups(entries, depends_on or {})
    for number, group in enumerate(groups):
        group_gone: list[ResourceId] = []
        for entry in group:
            about = str(entry.id)
            action, reason, live = _guard(client, entry, owner, options, deleting)
            if action == "keep":
                kept.append(entry)
                continue
            if action == "gone":
                continue
            if action == SHARE_LEFT and live is not None:
                _leave_shared(client, live, owner)
                action = ch.SKIPPED
            elif action == ch.ORPHANED and live is not None:
                _orphan(client, live)
            elif action == "delete":
                try:
                    client.delete(entry.id)
                    group_gone.append(entry.id)
                    action = ch.DELETED if deleting else ch.PRUNED
                except ClusterError as exc:
                    kept.append(dataclasses.replace(entry, stale=True))
                    action = ch.FAILED
                    reason = f"delete failed, kept in the inventory: {exc.message}"
            change = ch.Change(about, action, reason)
            changes.append(change)
            emit(Event("change", change.subject, change.action, change.message))
        gone.extend(group_gone)
        if group_gone and number < len(groups) - 1:
            # order: dependency: what depends on the next group must be gone first.
            wait_gone(client, group_gone, deadline, interval=min(0.5, options.interval))
    if deleting and options.wait and gone:
        wait_gone(client, gone, deadline)
    return changes, kept


#: A guard action: leave the shared-by list of an object other applications still share.
SHARE_LEFT = "leave-shared"


def _leave_shared(client: ClusterClient, live: Mapping[str, Any], owner: Owner) -> None:
    """Remove this application from shared-by; an owner hands the labels to the next sharer."""
    rest = remove_sharer(shared_by(live), owner.key)
    meta: dict[str, Any] = {
        "name": live["metadata"]["name"],
        "annotations": {SHARED_BY: rest},
        # A sharer joining meanwhile makes this a conflict, not a lost entry.
        "resourceVersion": live["metadata"].get("resourceVersion"),
    }
    if live["metadata"].get("namespace"):
        meta["namespace"] = live["metadata"]["namespace"]
    if owner.owns(live):
        namespace, _, name = first_sharer(rest).partition("/")
        meta["labels"] = {NAME_LABEL: name, NAMESPACE_LABEL: namespace}
    client.patch({"apiVersion": live["apiVersion"], "kind": live["kind"], "metadata": meta})


def _would_prune(
    client: ClusterClient, entries: Sequence[Entry], owner: Owner, options: ApplyOptions
) -> list[ch.Change]:
    out = []
    for entry in _candidate_order(entries):
        action, reason, _ = _guard(client, entry, owner, options, False)
        if action == SHARE_LEFT:
            action = ch.SKIPPED
        if action == "delete":
            out.append(ch.Change(str(entry.id), ch.PRUNED, "dry run"))
        elif action not in ("keep", "gone"):
            out.append(ch.Change(str(entry.id), action, reason))
    return out


def _orphan(client: ClusterClient, live: Mapping[str, Any]) -> None:
    """garbage-collect ``propagation: orphan``: keep the object, drop the owner labels."""
    body = {
        "apiVersion": live["apiVersion"],
        "kind": live["kind"],
        "metadata": {
            "name": live["metadata"]["name"],
            **(
                {"namespace": live["metadata"]["namespace"]}
                if live["metadata"].get("namespace")
                else {}
            ),
            "labels": {NAME_LABEL: None, NAMESPACE_LABEL: None},
        },
    }
    client.patch(body)


def delete_release(
    client: ClusterClient,
    app: str,
    namespace: str,
    env: str | None,
    options: ApplyOptions,
    *,
    on_event: OnEvent | None = None,
) -> list[ch.Change]:
    """Delete every object of the application's releases (reverse order), then the releases."""
    emit = on_event or (lambda e: None)
    deadline = time.monotonic() + options.timeout
    found = existing_history(client, app, namespace, env)
    changes: list[ch.Change] = []
    for env_name in dict.fromkeys(r.env for r in found):
        mine = [r for r in found if r.env == env_name]
        entries = _old_entries(mine, set())
        if options.dry_run:
            changes.extend(
                ch.Change(str(e.id), ch.DELETED, "dry run") for e in _candidate_order(entries)
            )
            continue
        latest = mine[-1]
        _best_effort_write(client, dataclasses.replace(latest, status=releases.DELETING))
        done, kept = prune(
            client,
            entries,
            Owner(app, namespace),
            options,
            deadline,
            emit,
            deleting=True,
            depends_on=_all_depends_on(mine),
        )
        changes.extend(done)
        if any(e.stale for e in kept):
            raise ClusterError(
                "some objects could not be deleted; the releases are kept: "
                + ", ".join(str(e.id) for e in kept if e.stale),
                subject=f"application {namespace}/{app}",
            )
        for release in mine:
            client.delete(ResourceId("v1", "Secret", namespace, release.secret_name))
    return changes


def rollback_spec(
    client: ClusterClient, app: str, namespace: str, env: str, to: int | None
) -> ReleaseSpec:
    """The spec that re-applies revision ``to`` (default: the one before the latest)."""
    found = existing_history(client, app, namespace, env)
    if to is None:
        earlier = [r for r in found[:-1] if r.status in (releases.DEPLOYED, releases.SUPERSEDED)]
        if not earlier:
            raise ClusterError(
                f"application {namespace}/{app} has no earlier revision to roll back to",
            )
        target = earlier[-1]
    else:
        matches = [r for r in found if r.revision == to]
        if not matches:
            known = ", ".join(str(r.revision) for r in found)
            raise NotFoundError(
                f"application {namespace}/{app} has no revision {to}; it has {known}"
            )
        target = matches[0]
    by_key = {e.key(): e for e in target.entries}
    objects = []
    for manifest in target.manifests:
        entry = by_key.get(_key(manifest))
        objects.append(
            Desired(
                manifest,
                source=entry.source if entry else "",
                location=entry.location if entry else "",
                component=entry.component if entry else order.component_of(manifest),
                policy=ObjectPolicy.from_json(entry.policy) if entry else ObjectPolicy(),
                health_rule=entry.health if entry else "",
                parameter=entry.parameter if entry else {},
            )
        )
    return ReleaseSpec(
        app=app,
        namespace=namespace,
        env=target.env,
        objects=tuple(objects),
        depends_on=target.depends_on,
        cluster=target.cluster,
        description=f"Rollback to {target.revision}",
        workflow=target.workflow,
    )


@dataclasses.dataclass(frozen=True)
class ObjectStatus:
    """One object of a release as it is now: health, and whether it matches the release."""

    subject: str
    health: health.Health
    synced: bool
    component: str = ""


def release_status(client: ClusterClient, release: Release) -> list[ObjectStatus]:
    """Health and sync state of every object of ``release``."""
    by_key = {_key(m): m for m in release.manifests}
    out = []
    for entry in release.entries:
        live = client.get(entry.id)
        desired = by_key.get(entry.key())
        synced = live is not None and desired is not None and ch.covers(live, desired)
        rule = (entry.health, entry.parameter) if entry.health else None
        out.append(ObjectStatus(str(entry.id), with_rule(live, rule), synced, entry.component))
    return out


def save_workflow(
    client: ClusterClient, app: str, namespace: str, env: str, workflow: Mapping[str, Any]
) -> Release:
    """Store the workflow runner's state with the latest release (so ``resume`` works
    from any machine); returns the release as stored."""
    found = existing_history(client, app, namespace, env)
    updated = dataclasses.replace(found[-1], workflow=dict(workflow))
    releases.write(client, updated, new=False)
    return updated
