"""The runner as KubeVela's workflow engine behaves: order, conditions, suspension, failure."""

from __future__ import annotations

import json

import pytest

from engine.definitions import Registry
from engine.errors import WorkflowError
from engine.workflow import StepResult, WorkflowState, advance, restart, resume, terminate
from engine.workflow.runner import MAX_ERRORS, lookup, next_check
from tests.workflow.conftest import Recorder, workflow_plan


def phases(state: WorkflowState) -> dict[str, str]:
    return {s.name: s.phase for s in state.walk()}


def test_steps_run_in_order_and_the_workflow_succeeds(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, properties: {component: db}}
    - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=100.0)
    assert recorder.calls == ["db", "web"]
    assert state.phase == "succeeded"
    assert phases(state) == {"db": "succeeded", "web": "succeeded"}
    assert state.started == 100.0 and state.finished == 100.0


def test_step_by_step_waits_for_a_step_that_is_not_done(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, properties: {component: db}}
    - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.wait("0/1 ready"), StepResult.done()]
    state = advance(plan, None, recorder.executors(), now=1.0)
    assert state.phase == "executing"
    db = state.step("db")
    assert db is not None and (db.phase, db.reason, db.message) == ("running", "Wait", "0/1 ready")
    assert recorder.calls == ["db"]
    state = advance(plan, state, recorder.executors(), now=2.0)
    assert recorder.calls == ["db", "db", "web"]
    assert state.phase == "succeeded"
    db = state.step("db")
    assert db is not None and db.first_execute == 1.0 and db.finished == 2.0


def test_a_failed_step_fails_the_workflow_and_skips_later_steps(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, properties: {component: db}}
    - {name: web, type: apply-component, properties: {component: web}}
    - name: on-failure
      type: notification
      if: status.db.failed
      properties: {slack: {url: {value: "http://127.0.0.1:1/"}, message: {text: db failed}}}
    - name: on-success
      type: notification
      if: status.db.phase == "succeeded"
      properties: {slack: {url: {value: "http://127.0.0.1:1/"}, message: {text: ok}}}
    - name: always-runs
      type: notification
      if: always
      properties: {slack: {url: {value: "http://127.0.0.1:1/"}, message: {text: done}}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.failed("image pull failed")]
    state = advance(plan, None, recorder.executors(), now=5.0)
    assert recorder.calls == ["db", "on-failure", "always-runs"]
    assert phases(state) == {
        "db": "failed",
        "web": "skipped",
        "on-failure": "succeeded",
        "on-success": "skipped",
        "always-runs": "succeeded",
    }
    assert state.phase == "failed"
    assert state.message == "step 'db': image pull failed"


def test_the_failure_branch_is_skipped_when_nothing_fails(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, properties: {component: db}}
    - name: on-failure
      type: notification
      if: status.db.failed
      properties: {slack: {url: {value: "http://127.0.0.1:1/"}, message: {text: db failed}}}
    - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=5.0)
    assert recorder.calls == ["db", "web"]
    # A skipped step before it does not stop a step without ``if``.
    assert phases(state) == {"db": "succeeded", "on-failure": "skipped", "web": "succeeded"}
    assert state.phase == "succeeded"
    skipped = state.step("on-failure")
    assert skipped is not None and skipped.reason == "Skip"
    assert "is false" in skipped.message


def test_errors_are_retried_then_fail_after_retries(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, properties: {component: db}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.error("connection refused")]
    state = None
    for tick in range(MAX_ERRORS - 1):
        state = advance(plan, state, recorder.executors(), now=float(tick))
        step = state.step("db")
        assert step is not None and step.phase == "running" and step.errors == tick + 1
    state = advance(plan, state, recorder.executors(), now=99.0)
    step = state.step("db")
    assert step is not None
    assert (step.phase, step.reason) == ("failed", "FailedAfterRetries")
    assert state.phase == "failed"
    assert len(recorder.calls) == MAX_ERRORS


def test_a_timed_out_step_fails_the_workflow_with_its_name(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, timeout: 30s, properties: {component: db}}
    - {name: web, type: apply-component, properties: {component: web}}
    - {name: report, type: notification, if: status.db.timeout, properties: {slack: {url: {value: "http://x/"}, message: {text: slow}}}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.wait("waiting for pods")]
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert next_check(plan, state) == 30.0
    state = advance(plan, state, recorder.executors(), now=29.0)
    assert state.phase == "executing"
    state = advance(plan, state, recorder.executors(), now=30.0)
    db = state.step("db")
    assert db is not None and (db.phase, db.reason) == ("failed", "Timeout")
    assert phases(state) == {"db": "failed", "web": "skipped", "report": "succeeded"}
    assert state.phase == "failed"
    assert state.message == "step 'db': step 'db' timed out after 30s"


def test_suspend_stops_until_resumed(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, properties: {component: db}}
    - {name: approve, type: suspend, properties: {message: check the db}}
    - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=1.0)
    assert state.phase == "suspending" and state.suspended
    assert state.suspended_at == ("approve",)
    approve = state.step("approve")
    assert approve is not None and approve.message == "check the db"
    # Advancing a suspended workflow does nothing.
    assert advance(plan, state, recorder.executors(), now=50.0).steps == state.steps
    assert recorder.calls == ["db"]
    state = resume(state, now=60.0)
    assert state.phase == "executing" and not state.suspended
    state = advance(plan, state, recorder.executors(), now=61.0)
    assert recorder.calls == ["db", "web"]
    assert state.phase == "succeeded"


def test_suspend_with_a_duration_resumes_by_itself(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: pause, type: suspend, properties: {duration: 1m30s}}
    - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert state.phase == "suspending" and next_check(plan, state) == 90.0
    state = advance(plan, state, recorder.executors(), now=89.0)
    assert state.phase == "suspending" and recorder.calls == []
    state = advance(plan, state, recorder.executors(), now=90.0)
    assert state.phase == "succeeded" and recorder.calls == ["web"]


def test_resume_of_a_workflow_that_is_not_suspended_is_an_error(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        "workflow:\n  steps:\n    - {name: web, type: apply-component, properties: {component: web}}",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=0.0)
    with pytest.raises(WorkflowError, match="not suspended"):
        resume(state, now=1.0)


def test_deploy_with_auto_false_waits_for_approval_first(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: prod, type: deploy, properties: {auto: false}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=0.0)
    prod = state.step("prod")
    assert prod is not None and prod.phase == "suspending"
    assert prod.message == 'Waiting approval to the deploy step "prod"'
    assert recorder.calls == []
    state = advance(plan, resume(state, now=1.0), recorder.executors(), now=2.0)
    assert recorder.calls == ["prod"]
    assert state.phase == "succeeded"


def test_terminate_fails_the_suspended_step_and_runs_only_always_steps(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: gate, type: suspend}
    - {name: web, type: apply-component, properties: {component: web}}
    - {name: tell, type: notification, if: always, properties: {slack: {url: {value: "http://x/"}, message: {text: bye}}}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=0.0)
    state = terminate(state, now=1.0)
    gate = state.step("gate")
    assert gate is not None and (gate.phase, gate.reason) == ("failed", "Terminate")
    state = advance(plan, state, recorder.executors(), now=2.0)
    assert recorder.calls == ["tell"]
    assert phases(state) == {"gate": "failed", "web": "skipped", "tell": "succeeded"}
    assert state.phase == "terminated"
    with pytest.raises(WorkflowError, match="already finished"):
        terminate(state, now=3.0)


def test_restart_starts_a_fresh_run(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        "workflow:\n  steps:\n    - {name: web, type: apply-component, properties: {component: web}}",
        registry,
    )
    recorder.script["web"] = [StepResult.failed("boom"), StepResult.done()]
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert state.phase == "failed"
    state = advance(plan, restart(plan, now=10.0), recorder.executors(), now=10.0)
    assert state.phase == "succeeded" and state.started == 10.0


def test_dag_mode_runs_steps_by_their_dependencies(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  mode: {steps: DAG}
  steps:
    - {name: web, type: apply-component, dependsOn: [db], properties: {component: web}}
    - {name: db, type: apply-component, properties: {component: db}}
    - {name: note, type: print-message-in-status, properties: {message: hi}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.wait("starting"), StepResult.done()]
    state = advance(plan, None, recorder.executors(), now=0.0)
    # web waits for db; db and note (no dependencies) ran.
    assert recorder.calls == ["db"]
    assert phases(state) == {"web": "pending", "db": "running", "note": "succeeded"}
    note = state.step("note")
    assert note is not None and note.message == "hi"
    state = advance(plan, state, recorder.executors(), now=1.0)
    assert recorder.calls == ["db", "db", "web"]
    assert state.phase == "succeeded"


def test_a_step_depending_on_a_failed_step_is_skipped(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  mode: {steps: DAG}
  steps:
    - {name: db, type: apply-component, properties: {component: db}}
    - {name: web, type: apply-component, dependsOn: [db], properties: {component: web}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.failed("bad")]
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert phases(state) == {"db": "failed", "web": "skipped"}
    assert state.phase == "failed"


def test_step_group_runs_sub_steps_in_parallel_and_finishes_with_them(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - name: group
      type: step-group
      subSteps:
        - {name: db, type: apply-component, properties: {component: db}}
        - {name: web, type: apply-component, properties: {component: web}}
    - {name: after, type: print-message-in-status, properties: {message: done}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.wait("starting"), StepResult.done()]
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert phases(state) == {
        "group": "running",
        "db": "running",
        "web": "succeeded",
        "after": "pending",
    }
    state = advance(plan, state, recorder.executors(), now=1.0)
    assert phases(state) == {
        "group": "succeeded",
        "db": "succeeded",
        "web": "succeeded",
        "after": "succeeded",
    }
    assert state.phase == "succeeded"


def test_step_group_with_step_by_step_sub_steps_and_a_suspend_inside(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  mode: {subSteps: StepByStep}
  steps:
    - name: group
      type: step-group
      subSteps:
        - {name: gate, type: suspend}
        - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert phases(state) == {"group": "suspending", "gate": "suspending", "web": "pending"}
    assert state.suspended_at == ("group", "gate")
    state = advance(plan, resume(state, now=1.0), recorder.executors(), now=2.0)
    assert phases(state) == {"group": "succeeded", "gate": "succeeded", "web": "succeeded"}


def test_a_failed_sub_step_fails_its_group(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - name: group
      type: step-group
      subSteps:
        - {name: db, type: apply-component, properties: {component: db}}
        - {name: web, type: apply-component, properties: {component: web}}
    - {name: after, type: print-message-in-status, properties: {message: done}}
""",
        registry,
    )
    recorder.script["db"] = [StepResult.failed("bad")]
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert phases(state) == {
        "group": "failed",
        "db": "failed",
        "web": "succeeded",
        "after": "skipped",
    }
    group = state.step("group")
    assert group is not None and group.message == "failed: db"


def test_a_skipped_group_skips_its_sub_steps(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - name: group
      type: step-group
      if: context.name == "other"
      subSteps:
        - {name: web, type: apply-component, properties: {component: web}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert phases(state) == {"group": "skipped", "web": "skipped"}
    assert recorder.calls == []
    assert state.phase == "succeeded"


def test_outputs_feed_inputs_and_conditions(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - name: read
      type: read-object
      properties: {name: settings}
      outputs:
        - name: replicas
          valueFrom: 'output.value.data["replica-count"]'
    - name: use
      type: apply-object
      if: inputs.replicas == "3"
      inputs:
        - {from: replicas, parameterKey: value.data.copied}
      properties:
        value: {apiVersion: v1, kind: ConfigMap, metadata: {name: copy}, data: {}}
""",
        registry,
    )
    recorder.script["read"] = [
        StepResult.done({"output": {"value": {"data": {"replica-count": "3"}}}})
    ]
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert state.phase == "succeeded"
    assert state.vars == {"replicas": "3"}
    read = state.step("read")
    assert read is not None and read.outputs == {"replicas": "3"}
    call = recorder.seen["use"]
    assert call.inputs == {"replicas": "3"}
    assert call.properties["value"]["data"] == {"copied": "3"}


def test_an_output_path_the_result_lacks_fails_the_step(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - name: read
      type: read-object
      properties: {name: settings}
      outputs: [{name: phase, valueFrom: output.value.status.phase}]
""",
        registry,
    )
    recorder.script["read"] = [StepResult.done({"output": {"value": {}}})]
    state = advance(plan, None, recorder.executors(), now=0.0)
    read = state.step("read")
    assert read is not None and (read.phase, read.reason) == ("failed", "Output")
    assert "has no 'status'" in read.message


def test_dag_inputs_wait_for_their_producer(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  mode: {steps: DAG}
  steps:
    - name: use
      type: print-message-in-status
      inputs: [{from: msg, parameterKey: message}]
      properties: {message: placeholder}
    - name: make
      type: request
      properties: {url: "http://127.0.0.1:1/"}
      outputs: [{name: msg, valueFrom: response.text}]
""",
        registry,
    )
    recorder.script["make"] = [StepResult.done({"response": {"text": "from make"}})]
    state = advance(plan, None, recorder.executors(), now=0.0)
    use = state.step("use")
    assert use is not None and (use.phase, use.message) == ("succeeded", "from make")


def test_a_step_type_without_executor_fails_clearly(registry: Registry) -> None:
    plan = workflow_plan(
        "workflow:\n  steps:\n    - {name: cfg, type: read-config, properties: {name: x}}",
        registry,
    )
    state = advance(plan, None, {}, now=0.0)
    cfg = state.step("cfg")
    assert cfg is not None and cfg.phase == "failed"
    assert "cannot run 'read-config' steps" in cfg.message


def test_no_workflow_runs_the_generated_one_as_a_dag(
    registry: Registry, recorder: Recorder
) -> None:
    plan = workflow_plan("", registry)
    assert [(s.name, s.type) for s in plan.steps] == [
        ("web", "apply-component"),
        ("db", "apply-component"),
    ]
    assert plan.mode.steps == "DAG"
    state = advance(plan, None, recorder.executors(), now=0.0)
    assert state.phase == "succeeded" and sorted(recorder.calls) == ["db", "web"]


def test_topology_policies_generate_deploy_steps(registry: Registry) -> None:
    plan = workflow_plan(
        """
policies:
  - {name: eu, type: topology, properties: {clusters: [local]}}
  - {name: bigger, type: override, properties: {components: [{name: web, properties: {image: x}}]}}
""",
        registry,
    )
    assert [(s.name, dict(s.properties)["policies"]) for s in plan.steps] == [
        ("deploy-eu", ["bigger", "eu"])
    ]


def test_state_round_trips_through_json(registry: Registry, recorder: Recorder) -> None:
    plan = workflow_plan(
        """
workflow:
  steps:
    - {name: db, type: apply-component, properties: {component: db}, meta: {alias: Database}}
    - {name: gate, type: suspend, properties: {duration: 10s}}
""",
        registry,
    )
    state = advance(plan, None, recorder.executors(), now=1_700_000_000.5)
    raw = json.loads(json.dumps(state.to_dict()))
    assert raw["steps"][1]["resumeTime"] == "2023-11-14T22:13:30.500Z"
    assert raw["steps"][0]["alias"] == "Database"
    again = WorkflowState.from_dict(raw)
    assert again == state
    # The restored state goes on where it stopped.
    done = advance(plan, again, recorder.executors(), now=1_700_000_011.0)
    assert done.phase == "succeeded"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("a.b", 1),
        ('a["c-d"][1]', "y"),
        ("a.list[0].k", True),
    ],
)
def test_lookup_reads_value_from_paths(path: str, value: object) -> None:
    data = {"a": {"b": 1, "c-d": ["x", "y"], "list": [{"k": True}]}}
    assert lookup(data, path) == value


def test_lookup_names_what_is_missing() -> None:
    with pytest.raises(KeyError, match=r"a\.b has no 'c'"):
        lookup({"a": {"b": {}}}, "a.b.c")
