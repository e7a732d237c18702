"""The runner: advances a workflow's state as far as it can go now, as KubeVela does.

One call of ``advance`` is one reconcile of KubeVela's workflow engine:

- steps run in order (``StepByStep``: a step runs when the one before it is done) or as
  a graph (``DAG``: a step runs when its ``dependsOn`` steps, and the steps whose outputs
  it takes as inputs, are done); a ``step-group`` runs its sub-steps the same way with
  the ``subSteps`` mode (``DAG`` unless set);
- before its first execution a step is checked: ``if: always`` runs it; no ``if`` runs
  it only when the step before it (``StepByStep``) or every step it depends on
  succeeded (a skipped step before it counts as success unless it has ``dependsOn``);
  any other ``if`` is evaluated over ``status``, ``inputs`` and ``context``, and an
  expression that cannot be evaluated skips the step;
- a step that is not done after its ``timeout`` (counted from its first execution)
  fails with reason ``Timeout``, sub-steps of a timed-out group with it;
- a step that fails (or errors ten times: ``FailedAfterRetries``) terminates the
  workflow: the remaining steps still get their check, so ``if: always`` steps and
  steps whose ``if`` asks for the failure still run, and the workflow ends ``failed``;
- ``suspend`` (and a ``deploy`` step with ``auto: false``, before it runs) suspends the
  workflow until ``resume``, or until its ``duration`` has passed;
- ``terminate`` fails the running and suspended steps with reason ``Terminate``; the
  workflow ends ``terminated``; ``restart`` starts a fresh run.

Waiting is the caller's business: ``advance`` never sleeps; it returns the state, and
is called again later (``next_check`` says when a suspension or timeout falls due).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import WorkflowError
from engine.model.conditions import ConditionError, child, evaluate, parse
from engine.model.durations import parse_duration
from engine.workflow.executors import StepCall, StepExecutor, StepResult
from engine.workflow.plan import Plan, PlannedStep
from engine.workflow.state import (
    DONE,
    EXECUTE,
    EXECUTING,
    FAILED,
    FAILED_AFTER_RETRIES,
    INPUT,
    OUTPUT,
    PENDING,
    RUNNING,
    SKIP,
    SKIPPED,
    SUCCEEDED,
    SUSPEND,
    SUSPENDED,
    SUSPENDING,
    TERMINATE,
    TERMINATED,
    TIMEOUT,
    WAIT,
    WORKFLOW_FAILED,
    WORKFLOW_SUCCEEDED,
    StepState,
    WorkflowState,
)

#: KubeVela fails a step after this many errors (MaxWorkflowStepErrorRetryTimes).
MAX_ERRORS = 10
STEP_GROUP = "step-group"
DONE_STEPS = (SUCCEEDED, FAILED, SKIPPED)
_PATH_PART = re.compile(r'\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def start(plan: Plan, *, now: float) -> WorkflowState:
    """A fresh run of ``plan``: every step pending."""

    def pending(ps: PlannedStep) -> StepState:
        return StepState(
            name=ps.name,
            type=ps.type,
            alias=ps.step.alias,
            sub_steps=tuple(pending(s) for s in ps.sub_steps),
        )

    return WorkflowState(
        phase=EXECUTING,
        mode=f"{plan.mode.steps}/{plan.mode.sub_steps}",
        steps=tuple(pending(s) for s in plan.steps),
        started=now,
    )


def restart(plan: Plan, *, now: float) -> WorkflowState:
    """Start over: a fresh run, the previous one's state dropped."""
    return start(plan, now=now)


def advance(
    plan: Plan,
    state: WorkflowState | None,
    executors: Mapping[str, StepExecutor],
    *,
    now: float,
    context: Mapping[str, Any] | None = None,
) -> WorkflowState:
    """Run every step that can run now; return the new state (``state`` is not changed)."""
    if state is None or not state.steps:
        state = start(plan, now=now)
    if state.done:
        return state
    run = _Run(plan, state, executors, now, context or {})
    run.expire()
    if not run.suspended:
        run.run_list(plan.steps, plan.mode.steps, None)
    return run.finish()


def resume(state: WorkflowState, *, now: float, step: str | None = None) -> WorkflowState:
    """Resume a suspended run (at ``step`` only, when given)."""
    waiting = [s for s in state.walk() if s.phase == SUSPENDING]
    if not state.suspended or not waiting:
        raise WorkflowError(f"the workflow is not suspended (phase {state.phase})")
    if step is not None and step not in {s.name for s in waiting}:
        names = ", ".join(s.name for s in waiting)
        raise WorkflowError(f"step {step!r} is not suspended (suspended: {names})")

    def resumed(s: StepState) -> StepState:
        subs = tuple(resumed(c) for c in s.sub_steps)
        if s.phase != SUSPENDING or (step is not None and s.name != step):
            return dataclasses.replace(s, sub_steps=subs)
        if s.type == "suspend":
            return dataclasses.replace(
                s, phase=SUCCEEDED, reason="", finished=now, resume_at=None, sub_steps=subs
            )
        return dataclasses.replace(s, phase=RUNNING, reason="", approved=True, sub_steps=subs)

    steps = tuple(_settle_groups(resumed(s)) for s in state.steps)
    left = any(s.phase == SUSPENDING for s in _walk(steps))
    return dataclasses.replace(
        state, steps=steps, suspended=left, phase=SUSPENDED if left else EXECUTING
    )


def terminate(state: WorkflowState, *, now: float) -> WorkflowState:
    """Fail the running and suspended steps (reason ``Terminate``); only ``if`` steps run on."""
    if state.done:
        raise WorkflowError(f"the workflow has already finished ({state.phase})")

    def stopped(s: StepState) -> StepState:
        subs = tuple(stopped(c) for c in s.sub_steps)
        if s.phase in (RUNNING, SUSPENDING):
            return dataclasses.replace(
                s,
                phase=FAILED,
                reason=TERMINATE,
                message="terminated",
                finished=now,
                resume_at=None,
                sub_steps=subs,
            )
        return dataclasses.replace(s, sub_steps=subs)

    steps = tuple(stopped(s) for s in state.steps)
    out = dataclasses.replace(state, steps=steps, suspended=False, terminated=True)
    if all(s.done for s in steps):
        return dataclasses.replace(out, phase=_end_phase(out), finished=now)
    return dataclasses.replace(out, phase=EXECUTING)


def next_check(plan: Plan, state: WorkflowState) -> float | None:
    """The earliest time a suspension ends or a timeout falls due, if any."""
    times: list[float] = []
    planned = {p.name: p for p in plan.walk()}
    for s in state.walk():
        if s.done:
            continue
        if s.phase == SUSPENDING and s.resume_at is not None:
            times.append(s.resume_at)
        ps = planned.get(s.name)
        if ps is not None and ps.step.timeout and s.first_execute is not None:
            times.append(s.first_execute + parse_duration(ps.step.timeout))
    return min(times) if times else None


def _walk(steps: Sequence[StepState]) -> list[StepState]:
    out: list[StepState] = []
    for s in steps:
        out.append(s)
        out.extend(s.sub_steps)
    return out


def _settle_groups(s: StepState) -> StepState:
    """A group left suspending after its children were resumed runs again."""
    suspended = any(c.phase == SUSPENDING for c in s.sub_steps)
    if s.sub_steps and s.phase == SUSPENDING and not suspended:
        return dataclasses.replace(s, phase=RUNNING, reason="")
    return s


def _group_phase(children: Sequence[StepState]) -> str:
    if all(c.done for c in children):
        return FAILED if any(c.phase == FAILED for c in children) else SUCCEEDED
    return SUSPENDING if any(c.phase == SUSPENDING for c in children) else RUNNING


def _end_phase(state: WorkflowState) -> str:
    failed = [s for s in state.walk() if s.phase == FAILED]
    if state.terminated and failed and all(s.reason == TERMINATE for s in failed):
        return TERMINATED
    return WORKFLOW_FAILED if state.terminated or failed else WORKFLOW_SUCCEEDED


class _Run:
    """One reconcile: a mutable working copy of the state, frozen again by ``finish``."""

    def __init__(
        self,
        plan: Plan,
        state: WorkflowState,
        executors: Mapping[str, StepExecutor],
        now: float,
        context: Mapping[str, Any],
    ) -> None:
        self.plan = plan
        self.executors = executors
        self.now = now
        self.state = state
        self.status: dict[str, StepState] = {s.name: s for s in state.walk()}
        for ps in plan.walk():  # a plan step the stored state lacks starts pending
            self.status.setdefault(ps.name, StepState(ps.name, ps.type, alias=ps.step.alias))
        self.vars: dict[str, Any] = dict(state.vars)
        self.suspended = state.suspended
        self.terminated = state.terminated
        self.ran: set[str] = set()
        app = plan.app
        self.context = {"name": app.name, "namespace": app.namespace, **context}
        self.parents = {c.name: p for p in plan.steps for c in p.sub_steps}

    # -- bookkeeping ------------------------------------------------------------------

    def set(self, name: str, **changes: Any) -> StepState:
        self.status[name] = dataclasses.replace(self.status[name], **changes)
        return self.status[name]

    def fail(self, name: str, reason: str, message: str) -> None:
        self.set(name, phase=FAILED, reason=reason, message=message, finished=self.now)
        self.terminated = True

    def finish(self) -> WorkflowState:
        def frozen(ps: PlannedStep) -> StepState:
            return dataclasses.replace(
                self.status[ps.name], sub_steps=tuple(frozen(c) for c in ps.sub_steps)
            )

        steps = tuple(frozen(p) for p in self.plan.steps)
        self.suspended = any(s.phase == SUSPENDING for s in _walk(steps))
        out = dataclasses.replace(
            self.state,
            steps=steps,
            vars=dict(self.vars),
            suspended=self.suspended,
            terminated=self.terminated,
        )
        if all(s.done for s in steps):
            phase = _end_phase(out)
            failed = [s for s in out.walk() if s.phase == FAILED and not s.sub_steps]
            message = "; ".join(f"step {s.name!r}: {s.message}" for s in failed)
            return dataclasses.replace(out, phase=phase, finished=self.now, message=message)
        return dataclasses.replace(out, phase=SUSPENDED if self.suspended else EXECUTING)

    # -- time -------------------------------------------------------------------------

    def expire(self) -> None:
        """End suspensions whose duration passed; fail steps whose timeout passed."""
        for name, s in list(self.status.items()):
            if s.phase == SUSPENDING and s.resume_at is not None and self.now >= s.resume_at:
                self.set(name, phase=SUCCEEDED, reason="", finished=self.now, resume_at=None)
        for ps in self.plan.walk():
            s = self.status[ps.name]
            if s.done or s.first_execute is None or not ps.step.timeout:
                continue
            if self.now >= s.first_execute + parse_duration(ps.step.timeout):
                message = f"step {ps.name!r} timed out after {ps.step.timeout}"
                self.fail(ps.name, TIMEOUT, message)
                for sub in ps.sub_steps:
                    if not self.status[sub.name].done:
                        self.fail(sub.name, TIMEOUT, message)
        for ps in self.plan.steps:
            if ps.sub_steps and self.status[ps.name].phase not in (PENDING, *DONE_STEPS):
                self.settle_group(ps)
        self.suspended = any(s.phase == SUSPENDING for s in self.status.values())

    # -- order ------------------------------------------------------------------------

    def run_list(self, steps: Sequence[PlannedStep], mode: str, parent: str | None) -> None:
        if mode == "DAG":
            self._run_dag(steps, parent)
            return
        for index, ps in enumerate(steps):
            if self.status[ps.name].done:
                continue
            if any(not self.status[d].done for d in self.deps(ps, steps)):
                return
            self.run_step(ps, self.previous_phase(steps, index), parent)
            if not self.status[ps.name].done or self.suspended:
                return

    def _run_dag(self, steps: Sequence[PlannedStep], parent: str | None) -> None:
        progress = True
        while progress and not self.suspended:
            progress = False
            for ps in steps:
                if self.status[ps.name].done or ps.name in self.ran:
                    continue
                if any(not self.status[d].done for d in self.deps(ps, steps)):
                    continue
                self.run_step(ps, self.depends_phase(ps, steps), parent)
                progress = progress or self.status[ps.name].done
                if self.suspended:
                    return

    def deps(self, ps: PlannedStep, siblings: Sequence[PlannedStep]) -> list[str]:
        """The steps ``ps`` waits for: its dependsOn and the producers of its inputs."""
        wanted = {i.source for i in ps.step.inputs}
        producers = [
            s.name
            for s in siblings
            if s is not ps and any(o.name in wanted for o in s.step.outputs)
        ]
        return [*ps.step.depends_on, *(p for p in producers if p not in ps.step.depends_on)]

    def previous_phase(self, steps: Sequence[PlannedStep], index: int) -> str:
        """KubeVela's findDependPhase for step-by-step order."""
        if steps[index].step.depends_on:
            return self.depends_phase(steps[index], steps)
        if index == 0:
            return SUCCEEDED
        for earlier in reversed(steps[:index]):
            phase = self.status[earlier.name].phase
            if phase not in (SUCCEEDED, SKIPPED):
                return phase
        return self.status[steps[index - 1].name].phase

    def depends_phase(self, ps: PlannedStep, siblings: Sequence[PlannedStep]) -> str:
        """The first phase other than succeeded among the steps ``ps`` depends on."""
        by_name = {s.name: s for s in siblings}
        seen: set[str] = set()

        def walk(step: PlannedStep) -> str:
            for dep in self.deps(step, siblings):
                if dep in seen:
                    continue
                seen.add(dep)
                phase = self.status[dep].phase
                if phase != SUCCEEDED:
                    return phase
                if dep in by_name and (found := walk(by_name[dep])) != SUCCEEDED:
                    return found
            return SUCCEEDED

        return walk(ps)

    # -- one step ---------------------------------------------------------------------

    def run_step(self, ps: PlannedStep, before: str, parent: str | None) -> None:
        self.ran.add(ps.name)
        if self.status[ps.name].phase == PENDING:
            why = self.skip_reason(ps, before, parent)
            if why is not None:
                self.skip(ps, why)
                return
            self.set(ps.name, phase=RUNNING, first_execute=self.now)
        self.set(ps.name, last_execute=self.now)
        if ps.type == STEP_GROUP or ps.sub_steps:
            self.run_list(ps.sub_steps, ps.step.mode or self.plan.mode.sub_steps, ps.name)
            self.settle_group(ps)
            return
        state = self.status[ps.name]
        if ps.type == "deploy" and ps.properties.get("auto") is False and not state.approved:
            message = f'Waiting approval to the deploy step "{ps.name}"'
            self.set(ps.name, phase=SUSPENDING, reason=SUSPEND, message=message)
            self.suspended = True
            return
        inputs, properties, missing = self.inputs(ps)
        if missing:
            self.error(ps.name, INPUT, f"input {missing!r} is not available yet")
            return
        executor = self.executors.get(ps.type)
        if executor is None:
            self.fail(
                ps.name,
                EXECUTE,
                f"sailplan cannot run {ps.type!r} steps here (no executor for this step type)",
            )
            return
        call = StepCall(ps.step, properties, inputs, self.step_context(ps), state, self.now)
        self.record(ps, executor(call))

    def skip_reason(self, ps: PlannedStep, before: str, parent: str | None) -> str | None:
        """Why ``ps`` is skipped, or None when it runs."""
        if parent is not None and self.status[parent].phase == SKIPPED:
            return "its step group was skipped"
        condition = ps.step.if_.strip()
        if condition == "always":
            return None
        if not condition:
            blocked = (
                before != SUCCEEDED if ps.step.depends_on else before not in (SUCCEEDED, SKIPPED)
            )
            return f"an earlier step is {before}" if blocked else None
        scope = {
            "status": {n: s.flags() for n, s in self.status.items() if s.phase != PENDING},
            "inputs": self.inputs(ps)[0],
            "context": self.step_context(ps),
        }
        try:
            holds = evaluate(parse(condition), scope)
        except ConditionError as exc:
            return f"if {condition!r} cannot be evaluated: {exc}"
        return None if holds else f"if {condition!r} is false"

    def skip(self, ps: PlannedStep, why: str) -> None:
        self.set(ps.name, phase=SKIPPED, reason=SKIP, message=why, finished=self.now)
        for sub in ps.sub_steps:
            self.set(sub.name, phase=SKIPPED, reason=SKIP, message=why, finished=self.now)

    def settle_group(self, ps: PlannedStep) -> None:
        children = [self.status[c.name] for c in ps.sub_steps]
        phase = _group_phase(children) if children else SUCCEEDED
        group = self.status[ps.name]
        if phase == FAILED:
            timed_out = any(c.reason == TIMEOUT for c in children)
            reason = TIMEOUT if timed_out and group.reason == TIMEOUT else EXECUTE
            failed = [c.name for c in children if c.phase == FAILED]
            message = group.message if group.reason == TIMEOUT else f"failed: {', '.join(failed)}"
            self.fail(ps.name, reason, message)
        elif phase == SUCCEEDED:
            self.set(ps.name, phase=SUCCEEDED, reason="", finished=self.now)
        else:
            self.set(ps.name, phase=phase, reason=SUSPEND if phase == SUSPENDING else "")

    def step_context(self, ps: PlannedStep) -> dict[str, Any]:
        return {**self.context, "stepName": ps.name}

    def inputs(self, ps: PlannedStep) -> tuple[dict[str, Any], dict[str, Any], str]:
        """The step's inputs by name, its properties with inputs set, a missing input."""
        inputs: dict[str, Any] = {}
        properties = _deep_copy(ps.properties)
        for item in ps.step.inputs:
            if item.source not in self.vars:
                return inputs, properties, item.source
            inputs[item.source] = self.vars[item.source]
            if item.parameter_key:
                _set_path(properties, item.parameter_key, self.vars[item.source])
        return inputs, properties, ""

    def error(self, name: str, reason: str, message: str) -> None:
        errors = self.status[name].errors + 1
        if errors >= MAX_ERRORS:
            self.set(name, errors=errors)
            self.fail(name, FAILED_AFTER_RETRIES, f"{message} (failed after {errors} tries)")
            return
        self.set(name, phase=RUNNING, reason=reason, message=message, errors=errors)

    def record(self, ps: PlannedStep, result: StepResult) -> None:
        name = ps.name
        if result.outcome == "done":
            outputs: dict[str, Any] = {}
            for out in ps.step.outputs:
                try:
                    outputs[out.name] = lookup(result.value, out.value_from)
                except KeyError as exc:
                    self.fail(name, OUTPUT, f"output {out.name!r}: {exc.args[0]}")
                    return
            self.vars.update(outputs)
            self.set(
                name,
                phase=SUCCEEDED,
                reason="",
                message=result.message,
                outputs=outputs,
                finished=self.now,
            )
        elif result.outcome == "wait":
            self.set(name, phase=RUNNING, reason=WAIT, message=result.message)
        elif result.outcome == "failed":
            self.fail(name, EXECUTE, result.message)
        elif result.outcome == "error":
            self.error(name, EXECUTE, result.message)
        else:
            resume_at = None if result.duration is None else self.now + result.duration
            self.set(
                name, phase=SUSPENDING, reason=SUSPEND, message=result.message, resume_at=resume_at
            )
            self.suspended = True


def lookup(value: Any, path: str) -> Any:
    """The value at a ``valueFrom`` path (``output.value.status.phase``, ``a["b-c"][0]``)."""
    node = value
    pos = 0
    text = path.strip()
    walked = ""
    while pos < len(text):
        match = _PATH_PART.match(text, pos)
        if not match or match.end() == pos:
            raise KeyError(f"cannot read path {path!r} at {text[pos:]!r}")
        name, index, quoted = match.groups()
        key: str | int = int(index) if index is not None else (name if name is not None else quoted)
        try:
            node = child(node, key)
        except KeyError:
            raise KeyError(f"{path!r}: {walked or 'the step result'} has no {key!r}") from None
        walked = text[: match.end()]
        pos = match.end()
    return node


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


__all__ = [
    "DONE",
    "MAX_ERRORS",
    "advance",
    "lookup",
    "next_check",
    "restart",
    "resume",
    "start",
    "terminate",
]
