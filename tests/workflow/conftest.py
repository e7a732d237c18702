"""An in-memory executor for the runner's tests: each step type does what a script says."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from engine.definitions import Registry
from engine.model import load_documents, parse_application
from engine.workflow import Plan, StepCall, StepResult, plan
from engine.workflow.executors import builtin_executors

Script = Callable[[StepCall], StepResult]
HEADER = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: demo
  namespace: shop
spec:
  components:
    - name: web
      type: webservice
      properties: {image: nginx:1.27}
    - name: db
      type: worker
      properties: {image: postgres:16}
"""


def workflow_plan(workflow: str, registry: Registry) -> Plan:
    """The plan of the demo Application with ``workflow`` (YAML under ``spec:``)."""
    text = HEADER + "".join(f"  {line}\n" for line in workflow.strip("\n").splitlines())
    return plan(parse_application(load_documents(text, "app.yaml")[0]), registry)


@dataclasses.dataclass
class Recorder:
    """Executors that record calls; ``script[step name]`` decides each outcome."""

    script: dict[str, Script | list[StepResult]] = dataclasses.field(default_factory=dict)
    calls: list[str] = dataclasses.field(default_factory=list)
    seen: dict[str, StepCall] = dataclasses.field(default_factory=dict)

    def __call__(self, call: StepCall) -> StepResult:
        name = call.step.name
        self.calls.append(name)
        self.seen[name] = call
        action = self.script.get(name)
        if callable(action):
            return action(call)
        if isinstance(action, list):
            return action.pop(0) if len(action) > 1 else action[0]
        return StepResult.done()

    def executors(self) -> Mapping[str, Any]:
        types = [
            "apply-component",
            "apply-object",
            "deploy",
            "notification",
            "webhook",
            "request",
            "read-object",
            "export2config",
        ]
        return {**builtin_executors(), **dict.fromkeys(types, self)}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
