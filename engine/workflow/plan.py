"""The steps a workflow runs, with their definitions' defaults filled in.

An Application's ``spec.workflow.steps`` as written, or, with none, the steps KubeVela
generates: one ``deploy-<topology>`` step per topology policy with every override
policy, else one ``deploy`` step with the override policies (legacy ``env-binding``
policies give ``deploy2env`` steps per env). Checks run first (``check_workflow``), so a
plan only holds steps that can run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from engine.definitions import Registry, prepare
from engine.definitions.steps import check_workflow
from engine.model import Application, Step, WorkflowMode, base_type


@dataclasses.dataclass(frozen=True)
class PlannedStep:
    """A step and its properties with defaults."""

    step: Step
    properties: Mapping[str, Any]
    sub_steps: tuple[PlannedStep, ...] = ()

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def type(self) -> str:
        return self.step.base_type


@dataclasses.dataclass(frozen=True)
class Plan:
    """The steps of one Application's workflow and how they run."""

    app: Application
    steps: tuple[PlannedStep, ...]
    mode: WorkflowMode

    def walk(self) -> list[PlannedStep]:
        out: list[PlannedStep] = []
        for step in self.steps:
            out.append(step)
            out.extend(step.sub_steps)
        return out


def plan(app: Application, registry: Registry) -> Plan:
    """The plan of ``app``'s workflow (checked; generated when the app has no steps)."""
    check_workflow(app, registry)
    steps = app.steps or generated_steps(app)

    def planned(step: Step) -> PlannedStep:
        definition = registry.get("workflowstep", step.base_type)
        props: Mapping[str, Any] = dict(step.properties)
        if definition is not None:
            props = prepare(definition, step.properties, app.locate, (*step.path, "properties"))
        return PlannedStep(step, props, tuple(planned(s) for s in step.sub_steps))

    return Plan(app, tuple(planned(s) for s in steps), app.mode)


def generated_steps(app: Application) -> tuple[Step, ...]:
    """KubeVela's default workflow for an Application without steps (its generator chain)."""
    topologies = [p.name for p in app.policies if p.type == "topology"]
    overrides = [p.name for p in app.policies if p.type == "override"]
    at = ("spec",)
    if topologies:
        return tuple(
            Step(f"deploy-{t}", "deploy", {"policies": [*overrides, t]}, (), (), at)
            for t in topologies
        )
    if overrides or any(base_type(c.type) == "ref-objects" for c in app.components):
        return (Step("deploy", "deploy", {"policies": overrides}, (), (), at),)
    bindings = [p for p in app.policies if p.type == "env-binding"]
    if bindings:
        return tuple(
            Step(
                f"deploy-{b.name}-{env['name']}",
                "deploy2env",
                {"policy": b.name, "env": env["name"]},
                (),
                (),
                at,
            )
            for b in bindings
            for env in b.properties.get("envs") or ()
        )
    return tuple(
        Step(c.name, "apply-component", {"component": c.name}, c.depends_on, (), at)
        for c in app.components
    )
