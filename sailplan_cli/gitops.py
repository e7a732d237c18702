"""``sailplan image-update``: write the newest image tags back to the config repository."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
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
def image_update(
    source: str,
    once: bool,
    dry_run: bool,
    push_branch: str,
    secrets_path: str | None,
    author: str,
    signing_key: str,
    interval: str,
) -> None:
    """Choose image tags by policy and commit them to the marked fields in git.

    SOURCE is an Application whose kustomize components declare imageRepository.
    """
    from engine.gitops import commits

    automations = _automations(source)
    secrets = _secrets(secrets_path)
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


def _secrets(path: str | None) -> SecretSource | None:
    if path is None:
        return None
    from engine.gitops import imageupdate
    from engine.workspace import input_files, read_documents

    files = [str(p) for p in input_files([path])]
    return imageupdate.manifest_secrets(read_documents(files))


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
