"""The seam between the runner and what a step does: ``StepExecutor``.

The runner owns ordering, conditions, timeouts, suspension, retries and outputs; an
executor only does one step type's work once and says how it went (``StepResult``):
done (with the value its outputs read), wait (not yet: try again later), failed (for
good), error (try again; KubeVela fails the step after ten), or suspend. Executors
here need nothing outside the process; network ones are in ``engine.workflow.http``,
cluster ones come with the applier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from engine.model import Step
from engine.workflow.state import StepState

Outcome = Literal["done", "wait", "failed", "error", "suspend"]


@dataclasses.dataclass(frozen=True)
class StepCall:
    """One execution of a step: its properties (defaults and inputs filled) and context."""

    step: Step
    properties: Mapping[str, Any]
    inputs: Mapping[str, Any]
    context: Mapping[str, Any]
    state: StepState
    now: float


@dataclasses.dataclass(frozen=True)
class StepResult:
    """How one execution went."""

    outcome: Outcome
    message: str = ""
    #: What the step's ``outputs[].valueFrom`` paths read (KubeVela: the step's value).
    value: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    #: For ``suspend``: resume by itself after this many seconds.
    duration: float | None = None

    @classmethod
    def done(cls, value: Mapping[str, Any] | None = None, message: str = "") -> StepResult:
        return cls("done", message, dict(value or {}))

    @classmethod
    def wait(cls, message: str) -> StepResult:
        return cls("wait", message)

    @classmethod
    def failed(cls, message: str) -> StepResult:
        return cls("failed", message)

    @classmethod
    def error(cls, message: str) -> StepResult:
        return cls("error", message)

    @classmethod
    def suspend(cls, message: str = "", duration: float | None = None) -> StepResult:
        return cls("suspend", message, {}, duration)


class StepExecutor(Protocol):
    """Does one step type's work once."""

    def __call__(self, call: StepCall, /) -> StepResult: ...


def suspend(call: StepCall) -> StepResult:
    """``suspend``: pause until resumed, or until ``duration`` has passed."""
    from engine.model.durations import parse_duration

    text = call.properties.get("duration")
    duration = parse_duration(str(text)) if text else None
    return StepResult.suspend(str(call.properties.get("message", "")), duration)


def print_message(call: StepCall) -> StepResult:
    """``print-message-in-status``: the message becomes the step's status message."""
    return StepResult.done(message=str(call.properties["message"]))


def builtin_executors() -> dict[str, StepExecutor]:
    """The executors that need nothing outside the process."""
    return {"suspend": suspend, "print-message-in-status": print_message}
