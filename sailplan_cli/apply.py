"""``sailplan apply``, ``status``, ``ls``, ``history``, ``rollback``, ``delete``: the cluster.

Command bodies only: read inputs, connect, call ``engine.apply``, print. Progress goes
to stdout as one line per object (``Kind/namespace/name action``), coloured with rich
on a terminal unless NO_COLOR is set; ``-o json`` prints one JSON event per line.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import click

from sailplan_cli import common

if TYPE_CHECKING:
    from engine.apply.applier import ApplyOptions, Event
    from engine.apply.client import ClusterClient
    from engine.apply.deploy import ReleaseSpec
    from engine.apply.releases import Release


def _duration(ctx: click.Context, param: click.Parameter, text: str) -> float:
    from engine.apply.durations import parse_duration
    from engine.errors import SailplanError

    try:
        return parse_duration(text)
    except SailplanError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


kubeconfig_option = click.option(
    "--kubeconfig",
    metavar="FILE",
    help="The kubeconfig to use (default: $KUBECONFIG, ~/.kube/config).",
)
context_option = click.option(
    "--context", metavar="NAME", help="The kubeconfig context (default: the current one)."
)
timeout_option = click.option(
    "--timeout",
    default="5m",
    show_default=True,
    callback=_duration,
    help="How long to wait in all, written like 90s or 5m.",
)
output_option = click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON event per line.",
)


class Printer:
    """Progress lines: rich colours on a terminal, plain lines otherwise, or JSON events."""

    COLORS: ClassVar[dict[str, str]] = {
        "created": "green",
        "configured": "yellow",
        "recreated": "yellow",
        "pruned": "magenta",
        "deleted": "magenta",
        "orphaned": "magenta",
        "unchanged": "dim",
        "skipped": "cyan",
        "failed": "red",
        "Current": "green",
        "InProgress": "yellow",
        "Failed": "red",
        "deployed": "green",
        "pending": "yellow",
    }

    def __init__(self, output: str) -> None:
        self.json = output == "json"
        self.last_subject = ""
        self.console: Any = None
        self.spinner: Any = None
        self.waiting: dict[str, str] = {}
        self.gone = False
        if not self.json and sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
            from rich.console import Console

            self.console = Console(highlight=False)

    def event(self, event: Event) -> None:
        """Show one event; a reader that went away (a closed pipe) never stops the work."""
        if self.gone:
            return
        try:
            self._event(event)
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self) -> None:
        """Stop printing, and let nothing flush into the closed pipe at exit."""
        self.gone = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)

    def _event(self, event: Event) -> None:
        if event.subject and event.type in ("change", "health"):
            self.last_subject = event.subject
        if self.json:
            record = {"type": event.type, "object": event.subject, "action": event.action}
            if event.message:
                record["message"] = event.message
            click.echo(json.dumps(record))
            return
        if event.type == "wave":
            self._line(f"applying {event.subject} ({event.message})", "bold")
            return
        if event.type == "health" and self.console is not None:
            self._live(event)
            return
        if event.type == "health":
            text = f"{event.subject} {event.action}" + (
                f": {event.message}" if event.message else ""
            )
            self._line(
                "  waiting: " + text if event.action != "Current" else "  healthy: " + text,
                self.COLORS.get(event.action, ""),
            )
            return
        text = f"{event.subject} {event.action}" + (f" ({event.message})" if event.message else "")
        self._line(text, self.COLORS.get(event.action, ""))

    def _live(self, event: Event) -> None:
        """On a terminal: a spinner names what is still awaited; healthy objects get a line."""
        if event.action == "Current":
            self.waiting.pop(event.subject, None)
            self._line(f"  healthy: {event.subject}", "green")
        else:
            self.waiting[event.subject] = f"{event.action}: {event.message}".rstrip(": ")
        if not self.waiting:
            self.close()
            return
        first, why = next(iter(self.waiting.items()))
        more = f" and {len(self.waiting) - 1} more" if len(self.waiting) > 1 else ""
        text = f"waiting for {first} ({why}){more}"
        if self.spinner is None:
            self.spinner = self.console.status(text)
            self.spinner.start()
        else:
            self.spinner.update(text)

    def close(self) -> None:
        if self.spinner is not None:
            self.spinner.stop()
            self.spinner = None
        self.waiting.clear()

    def _line(self, text: str, style: str) -> None:
        if self.console is not None:
            from rich.markup import escape

            self.console.print(f"[{style}]{escape(text)}[/]" if style else escape(text))
        else:
            click.echo(text)

    def summary(self, record: dict[str, Any], text: str) -> None:
        self.close()
        if self.gone:
            return
        try:
            if self.json:
                click.echo(json.dumps({"type": "summary", **record}))
            else:
                self._line(text, "bold")
        except BrokenPipeError:
            self._reader_gone()


def _clients(kubeconfig: str | None, context: str | None) -> Callable[[str], ClusterClient]:
    """A client per context, made on first use."""
    from engine.apply.client import connect

    made: dict[str, ClusterClient] = {}

    def get(ctx: str) -> ClusterClient:
        key = ctx or context or ""
        if key not in made:
            made[key] = connect(kubeconfig, ctx or context)
        return made[key]

    return get


def _cluster_contexts(pairs: Sequence[str], mapping_file: str | None) -> dict[str, str]:
    from engine.errors import SailplanError

    out: dict[str, str] = {}
    if mapping_file:
        import yaml

        try:
            with open(mapping_file, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SailplanError(f"{mapping_file}: cannot read the cluster map: {exc}") from None
        if not isinstance(data, dict):
            raise SailplanError(
                f"{mapping_file}: the cluster map must map cluster names to contexts"
            )
        out.update({str(k): str(v) for k, v in data.items()})
    for pair in pairs:
        name, sep, ctx = pair.partition("=")
        if not sep or not name or not ctx:
            raise click.BadParameter(
                f"{pair!r}: write NAME=CONTEXT", param_hint="--cluster-context"
            )
        out[name] = ctx
    return out


def _context_for(cluster: str, mapping: dict[str, str]) -> str:
    from engine.errors import SailplanError

    if cluster in mapping:
        return mapping[cluster]
    if cluster in ("", "local"):
        return ""
    raise SailplanError(
        f"topology cluster {cluster!r} has no kubeconfig context; map it with "
        f"--cluster-context {cluster}=CONTEXT or --cluster-map FILE"
    )


def _specs(
    paths: Sequence[str],
    definition_dirs: Sequence[str],
    env: str | None,
    kube: tuple[int, int],
    read_objects: Any = None,
) -> list[ReleaseSpec]:
    from engine import environments
    from engine.apply.plan import release_specs
    from engine.workspace import read_units

    registry = common.registry(definition_dirs)
    units = read_units(paths)
    if env:
        environments.check_environment_name(units, env)
        # Releases are named after the environment, not the alias it was called by.
        name = next(e.name for e in environments.known_environments(units) if e.answers_to(env))
        build = environments.build_environment(
            units, registry, name, kube_version=kube, read_objects=read_objects
        )
        previews = [environments.Preview(name, build)]
    else:
        previews = environments.build_every_environment(
            units, registry, kube_version=kube, read_objects=read_objects
        )
    for preview in previews:
        common.warn(preview.build.warnings)
    return release_specs(units, previews, registry)


def _options(**kwargs: Any) -> ApplyOptions:
    from engine.apply.applier import ApplyOptions

    return ApplyOptions(**kwargs)


def _interrupted(printer: Printer) -> None:
    where = f" while working on {printer.last_subject}" if printer.last_subject else ""
    click.echo(
        f"error: interrupted{where}; the release is marked failed (or left pending): "
        "apply again to converge",
        err=True,
    )
    sys.exit(130)


@click.command("apply")
@click.argument("paths", nargs=-1, required=True)
@common.definition_dirs
@click.option("--env", metavar="NAME", help="Apply one environment (default: every one, in order).")
@click.option("--all-envs", is_flag=True, help="Apply every environment in deploy-step order.")
@kubeconfig_option
@context_option
@click.option(
    "--cluster-context",
    "cluster_contexts",
    multiple=True,
    metavar="CLUSTER=CONTEXT",
    help="The kubeconfig context of a topology cluster (repeatable; 'local' is --context).",
)
@click.option(
    "--cluster-map", metavar="FILE", help="A YAML file mapping topology clusters to contexts."
)
@click.option(
    "--dry-run",
    type=click.Choice(["server"]),
    help="server: the server checks every object; nothing is changed.",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for health.")
@timeout_option
@click.option("--prune/--no-prune", default=True, show_default=True, help="Delete what left.")
@click.option(
    "--prune-kinds",
    multiple=True,
    metavar="KIND",
    help="Also prune this kind (Namespace, CustomResourceDefinition, PersistentVolumeClaim).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Take over fields other managers own, and recreate objects whose immutable fields change.",
)
@click.option("--take-over", is_flag=True, help="Adopt existing objects no application owns.")
@click.option(
    "--history-max",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Releases kept per application and environment (0: no limit), as Helm's.",
)
@output_option
@common.kube
def apply_command(
    paths: tuple[str, ...],
    definition_dirs: tuple[str, ...],
    env: str | None,
    all_envs: bool,
    kubeconfig: str | None,
    context: str | None,
    cluster_contexts: tuple[str, ...],
    cluster_map: str | None,
    dry_run: str | None,
    wait: bool,
    timeout: float,
    prune: bool,
    prune_kinds: tuple[str, ...],
    force: bool,
    take_over: bool,
    history_max: int,
    output: str,
    kube_version: tuple[int, int],
) -> None:
    """Deliver Applications to a cluster: server-side apply, in order, with health waits,
    an inventory per application and environment, and prune."""
    from engine.apply.deploy import apply_release

    if env and all_envs:
        raise click.UsageError("choose one of --env and --all-envs")
    from engine.apply.client import connect
    from engine.apply.refobjects import reader

    mapping = _cluster_contexts(cluster_contexts, cluster_map)
    local = _context_for("", mapping) or context
    read_objects = reader(lambda: connect(kubeconfig, local))
    specs = _specs(paths, definition_dirs, env, kube_version, read_objects)
    options = _options(
        dry_run=bool(dry_run),
        wait=wait,
        timeout=timeout,
        prune=prune,
        force=force,
        take_over=take_over,
        prune_kinds=frozenset(prune_kinds),
        history_max=history_max,
    )
    clients = _clients(kubeconfig, context)
    printer = Printer(output)
    # The workflow runs unless one environment is asked for (or it is a dry run).
    flows = _workflow_apps(paths) if not (dry_run or env) else set()
    if flows:
        from sailplan_cli.workflow import check_local

        check_local(sorted(flows), specs)
    try:
        for spec in specs:
            if spec.app in flows:
                continue
            client = clients(_context_for(spec.cluster, mapping))
            outcome = apply_release(client, spec, options, on_event=printer.event)
            _apply_summary(printer, outcome, bool(dry_run))
        if flows:
            from engine.workspace import read_units
            from sailplan_cli.workflow import run_workflows

            client = clients(_context_for("", mapping))
            units = read_units(paths)
            run_workflows(client, units, specs, options, printer, definition_dirs, kube_version)
    except KeyboardInterrupt:
        printer.close()
        _interrupted(printer)
    finally:
        printer.close()


def _workflow_apps(paths: Sequence[str]) -> set[str]:
    """Applications with written workflow steps: apply runs their workflow."""
    from engine.workspace import read_units
    from sailplan_cli.workflow import workflow_units

    return set(workflow_units(read_units(paths)))


def _apply_summary(printer: Printer, outcome: Any, dry_run: bool) -> None:
    spec = outcome.spec
    counts: dict[str, int] = {}
    for change in outcome.changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    listing = ", ".join(f"{n} {a}" for a, n in counts.items()) or "no objects"
    where = f"{spec.namespace}/{spec.app}" + (f" env {spec.env}" if spec.env else "")
    if dry_run:
        text = f"{where}: dry run, {listing}"
    elif outcome.new_revision:
        text = f"{where}: revision {outcome.revision} deployed ({listing})"
    else:
        text = f"{where}: revision {outcome.revision} is current, nothing new ({listing})"
    printer.summary(
        {
            "app": spec.app,
            "namespace": spec.namespace,
            "env": spec.env,
            "revision": outcome.revision,
            "newRevision": outcome.new_revision,
            "counts": counts,
        },
        text,
    )


def _release_table(rows: Sequence[Sequence[str]]) -> str:
    from sailplan_cli.definitions import format_table

    return format_table(rows)


@click.command("status")
@click.argument("app")
@click.option("--env", metavar="NAME", help="One environment (default: every one).")
@click.option(
    "-n", "--namespace", default="default", show_default=True, help="The app's namespace."
)
@kubeconfig_option
@context_option
@output_option
def status_command(
    app: str,
    env: str | None,
    namespace: str,
    kubeconfig: str | None,
    context: str | None,
    output: str,
) -> None:
    """Every object of an application: health, sync state, and the reasons of unhealthy ones."""
    from engine.apply.deploy import existing_history, release_status

    client = _clients(kubeconfig, context)("")
    found = existing_history(client, app, namespace, env)
    latest: dict[str, Release] = {}
    for release in found:
        latest[release.env] = release
    records = []
    for release in latest.values():
        objects = release_status(client, release)
        records.append((release, objects))
    if output == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "app": r.app,
                        "namespace": r.namespace,
                        "env": r.env,
                        "revision": r.revision,
                        "status": r.status,
                        "healthy": all(o.health.healthy for o in objs),
                        "objects": [
                            {
                                "object": o.subject,
                                "health": o.health.status,
                                "message": o.health.message,
                                "synced": o.synced,
                            }
                            for o in objs
                        ],
                    }
                    for r, objs in records
                ],
                indent=2,
            )
        )
        return
    for release, objects in records:
        healthy = all(o.health.healthy for o in objects)
        env_text = f" env {release.env}" if release.env else ""
        click.echo(
            f"{release.namespace}/{release.app}{env_text}: revision {release.revision} "
            f"{release.status}, {'healthy' if healthy else 'not healthy'} ({release.time})"
        )
        if release.message:
            click.echo(f"  message: {release.message}")
        rows = [("OBJECT", "HEALTH", "SYNC", "REASON")]
        rows += [
            (o.subject, o.health.status, "Synced" if o.synced else "OutOfSync", o.health.message)
            for o in objects
        ]
        click.echo(_release_table(rows))


@click.command("ls")
@click.option("-n", "--namespace", default="default", show_default=True)
@click.option("-A", "--all-namespaces", is_flag=True, help="Applications of every namespace.")
@kubeconfig_option
@context_option
@output_option
def ls_command(
    namespace: str, all_namespaces: bool, kubeconfig: str | None, context: str | None, output: str
) -> None:
    """Applications delivered to the cluster: namespace, environment, revision, health."""
    from engine.apply.deploy import release_status
    from engine.apply.releases import list_releases

    client = _clients(kubeconfig, context)("")
    found = list_releases(client, "" if all_namespaces else namespace)
    latest: dict[tuple[str, str, str], Release] = {}
    for release in found:
        latest[(release.namespace, release.app, release.env)] = release
    rows = [("NAME", "NAMESPACE", "ENV", "REVISION", "STATUS", "HEALTH", "UPDATED")]
    records = []
    for release in latest.values():
        healthy = all(o.health.healthy for o in release_status(client, release))
        health_text = "healthy" if healthy else "unhealthy"
        records.append(
            {
                "name": release.app,
                "namespace": release.namespace,
                "env": release.env,
                "revision": release.revision,
                "status": release.status,
                "health": health_text,
                "updated": release.time,
            }
        )
        rows.append(
            (
                release.app,
                release.namespace,
                release.env or "-",
                str(release.revision),
                release.status,
                health_text,
                release.time,
            )
        )
    if output == "json":
        click.echo(json.dumps(records, indent=2))
    else:
        click.echo(_release_table(rows))


@click.command("history")
@click.argument("app")
@click.option("--env", metavar="NAME")
@click.option("-n", "--namespace", default="default", show_default=True)
@kubeconfig_option
@context_option
@output_option
def history_command(
    app: str,
    env: str | None,
    namespace: str,
    kubeconfig: str | None,
    context: str | None,
    output: str,
) -> None:
    """The revisions of an application, oldest first."""
    from engine.apply.deploy import existing_history

    client = _clients(kubeconfig, context)("")
    found = existing_history(client, app, namespace, env)
    if output == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "revision": r.revision,
                        "env": r.env,
                        "updated": r.time,
                        "status": r.status,
                        "digest": r.digest,
                        "objects": len(r.entries),
                        "description": r.description,
                        "message": r.message,
                    }
                    for r in found
                ],
                indent=2,
            )
        )
        return
    rows = [("REVISION", "ENV", "UPDATED", "STATUS", "OBJECTS", "DESCRIPTION")]
    rows += [
        (
            str(r.revision),
            r.env or "-",
            r.time,
            r.status,
            str(len(r.entries)),
            r.description + (f": {r.message}" if r.message else ""),
        )
        for r in found
    ]
    click.echo(_release_table(rows))


@click.command("rollback")
@click.argument("app")
@click.option(
    "--to-revision", "--revision", "to_revision", type=int, help="Default: the previous one."
)
@click.option("--env", metavar="NAME", default="", help="The environment (default: unnamed).")
@click.option("-n", "--namespace", default="default", show_default=True)
@kubeconfig_option
@context_option
@click.option("--wait/--no-wait", default=True, show_default=True)
@timeout_option
@click.option("--force", is_flag=True, help="As for apply.")
@output_option
def rollback_command(
    app: str,
    to_revision: int | None,
    env: str,
    namespace: str,
    kubeconfig: str | None,
    context: str | None,
    wait: bool,
    timeout: float,
    force: bool,
    output: str,
) -> None:
    """Re-apply a revision's stored manifests as a new revision, with prune and waits."""
    from engine.apply.deploy import apply_release, rollback_spec

    client = _clients(kubeconfig, context)("")
    spec = rollback_spec(client, app, namespace, env, to_revision)
    printer = Printer(output)
    try:
        outcome = apply_release(
            client, spec, _options(wait=wait, timeout=timeout, force=force), on_event=printer.event
        )
    except KeyboardInterrupt:
        printer.close()
        _interrupted(printer)
    finally:
        printer.close()
    _apply_summary(printer, outcome, False)


@click.command("delete")
@click.argument("app")
@click.option("--env", metavar="NAME", help="One environment (default: every one).")
@click.option("-n", "--namespace", default="default", show_default=True)
@kubeconfig_option
@context_option
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until they are gone.")
@timeout_option
@click.option("--prune-kinds", multiple=True, metavar="KIND", help="Also delete this kind.")
@click.option("--dry-run", type=click.Choice(["server"]), help="Only say what would be deleted.")
@output_option
def delete_command(
    app: str,
    env: str | None,
    namespace: str,
    kubeconfig: str | None,
    context: str | None,
    wait: bool,
    timeout: float,
    prune_kinds: tuple[str, ...],
    dry_run: str | None,
    output: str,
) -> None:
    """Delete an application's objects (reverse order, policies honoured), then its releases."""
    from engine.apply.deploy import delete_release

    client = _clients(kubeconfig, context)("")
    printer = Printer(output)
    options = _options(
        wait=wait, timeout=timeout, prune_kinds=frozenset(prune_kinds), dry_run=bool(dry_run)
    )
    try:
        done = delete_release(client, app, namespace, env, options, on_event=printer.event)
    except KeyboardInterrupt:
        printer.close()
        _interrupted(printer)
    finally:
        printer.close()
    if dry_run:
        for change in done:
            printer.event(_as_event(change))
    printer.summary(
        {"app": app, "namespace": namespace, "deleted": sum(c.action == "deleted" for c in done)},
        f"{namespace}/{app}: "
        + ("would delete" if dry_run else "deleted")
        + f" {len(done)} object(s)"
        + ("" if dry_run else " and its releases"),
    )


def _as_event(change: Any) -> Event:
    from engine.apply.applier import Event

    return Event("change", change.subject, change.action, change.message)


def live_report(
    paths: Sequence[str],
    definition_dirs: Sequence[str],
    envs: Sequence[str],
    kube: tuple[int, int],
    kubeconfig: str | None,
    context: str | None,
    cluster_contexts: Sequence[str],
) -> Any:
    """``sailplan diff --live``: a diff report of the live objects against a dry-run."""
    from engine.apply.livediff import live_sides
    from engine.diff import EnvironmentDiff, Report, diff_manifests

    if len(envs) > 1:
        raise click.UsageError("--live compares one environment (or all) with the cluster")
    mapping = _cluster_contexts(cluster_contexts, None)
    specs = _specs(paths, definition_dirs, envs[0] if envs else None, kube)
    clients = _clients(kubeconfig, context)
    by_env: dict[str, tuple[list[Any], list[Any]]] = {}
    for spec in specs:
        sides = live_sides(clients(_context_for(spec.cluster, mapping)), spec)
        before, after = by_env.setdefault(spec.env, ([], []))
        before.extend(sides.before)
        after.extend(sides.after)
    diffs = tuple(
        EnvironmentDiff(name, name, diff_manifests(before, after))
        for name, (before, after) in by_env.items()
    )
    return Report("live", "apply", diffs)
