"""``sailplan image-update``: write the newest image tags back to the config repository."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING

import click

from sailplan_cli import common

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.apply.client import ClusterClient
    from engine.gitops.git import GitAuth
    from engine.gitops.imageupdate import Automation, Outcome, SecretSource


@click.command("image-update")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--once", is_flag=True, help="Run one pass and exit (default: every interval).")
@click.option("--dry-run", is_flag=True, help="Print the chosen tags and the diff; no commit.")
@click.option("--push-branch", default="", metavar="B", help="Push to B instead of git.branch.")
@click.option(
    "--secrets",
    "secrets_path",
    type=click.Path(exists=True),
    help="Secret manifests (file or folder) holding the secretRef credentials.",
)
@click.option("--author", default="", metavar="'NAME <EMAIL>'", help="Commit author.")
@click.option("--signing-key", default="", help="Sign commits with this key (git -S).")
@click.option("--interval", default="", metavar="D", help="Time between passes (e.g. 5m).")
@click.option("--kubeconfig", metavar="FILE", help="Read secretRef Secrets from this cluster.")
@click.option("--context", metavar="NAME", help="The kubeconfig context (reads Secrets).")
def image_update(
    source: str,
    once: bool,
    dry_run: bool,
    push_branch: str,
    secrets_path: str | None,
    author: str,
    signing_key: str,
    interval: str,
    kubeconfig: str | None,
    context: str | None,
) -> None:
    """Choose image tags by policy and commit them to the marked fields in git.

    SOURCE is an Application whose kustomize components declare imageRepository.
    Secrets named by secretRef come from --secrets files and, with --kubeconfig or
    --context, from the cluster (the files first).
    """
    from engine.gitops import commits

    automations = _automations(source)
    secrets = _secrets(secrets_path, kubeconfig, context)
    who = _author(author) if author else commits.KUBEVELA_AUTHOR
    stop = _stop_on_sigterm()
    while True:
        for line in _pass(automations, secrets, dry_run, push_branch, who, signing_key):
            click.echo(line)
        if once or dry_run or stop():
            return
        seconds = _seconds(interval or "5m")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop():
            time.sleep(min(1.0, deadline - time.monotonic()))
        if stop():
            return


def _automations(source: str) -> list[Automation]:
    from engine.errors import SailplanError
    from engine.gitops import imageupdate
    from engine.workspace import read_documents

    found = imageupdate.automations(read_documents([source]))
    if not found:
        raise SailplanError(f"{source}: no kustomize component declares imageRepository")
    return found


def _secrets(path: str | None, kubeconfig: str | None, context: str | None) -> SecretSource | None:
    from engine.gitops import imageupdate

    found: list[SecretSource] = []
    if path is not None:
        from engine.workspace import input_files, read_documents

        files = [str(p) for p in input_files([path])]
        found.append(imageupdate.manifest_secrets(read_documents(files)))
    if kubeconfig or context:
        from engine.apply.client import connect
        from engine.gitops.sync import ClusterSecrets

        found.append(ClusterSecrets(connect(kubeconfig, context)))
    if not found:
        return None
    return found[0] if len(found) == 1 else imageupdate.FirstFound(tuple(found))


def _pass(
    automations: list[Automation],
    secrets: SecretSource | None,
    dry_run: bool,
    push_branch: str,
    author: tuple[str, str],
    signing_key: str,
) -> list[str]:
    from engine.gitops import imageupdate

    tags = {a.marker: imageupdate.latest_tag(a, secrets) for a in automations}
    lines: list[str] = []
    for automation in automations:
        group = [a for a in automations if a.namespace == automation.namespace]
        outcome = imageupdate.update(
            automation,
            imageupdate.setters_for(group, tags),
            tags[automation.marker],
            auth=imageupdate.git_auth(automation, secrets),
            dry_run=dry_run,
            push_branch=push_branch,
            author=author,
            signing_key=signing_key,
        )
        lines.extend(format_outcome(outcome, dry_run))
    return lines


def format_outcome(outcome: Outcome, dry_run: bool) -> list[str]:
    """Lines for one automation: the chosen tag, the changes, the commit."""
    a = outcome.automation
    lines = [f"{a.marker}: {a.image} -> {outcome.tag}"]
    lines += [f"  warning: {p}" for p in outcome.problems]
    for change in outcome.changes:
        lines.append(f"  {change.file}:{change.line}: {change.old} -> {change.new}")
    if not outcome.changes:
        lines.append("  up to date: no marked field changes")
    elif dry_run:
        lines.append(outcome.diff.rstrip("\n"))
    else:
        lines.append(f"  committed {outcome.commit[:12]} and pushed to {outcome.branch}")
    return lines


def _author(text: str) -> tuple[str, str]:
    name, _, rest = text.partition("<")
    if not rest.endswith(">") or not name.strip():
        raise click.BadParameter("use 'NAME <EMAIL>'", param_hint="--author")
    return name.strip(), rest[:-1].strip()


def _seconds(text: str) -> float:
    import re

    parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise click.BadParameter(
            f"{text!r} is not a duration like 30s or 5m", param_hint="--interval"
        )
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def _stop_on_sigterm() -> _Flag:
    flag = _Flag()
    signal.signal(signal.SIGTERM, lambda *_: flag.set())
    return flag


class _Flag:
    def __init__(self) -> None:
        self.value = False

    def set(self) -> None:
        self.value = True

    def __call__(self) -> bool:
        return self.value


@click.command("sync")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--once", is_flag=True, help="Run one pass and exit (default: every pullInterval).")
@click.option(
    "--interval", default="", metavar="D", help="Time between passes (default: pullInterval)."
)
@click.option("--timeout", default="5m", show_default=True, metavar="D", help="Limit per apply.")
@click.option("--kubeconfig", metavar="FILE", help="The kubeconfig to use.")
@click.option("--context", metavar="NAME", help="The kubeconfig context.")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
@click.option("--status", "show_status", is_flag=True, help="Print what the last pass recorded.")
@click.option("--allow-mass-prune", is_flag=True, help="Allow a pass to delete most applications.")
@common.definition_dirs
@common.kube
def sync_command(
    source: str,
    once: bool,
    interval: str,
    timeout: str,
    kubeconfig: str | None,
    context: str | None,
    output: str,
    show_status: bool,
    allow_mass_prune: bool,
    definition_dirs: tuple[str, ...],
    kube_version: tuple[int, int],
) -> None:
    """Pull git sources into the cluster: fetch, render, apply, prune, every interval.

    SOURCE is an Application whose kustomize components have repoType git.
    """
    import json

    from engine.apply.applier import ApplyOptions
    from engine.apply.client import connect
    from engine.errors import SailplanError
    from engine.gitops import sync
    from engine.workspace import read_documents

    found = sync.sources(read_documents([source]))
    if not found:
        raise SailplanError(f"{source}: no kustomize component with repoType git")
    client = connect(kubeconfig, context)
    if show_status:
        for src in found:
            status = sync.read_status(client, src)
            record = {"source": f"{src.namespace}/{src.name}", **status.__dict__}
            click.echo(
                json.dumps(record, default=list)
                if output == "json"
                else f"{record['source']}: {status.result or 'never synced'} {status.commit[:12]} "
                f"{status.time} {status.message}".rstrip()
            )
        return
    registry = common.registry(definition_dirs)
    options = ApplyOptions(timeout=sync.parse_duration(timeout))
    stop = _stop_on_sigterm()
    failures = 0
    while True:
        unreachable = False
        for src in found:
            result = sync.sync_pass(
                client,
                src,
                registry,
                options,
                kube_version=kube_version,
                allow_mass_prune=allow_mass_prune,
                image_update=_image_update_for(client),
            )
            unreachable |= result.status.result == sync.UNREACHABLE
            if output == "json":
                click.echo(json.dumps(sync.status_record(result)))
            else:
                for line in sync.describe(result):
                    click.echo(line)
            if stop():
                return
        if once:
            bad = [
                r
                for r in found
                if sync.read_status(client, r).result not in (sync.APPLIED, sync.SUSPENDED)
            ]
            if bad:
                raise SailplanError(f"{len(bad)} source(s) did not apply; see above")
            return
        failures = failures + 1 if unreachable else 0
        every = sync.parse_duration(interval) if interval else min(s.interval for s in found)
        wait = min(every, 5.0 * 2**failures) if failures else every
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not stop():
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        if stop():
            return


def _image_update_for(
    client: ClusterClient,
) -> Callable[[Automation, GitAuth | None], Outcome]:
    from engine.gitops import imageupdate, sync

    secrets = sync.ClusterSecrets(client)

    def run(automation: Automation, auth: GitAuth | None) -> Outcome:
        tag = imageupdate.latest_tag(automation, secrets)
        setters = imageupdate.setters_for([automation], {automation.marker: tag})
        return imageupdate.update(automation, setters, tag, auth=auth)

    return run
