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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine import __version__
from sailplan_cli import apply as cluster
from sailplan_cli import common
from sailplan_cli import workflow as workflow_cli
from sailplan_cli.definitions import def_group
from sailplan_cli.gitops import image_update, sync_command

if TYPE_CHECKING:
    from engine.build import Build
    from engine.definitions import Registry
    from engine.diff import Report
    from engine.environments import Preview, Unit
    from engine.model import Manifest


class _Group(click.Group):
    """A group that turns engine errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from engine.errors import SailplanError, brief

        try:
            return super().invoke(ctx)
        except SailplanError as exc:
            if ctx.meta.get("sailplan.debug"):
                traceback.print_exc()
            click.echo(f"error: {brief(str(exc))}", err=True)
            ctx.exit(1)


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
@common.definition_dirs
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
@common.kube
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

    if env and (all_envs or out is not None):
        raise click.UsageError("--env renders one environment; --all-envs and --out render all")
    if out == "":
        raise click.UsageError("--out needs a folder name, not ''")
    if out is not None and not all_envs:
        raise click.UsageError("--out needs --all-envs")
    registry = common.registry(definition_dirs)
    units = read_units(paths)
    if env:
        result = _one_environment(units, registry, env, kube_version)
        common.warn(result.warnings)
        click.echo(_format(result.manifests, output), nl=False)
        return
    previews = environments.build_every_environment(units, registry, kube_version=kube_version)
    for preview in previews:
        common.warn(preview.build.warnings)
    if out is not None:
        files = environments.preview_files(previews)
        write_tree(Path(out), files, inputs=common.input_files(paths))
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
@common.definition_dirs
@common.kube
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

    Each file is checked on its own first, so every broken file is reported with each of
    its independent errors (at most 20 a file); then all of them together. --strict also
    checks the objects against the Kubernetes schemas and the API server's field rules.
    """
    from engine import findings
    from engine.environments import build_every_environment
    from engine.errors import SailplanError, brief
    from engine.workspace import read_units

    registry = common.registry(definition_dirs)
    files = common.input_files(paths)
    errors: list[str] = []
    for path in files:
        try:
            units = read_units([str(path)])
            found = findings.errors(units, registry, kube_version=kube_version)
        except SailplanError as exc:
            found = [exc]
        errors.extend(str(error) for error in found)
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
        errors.extend(common.kube_errors(manifests, kube_version))
    for error in errors:
        click.echo(f"error: {brief(error)}", err=True)
    if errors:
        click.echo(f"{len(errors)} error(s) in {len(files)} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(files)} file(s), {apps} application(s), {len(manifests)} object(s)")


# -- diff: environments against each other, or the working tree against a revision ----


@main.command("diff")
@click.argument("paths", nargs=-1, required=True)
@common.definition_dirs
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
@click.option(
    "--live",
    is_flag=True,
    help="Compare with the cluster: what apply would change (server-side dry-run).",
)
@cluster.kubeconfig_option
@cluster.context_option
@click.option("--cluster-context", "cluster_contexts", multiple=True, metavar="CLUSTER=CONTEXT")
@common.kube
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
    live: bool,
    kubeconfig: str | None,
    context: str | None,
    cluster_contexts: tuple[str, ...],
    kube_version: tuple[int, int],
) -> None:
    """Show what differs, object by object: between two environments, what the working
    tree changes in every environment since --base-ref, or (--live) what apply would
    change in the cluster. Secret values are masked."""
    if markdown and output == "json":
        raise click.UsageError("choose one of -o json and --markdown")
    if live and base_ref is not None:
        raise click.UsageError("choose one of --live and --base-ref")
    if base_ref is None and len(envs) != 2 and not live:
        raise click.UsageError("give --env twice (two environments), --base-ref REF or --live")
    if base_ref is not None and "-" in paths:
        raise click.UsageError("--base-ref reads files from git, not from standard input")
    if live:
        report = cluster.live_report(
            paths, definition_dirs, envs, kube_version, kubeconfig, context, cluster_contexts
        )
    elif base_ref is not None:
        registry = common.registry(definition_dirs)
        report = _revision_report(paths, base_ref, envs, registry, kube_version)
    else:
        registry = common.registry(definition_dirs)
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
    from engine.gitops.baseref import compare_with_revision

    comparison = compare_with_revision(paths, ref, registry, kube_version=kube, only=envs)
    common.warn(comparison.warnings)
    return comparison.report


def _environments_report(
    paths: Sequence[str], old: str, new: str, registry: Registry, kube: tuple[int, int]
) -> Report:
    from engine.diff import EnvironmentDiff, Report, diff_manifests
    from engine.workspace import read_units

    units = read_units(paths)
    before = _one_environment(units, registry, old, kube)
    after = _one_environment(units, registry, new, kube)
    common.warn(dict.fromkeys([*before.warnings, *after.warnings]))
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


main.add_command(def_group)
main.add_command(image_update)
main.add_command(sync_command)
main.add_command(cluster.apply_command)
main.add_command(cluster.status_command)
main.add_command(cluster.ls_command)
main.add_command(cluster.history_command)
main.add_command(cluster.rollback_command)
main.add_command(cluster.delete_command)
main.add_command(workflow_cli.workflow_group)
main.add_command(workflow_cli.resume_command)

if __name__ == "__main__":  # pragma: no cover
    main()
