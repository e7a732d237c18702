"""KubeVela workflows run for real: the step graph, its state, and a runner.

Pure: the runner advances a ``WorkflowState`` by calling a ``StepExecutor`` per step
type; executors that reach a network (``http``) or a cluster sit at the edges and
plug in through that Protocol. Time comes in as an argument, never from a clock.
"""

from engine.workflow.executors import StepCall, StepExecutor, StepResult
from engine.workflow.plan import Plan, PlannedStep, plan
from engine.workflow.runner import advance, restart, resume, terminate
from engine.workflow.state import StepState, WorkflowState

__all__ = [
    "Plan",
    "PlannedStep",
    "StepCall",
    "StepExecutor",
    "StepResult",
    "StepState",
    "WorkflowState",
    "advance",
    "plan",
    "restart",
    "resume",
    "terminate",
]
