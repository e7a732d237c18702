"""The run loop of ``sailplan apply``'s workflows, with a fake clock (no cluster)."""

from __future__ import annotations

import pytest

from engine.apply.workflow import run
from engine.definitions import Registry
from engine.workflow import StepResult
from tests.workflow.conftest import Recorder, workflow_plan


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_loop_sleeps_until_a_suspend_duration_ends(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: pause, type: suspend, properties: {duration: 20s}}
    - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    clock = Clock()
    seen: list[str] = []
    state = run(
        plan,
        None,
        recorder.executors(),
        timeout=60,
        interval=5,
        on_state=lambda s: seen.append(s.phase),
        clock=clock,
        sleep=clock.sleep,
    )
    assert state.phase == "succeeded"
    assert recorder.calls == ["web"]
    assert clock.now == 1020.0 and clock.sleeps == [5, 5, 5, 5]
    assert seen[0] == "suspending" and seen[-1] == "succeeded"


def test_the_loop_returns_when_suspended_without_an_end(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan("workflow:\n  steps:\n    - {name: gate, type: suspend}", registry)
    clock = Clock()
    state = run(plan, None, recorder.executors(), timeout=60, clock=clock, sleep=clock.sleep)
    assert state.phase == "suspending" and clock.sleeps == []


def test_the_loop_retries_waiting_steps_until_its_timeout(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        "workflow:\n  steps:\n    - {name: web, type: apply-component, properties: {component: web}}",
        registry,
    )
    recorder.script["web"] = [StepResult.wait("0/1 ready")]
    clock = Clock()
    state = run(
        plan, None, recorder.executors(), timeout=10, interval=2, clock=clock, sleep=clock.sleep
    )
    assert state.phase == "executing"
    web = state.step("web")
    assert web is not None and (web.phase, web.message) == ("running", "0/1 ready")
    assert len(recorder.calls) == 6 and clock.now == 1010.0
