"""The ``sailplan`` command line: read files, call the engine, print, exit.

Commands only parse arguments, read inputs and format results; all the work is in
``engine``. Engine modules are imported inside commands so ``--version`` and
``render`` start fast. A ``SailplanError`` prints one line and exits 1 (``--debug``
adds the traceback); usage errors exit 2.
"""

from __future__ import annotations

import gc
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
    from engine.diff import Report
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


def _kube_version(ctx: click.Context, param: click.Parameter, text: str) -> tuple[int, int]:
    """``--kube-version`` as (major, minor); a bad value is a usage error."""
    from engine.build import parse_kube_version
    from engine.errors import SailplanError

    try:
        return parse_kube_version(text)
    except SailplanError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


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
    callback=_kube_version,
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sailplan")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Render, preview and deliver KubeVela Applications to Kubernetes."""
    ctx.meta["sailplan.debug"] = debug
    # A large render makes millions of short-lived, acyclic dicts; with Python's default
    # thresholds the cycle collector rescans them over and over. Collect less often.
    gc.set_threshold(50_000, 20, 20)


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
    help="With --all-envs: write DIR/<env>/<app>/<kind>-<name>.yaml, replacing a folder "
    "sailplan wrote before (an empty or new one otherwise).",
)
@_kube
def render(
    paths: tuple[str, ...],
    definition_dirs: tuple[str, ...],
    output: str,
    env: str | None,
    all_envs: bool,
    out: str | None,
    kube_version: tuple[int, int],
) -> None:
    """Print the Kubernetes manifests of Applications (files, '-' or folders)."""
    from engine import environments
    from engine.workspace import read_units, write_tree

    if env and (all_envs or out):
        raise click.UsageError("--env renders one environment; --all-envs and --out render all")
    if out and not all_envs:
        raise click.UsageError("--out needs --all-envs")
    registry = _registry(definition_dirs)
    units = read_units(paths)
    if env:
        result = _one_environment(units, registry, env, kube_version)
        _warn(result.warnings)
        click.echo(_format(result.manifests, output), nl=False)
        return
    previews = environments.build_every_environment(units, registry, kube_version=kube_version)
    for preview in previews:
        _warn(preview.build.warnings)
    if out:
        files = environments.preview_files(previews)
        write_tree(Path(out), files, inputs=_input_files(paths))
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
@click.option(
    "--strict",
    is_flag=True,
    help="Also check the objects against the Kubernetes schemas of --kube-version "
    "(needs sailplan[validate]).",
)
def validate(
    paths: tuple[str, ...],
    definition_dirs: tuple[str, ...],
    kube_version: tuple[int, int],
    strict: bool,
) -> None:
    """Check Applications in every environment: schemas, properties, templates, duplicates.

    Each file is checked on its own first, so every broken file is reported; then all
    of them together. --strict also checks the objects against the Kubernetes schemas.
    """
    from engine.environments import build_every_environment
    from engine.errors import SailplanError
    from engine.workspace import read_units

    registry = _registry(definition_dirs)
    files = _input_files(paths)
    errors: list[str] = []
    for path in files:
        try:
            build_every_environment(read_units([str(path)]), registry, kube_version=kube_version)
        except SailplanError as exc:
            errors.append(str(exc))
    manifests: list[Manifest] = []
    apps = 0
    if not errors:
        try:
            units = read_units(paths)
            previews = build_every_environment(units, registry, kube_version=kube_version)
            manifests = [m for p in previews for m in p.build.manifests]
            apps = sum(len(u.applications) for u in units)
        except SailplanError as exc:
            errors.append(str(exc))
    if strict and not errors:
        errors.extend(_kube_errors(manifests, kube_version))
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        click.echo(f"{len(errors)} error(s) in {len(files)} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(files)} file(s), {apps} application(s), {len(manifests)} object(s)")


@main.group("def")
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


# -- definition authoring: def init / validate / render / doc --------------------------

if TYPE_CHECKING:
    from engine.authoring.examples import Located
    from engine.kubeschemas import KubeReport


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
    from engine.errors import InputError, SourceLocation

    try:
        for relative, text in pages.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
        for relative in removed:
            (folder / relative).unlink()
    except OSError as exc:
        raise InputError(f"cannot write: {exc}", location=SourceLocation(str(folder))) from None


def _kube_notes(report: KubeReport) -> None:
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


def _kube_errors(manifests: Sequence[Manifest], kube: tuple[int, int]) -> list[str]:
    """``validate --strict``: the objects' Kubernetes schema problems, as error lines."""
    from engine import kubeschemas

    report = kubeschemas.validate(manifests, kube)
    click.echo(
        f"note: {report.checked} object(s) checked against the Kubernetes {report.version} schemas",
        err=True,
    )
    _kube_notes(report)
    return [
        (f"{p.location}: " if p.location else "") + f"{p} (Kubernetes {report.version} schema)"
        for p in report.problems
    ]


# -- diff: environments against each other, or the working tree against a revision ----


@main.command("diff")
@click.argument("paths", nargs=-1, required=True)
@_definition_dirs
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="NAME|FILE",
    help="Twice: compare the first environment with the second. With --base-ref: only "
    "these environments (repeatable).",
)
@click.option(
    "--base-ref",
    metavar="REF",
    help="Compare the paths at git revision REF with the working tree, per environment "
    "(a pull-request preview).",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for machines, markdown for a pull-request comment.",
)
@click.option("--markdown", is_flag=True, help="Same as -o markdown: a pull-request comment.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Color text output (auto: on a terminal, unless NO_COLOR is set).",
)
@click.option("--exit-code", is_flag=True, help="Exit 3 when anything differs.")
@_kube
@click.pass_context
def diff(
    ctx: click.Context,
    paths: tuple[str, ...],
    definition_dirs: tuple[str, ...],
    envs: tuple[str, ...],
    base_ref: str | None,
    output: str,
    markdown: bool,
    color: str,
    exit_code: bool,
    kube_version: tuple[int, int],
) -> None:
    """Show what differs, object by object: between two environments, or what the working
    tree changes in every environment since --base-ref. Secret values are masked."""
    if markdown and output == "json":
        raise click.UsageError("choose one of -o json and --markdown")
    if base_ref is None and len(envs) != 2:
        raise click.UsageError("give --env twice (two environments) or --base-ref REF")
    if base_ref is not None and "-" in paths:
        raise click.UsageError("--base-ref reads files from git, not from standard input")
    registry = _registry(definition_dirs)
    if base_ref is not None:
        report = _revision_report(paths, base_ref, envs, registry, kube_version)
    else:
        report = _environments_report(paths, envs[0], envs[1], registry, kube_version)
    colored = output == "text" and not markdown and _use_color(color)
    text = _format_report(report, "markdown" if markdown else output, colored)
    click.echo(text, nl=False, color=colored or None)
    if exit_code and report.differs:
        ctx.exit(3)


def _revision_report(
    paths: Sequence[str],
    ref: str,
    envs: Sequence[str],
    registry: Registry,
    kube: tuple[int, int],
) -> Report:
    from engine.revisions import compare_with_revision

    comparison = compare_with_revision(paths, ref, registry, kube_version=kube, only=envs)
    _warn(comparison.warnings)
    return comparison.report


def _environments_report(
    paths: Sequence[str], old: str, new: str, registry: Registry, kube: tuple[int, int]
) -> Report:
    from engine.diff import EnvironmentDiff, Report, diff_manifests
    from engine.workspace import read_units

    units = read_units(paths)
    before = _one_environment(units, registry, old, kube)
    after = _one_environment(units, registry, new, kube)
    _warn(dict.fromkeys([*before.warnings, *after.warnings]))
    found = diff_manifests(before.manifests, after.manifests, match_moved=True)
    return Report(old, new, (EnvironmentDiff(old, new, found),))


def _format_report(report: Report, output: str, color: bool) -> str:
    from engine.diff import format_json, format_markdown, format_text

    if output == "json":
        return format_json(report)
    if output == "markdown":
        return format_markdown(report)
    return format_text(report, color=color)


def _use_color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


if __name__ == "__main__":  # pragma: no cover
    main()
