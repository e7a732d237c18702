"""``sailplan def``: list, show, scaffold, check, try out and document definitions."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sailplan_cli.common import definition_dirs as _definition_dirs
from sailplan_cli.common import kube as _kube
from sailplan_cli.common import kube_notes as _kube_notes
from sailplan_cli.common import registry as _registry

if TYPE_CHECKING:
    from engine.definitions import Definition, Kind, Registry


@click.group("def")
def def_group() -> None:
    """Inspect, write, check and document component and trait definitions."""


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
    kinds: tuple[Kind, ...] = ("component", "trait", "workflowstep")
    found = [d for d in (registry.get(kind, name) for kind in kinds) if d]
    if not found:
        from engine.model.schemas import suggest

        known = [n for kind in kinds for n in registry.names(kind)]
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


# -- definition authoring: def init / validate / render / doc --------------------------

if TYPE_CHECKING:
    from engine.authoring.examples import Located


@def_group.command("init")
@click.argument("name")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["component", "trait"]),
    required=True,
    help="A component (renders a Deployment) or a trait (patches the workload, adds an output).",
)
@click.option(
    "--dir",
    "parent",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to create the NAME/ folder.",
)
def def_init(name: str, kind: str, parent: str) -> None:
    """Create a working definition folder NAME/ to start from."""
    from engine.authoring.scaffold import name_problem, scaffold
    from engine.errors import InputError, SourceLocation

    problem = name_problem(name)
    if problem:
        raise click.BadParameter(problem, param_hint="NAME")
    folder = Path(parent) / name
    if folder.exists():
        raise InputError(
            "already exists; choose another name or --dir (nothing was written)",
            location=SourceLocation(str(folder)),
        )
    files = scaffold(name, kind)
    try:
        for relative, text in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc}", location=SourceLocation(str(folder))) from None
    click.echo(f"created {kind} definition {name!r} in {folder}/:")
    if _registry(()).get("trait" if kind == "trait" else "component", name):
        click.echo(f"notice: it shadows the built-in {kind} {name!r} wherever it is used", err=True)
    for relative in files:
        click.echo(f"  {folder / relative}")
    click.echo(_next_steps(name, kind, folder))


def _next_steps(name: str, kind: str, folder: Path) -> str:
    example = '{"owner": "team-a"}' if kind == "trait" else '{"image": "nginx:1.27"}'
    return (
        "next:\n"
        f"  sailplan def validate {folder}\n"
        f"  sailplan def render {folder} --properties '{example}'\n"
        f"  sailplan render app.yaml -d {folder.parent}    # an Application using type {name}"
    )


@def_group.command("validate")
@click.argument("paths", nargs=-1, required=True, metavar="DIR...")
@_definition_dirs
@_kube
def def_validate(
    paths: tuple[str, ...], definition_dirs: tuple[str, ...], kube_version: tuple[int, int]
) -> None:
    """Check definition folders: schema, template, examples, Kubernetes schemas.

    DIR is a definition folder or a folder of them. The schema must be valid JSON
    Schema, the template must compile and read only declared parameters, every example
    must render, and the rendered objects must pass the Kubernetes schemas of
    --kube-version (needs sailplan[validate]).
    """
    from engine.authoring.checks import check_folders, definition_folders

    folders = definition_folders(Path(p) for p in paths)
    report = check_folders(
        folders, kube_version=kube_version, extra_dirs=[Path(d) for d in definition_dirs]
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    _kube_notes(report.kube)
    problems = report.problems
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        failed = sum(1 for d in report.definitions if d.problems)
        click.echo(f"{len(problems)} problem(s) in {failed} definition(s)", err=True)
        sys.exit(1)
    click.echo(
        f"ok: {len(report.definitions)} definition(s), {report.examples} example(s), "
        f"{report.kube.checked} object(s) valid against the Kubernetes "
        f"{report.kube.version} schemas"
    )


@def_group.command("render")
@click.argument("target", metavar="DIR|NAME")
@click.option(
    "-p",
    "--properties",
    "properties",
    metavar="FILE|JSON",
    help="The properties: a YAML or JSON file, '-' for stdin, or inline JSON like "
    "'{\"replicas\": 3}'. Default: none.",
)
@click.option(
    "--trait-of",
    "trait_of",
    metavar="COMPONENT_FILE",
    type=click.Path(dir_okay=False),
    help="For a trait: the component to attach it to (a component, an example file or an "
    "Application). Default: a webservice running nginx.",
)
@_definition_dirs
@click.option(
    "-o", "--output", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@_kube
def def_render(
    target: str,
    properties: str | None,
    trait_of: str | None,
    definition_dirs: tuple[str, ...],
    output: str,
    kube_version: tuple[int, int],
) -> None:
    """Render one definition with some properties, to see what it makes."""
    from engine.authoring.examples import Trial, host_component, render_trial
    from engine.model import dump_json, dump_yaml

    definition, registry = _definition_and_registry(target, definition_dirs)
    if trait_of and definition.kind != "trait":
        raise click.UsageError(f"--trait-of is for traits; {definition.name!r} is a component")
    host = host_component(_located_file(trait_of)) if trait_of else None
    trial = Trial("properties", _properties(properties), host)
    result = render_trial(registry, definition, trial, kube_version=kube_version)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    manifests = result.manifests
    click.echo(dump_json(manifests) if output == "json" else dump_yaml(manifests), nl=False)


def _definition_and_registry(
    target: str, definition_dirs: Sequence[str]
) -> tuple[Definition, Registry]:
    """The definition a DIR or NAME argument means, and a registry that holds it."""
    from engine.authoring.examples import definition_in, definition_named
    from engine.definitions.definition import METADATA_FILE

    folder = Path(target)
    if (folder / METADATA_FILE).is_file():
        registry = _registry([*definition_dirs, target])
        return definition_in(registry, folder), registry
    registry = _registry(definition_dirs)
    return definition_named(registry, target), registry


def _properties(value: str | None) -> Located:
    """The --properties of def render: inline JSON (or YAML flow), a file, or stdin."""
    from engine.authoring.examples import located

    if value is None:
        return located("{}", "--properties")
    if value.lstrip().startswith("{"):
        return located(value, "--properties")
    return _located_file(value)


def _located_file(name: str) -> Located:
    from engine.authoring.examples import located
    from engine.errors import InputError, SourceLocation

    label = "<stdin>" if name == "-" else name
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        return located(raw.decode("utf-8"), label)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", location=SourceLocation(label)) from None


@def_group.command("doc")
@click.argument("targets", nargs=-1, metavar="[DIR|NAME]...")
@click.option(
    "--out",
    default="docs/reference",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The reference folder: README.md, components/NAME.md, traits/NAME.md.",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if the pages in --out are not current."
)
@_definition_dirs
def def_doc(
    targets: tuple[str, ...], out: str, check: bool, definition_dirs: tuple[str, ...]
) -> None:
    """Write Markdown reference pages, one per definition (default: every built-in)."""
    from engine.authoring.reference import read_pages, reference_pages, stale_pages
    from engine.errors import SailplanError

    registry, definitions = _documented(targets, definition_dirs)
    pages = reference_pages(registry, definitions)
    folder = Path(out)
    existing = read_pages(folder)
    stale = stale_pages(pages, existing)
    refresh = " ".join(["sailplan def doc", *targets, "--out", out])
    if check:
        if stale:
            shown = ", ".join(stale[:5]) + (", ..." if len(stale) > 5 else "")
            raise SailplanError(
                f"{out} is stale: {len(stale)} page(s) differ ({shown}); run: {refresh}"
            )
        click.echo(f"ok: {len(pages)} page(s) in {out} are current")
        return
    _write_pages(folder, pages, [p for p in stale if p not in pages])
    click.echo(f"wrote {len(pages)} page(s) to {out} ({len(stale)} changed)")


def _documented(
    targets: Sequence[str], definition_dirs: Sequence[str]
) -> tuple[Registry, list[Definition]]:
    """The registry and definitions ``def doc`` documents: the targets, else all."""
    from engine.authoring.checks import definition_folders
    from engine.authoring.examples import definition_in, definition_named

    if not targets:
        registry = _registry(definition_dirs)
        return registry, registry.all()
    folders = {t: definition_folders([Path(t)]) for t in targets if Path(t).is_dir()}
    extra = [str(f) for found in folders.values() for f in found]
    registry = _registry([*definition_dirs, *extra])
    chosen: dict[tuple[str, str], Definition] = {}
    for target in targets:
        found = (
            [definition_in(registry, f) for f in folders[target]]
            if target in folders
            else [definition_named(registry, target)]
        )
        chosen.update(((d.kind, d.name), d) for d in found)
    return registry, list(chosen.values())


def _write_pages(folder: Path, pages: dict[str, str], removed: Sequence[str]) -> None:
    """Write changed pages and remove ``removed`` ones; only pages ``def doc`` wrote.

    A file at a page's path that ``def doc`` did not write (no generated header, or a
    link) is an error, not replaced. Each page is written beside itself and renamed
    into place, so a link there is replaced, never followed.
    """
    import os

    from engine.authoring.reference import foreign_page
    from engine.errors import InputError, SourceLocation

    foreign = [r for r in pages if foreign_page(folder, r)]
    if foreign:
        raise InputError(
            f"{len(foreign)} file(s) where pages go were not written by def doc "
            f"({', '.join(foreign[:5])}); move them or choose another --out folder",
            location=SourceLocation(str(folder / foreign[0])),
        )
    try:
        for relative, text in pages.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                with temporary.open("x", encoding="utf-8") as fh:  # the umask's mode
                    fh.write(text)
                os.replace(temporary, path)
        for relative in removed:
            (folder / relative).unlink()
    except OSError as exc:
        raise InputError(f"cannot write: {exc}", location=SourceLocation(str(folder))) from None
