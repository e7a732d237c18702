"""Health of live objects: kstatus's rules, ported.

``status(obj)`` returns ``Current`` (healthy), ``InProgress``, ``Failed`` or
``Terminating`` with a reason, as kubernetes-sigs/cli-utils' kstatus computes it
(generic rules first, then the kind's own). Pure: it only reads the object it is given.
A gate must never pass on a stale status, so an object whose controller has not yet
observed the latest generation is always ``InProgress``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

CURRENT = "Current"
IN_PROGRESS = "InProgress"
FAILED = "Failed"
TERMINATING = "Terminating"
NOT_FOUND = "NotFound"


@dataclasses.dataclass(frozen=True)
class Health:
    """A kstatus status and why."""

    status: str
    message: str = ""

    @property
    def healthy(self) -> bool:
        return self.status == CURRENT

    @property
    def terminal(self) -> bool:
        """Whether waiting longer cannot help (healthy, or failed)."""
        return self.status in (CURRENT, FAILED)


Obj = Mapping[str, Any]


def status(obj: Obj | None) -> Health:
    """The health of a live object (``None``: it does not exist)."""
    if obj is None:
        return Health(NOT_FOUND, "not found")
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Health(TERMINATING, "being deleted")
    found = _generic(obj)
    if found is not None:
        return found
    rule = _KIND_RULES.get(_group_kind(obj))
    if rule is not None:
        return rule(obj)
    return _ready_condition(obj) or Health(CURRENT, "")


def _group_kind(obj: Obj) -> tuple[str, str]:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (group, str(obj.get("kind", "")))


def _st(obj: Obj) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _spec(obj: Obj) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _conditions(obj: Obj) -> dict[str, Mapping[str, Any]]:
    return {
        str(c.get("type")): c for c in _st(obj).get("conditions") or () if isinstance(c, Mapping)
    }


def _cond_message(cond: Mapping[str, Any]) -> str:
    return str(cond.get("message") or cond.get("reason") or "")


def _generic(obj: Obj) -> Health | None:
    generation = (obj.get("metadata") or {}).get("generation")
    observed = _st(obj).get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        return Health(
            IN_PROGRESS, f"generation {generation} not yet observed (observed {observed})"
        )
    conditions = _conditions(obj)
    stalled = conditions.get("Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return Health(FAILED, _cond_message(stalled) or "stalled")
    reconciling = conditions.get("Reconciling")
    if reconciling is not None and reconciling.get("status") == "True":
        return Health(IN_PROGRESS, _cond_message(reconciling) or "reconciling")
    return None


def _ready_condition(obj: Obj) -> Health | None:
    ready = _conditions(obj).get("Ready")
    if ready is None:
        return None
    if ready.get("status") == "True":
        return Health(CURRENT, _cond_message(ready))
    if ready.get("status") == "False" and _st(obj).get("observedGeneration") is not None:
        reason = str(ready.get("reason") or "")
        if reason in ("Failed", "InstallFailed", "UpgradeFailed", "ArtifactFailed"):
            return Health(FAILED, _cond_message(ready))
    return Health(IN_PROGRESS, _cond_message(ready) or "not ready")


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) else default


def _deployment(obj: Obj) -> Health:
    spec, st = _spec(obj), _st(obj)
    if st.get("observedGeneration") is None and (obj.get("metadata") or {}).get("generation"):
        return Health(IN_PROGRESS, "the controller has not observed the Deployment yet")
    conditions = _conditions(obj)
    progressing = conditions.get("Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Health(FAILED, f"progress deadline exceeded: {_cond_message(progressing)}")
    want = _int(spec.get("replicas"), 1)
    have, updated = _int(st.get("replicas")), _int(st.get("updatedReplicas"))
    ready, available = _int(st.get("readyReplicas")), _int(st.get("availableReplicas"))
    if want > updated:
        return Health(IN_PROGRESS, f"updated replicas: {updated}/{want}")
    if have > updated:
        return Health(IN_PROGRESS, f"pending termination: {have - updated}")
    if updated > available:
        return Health(IN_PROGRESS, f"available replicas: {available}/{updated}")
    if want > ready:
        return Health(IN_PROGRESS, f"ready replicas: {ready}/{want}")
    if spec.get("progressDeadlineSeconds") is not None and not (
        progressing is not None
        and progressing.get("status") == "True"
        and progressing.get("reason") == "NewReplicaSetAvailable"
    ):
        return Health(IN_PROGRESS, "rollout not finished")
    avail = conditions.get("Available")
    if avail is None or avail.get("status") != "True":
        return Health(IN_PROGRESS, "not Available")
    return Health(CURRENT, f"Ready:{ready}/{want}")


def _statefulset(obj: Obj) -> Health:
    spec, st = _spec(obj), _st(obj)
    if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
        return Health(CURRENT, "OnDelete update strategy")
    if st.get("observedGeneration") is None:
        return Health(IN_PROGRESS, "the controller has not observed the StatefulSet yet")
    want = _int(spec.get("replicas"), 1)
    ready, current = _int(st.get("readyReplicas")), _int(st.get("currentReplicas"))
    if want > ready:
        return Health(IN_PROGRESS, f"ready replicas: {ready}/{want}")
    partition = _int(
        ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition")
    )
    if partition:
        updated = _int(st.get("updatedReplicas"))
        if updated < want - partition:
            return Health(IN_PROGRESS, f"partitioned rollout: {updated}/{want - partition}")
        return Health(CURRENT, "partitioned rollout complete")
    if st.get("updateRevision") and st.get("currentRevision") != st.get("updateRevision"):
        return Health(IN_PROGRESS, "waiting for the rollout to finish")
    if want > current:
        return Health(IN_PROGRESS, f"current replicas: {current}/{want}")
    return Health(CURRENT, f"Ready:{ready}/{want}")


def _daemonset(obj: Obj) -> Health:
    st = _st(obj)
    if st.get("observedGeneration") is None:
        return Health(IN_PROGRESS, "the controller has not observed the DaemonSet yet")
    desired = _int(st.get("desiredNumberScheduled"))
    for field in ("currentNumberScheduled", "updatedNumberScheduled", "numberAvailable"):
        if _int(st.get(field)) < desired:
            return Health(IN_PROGRESS, f"{field}: {_int(st.get(field))}/{desired}")
    if _int(st.get("numberReady")) < desired:
        return Health(IN_PROGRESS, f"ready: {_int(st.get('numberReady'))}/{desired}")
    return Health(CURRENT, f"Ready:{desired}/{desired}")


def _replicaset(obj: Obj) -> Health:
    st = _st(obj)
    failure = _conditions(obj).get("ReplicaFailure")
    if failure is not None and failure.get("status") == "True":
        return Health(IN_PROGRESS, _cond_message(failure) or "replica failure")
    want = _int(_spec(obj).get("replicas"), 1)
    for field in ("fullyLabeledReplicas", "availableReplicas", "readyReplicas"):
        if _int(st.get(field)) < want:
            return Health(IN_PROGRESS, f"{field}: {_int(st.get(field))}/{want}")
    return Health(CURRENT, f"Ready:{want}/{want}")


def _pod(obj: Obj) -> Health:
    st = _st(obj)
    phase = st.get("phase")
    if phase in ("Succeeded", "Failed"):
        return Health(CURRENT, f"pod {str(phase).lower()}")
    for container in st.get("containerStatuses") or ():
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            return Health(FAILED, f"container {container.get('name')} in CrashLoopBackOff")
    ready = _conditions(obj).get("Ready")
    if phase == "Running" and ready is not None and ready.get("status") == "True":
        return Health(CURRENT, "running")
    scheduled = _conditions(obj).get("PodScheduled")
    if scheduled is not None and scheduled.get("reason") == "Unschedulable":
        return Health(IN_PROGRESS, _cond_message(scheduled) or "unschedulable")
    return Health(IN_PROGRESS, f"pod phase {phase or 'Pending'}")


def _job(obj: Obj) -> Health:
    conditions = _conditions(obj)
    for kind, verdict in (("Complete", CURRENT), ("Failed", FAILED), ("Suspended", CURRENT)):
        cond = conditions.get(kind)
        if cond is not None and cond.get("status") == "True":
            return Health(verdict, _cond_message(cond) or f"job {kind.lower()}")
    st = _st(obj)
    if not st.get("startTime"):
        return Health(IN_PROGRESS, "job not started")
    return Health(
        CURRENT,
        f"Active/Failed/Succeeded:{_int(st.get('active'))}/{_int(st.get('failed'))}/"
        f"{_int(st.get('succeeded'))}",
    )


def _pvc(obj: Obj) -> Health:
    phase = _st(obj).get("phase")
    if phase == "Bound":
        return Health(CURRENT, "bound")
    return Health(IN_PROGRESS, f"claim {phase or 'Pending'}, not Bound")


def _service(obj: Obj) -> Health:
    spec = _spec(obj)
    if spec.get("type") == "LoadBalancer" and not spec.get("clusterIP"):
        return Health(IN_PROGRESS, "no cluster IP yet")
    return Health(CURRENT, "")


def _crd(obj: Obj) -> Health:
    conditions = _conditions(obj)
    names = conditions.get("NamesAccepted")
    if names is not None and names.get("status") == "False":
        return Health(FAILED, _cond_message(names) or "names not accepted")
    established = conditions.get("Established")
    if established is not None and established.get("status") == "True":
        return Health(CURRENT, "established")
    return Health(IN_PROGRESS, "not Established yet")


def _always(obj: Obj) -> Health:
    return Health(CURRENT, "")


_KIND_RULES: dict[tuple[str, str], Callable[[Obj], Health]] = {
    ("apps", "Deployment"): _deployment,
    ("extensions", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("extensions", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("", "Pod"): _pod,
    ("batch", "Job"): _job,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    ("", "Secret"): _always,
    ("", "ConfigMap"): _always,
    ("batch", "CronJob"): _always,
    ("policy", "PodDisruptionBudget"): _always,
}
