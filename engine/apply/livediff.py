"""What apply would change, object by object: server-side dry-run against the live objects.

Each object's "before" is the live object and its "after" the dry-run result, both
without what the server keeps for itself (``changes.comparable``); objects the last
release has and the new one lacks appear as removed (they would be pruned). The pair
lists feed ``engine.diff``, which masks Secret values.
"""

from __future__ import annotations

import dataclasses

from engine.apply import changes as ch
from engine.apply.applier import Owner, read_live, scoped
from engine.apply.client import ClusterClient
from engine.apply.deploy import ReleaseSpec, _old_entries, history
from engine.apply.errors import ClusterError, NotFoundError
from engine.errors import SourceLocation
from engine.model import Manifest


@dataclasses.dataclass(frozen=True)
class LiveSides:
    """The live objects and what they would become, as manifests."""

    before: tuple[Manifest, ...]
    after: tuple[Manifest, ...]


def live_sides(client: ClusterClient, spec: ReleaseSpec, *, force: bool = True) -> LiveSides:
    """Both sides of ``sailplan diff --live`` for one release spec."""
    spec = dataclasses.replace(spec, objects=scoped(client, spec.objects))
    live = read_live(client, spec.objects)
    before: list[Manifest] = []
    after: list[Manifest] = []
    for d in spec.objects:
        current = live.get(d.id.key())
        try:
            merged = client.apply(d.object, dry_run=True, force=force)
        except NotFoundError:
            merged = dict(d.object)  # its kind comes with this apply
        except ClusterError as exc:
            if exc.location is None and d.location:
                exc.location = SourceLocation(d.location)
            raise
        if current is not None:
            before.append(Manifest(ch.comparable(current), d.source, cluster=spec.cluster))
        if current is not None and not ch.drifted(current, merged):
            merged = current
        after.append(Manifest(ch.comparable(merged), d.source, cluster=spec.cluster))
    found = history(client, spec.app, spec.namespace, spec.env)
    owner = Owner(spec.app, spec.namespace)
    for entry in _old_entries(found, {d.id.key() for d in spec.objects}):
        if entry.kind in ("Namespace", "CustomResourceDefinition", "PersistentVolumeClaim"):
            continue
        current = client.get(entry.id)
        if current is not None and owner.owns(current):
            before.append(Manifest(ch.comparable(current), entry.source, cluster=spec.cluster))
    return LiveSides(tuple(before), tuple(after))
