"""What the command modules share: the definition registry, input reading, common options.

Kept apart from ``cli.py`` so each command module (``definitions``, ``apply``, ...)
can use the same options and helpers; engine modules are imported inside functions so
``sailplan --version`` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from engine.definitions import Registry
    from engine.kubeschemas import KubeReport
    from engine.model import Manifest


def cache_dir() -> Path | None:
    """Where compiled templates are cached: $SAILPLAN_CACHE_DIR, else the user cache.

    ``SAILPLAN_NO_CACHE=1`` turns the cache off.
    """
    if os.environ.get("SAILPLAN_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("SAILPLAN_CACHE_DIR") or Path(base) / "sailplan" / "templates")


def registry(definition_dirs: Sequence[str]) -> Registry:
    """The built-in definitions and ``definition_dirs``, with the template cache handed in."""
    from engine.definitions import Registry
    from engine.templatecache import open_cache

    folder = cache_dir()
    cache, warning = open_cache(folder) if folder is not None else (None, None)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    registry = Registry([Path(d) for d in definition_dirs], cache=cache)
    for notice in registry.notices:
        click.echo(f"notice: {notice}", err=True)
    return registry


def input_files(paths: Iterable[str]) -> list[Path]:
    from engine.workspace import input_files

    return input_files(paths)


def kube_version(ctx: click.Context, param: click.Parameter, text: str) -> tuple[int, int]:
    """``--kube-version`` as (major, minor); a bad value is a usage error."""
    from engine.build import parse_kube_version
    from engine.errors import SailplanError

    try:
        return parse_kube_version(text)
    except SailplanError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


definition_dirs = click.option(
    "-d",
    "--definitions",
    "definition_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A folder of extra definitions (repeatable); shadows built-ins of the same name.",
)
kube = click.option(
    "--kube-version",
    default="1.37",
    show_default=True,
    help="Kubernetes version the manifests are for; picks API versions as KubeVela does.",
    callback=kube_version,
)


def warn(warnings: Iterable[str]) -> None:
    """Each warning on stderr, prefixed ``warning:``."""
    from engine.errors import brief

    for warning in warnings:
        click.echo(f"warning: {brief(warning)}", err=True)


def kube_notes(report: KubeReport) -> None:
    """Which Kubernetes schemas were used, and which objects had none (on stderr)."""
    if report.note:
        click.echo(f"note: {report.note}", err=True)
    if not report.skipped:
        return
    counts: dict[str, int] = {}
    for skipped in report.skipped:
        key = f"{skipped.id.kind} ({skipped.id.api_version})"
        counts[key] = counts.get(key, 0) + 1
    kinds = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in sorted(counts.items()))
    click.echo(
        f"note: {len(report.skipped)} object(s) not checked, the Kubernetes "
        f"{report.version} schemas have no such kind: {kinds}",
        err=True,
    )


def kube_errors(manifests: Sequence[Manifest], kube: tuple[int, int]) -> list[str]:
    """``validate --strict``: the objects' Kubernetes schema problems, as error lines."""
    from engine import kubeschemas

    report = kubeschemas.validate(manifests, kube)
    click.echo(
        f"note: {report.checked} object(s) checked against the Kubernetes {report.version} schemas",
        err=True,
    )
    kube_notes(report)
    return [
        (f"{p.location}: " if p.location else "") + f"{p} (Kubernetes {report.version} schema)"
        for p in report.problems
    ]
