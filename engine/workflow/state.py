"""The state of one workflow run, as a frozen value that round-trips through JSON.

KubeVela keeps this in the Application's ``status.workflow``; sailplan keeps it with
the release in the cluster. Each step has KubeVela's phase (``pending``, ``running``,
``succeeded``, ``failed``, ``skipped``, ``suspending``) and reason (``Execute``,
``Wait``, ``Timeout``, ``FailedAfterRetries``, ``Terminate``, ``Skip``, ``Suspend``),
its message, outputs and times. Times are seconds since the epoch (UTC) in memory and
RFC 3339 text in ``to_dict``.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator, Mapping
from typing import Any

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"
SUSPENDING = "suspending"
STEP_PHASES = (PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED, SUSPENDING)
FINISHED = frozenset({SUCCEEDED, FAILED, SKIPPED})

# Workflow phases, as KubeVela names them.
INITIALIZING = "initializing"
EXECUTING = "executing"
SUSPENDED = "suspending"
WORKFLOW_SUCCEEDED = "succeeded"
WORKFLOW_FAILED = "failed"
TERMINATED = "terminated"
DONE = frozenset({WORKFLOW_SUCCEEDED, WORKFLOW_FAILED, TERMINATED})

# Reasons.
EXECUTE = "Execute"
WAIT = "Wait"
TIMEOUT = "Timeout"
FAILED_AFTER_RETRIES = "FailedAfterRetries"
TERMINATE = "Terminate"
SKIP = "Skip"
SUSPEND = "Suspend"
INPUT = "Input"
OUTPUT = "Output"


@dataclasses.dataclass(frozen=True)
class StepState:
    """One step's status."""

    name: str
    type: str
    phase: str = PENDING
    reason: str = ""
    message: str = ""
    outputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    first_execute: float | None = None
    last_execute: float | None = None
    finished: float | None = None
    #: Errors so far; KubeVela fails a step after MAX_RETRIES of them.
    errors: int = 0
    #: When a ``suspend`` step with a duration resumes by itself.
    resume_at: float | None = None
    #: A ``deploy`` step with ``auto: false`` that was resumed (approved).
    approved: bool = False
    alias: str = ""
    sub_steps: tuple[StepState, ...] = ()

    @property
    def done(self) -> bool:
        return self.phase in FINISHED

    def flags(self) -> dict[str, Any]:
        """What ``status.<name>`` is in an ``if`` expression."""
        return {
            "phase": self.phase,
            "reason": self.reason,
            "message": self.message,
            "succeeded": self.phase == SUCCEEDED,
            "failed": self.phase == FAILED,
            "skipped": self.phase == SKIPPED,
            "timeout": self.reason == TIMEOUT,
            "failedAfterRetries": self.reason == FAILED_AFTER_RETRIES,
            "terminate": self.reason == TERMINATE,
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "phase": self.phase}
        for key, value in (
            ("reason", self.reason),
            ("message", self.message),
            ("alias", self.alias),
        ):
            if value:
                out[key] = value
        if self.outputs:
            out["outputs"] = dict(self.outputs)
        for key, when in (
            ("firstExecuteTime", self.first_execute),
            ("lastExecuteTime", self.last_execute),
            ("finishedTime", self.finished),
            ("resumeTime", self.resume_at),
        ):
            if when is not None:
                out[key] = format_time(when)
        if self.errors:
            out["errors"] = self.errors
        if self.approved:
            out["approved"] = True
        if self.sub_steps:
            out["subSteps"] = [s.to_dict() for s in self.sub_steps]
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StepState:
        phase = str(raw.get("phase", PENDING))
        if phase not in STEP_PHASES:
            raise ValueError(f"unknown step phase {phase!r}")
        return cls(
            name=str(raw["name"]),
            type=str(raw.get("type", "")),
            phase=phase,
            reason=str(raw.get("reason", "")),
            message=str(raw.get("message", "")),
            outputs=dict(raw.get("outputs") or {}),
            first_execute=_time(raw.get("firstExecuteTime")),
            last_execute=_time(raw.get("lastExecuteTime")),
            finished=_time(raw.get("finishedTime")),
            errors=int(raw.get("errors", 0)),
            resume_at=_time(raw.get("resumeTime")),
            approved=bool(raw.get("approved", False)),
            alias=str(raw.get("alias", "")),
            sub_steps=tuple(cls.from_dict(s) for s in raw.get("subSteps") or ()),
        )


@dataclasses.dataclass(frozen=True)
class WorkflowState:
    """A workflow run: its phase, every step's status, and the values steps exported."""

    phase: str = INITIALIZING
    mode: str = "StepByStep"
    steps: tuple[StepState, ...] = ()
    suspended: bool = False
    #: A step failed for good or the run was terminated: only ``if`` steps still run.
    terminated: bool = False
    #: Outputs of finished steps, by output name: what later steps' ``inputs`` read.
    vars: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    started: float | None = None
    finished: float | None = None
    message: str = ""

    @property
    def done(self) -> bool:
        return self.phase in DONE

    def walk(self) -> Iterator[StepState]:
        """Every step, each group followed by its sub-steps."""
        for step in self.steps:
            yield step
            yield from step.sub_steps

    def step(self, name: str) -> StepState | None:
        return next((s for s in self.walk() if s.name == name), None)

    @property
    def suspended_at(self) -> tuple[str, ...]:
        """The steps the run is suspended at (the position ``resume`` continues from)."""
        return tuple(s.name for s in self.walk() if s.phase == SUSPENDING)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "phase": self.phase,
            "mode": self.mode,
            "suspend": self.suspended,
            "terminated": self.terminated,
            "steps": [s.to_dict() for s in self.steps],
        }
        if self.vars:
            out["vars"] = dict(self.vars)
        if self.started is not None:
            out["startTime"] = format_time(self.started)
        if self.finished is not None:
            out["endTime"] = format_time(self.finished)
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> WorkflowState:
        return cls(
            phase=str(raw.get("phase", INITIALIZING)),
            mode=str(raw.get("mode", "StepByStep")),
            steps=tuple(StepState.from_dict(s) for s in raw.get("steps") or ()),
            suspended=bool(raw.get("suspend", False)),
            terminated=bool(raw.get("terminated", False)),
            vars=dict(raw.get("vars") or {}),
            started=_time(raw.get("startTime")),
            finished=_time(raw.get("endTime")),
            message=str(raw.get("message", "")),
        )


def format_time(when: float) -> str:
    """RFC 3339 in UTC with milliseconds when there are any."""
    moment = datetime.datetime.fromtimestamp(when, tz=datetime.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = round(when * 1000) % 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def _time(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(text).timestamp()
