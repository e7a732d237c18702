"""Workflow steps that write, read and delete objects by KubeVela's conventions.

``ClusterSteps`` (``engine.apply.workflow``) applies the application; the steps here do
the rest of KubeVela's cluster work: ``export-data`` (a ConfigMap or Secret),
``export-service`` (a Service and its Endpoints), ``collect-service-endpoints`` (the
application's Services and Ingresses as endpoints), the config steps (configs are
Secrets labelled ``config.oam.dev/catalog: velacore-config`` with the content as JSON
under ``input-properties``), ``clean-jobs`` (Jobs and Pods by label),
``apply-deployment`` (a Deployment from an image, waited for until ready) and
``restart-workflow`` (records when the workflow restarts; see ``restart_due``). Only
the cluster sailplan is connected to is reached: a ``topology`` or ``cluster`` naming
another is an error that says so.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.apply.client import ClusterClient
from engine.errors import SailplanError
from engine.model import Application, ResourceId
from engine.workflow import StepCall, StepExecutor, StepResult

CONFIG_CATALOG_LABEL = "config.oam.dev/catalog"
CONFIG_CATALOG = "velacore-config"
CONFIG_TYPE_LABEL = "config.oam.dev/type"
CONFIG_KEY = "input-properties"
STEP_LABEL = "workflow.oam.dev/step-name"
JOB_LABEL = "workflow.oam.dev/name"
LOCAL = ("", "local")
#: How a ``restart-workflow`` step's message starts; the RFC 3339 time follows.
RESTART_AT = "the workflow restarts at "
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclasses.dataclass
class ObjectSteps:
    """The object-writing executors of one application's workflow run."""

    client: ClusterClient
    app: Application

    def executors(self) -> dict[str, StepExecutor]:
        return {
            "export-data": self.export_data,
            "export-service": self.export_service,
            "collect-service-endpoints": self.collect_service_endpoints,
            "create-config": self.create_config,
            "read-config": self.read_config,
            "list-config": self.list_config,
            "delete-config": self.delete_config,
            "clean-jobs": self.clean_jobs,
            "apply-deployment": self.apply_deployment,
            "restart-workflow": restart_workflow,
        }

    def _namespace(self, p: Mapping[str, Any]) -> str:
        return str(p.get("namespace") or self.app.namespace)

    def _apply(self, objs: Sequence[Mapping[str, Any]], *, secret: bool = False) -> StepResult:
        written = []
        for obj in objs:
            meta = obj["metadata"]
            try:
                self.client.apply(obj, force=True)
            except SailplanError as exc:
                return StepResult.failed(exc.message)
            written.append(f"{obj['kind']}/{meta['namespace']}/{meta['name']}")
        hidden = " (values hidden)" if secret else ""
        return StepResult.done(message="wrote " + ", ".join(written) + hidden)

    # -- export-data, export-service ---------------------------------------------------

    def export_data(self, call: StepCall) -> StepResult:
        p = call.properties
        if (refused := topology_check(self.app, p.get("topology"))) is not None:
            return StepResult.failed(refused)
        kind = str(p.get("kind") or "ConfigMap")
        data = {k: _text(v) for k, v in dict(p["data"]).items()}
        obj = {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {
                "name": str(p.get("name") or self.app.name),
                "namespace": self._namespace(p),
            },
            "stringData" if kind == "Secret" else "data": data,
        }
        return self._apply([obj], secret=kind == "Secret")

    def export_service(self, call: StepCall) -> StepResult:
        p = call.properties
        if (refused := topology_check(self.app, p.get("topology"))) is not None:
            return StepResult.failed(refused)
        meta = {"name": str(p.get("name") or self.app.name), "namespace": self._namespace(p)}
        port, target = int(p["port"]), int(p["targetPort"])
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "type": "ClusterIP",
                "ports": [{"protocol": "TCP", "port": port, "targetPort": target}],
            },
        }
        endpoints = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": meta,
            "subsets": [{"addresses": [{"ip": str(p["ip"])}], "ports": [{"port": target}]}],
        }
        return self._apply([service, endpoints])

    # -- collect-service-endpoints -----------------------------------------------------

    def collect_service_endpoints(self, call: StepCall) -> StepResult:
        p = call.properties
        name, namespace = str(p.get("name") or self.app.name), self._namespace(p)
        selector = f"app.oam.dev/name={name}"
        try:
            services = self.client.list("v1", "Service", namespace, selector)
            ingresses = self.client.list("networking.k8s.io/v1", "Ingress", namespace, selector)
        except SailplanError as exc:
            return StepResult.error(exc.message)
        found = service_endpoints(services) + ingress_endpoints(ingresses)
        chosen = filter_endpoints(
            found,
            components=p.get("components"),
            port=p.get("port"),
            port_name=p.get("portName"),
            outer=p.get("outer"),
        )
        if not chosen:
            return StepResult.wait(f"waiting for endpoints of application {namespace}/{name}")
        first = chosen[0]["endpoint"]
        scheme = str(p.get("protocal") or "http")
        value = {
            "endpoints": chosen,
            "endpoint": first,
            "url": f"{scheme}://{first['host']}:{first['port']}",
        }
        return StepResult.done({"value": value, **value}, message=value["url"])

    # -- configs -----------------------------------------------------------------------

    def create_config(self, call: StepCall) -> StepResult:
        p = call.properties
        labels = {CONFIG_CATALOG_LABEL: CONFIG_CATALOG}
        if p.get("template"):
            labels[CONFIG_TYPE_LABEL] = str(p["template"])
        content = json.dumps(dict(p["config"]), separators=(",", ":"), sort_keys=True)
        obj = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": str(p["name"]), "namespace": self._namespace(p), "labels": labels},
            "stringData": {CONFIG_KEY: content},
        }
        return self._apply([obj], secret=True)

    def read_config(self, call: StepCall) -> StepResult:
        p = call.properties
        ref = ResourceId("v1", "Secret", self._namespace(p), str(p["name"]))
        try:
            live = self.client.get(ref)
        except SailplanError as exc:
            return StepResult.error(exc.message)
        if live is None or not _is_config(live):
            return StepResult.failed(f"config {ref.namespace}/{ref.name} not found")
        try:
            config = config_content(live)
        except ValueError as exc:
            return StepResult.failed(f"config {ref.namespace}/{ref.name}: {exc}")
        return StepResult.done(_returns({"config": config}), message=f"read config {ref.name}")

    def list_config(self, call: StepCall) -> StepResult:
        p = call.properties
        namespace, template = self._namespace(p), str(p["template"])
        selector = f"{CONFIG_CATALOG_LABEL}={CONFIG_CATALOG},{CONFIG_TYPE_LABEL}={template}"
        try:
            found = self.client.list("v1", "Secret", namespace, selector)
        except SailplanError as exc:
            return StepResult.error(exc.message)
        configs = []
        for secret in sorted(found, key=lambda s: str(s["metadata"]["name"])):
            try:
                configs.append(
                    {"name": secret["metadata"]["name"], "config": config_content(secret)}
                )
            except ValueError:
                continue
        return StepResult.done(
            _returns({"configs": configs}), message=f"{len(configs)} {template} config(s)"
        )

    def delete_config(self, call: StepCall) -> StepResult:
        p = call.properties
        ref = ResourceId("v1", "Secret", self._namespace(p), str(p["name"]))
        try:
            live = self.client.get(ref)
            if live is not None and not _is_config(live):
                return StepResult.failed(
                    f"Secret/{ref.namespace}/{ref.name} is not a config "
                    f"(no label {CONFIG_CATALOG_LABEL}={CONFIG_CATALOG}); not deleted"
                )
            gone = live is not None and self.client.delete(ref)
        except SailplanError as exc:
            return StepResult.error(exc.message)
        return StepResult.done(
            message=f"deleted config {ref.name}" if gone else f"config {ref.name} did not exist"
        )

    # -- clean-jobs, apply-deployment ---------------------------------------------------

    def clean_jobs(self, call: StepCall) -> StepResult:
        p = call.properties
        namespace = self._namespace(p)
        labels = dict(p.get("labelselector") or {JOB_LABEL: self.app.name})
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        deleted = 0
        try:
            for api_version, kind in (("batch/v1", "Job"), ("v1", "Pod")):
                for obj in self.client.list(api_version, kind, namespace, selector):
                    ref = ResourceId(api_version, kind, namespace, obj["metadata"]["name"])
                    deleted += self.client.delete(ref, propagation="Background")
        except SailplanError as exc:
            return StepResult.error(exc.message)
        return StepResult.done(message=f"deleted {deleted} Job(s)/Pod(s) matching {selector}")

    def apply_deployment(self, call: StepCall) -> StepResult:
        p = call.properties
        if str(p.get("cluster") or "") not in LOCAL:
            return StepResult.failed(_remote(f"cluster {p['cluster']!r}"))
        obj = deployment(self.app.name, self.app.namespace, call.step.name, p)
        ref = ResourceId("apps/v1", "Deployment", self.app.namespace, call.step.name)
        try:
            self.client.apply(obj, force=True)
        except SailplanError as exc:
            return StepResult.failed(exc.message)
        try:
            live = self.client.get(ref) or {}
        except SailplanError as exc:
            return StepResult.error(exc.message)
        want = int(p.get("replicas", 1))
        ready = int((live.get("status") or {}).get("readyReplicas") or 0)
        if ready != want:
            subject = f"Deployment/{ref.namespace}/{ref.name}"
            return StepResult.wait(f"waiting for {subject}: ready replicas {ready}/{want}")
        return StepResult.done(
            {"value": dict(live)}, message=f"Deployment/{ref.namespace}/{ref.name} ready"
        )


# -- pure parts ---------------------------------------------------------------------------


def deployment(app: str, namespace: str, step: str, p: Mapping[str, Any]) -> dict[str, Any]:
    """``apply-deployment``'s Deployment, as KubeVela's CUE builds it."""
    label = {STEP_LABEL: f"{app}-{step}"}
    container: dict[str, Any] = {"name": step, "image": str(p["image"])}
    if p.get("cmd") is not None:
        container["command"] = [str(c) for c in p["cmd"]]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": step, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": label},
            "replicas": int(p.get("replicas", 1)),
            "template": {"metadata": {"labels": label}, "spec": {"containers": [container]}},
        },
    }


def service_endpoints(services: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Endpoints of Services: ``name.namespace`` inside; a load balancer's address outside."""
    out: list[dict[str, Any]] = []
    for svc in sorted(services, key=lambda s: str(s["metadata"]["name"])):
        meta, spec = svc["metadata"], svc.get("spec") or {}
        component = (meta.get("labels") or {}).get("app.oam.dev/component", "")
        ref = {"apiVersion": "v1", "kind": "Service", "namespace": meta["namespace"]}
        ref["name"] = meta["name"]
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        for port in spec.get("ports") or []:
            base = {"port": port["port"], "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                base["portName"] = port["name"]
            if port.get("appProtocol"):
                base["appProtocol"] = port["appProtocol"]
            host = f"{meta['name']}.{meta['namespace']}"
            out.append(_endpoint({**base, "host": host, "inner": True}, ref, component))
            if spec.get("type") == "LoadBalancer":
                for lb in ingress:
                    address = lb.get("hostname") or lb.get("ip")
                    if address:
                        out.append(_endpoint({**base, "host": address}, ref, component))
    return out


def ingress_endpoints(ingresses: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Endpoints of Ingresses: each rule's host and path, port 443 with TLS, else 80."""
    out: list[dict[str, Any]] = []
    for ing in sorted(ingresses, key=lambda s: str(s["metadata"]["name"])):
        meta, spec = ing["metadata"], ing.get("spec") or {}
        component = (meta.get("labels") or {}).get("app.oam.dev/component", "")
        ref = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}
        ref |= {"namespace": meta["namespace"], "name": meta["name"]}
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        for rule in spec.get("rules") or []:
            host = rule.get("host")
            if not host:
                continue
            tls = host in tls_hosts
            for path in (rule.get("http") or {}).get("paths") or [{"path": "/"}]:
                endpoint = {
                    "host": host,
                    "port": 443 if tls else 80,
                    "protocol": "TCP",
                    "appProtocol": "https" if tls else "http",
                    "path": path.get("path", "/"),
                }
                out.append(_endpoint(endpoint, ref, component))
    return out


def filter_endpoints(
    endpoints: Sequence[Mapping[str, Any]],
    *,
    components: Sequence[str] | None = None,
    port: int | None = None,
    port_name: str | None = None,
    outer: bool | None = None,
) -> list[dict[str, Any]]:
    """KubeVela's filters: components, port name, port, then only outer ones if asked."""
    out = []
    for ep in endpoints:
        e = ep["endpoint"]
        if components is not None and ep.get("component") not in components:
            continue
        if port_name is not None and e.get("portName") != port_name:
            continue
        if port is not None and e.get("port") != port:
            continue
        if outer and e.get("inner", False):
            continue
        out.append(dict(ep))
    return out


def config_content(secret: Mapping[str, Any]) -> dict[str, Any]:
    """A config Secret's content: the JSON under ``input-properties`` (``{}`` without)."""
    raw = (secret.get("data") or {}).get(CONFIG_KEY)
    if raw is None:
        return {}
    try:
        content = json.loads(base64.b64decode(raw))
    except ValueError as exc:
        raise ValueError(f"{CONFIG_KEY} is not JSON") from exc
    if not isinstance(content, dict):
        raise ValueError(f"{CONFIG_KEY} is not a JSON object")
    return content


def restart_workflow(call: StepCall) -> StepResult:
    """``restart-workflow``: when the workflow restarts (``at``, ``after`` or ``every``).

    The step's message (kept in the stored state) names the time; ``restart_due``
    reads it back, so the next ``resume`` restarts a finished workflow that is due.
    """
    p = call.properties
    given = [k for k in ("at", "after", "every") if p.get(k) is not None]
    if len(given) != 1:
        return StepResult.failed(
            "exactly one of 'at', 'after' or 'every' must be given "
            f"(found {len(given)}: {', '.join(given) or 'none'})"
        )
    key = given[0]
    text = str(p[key])
    if key == "at":
        at = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        value: dict[str, Any] = {"restartAt": at}
    else:
        seconds = interval_seconds(text)
        value = {"restartAt": call.now + seconds}
        if key == "every":
            value["every"] = seconds
    when = datetime.fromtimestamp(value["restartAt"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    every = f" (then every {text})" if key == "every" else ""
    return StepResult.done(value, message=f"{RESTART_AT}{when}{every}")


def interval_seconds(text: str) -> float:
    """``5m``, ``1h``, ``2d``, ``30s`` as seconds (the schema allows only these)."""
    if len(text) < 2 or text[-1] not in _UNITS or not text[:-1].isdigit():
        raise ValueError(f"invalid interval {text!r} (expected 30s, 5m, 1h or 2d)")
    return timedelta(seconds=int(text[:-1]) * _UNITS[text[-1]]).total_seconds()


def restart_due(state: Mapping[str, Any], now: float) -> bool:
    """Whether a succeeded ``restart-workflow`` step of ``state`` (a stored state
    document) asks for a restart by ``now``."""
    for step in _walk(state.get("steps") or ()):
        if step.get("type") != "restart-workflow" or step.get("phase") != "succeeded":
            continue
        message = str(step.get("message") or "")
        if not message.startswith(RESTART_AT):
            continue
        when = message[len(RESTART_AT) :].split(" ", 1)[0]
        try:
            at = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
        if at <= now:
            return True
    return False


def _walk(steps: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for s in steps:
        out.append(s)
        out.extend(_walk(s.get("subSteps") or s.get("sub_steps") or ()))
    return out


def _endpoint(endpoint: dict[str, Any], ref: dict[str, Any], component: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "ref": ref, "component": component, "cluster": "local"}


def _returns(value: dict[str, Any]) -> dict[str, Any]:
    """A config step's value: readable as ``output.$returns.<key>`` (KubeVela's path)
    and as ``<key>``."""
    return {"output": {"$returns": value, **value}, **value}


def _is_config(secret: Mapping[str, Any]) -> bool:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(CONFIG_CATALOG_LABEL) == CONFIG_CATALOG


def topology_check(app: Application, name: str | None) -> str | None:
    """Why a step's ``topology`` cannot be used here (None: the local cluster only)."""
    if not name:
        return None
    found = [p for p in app.policies if p.name == name and p.type == "topology"]
    if not found:
        known = ", ".join(sorted(p.name for p in app.policies if p.type == "topology"))
        return f"no topology policy named {name!r} (topology policies: {known or 'none'})"
    props = found[0].properties
    clusters = props.get("clusters")
    selector = props.get("clusterLabelSelector") or props.get("clusterSelector")
    if clusters is None and not selector:
        return None  # KubeVela: no clusters and no selector is the local cluster
    if clusters is not None and set(map(str, clusters)) <= {"local"}:
        return None
    return _remote(f"topology {name!r}")


def _remote(what: str) -> str:
    return (
        f"{what}: sailplan's workflow runner reaches only the cluster it is connected to "
        "(other clusters are not supported yet); drop it to write to this cluster"
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
