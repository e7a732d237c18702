"""``sailplan workflow status|terminate|restart APP`` and ``sailplan resume APP``.

The workflow of an Application with ``spec.workflow`` runs when it is applied; its state
lives with the release in the cluster (with the Application document), so these
commands work from any machine. ``apply`` calls ``run_workflows`` for such apps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from sailplan_cli import common
from sailplan_cli.apply import (
    Printer,
    _clients,
    context_option,
    kubeconfig_option,
    timeout_option,
)

if TYPE_CHECKING:
    from engine.apply.applier import ApplyOptions
    from engine.apply.client import ClusterClient
    from engine.apply.deploy import ReleaseSpec
    from engine.environments import Unit
    from engine.workflow import WorkflowState

namespace_option = click.option(
    "-n", "--namespace", default="default", show_default=True, help="The application's namespace."
)


def workflow_units(units: Sequence[Unit]) -> dict[str, tuple[Unit, int]]:
    """Applications with written workflow steps, by name: their unit and document index."""
    out: dict[str, tuple[Unit, int]] = {}
    for unit in units:
        for index, app in unit.applications.items():
            if app.steps:
                out.setdefault(app.name, (unit, index))
    return out


def check_local(names: Sequence[str], specs: Sequence[ReleaseSpec]) -> None:
    """Workflows deliver to the local cluster only, for now: say so before connecting."""
    from engine.errors import WorkflowError

    for name in names:
        remote = sorted({s.cluster for s in specs if s.app == name} - {"", "local"})
        if remote:
            raise WorkflowError(
                f"application {name}: workflows that deliver to other clusters "
                f"({', '.join(remote)}) are not run yet; apply each environment with --env NAME"
            )


def run_workflows(
    client: ClusterClient,
    units: Sequence[Unit],
    specs: Sequence[ReleaseSpec],
    options: ApplyOptions,
    printer: Printer,
    definition_dirs: Sequence[str],
    kube: tuple[int, int],
) -> list[str]:
    """Run the workflow of every Application with steps; the names of those run."""
    from engine.errors import WorkflowError

    flows = workflow_units(units)
    check_local(list(flows), specs)
    failed: list[str] = []
    for name, (unit, index) in flows.items():
        doc = unit.documents[index]
        own = [s for s in specs if s.app == name]
        final = _run(
            client, dict(doc.data), doc.source.file, own, options, printer, definition_dirs, kube
        )
        if final.phase in ("failed", "terminated"):
            failed.append(f"{name}: {final.message or final.phase}")
    if failed:
        raise WorkflowError("workflow failed: " + "; ".join(failed))
    return list(flows)


def _run(
    client: ClusterClient,
    application: Mapping[str, Any],
    file: str,
    specs: Sequence[ReleaseSpec],
    options: ApplyOptions,
    printer: Printer,
    definition_dirs: Sequence[str],
    kube: tuple[int, int],
    state: WorkflowState | None = None,
    env: str = "",
) -> WorkflowState:
    from engine.apply import workflow as cluster_workflow
    from engine.model import load_documents, parse_application
    from engine.workflow import plan
    from engine.workflow.executors import builtin_executors
    from engine.workflow.http import HttpExecutors

    registry = common.registry(definition_dirs)
    app = parse_application(load_documents(json.dumps(application), file)[0])
    if not specs:
        specs = _specs_for(application, file, registry, kube)
    if env:
        specs = sorted(specs, key=lambda s: s.env != env)
    the_plan = plan(app, registry)
    from sailplan_cli.apply import _apply_summary

    steps = cluster_workflow.ClusterSteps(
        client,
        app,
        specs,
        options,
        printer.event,
        on_outcome=lambda outcome: _apply_summary(printer, outcome, False),
    )
    if state is not None:
        _restore_progress(steps, the_plan, state)
    executors = {
        **builtin_executors(),
        **HttpExecutors(steps.secret).executors(),
        **steps.executors(),
    }
    home = steps.home

    def keep(current: WorkflowState) -> None:
        record = cluster_workflow.record(current, application, file)
        cluster_workflow.save(client, home, record)

    context = {"application": dict(application)}
    final = cluster_workflow.run(
        the_plan,
        state,
        executors,
        timeout=options.timeout,
        interval=options.interval,
        on_state=keep,
        context=context,
    )
    if final.phase == "succeeded":
        finished = steps.finish()
        if finished is not None and finished.outcome != "done":
            printer.summary({"workflow": final.phase}, f"final prune failed: {finished.message}")
    _report(printer, app.name, final)
    return final


def _specs_for(
    application: Mapping[str, Any], file: str, registry: Any, kube: tuple[int, int]
) -> list[ReleaseSpec]:
    from engine import environments
    from engine.apply.plan import release_specs
    from engine.environments import Unit
    from engine.model import load_documents

    unit = Unit(tuple(load_documents(json.dumps(application), file)))
    previews = environments.build_every_environment([unit], registry, kube_version=kube)
    return release_specs([unit], previews)


def _restore_progress(steps: Any, the_plan: Any, state: WorkflowState) -> None:
    """What earlier runs delivered, so later partial applies keep it."""
    for planned in the_plan.walk():
        done = state.step(planned.name)
        if done is None or done.phase != "succeeded":
            continue
        kind = planned.type
        if kind in ("deploy", "deploy2runtime"):
            steps.components.update(c.name for c in steps.app.components)
        elif kind == "apply-component":
            steps.partial = True
            steps.components.add(str(planned.properties["component"]))
        elif kind in ("apply-remaining", "apply-application", "apply-application-in-parallel"):
            steps.partial = True
            skip = set(planned.properties.get("exceptions") or ())
            steps.components.update(c.name for c in steps.app.components if c.name not in skip)
        elif kind == "apply-object":
            steps.partial = True
            steps.object_steps.add(planned.name)


def _report(printer: Printer, app: str, state: WorkflowState) -> None:
    if state.phase == "suspending":
        where = ", ".join(state.suspended_at)
        text = f"workflow of {app} suspended at {where}; continue with: sailplan resume {app}"
    elif state.phase in ("failed", "terminated"):
        text = f"workflow of {app} {state.phase}" + (f": {state.message}" if state.message else "")
    else:
        text = f"workflow of {app}: {state.phase}"
    printer.summary({"app": app, "workflow": state.phase}, text)


def _load(client: ClusterClient, app: str, namespace: str) -> tuple[str, dict[str, Any]]:
    from engine.apply import workflow as cluster_workflow

    return cluster_workflow.load(client, app, namespace)


def format_status(record: Mapping[str, Any]) -> str:
    """The workflow state as a table: each step's phase, reason and message."""
    from engine.workflow import WorkflowState
    from sailplan_cli.definitions import format_table

    state = WorkflowState.from_dict(record["state"])
    rows = [("STEP", "TYPE", "PHASE", "REASON", "MESSAGE")]
    for step in state.steps:
        rows.append((step.alias or step.name, step.type, step.phase, step.reason, step.message))
        for sub in step.sub_steps:
            rows.append(
                ("  " + (sub.alias or sub.name), sub.type, sub.phase, sub.reason, sub.message)
            )
    head = f"phase: {state.phase}"
    if state.suspended_at:
        head += f" (suspended at {', '.join(state.suspended_at)})"
    if state.message:
        head += f"\nmessage: {state.message}"
    return head + "\n\n" + format_table(rows)


@click.group("workflow")
def workflow_group() -> None:
    """Inspect and control an application's workflow in the cluster."""


@workflow_group.command("status")
@click.argument("app")
@namespace_option
@kubeconfig_option
@context_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def status_command(
    app: str, namespace: str, kubeconfig: str | None, context: str | None, output: str
) -> None:
    """Show each step's phase, reason and message, and where the workflow is suspended."""
    client = _clients(kubeconfig, context)("")
    _, record = _load(client, app, namespace)
    if output == "json":
        click.echo(json.dumps(record["state"], indent=2))
    else:
        click.echo(format_status(record))


def _continue(
    app: str,
    namespace: str,
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
    definition_dirs: Sequence[str],
    kube: tuple[int, int],
    change: str,
    step: str | None = None,
) -> None:
    from engine.apply.applier import ApplyOptions
    from engine.workflow import WorkflowState, resume, terminate
    from engine.workflow.runner import restart

    client = _clients(kubeconfig, context)("")
    env, record = _load(client, app, namespace)
    state = WorkflowState.from_dict(record["state"])
    now = time.time()
    if change == "resume" and state.done:
        from engine.apply.objectsteps import restart_due

        if restart_due(record["state"], now):
            change = "restart"  # a restart-workflow step's time has come
    if change == "resume":
        state = resume(state, now=now, step=step)
    elif change == "terminate":
        state = terminate(state, now=now)
    else:
        state = None  # type: ignore[assignment]
    printer = Printer("text")
    options = ApplyOptions(timeout=timeout)
    application = record["application"]
    file = str(record.get("file", "app.yaml"))
    if change == "restart":
        from engine.model import load_documents, parse_application
        from engine.workflow import plan

        registry = common.registry(definition_dirs)
        parsed = parse_application(load_documents(json.dumps(application), file)[0])
        state = restart(plan(parsed, registry), now=now)
    final = _run(client, application, file, [], options, printer, definition_dirs, kube, state, env)
    if final.phase == "failed" or (final.phase == "terminated" and change != "terminate"):
        from engine.errors import WorkflowError

        raise WorkflowError(f"workflow of {app} {final.phase}: {final.message}")


@click.command("resume")
@click.argument("app")
@namespace_option
@click.option("--step", metavar="NAME", help="Resume this suspended step only.")
@common.definition_dirs
@kubeconfig_option
@context_option
@timeout_option
@common.kube
def resume_command(
    app: str,
    namespace: str,
    step: str | None,
    definition_dirs: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
    kube_version: tuple[int, int],
) -> None:
    """Resume a suspended workflow and run it on from there."""
    _continue(
        app, namespace, kubeconfig, context, timeout, definition_dirs, kube_version, "resume", step
    )


@workflow_group.command("terminate")
@click.argument("app")
@namespace_option
@common.definition_dirs
@kubeconfig_option
@context_option
@timeout_option
@common.kube
def terminate_command(
    app: str,
    namespace: str,
    definition_dirs: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
    kube_version: tuple[int, int],
) -> None:
    """Stop the workflow: running and suspended steps fail; only 'if' steps still run."""
    _continue(
        app, namespace, kubeconfig, context, timeout, definition_dirs, kube_version, "terminate"
    )


@workflow_group.command("restart")
@click.argument("app")
@namespace_option
@common.definition_dirs
@kubeconfig_option
@context_option
@timeout_option
@common.kube
def restart_command(
    app: str,
    namespace: str,
    definition_dirs: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    timeout: float,
    kube_version: tuple[int, int],
) -> None:
    """Run the workflow again from the first step."""
    _continue(
        app, namespace, kubeconfig, context, timeout, definition_dirs, kube_version, "restart"
    )
