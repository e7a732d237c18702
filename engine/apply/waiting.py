"""Waiting for objects: healthy (kstatus rules) or gone, polling until a deadline.

Flux's ``WaitForSet``: poll every interval until every object is Current; stop early
when every object is terminal and one has Failed; on the deadline, say which objects
are not healthy and why (``Kind/ns/name: InProgress: ready replicas: 0/1``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.apply import health
from engine.apply.client import ClusterClient
from engine.apply.durations import format_duration
from engine.apply.errors import WaitError
from engine.model import ResourceId

Report = Callable[[str, health.Health], None]


def wait_healthy(
    client: ClusterClient,
    refs: Sequence[ResourceId],
    deadline: float,
    *,
    interval: float = 1.0,
    report: Report | None = None,
    rules: Mapping[ResourceId, tuple[str, Mapping[str, Any]]] | None = None,
) -> dict[ResourceId, health.Health]:
    """Poll until every object in ``refs`` is healthy; WaitError on failure or deadline.

    ``rules`` are definitions' health rules: an object must also pass its own.
    """
    started = time.monotonic()
    pending = list(dict.fromkeys(refs))
    seen: dict[ResourceId, health.Health] = {}
    while True:
        for ref in list(pending):
            found = with_rule(client.get(ref), (rules or {}).get(ref))
            if report is not None and seen.get(ref) != found:
                report(str(ref), found)
            seen[ref] = found
            if found.healthy:
                pending.remove(ref)
        if not pending:
            return seen
        failed = [r for r in pending if seen[r].status == health.FAILED]
        if failed and all(seen[r].terminal for r in pending):
            raise WaitError("failed early: " + _listing(failed, seen), subject=str(failed[0]))
        if time.monotonic() >= deadline:
            waited = format_duration(time.monotonic() - started)
            raise WaitError(
                f"not healthy after {waited}: " + _listing(pending, seen),
                subject=str(pending[0]) if len(pending) == 1 else "",
            )
        time.sleep(min(interval, max(0.05, deadline - time.monotonic())))


def with_rule(
    live: Mapping[str, Any] | None, rule: tuple[str, Mapping[str, Any]] | None
) -> health.Health:
    """kstatus's verdict, then (when that is healthy) the definition's health rule."""
    found = health.status(live)
    if rule is None or not found.healthy:
        return found
    from engine.render.health import is_healthy

    ok, why = is_healthy(rule[0], live, parameter=rule[1])
    return found if ok else health.Health(health.IN_PROGRESS, why)


def wait_gone(
    client: ClusterClient,
    refs: Sequence[ResourceId],
    deadline: float,
    *,
    interval: float = 0.5,
) -> None:
    """Poll until none of ``refs`` exists; WaitError naming those left on the deadline."""
    pending = list(dict.fromkeys(refs))
    while pending:
        pending = [r for r in pending if client.get(r) is not None]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise WaitError(
                "still present at the deadline: " + ", ".join(str(r) for r in pending),
                subject=str(pending[0]) if len(pending) == 1 else "",
            )
        time.sleep(interval)


def _listing(refs: Sequence[ResourceId], seen: dict[ResourceId, health.Health]) -> str:
    return "; ".join(
        f"{r} {seen[r].status}" + (f": {seen[r].message}" if seen[r].message else "") for r in refs
    )
