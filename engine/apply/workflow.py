"""The workflow against a cluster: step executors that apply, and the run loop.

``ClusterSteps`` gives the runner (``engine.workflow``) the steps that need a cluster:
``deploy`` applies its environment; ``apply-component``, ``apply-remaining``,
``apply-application`` and ``apply-object`` apply what the steps so far named (a release
per step, nothing pruned until ``finish``); ``read-object`` reads an object into ``output.value``;
``export2config`` and ``export2secret`` write a ConfigMap or Secret; ``deploy2runtime``
deploys to this cluster; notifications read Secret values through ``secret``. The other
object steps (configs, exports, endpoints, jobs) are ``engine.apply.objectsteps``.
When the workflow succeeds, ``finish`` applies everything it delivered once more with
prune, so objects a previous run had and this one lacks go. The state is kept with the
release (``save``/``load``), together with the Application document, so ``resume``,
``terminate`` and ``restart`` work from any machine.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.apply.applier import ApplyOptions, Desired, OnEvent
from engine.apply.client import ClusterClient
from engine.apply.deploy import Outcome, ReleaseSpec, apply_release, history, save_workflow
from engine.apply.errors import NotFoundError
from engine.errors import SailplanError, WorkflowError
from engine.model import Application, ResourceId
from engine.model.policies import environments
from engine.workflow import Plan, StepCall, StepExecutor, StepResult, WorkflowState, advance
from engine.workflow.runner import next_check

#: Where the workflow keeps its record in the release's ``workflow`` field.
STATE = "state"
APPLICATION = "application"
FILE = "file"
_APPLYING = frozenset(
    {"apply-component", "apply-remaining", "apply-application", "apply-application-in-parallel"}
)


@dataclasses.dataclass
class ClusterSteps:
    """The cluster-facing executors of one application's workflow run."""

    client: ClusterClient
    app: Application
    specs: Sequence[ReleaseSpec]
    options: ApplyOptions
    on_event: OnEvent | None = None
    #: Called with each release outcome (the CLI prints its summary line).
    on_outcome: Callable[[Outcome], None] = lambda outcome: None
    #: Components and apply-object steps delivered so far in this run.
    components: set[str] = dataclasses.field(default_factory=set)
    object_steps: set[str] = dataclasses.field(default_factory=set)
    outcomes: list[Outcome] = dataclasses.field(default_factory=list)
    #: A step applied part of the application: the final apply prunes.
    partial: bool = False

    def executors(self) -> dict[str, StepExecutor]:
        applying: dict[str, StepExecutor] = dict.fromkeys(_APPLYING, self.apply_components)
        from engine.apply.objectsteps import ObjectSteps

        return {
            **ObjectSteps(self.client, self.app).executors(),
            **applying,
            "deploy": self.deploy,
            "deploy2runtime": self.deploy2runtime,
            "deploy2env": self.deploy,
            "depends-on-app": self.depends_on_app,
            "apply-object": self.apply_object,
            "read-object": self.read_object,
            "export2config": self.export2config,
            "export2secret": self.export2secret,
        }

    @property
    def home(self) -> ReleaseSpec:
        """The release the workflow state is kept with: the first environment's."""
        return self.specs[0]

    # -- applying ---------------------------------------------------------------------

    def _step_sources(self) -> dict[str, str]:
        from engine.definitions.steps import all_steps

        return {
            f"{self.app.name}/{s.name}": s.name
            for s in all_steps(self.app.steps)
            if s.base_type == "apply-object"
        }

    def _delivered(self, spec: ReleaseSpec) -> tuple[Desired, ...]:
        steps = self._step_sources()
        return tuple(
            d
            for d in spec.objects
            if (d.source in steps and steps[d.source] in self.object_steps)
            or (d.source not in steps and d.component in self.components)
        )

    def _apply(self, spec: ReleaseSpec, *, prune: bool = False) -> StepResult:
        objects = self._delivered(spec)
        options = dataclasses.replace(self.options, prune=prune and self.options.prune)
        try:
            outcome = apply_release(
                self.client,
                dataclasses.replace(spec, objects=objects),
                options,
                on_event=self.on_event,
            )
        except SailplanError as exc:
            return StepResult.failed(exc.message)
        self.outcomes.append(outcome)
        self.on_outcome(outcome)
        release = outcome.release
        if release is not None and release.status == "failed":
            return StepResult.failed(release.message or "the release failed")
        return StepResult.done(message=f"revision {outcome.revision}: {len(objects)} object(s)")

    def deploy(self, call: StepCall) -> StepResult:
        """Every component of the step's environment (``policies``, ``parallelism``)."""
        spec = self._spec_of(call.step.name)
        self.components.update(c.name for c in self.app.components)
        return self._apply(spec, prune=True)

    def deploy2runtime(self, call: StepCall) -> StepResult:
        """KubeVela deploys every component to each runtime cluster; only the local
        cluster is reachable here, so naming another is an error."""
        named = [str(c) for c in call.properties.get("clusters") or ()]
        remote = [c for c in named if c != "local"]
        if remote:
            return StepResult.failed(
                f"clusters {', '.join(remote)}: sailplan's workflow runner reaches only the "
                "cluster it is connected to (other clusters are not supported yet); "
                "use clusters: [local] or drop clusters"
            )
        self.components.update(c.name for c in self.app.components)
        return self._apply(self.home, prune=True)

    def apply_components(self, call: StepCall) -> StepResult:
        self.partial = True
        kind = call.step.base_type
        if kind == "apply-component":
            self.components.add(str(call.properties["component"]))
        else:
            skip = set(call.properties.get("exceptions") or ())
            self.components.update(c.name for c in self.app.components if c.name not in skip)
        return self._apply(self.home)

    def apply_object(self, call: StepCall) -> StepResult:
        self.partial = True
        self.object_steps.add(call.step.name)
        return self._apply(self.home)

    def finish(self) -> StepResult | None:
        """After success: deliver everything once more with prune (when prune is on)."""
        if not self.options.prune or not self.partial:
            return None
        results = [self._apply(spec, prune=True) for spec in self.specs]
        return next((r for r in results if r.outcome != "done"), results[-1])

    def _spec_of(self, step: str) -> ReleaseSpec:
        envs = environments(self.app)
        for env in envs:
            if step == env.name or step in env.aliases:
                found = [s for s in self.specs if s.env == env.name]
                if found:
                    return found[0]
        return self.home

    def depends_on_app(self, call: StepCall) -> StepResult:
        """Wait until another application is delivered: its newest release deployed and,
        when it has a workflow, that workflow succeeded (KubeVela: status ``running``)."""
        name, namespace = str(call.properties["name"]), str(call.properties["namespace"])
        try:
            found = history(self.client, name, namespace)
        except SailplanError as exc:
            return StepResult.error(exc.message)
        if not found:
            return StepResult.wait(f"waiting for application {namespace}/{name}: not applied")
        latest = max(found, key=lambda r: (r.time, r.revision))
        if latest.status != "deployed":
            return StepResult.wait(
                f"waiting for application {namespace}/{name}: revision {latest.revision} "
                f"is {latest.status}"
            )
        flow = (latest.workflow or {}).get(STATE) or {}
        if flow and flow.get("phase") != "succeeded":
            return StepResult.wait(
                f"waiting for application {namespace}/{name}: workflow {flow.get('phase')}"
            )
        return StepResult.done(message=f"application {namespace}/{name} is running")

    # -- reading and writing objects --------------------------------------------------

    def read_object(self, call: StepCall) -> StepResult:
        p = call.properties
        ref = ResourceId(str(p["apiVersion"]), str(p["kind"]), str(p["namespace"]), str(p["name"]))
        try:
            live = self.client.get(ref)
        except SailplanError as exc:
            return StepResult.error(exc.message)
        if live is None:
            return StepResult.failed(f"{ref.kind}/{ref.namespace}/{ref.name} not found")
        return StepResult.done({"output": {"value": dict(live)}})

    def export2config(self, call: StepCall) -> StepResult:
        p = call.properties
        namespace = str(p.get("namespace") or self.app.namespace)
        obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": p["configName"], "namespace": namespace},
            "data": {k: _text(v) for k, v in dict(p["data"]).items()},
        }
        return self._write(obj)

    def export2secret(self, call: StepCall) -> StepResult:
        p = call.properties
        namespace = str(p.get("namespace") or self.app.namespace)
        data = {k: _text(v) for k, v in dict(p["data"]).items()}
        obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret"}
        registry = p.get("dockerRegistry")
        if p.get("kind") == "docker-registry" and registry:
            auth = base64.b64encode(f"{registry['username']}:{registry['password']}".encode())
            entry = {
                "username": registry["username"],
                "password": registry["password"],
                "auth": auth.decode(),
            }
            config = {"auths": {registry.get("server", "https://index.docker.io/v1/"): entry}}
            data = {".dockerconfigjson": json.dumps(config, separators=(",", ":"))}
            obj["type"] = "kubernetes.io/dockerconfigjson"
        if p.get("type"):
            obj["type"] = p["type"]
        obj["metadata"] = {"name": p["secretName"], "namespace": namespace}
        obj["stringData"] = data
        return self._write(obj, secret=True)

    def _write(self, obj: Mapping[str, Any], *, secret: bool = False) -> StepResult:
        meta = obj["metadata"]
        subject = f"{obj['kind']}/{meta['namespace']}/{meta['name']}"
        try:
            self.client.apply(obj, force=True)
        except SailplanError as exc:
            return StepResult.failed(exc.message)
        return StepResult.done(message=f"wrote {subject}" + (" (values hidden)" if secret else ""))

    def secret(self, namespace: str, name: str, key: str) -> str:
        """A SecretReader for notifications: the decoded value, KeyError if absent."""
        live = self.client.get(ResourceId("v1", "Secret", namespace, name))
        data = (live or {}).get("data") or {}
        if key not in data:
            raise KeyError(key)
        return base64.b64decode(data[key]).decode()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


# -- state kept with the release ----------------------------------------------------------


def record(state: WorkflowState, application: Mapping[str, Any], file: str) -> dict[str, Any]:
    """What the release keeps: the Application document and the state."""
    return {APPLICATION: dict(application), FILE: file, STATE: state.to_dict()}


def save(client: ClusterClient, spec: ReleaseSpec, stored: Mapping[str, Any]) -> None:
    """Keep ``stored`` with the latest release of ``spec`` (a first, empty one if none)."""
    try:
        save_workflow(client, spec.app, spec.namespace, spec.env, stored)
    except NotFoundError:
        empty = dataclasses.replace(spec, objects=())
        apply_release(client, empty, ApplyOptions(prune=False, wait=False))
        save_workflow(client, spec.app, spec.namespace, spec.env, stored)


def load(client: ClusterClient, app: str, namespace: str) -> tuple[str, dict[str, Any]]:
    """The environment and record of ``app``'s workflow, from its newest release with one."""
    found = [r for r in history(client, app, namespace) if STATE in (r.workflow or {})]
    if not found:
        raise WorkflowError(
            f"no workflow of application {app} in namespace {namespace} "
            "(apply an Application with spec.workflow first)"
        )
    newest = max(found, key=lambda r: (r.time, r.revision))
    return newest.env, dict(newest.workflow)


def run(
    plan: Plan,
    state: WorkflowState | None,
    executors: Mapping[str, StepExecutor],
    *,
    timeout: float,
    interval: float = 1.0,
    on_state: Callable[[WorkflowState], None] = lambda s: None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    context: Mapping[str, Any] | None = None,
) -> WorkflowState:
    """Advance until done, suspended (with nothing falling due in time), or out of time."""
    deadline = clock() + timeout
    while True:
        state = advance(plan, state, executors, now=clock(), context=context)
        on_state(state)
        if state.done:
            return state
        due = next_check(plan, state)
        if state.suspended and (due is None or due > deadline):
            return state
        now = clock()
        if now >= deadline:
            return state
        wake = min(due if due is not None else now + interval, now + interval, deadline)
        sleep(max(wake - now, 0.05))
