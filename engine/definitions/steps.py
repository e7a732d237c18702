"""Static checks of an Application's workflow: step types, properties and references.

KubeVela rejects at admission what it cannot run, so sailplan reports it at render:
an unknown step type (with the known ones and a suggestion), a type KubeVela renamed
(naming the new one), a type that needs an addon or a job sailplan does not run, step
properties that do not fit the step definition's schema, duplicate step names,
``dependsOn``, ``inputs`` and ``apply-component`` references to nothing, ``if``
expressions that do not parse and ``timeout``/``duration`` values Go would reject.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from engine.definitions.definition import Definition
from engine.definitions.parameters import prepare
from engine.definitions.registry import Registry
from engine.errors import BuildError
from engine.model import Application, Step
from engine.model.conditions import ConditionError, parse, referenced_steps
from engine.model.durations import parse_duration
from engine.model.schemas import suggest

#: Step types KubeVela renamed: the old name and the type to write instead.
RENAMED = {
    "webhook-notification": "notification",
    "export-config": "export2config",
    "export-secret": "export2secret",
}

#: Step types that need a system KubeVela reaches through an addon or a job.
NEEDS_ADDON = {
    "apply-terraform-config": "the terraform addon (Terraform Configuration objects)",
    "apply-terraform-provider": "the terraform addon (Terraform Provider objects)",
    "deploy-cloud-resource": "the terraform addon (cloud resources)",
    "share-cloud-resource": "the terraform addon (cloud resources)",
    "generate-jdbc-connection": "the terraform addon (a database's connection Secret)",
    "check-metrics": "a Prometheus server the KubeVela controller queries",
    "build-push-image": "a kaniko Job that builds and pushes the image",
    "vela-cli": "a Job running the vela CLI in the cluster",
}

STEP_GROUP = "step-group"


def all_steps(steps: Iterable[Step]) -> Iterator[Step]:
    """Every step, each group followed by its sub-steps."""
    for step in steps:
        yield step
        yield from all_steps(step.sub_steps)


def step_definition(app: Application, registry: Registry, step: Step) -> Definition:
    """The definition of ``step``'s type, or a BuildError saying why there is none."""
    name = step.base_type
    definition = registry.get("workflowstep", name)
    if definition is not None:
        return definition
    where = app.locate((*step.path, "type"))
    if name in RENAMED:
        raise BuildError(
            f"step {step.name!r}: step type {name!r} was renamed in KubeVela; "
            f"use {RENAMED[name]!r}",
            location=where,
        )
    if name in NEEDS_ADDON:
        raise BuildError(
            f"step {step.name!r}: step type {name!r} needs {NEEDS_ADDON[name]}, which "
            "sailplan does not run; add a step definition of your own with -d DIR",
            location=where,
        )
    known = registry.names("workflowstep")
    hint = suggest(name, known)
    raise BuildError(
        f"step {step.name!r}: unknown step type {name!r}"
        + (f"; did you mean {hint!r}?" if hint else "")
        + f" (known: {', '.join(known)}; add your own with -d DIR)",
        location=where,
    )


def check_workflow(app: Application, registry: Registry) -> None:
    """Raise a BuildError for the first problem in ``app``'s workflow, if any."""
    steps = list(all_steps(app.steps))
    _check_names(app, steps)
    outputs = {out.name for step in steps for out in step.outputs}
    for step in steps:
        definition = step_definition(app, registry, step)
        properties_path = (*step.path, "properties")
        params = prepare(definition, step.properties, app.locate, properties_path)
        _check_shape(app, step)
        _check_dependencies(app, step, app.steps if step in app.steps else _siblings(app, step))
        _check_inputs(app, step, outputs)
        _check_condition(app, step)
        _check_duration(app, step, step.timeout, (*step.path, "timeout"), "timeout")
        if step.base_type == "suspend" and "duration" in params:
            at = (*properties_path, "duration")
            _check_duration(app, step, str(params["duration"]), at, "duration")
        if step.base_type == "http-get-wait" and "interval" in params:
            at = (*properties_path, "interval")
            _check_duration(app, step, str(params["interval"]), at, "interval")
        if step.base_type == "apply-component":
            _check_component(app, step, str(params["component"]))
        if step.base_type == "apply-remaining":
            for i, name in enumerate(params.get("exceptions") or ()):
                _check_component(app, step, str(name), ("exceptions", i))


def _check_names(app: Application, steps: Sequence[Step]) -> None:
    seen: dict[str, Step] = {}
    for step in steps:
        first = seen.setdefault(step.name, step)
        if first is not step:
            line = app.locate(first.path).line
            raise BuildError(
                f"duplicate step name {step.name!r} (also at line {line})",
                location=app.locate((*step.path, "name")),
            )


def _check_shape(app: Application, step: Step) -> None:
    if step.sub_steps and step.base_type != STEP_GROUP:
        raise BuildError(
            f"step {step.name!r}: only a step-group step has subSteps, not a {step.type!r} step",
            location=app.locate((*step.path, "subSteps")),
        )
    for sub in step.sub_steps:
        if sub.base_type == STEP_GROUP:
            raise BuildError(
                f"step {sub.name!r}: a step-group cannot hold another step-group",
                location=app.locate((*sub.path, "type")),
            )


def _siblings(app: Application, step: Step) -> tuple[Step, ...]:
    for group in all_steps(app.steps):
        if step in group.sub_steps:
            return group.sub_steps
    return ()


def _check_dependencies(app: Application, step: Step, siblings: Sequence[Step]) -> None:
    names = [s.name for s in siblings]
    for i, dep in enumerate(step.depends_on):
        if dep == step.name or dep not in names:
            hint = suggest(dep, [n for n in names if n != step.name])
            reason = "itself" if dep == step.name else f"unknown step {dep!r}"
            raise BuildError(
                f"step {step.name!r} depends on {reason}"
                + (f"; did you mean {hint!r}?" if hint and dep != step.name else "")
                + (f" (steps here: {', '.join(names)})" if dep != step.name else ""),
                location=app.locate((*step.path, "dependsOn", i)),
            )
    cycle = _cycle({s.name: s.depends_on for s in siblings}, step.name)
    if cycle:
        raise BuildError(
            "step dependsOn cycle: " + " -> ".join(cycle),
            location=app.locate((*step.path, "dependsOn")),
        )


def _cycle(graph: dict[str, tuple[str, ...]], start: str) -> list[str] | None:
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        path.append(node)
        for dep in graph.get(node, ()):
            found = visit(dep)
            if found:
                return found
        path.pop()
        return None

    return visit(start)


def _check_inputs(app: Application, step: Step, outputs: set[str]) -> None:
    for i, item in enumerate(step.inputs):
        if item.source not in outputs:
            hint = suggest(item.source, outputs)
            raise BuildError(
                f"step {step.name!r}: input from {item.source!r}, which no step outputs"
                + (f"; did you mean {hint!r}?" if hint else "")
                + (f" (outputs: {', '.join(sorted(outputs))})" if outputs else ""),
                location=app.locate((*step.path, "inputs", i, "from")),
            )


def _check_condition(app: Application, step: Step) -> None:
    if not step.if_ or step.if_.strip() == "always":
        return
    where = app.locate((*step.path, "if"))
    try:
        expr = parse(step.if_)
    except ConditionError as exc:
        raise BuildError(
            f"step {step.name!r}: invalid if expression {step.if_!r}: {exc}", location=where
        ) from None
    names = [s.name for s in all_steps(app.steps)]
    for name in sorted(referenced_steps(expr)):
        if name not in names:
            hint = suggest(name, names)
            raise BuildError(
                f"step {step.name!r}: if expression reads status of unknown step {name!r}"
                + (f"; did you mean {hint!r}?" if hint else "")
                + f" (steps: {', '.join(names)})",
                location=where,
            )


def _check_duration(
    app: Application, step: Step, text: str, at: tuple[str | int, ...], what: str
) -> None:
    if not text:
        return
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise BuildError(f"step {step.name!r}: {what}: {exc}", location=app.locate(at)) from None
    if seconds < 0:
        raise BuildError(
            f"step {step.name!r}: {what} {text!r} is negative", location=app.locate(at)
        )


def _check_component(
    app: Application, step: Step, name: str, at: tuple[str | int, ...] = ("component",)
) -> None:
    if app.component(name) is not None:
        return
    names = [c.name for c in app.components]
    hint = suggest(name, names)
    raise BuildError(
        f"{step.type} step {step.name!r} names unknown component {name!r}"
        + (f"; did you mean {hint!r}?" if hint else "")
        + f" (components: {', '.join(names)})",
        location=app.locate((*step.path, "properties", *at)),
    )


__all__ = ["NEEDS_ADDON", "RENAMED", "STEP_GROUP", "all_steps", "check_workflow", "step_definition"]
