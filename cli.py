"""The ``sailplan`` command line: read files, call the engine, print, exit.

Commands only parse arguments, read inputs and format results; all the work is in
``engine``. Engine modules are imported inside commands so ``--version`` and
``render`` start fast. A ``SailplanError`` prints one line and exits 1 (``--debug``
adds the traceback); usage errors exit 2.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine import __version__

if TYPE_CHECKING:
    from engine.build import Build
    from engine.definitions import Definition, Registry
    from engine.environments import Preview, Unit
    from engine.model import Document, Manifest


class _Group(click.Group):
    """A group that turns engine errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from engine.errors import SailplanError

        try:
            return super().invoke(ctx)
        except SailplanError as exc:
            if ctx.meta.get("sailplan.debug"):
                traceback.print_exc()
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def _cache_dir() -> Path | None:
    """Where compiled templates are cached: $SAILPLAN_CACHE_DIR, else the user cache.

    ``SAILPLAN_NO_CACHE=1`` turns the cache off; a folder that cannot be made is no cache.
    """
    if os.environ.get("SAILPLAN_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(os.environ.get("SAILPLAN_CACHE_DIR") or Path(base) / "sailplan")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def _registry(definition_dirs: Sequence[str]) -> Registry:
    from engine.definitions import Registry

    registry = Registry([Path(d) for d in definition_dirs], cache_dir=_cache_dir())
    for notice in registry.notices:
        click.echo(f"notice: {notice}", err=True)
    return registry


def _input_files(paths: Iterable[str]) -> list[Path]:
    from engine.workspace import input_files

    return input_files(paths)


def _read_documents(paths: Iterable[str]) -> list[Document]:
    from engine.workspace import read_documents

    return read_documents(paths)


def _kube_version(text: str) -> tuple[int, int]:
    from engine.build import parse_kube_version

    return parse_kube_version(text)


_definition_dirs = click.option(
    "-d",
    "--definitions",
    "definition_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A folder of extra definitions (repeatable); shadows built-ins of the same name.",
)
_kube = click.option(
    "--kube-version",
    default="1.37",
    show_default=True,
    help="Kubernetes version the manifests are for; picks API versions as KubeVela does.",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sailplan")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Render, preview and deliver KubeVela Applications to Kubernetes."""
    ctx.meta["sailplan.debug"] = debug


@main.command()
@click.argument("paths", nargs=-1, required=True)
@_definition_dirs
@click.option(
    "-o", "--output", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@click.option(
    "--env",
    "env",
    metavar="NAME|FILE",
    help="Render one environment: a name from the policies or environments/, or a file.",
)
@click.option("--all-envs", is_flag=True, help="Render every environment (the default).")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="With --all-envs: write DIR/<env>/<app>/<kind>-<name>.yaml (the folder is replaced).",
)
@_kube
def render(
    paths: tuple[str, ...],
    definition_dirs: tuple[str, ...],
    output: str,
    env: str | None,
    all_envs: bool,
    out: str | None,
    kube_version: str,
) -> None:
    """Print the Kubernetes manifests of Applications (files, '-' or folders)."""
    from engine import environments
    from engine.workspace import read_units, write_tree

    if env and (all_envs or out):
        raise click.UsageError("--env renders one environment; --all-envs and --out render all")
    if out and not all_envs:
        raise click.UsageError("--out needs --all-envs")
    kube = _kube_version(kube_version)
    registry = _registry(definition_dirs)
    units = read_units(paths)
    if env:
        result = _one_environment(units, registry, env, kube)
        _warn(result.warnings)
        click.echo(_format(result.manifests, output), nl=False)
        return
    previews = environments.build_every_environment(units, registry, kube_version=kube)
    for preview in previews:
        _warn(preview.build.warnings)
    if out:
        files = environments.preview_files(previews)
        write_tree(Path(out), files)
        click.echo(f"wrote {len(files)} file(s) for {len(previews)} environment(s) to {out}")
        return
    click.echo(_format_previews(previews, output), nl=False)


def _one_environment(
    units: Sequence[Unit], registry: Registry, env: str, kube: tuple[int, int]
) -> Build:
    from engine import environments
    from engine.workspace import read_environment_file

    path = Path(env)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        explicit = read_environment_file(path)
        return environments.build_environment(
            units, registry, explicit.name, explicit=explicit, kube_version=kube
        )
    environments.check_environment_name(units, env)
    return environments.build_environment(units, registry, env, kube_version=kube)


def _warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def _format(manifests: Sequence[Manifest], output: str, heading: str = "") -> str:
    from engine.model import dump_json, dump_yaml

    return dump_json(manifests) if output == "json" else dump_yaml(manifests, heading=heading)


def _format_previews(previews: Sequence[Preview], output: str) -> str:
    """One section per environment, headed by its name (no heading without environments)."""
    if len(previews) == 1 and not previews[0].name:
        return _format(previews[0].build.manifests, output)
    if output == "json":
        body = {p.name: [m.object for m in p.build.manifests] for p in previews}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return "".join(
        f"# Environment: {p.name}\n" + _format(p.build.manifests, output, heading=p.name)
        for p in previews
    )


@main.command()
@click.argument("paths", nargs=-1, required=True)
@_definition_dirs
@_kube
def validate(paths: tuple[str, ...], definition_dirs: tuple[str, ...], kube_version: str) -> None:
    """Check Applications: schemas, properties, templates, duplicates."""
    from engine.build import build_documents
    from engine.errors import SailplanError
    from engine.model import is_application

    kube = _kube_version(kube_version)
    registry = _registry(definition_dirs)
    files = _input_files(paths)
    errors: list[str] = []
    documents: list[Document] = []
    for path in files:
        try:
            file_docs = _read_documents([str(path)])
            build_documents(file_docs, registry, kube_version=kube)
            documents.extend(file_docs)
        except SailplanError as exc:
            errors.append(str(exc))
    if not errors:
        try:
            result = build_documents(documents, registry, kube_version=kube)
        except SailplanError as exc:
            errors.append(str(exc))
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        click.echo(f"{len(errors)} error(s) in {len(files)} file(s)", err=True)
        sys.exit(1)
    apps = sum(1 for d in documents if is_application(d.data))
    click.echo(
        f"ok: {len(files)} file(s), {apps} application(s), {len(result.manifests)} object(s)"
    )


@main.group("def")
def def_group() -> None:
    """List and inspect component and trait definitions."""


@def_group.command("list")
@_definition_dirs
def def_list(definition_dirs: tuple[str, ...]) -> None:
    """List every definition: name, kind and description."""
    registry = _registry(definition_dirs)
    rows = [("NAME", "KIND", "DESCRIPTION")]
    rows += [(d.name, d.kind, d.description) for d in registry.all()]
    click.echo(format_table(rows))


@def_group.command("show")
@click.argument("name")
@_definition_dirs
def def_show(name: str, definition_dirs: tuple[str, ...]) -> None:
    """Show the parameters of a definition, like 'vela show'."""
    from engine.errors import SailplanError

    registry = _registry(definition_dirs)
    found = [d for d in (registry.get("component", name), registry.get("trait", name)) if d]
    if not found:
        from engine.model.schemas import suggest

        known = registry.names("component") + registry.names("trait")
        hint = suggest(name, known)
        raise SailplanError(
            f"no definition called {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
        )
    click.echo("\n\n".join(format_definition(d) for d in found))


def format_definition(definition: Definition) -> str:
    """The header and parameter table of one definition."""
    from engine.definitions.docs import parameter_rows

    head = f"{definition.name} ({definition.kind}): {definition.description}"
    rows = [("NAME", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION")]
    rows += [
        (r.name, r.type, "true" if r.required else "false", r.default, r.description)
        for r in parameter_rows(definition.schema)
    ]
    return head + "\n\n" + format_table(rows)


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as left-aligned columns; the last column is never padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    main()
