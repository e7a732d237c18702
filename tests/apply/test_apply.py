"""``sailplan apply`` and the commands around it, on the real control plane.

The seed's ``my-app`` goes through its life: apply, no-op re-apply, a replica change, the
gateway trait removed (prune), history, rollback, delete. Then what can go wrong: field
conflicts, objects of other applications, rejected objects, RBAC, unreachable servers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.apply.conftest import actions, events, get, sailplan, seed_app
from tests.cluster import Cluster

pytestmark = pytest.mark.cluster

Write = Callable[[str, str], Path]


def available(cluster: Cluster, ns: str, name: str) -> bool:
    obj = get(cluster, "deployment", name, "-n", ns, check=False)
    if not obj:
        return False
    conditions = {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions") or []}
    return (
        conditions.get("Available") == "True"
        and obj["status"].get("observedGeneration") == obj["metadata"]["generation"]
    )


def versions(cluster: Cluster, ns: str) -> dict[str, str]:
    found = get(cluster, "deployment,service,ingress,configmap", "-n", ns)
    assert found is not None
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
        for o in found["items"]
    }


def release_secrets(cluster: Cluster, ns: str) -> list[str]:
    found = get(cluster, "secrets", "-n", ns, "-l", "owner=sailplan")
    assert found is not None
    return sorted(o["metadata"]["name"] for o in found["items"])


def test_the_seed_app_lives_its_whole_life(cluster: Cluster, namespace: str, write: Write) -> None:
    ns = namespace
    app = write("my-app.yaml", seed_app(ns))
    dep, svc, ing = (
        f"Deployment/{ns}/my-server",
        f"Service/{ns}/my-server",
        f"Ingress/{ns}/my-server",
    )

    first = sailplan(cluster, "apply", str(app), "--timeout", "2m")
    assert actions(first.output) == {dep: "created", svc: "created", ing: "created"}
    assert f"{ns}/my-app: revision 1 deployed" in first.output
    assert available(cluster, ns, "my-server")

    before = versions(cluster, ns)
    again = sailplan(cluster, "apply", str(app))
    assert actions(again.output) == {dep: "unchanged", svc: "unchanged", ing: "unchanged"}
    assert "revision 1 is current, nothing new" in again.output
    assert versions(cluster, ns) == before
    assert release_secrets(cluster, ns) == ["sailplan.my-app.default.v1"]

    app.write_text(seed_app(ns).replace("replicas: 1", "replicas: 2"))
    scaled = sailplan(cluster, "apply", str(app), "--timeout", "2m")
    assert actions(scaled.output) == {dep: "configured", svc: "unchanged", ing: "unchanged"}
    deployment = get(cluster, "deployment", "my-server", "-n", ns)
    assert deployment is not None and deployment["status"]["availableReplicas"] == 2

    text = seed_app(ns).replace("replicas: 1", "replicas: 2")
    app.write_text(text[: text.index("    - type: gateway")])
    pruned = sailplan(cluster, "apply", str(app), "--timeout", "2m")
    assert actions(pruned.output) == {dep: "unchanged", svc: "pruned", ing: "pruned"}
    assert get(cluster, "service", "my-server", "-n", ns, check=False) is None
    assert get(cluster, "ingress", "my-server", "-n", ns, check=False) is None

    history = sailplan(cluster, "history", "my-app", "-n", ns)
    rows = [line.split() for line in history.output.splitlines()[1:]]
    assert [(r[0], r[3]) for r in rows] == [
        ("1", "superseded"),
        ("2", "superseded"),
        ("3", "deployed"),
    ]

    back = sailplan(
        cluster, "rollback", "my-app", "-n", ns, "--to-revision", "1", "--timeout", "2m"
    )
    assert actions(back.output) == {dep: "configured", svc: "created", ing: "created"}
    assert "revision 4 deployed" in back.output
    assert get(cluster, "service", "my-server", "-n", ns) is not None
    deployment = get(cluster, "deployment", "my-server", "-n", ns)
    assert deployment is not None and deployment["spec"]["replicas"] == 1
    assert "Rollback to 1" in sailplan(cluster, "history", "my-app", "-n", ns).output

    status = sailplan(cluster, "status", "my-app", "-n", ns)
    assert f"{ns}/my-app: revision 4 deployed, healthy" in status.output
    assert re.search(rf"{dep}\s+Current\s+Synced", status.output)
    listing = sailplan(cluster, "ls", "-n", ns)
    assert re.search(rf"my-app\s+{ns}\s+-\s+4\s+deployed\s+healthy", listing.output)

    gone = sailplan(cluster, "delete", "my-app", "-n", ns, "--timeout", "2m")
    assert actions(gone.output) == {dep: "deleted", svc: "deleted", ing: "deleted"}
    for kind in ("deployment", "service", "ingress"):
        assert get(cluster, kind, "my-server", "-n", ns, check=False) is None
    assert release_secrets(cluster, ns) == []


def test_json_events_one_per_object(cluster: Cluster, namespace: str, write: Write) -> None:
    app = write("my-app.yaml", seed_app(namespace))
    result = sailplan(cluster, "apply", str(app), "-o", "json", "--no-wait")
    changes = [e for e in events(result.output) if e["type"] == "change"]
    assert sorted(e["object"] for e in changes) == sorted(
        f"{k}/{namespace}/my-server" for k in ("Deployment", "Service", "Ingress")
    )
    assert events(result.output)[-1]["type"] == "summary"


def config_app(ns: str, name: str, data: str, extra: str = "") -> str:
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: {name}, namespace: {ns}}}
spec:
  components:
  - name: config
    type: k8s-objects
    properties:
      objects:
      - apiVersion: v1
        kind: ConfigMap
        metadata: {{name: settings}}
        data: {{mode: {data}}}
{extra}"""


def test_a_field_another_manager_owns_is_a_conflict_until_forced(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    app = write("app.yaml", config_app(namespace, "cfg", "fast"))
    sailplan(cluster, "apply", str(app))
    cluster.kubectl(
        "apply",
        "--server-side",
        "--field-manager=intruder",
        "--force-conflicts",
        "-f",
        "-",
        input=f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: {namespace}}}\ndata: {{mode: slow}}\n",
    )
    app.write_text(config_app(namespace, "cfg", "faster"))
    failed = sailplan(cluster, "apply", str(app), check=False)
    assert failed.exit_code == 1
    assert (
        f"error: ConfigMap/{namespace}/settings: field conflict: .data.mode (owned by field manager 'intruder')"
        in failed.output
    )
    forced = sailplan(cluster, "apply", str(app), "--force")
    assert actions(forced.output) == {f"ConfigMap/{namespace}/settings": "configured"}
    live = get(cluster, "configmap", "settings", "-n", namespace, "--show-managed-fields")
    assert live is not None and live["data"] == {"mode": "faster"}
    managers = {
        m["manager"]
        for m in live["metadata"]["managedFields"]
        if "f:mode" in str(m.get("fieldsV1"))
    }
    assert managers == {"sailplan"}


def test_objects_of_others_are_never_modified_or_pruned(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    ns = namespace
    cluster.kubectl("create", "configmap", "settings", "-n", ns, "--from-literal=mode=theirs")
    before = get(cluster, "configmap", "settings", "-n", ns)
    app = write("app.yaml", config_app(ns, "cfg", "ours"))
    refused = sailplan(cluster, "apply", str(app), check=False)
    assert refused.exit_code == 1
    assert (
        f"error: ConfigMap/{ns}/settings: exists and is not managed by any application"
        in refused.output
    )
    assert get(cluster, "configmap", "settings", "-n", ns) == before
    assert "sailplan" not in str(before)

    cluster.kubectl(
        "label",
        "configmap",
        "settings",
        "-n",
        ns,
        "app.oam.dev/name=other",
        f"app.oam.dev/namespace={ns}",
    )
    labelled = get(cluster, "configmap", "settings", "-n", ns)
    refused = sailplan(cluster, "apply", str(app), check=False)
    assert f"exists and is managed by application {ns}/other, not {ns}/cfg" in refused.output
    assert get(cluster, "configmap", "settings", "-n", ns) == labelled

    adopted = sailplan(cluster, "apply", str(app), "--take-over")
    assert actions(adopted.output) == {f"ConfigMap/{ns}/settings": "configured"}

    # The app drops the object, but someone relabelled it for another app first: kept.
    cluster.kubectl(
        "label", "--overwrite", "configmap", "settings", "-n", ns, "app.oam.dev/name=other"
    )
    app.write_text(config_app(ns, "cfg", "ours").replace("{name: settings}", "{name: renamed}"))
    moved = sailplan(cluster, "apply", str(app))
    assert actions(moved.output)[f"ConfigMap/{ns}/settings"] == "skipped"
    assert "labels no longer name this application" in moved.output
    assert get(cluster, "configmap", "settings", "-n", ns) is not None


def test_a_rejected_object_names_the_reason_and_the_component(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    text = f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: bad, namespace: {namespace}}}
spec:
  components:
  - name: ok
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: ok}}}}]
  - name: svc
    type: k8s-objects
    properties:
      objects:
      - apiVersion: v1
        kind: Service
        metadata: {{name: svc}}
        spec:
          ports: [{{port: 70000}}]
"""
    app = write("bad.yaml", text)
    result = sailplan(cluster, "apply", str(app), check=False)
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith(f"error: Service/{namespace}/svc: ")
    assert "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535" in line
    assert re.search(rf"\({re.escape(str(app))}:10: spec.components\[1\]", line), line
    assert "Traceback" not in result.output


def test_forbidden_names_the_verb_and_the_object(
    cluster: Cluster, namespace: str, write: Write, tmp_path: Path
) -> None:
    ns = namespace
    cluster.kubectl("create", "serviceaccount", "viewer", "-n", ns)
    cluster.kubectl(
        "create",
        "role",
        "releases",
        "-n",
        ns,
        "--verb=get,list,create,update",
        "--resource=secrets,configmaps",
    )
    cluster.kubectl(
        "create",
        "rolebinding",
        "releases",
        "-n",
        ns,
        "--role=releases",
        f"--serviceaccount={ns}:viewer",
    )
    token = cluster.kubectl("create", "token", "viewer", "-n", ns).stdout.strip()
    kubeconfig = cluster.kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout
    import json

    data = json.loads(kubeconfig)
    data["users"][0]["user"] = {"token": token}
    limited = tmp_path / "viewer.kubeconfig"
    limited.write_text(json.dumps(data))
    app = write("app.yaml", config_app(ns, "cfg", "x"))
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(
        main, ["apply", str(app), "--kubeconfig", str(limited)], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith(f"error: ConfigMap/{ns}/settings: forbidden: "), line
    assert (
        'cannot patch resource "configmaps"' in line
        and f"system:serviceaccount:{ns}:viewer" in line
    )


@pytest.mark.parametrize(
    ("kubeconfig", "expected"),
    [
        ("missing", "does not exist"),
        ("garbage", "kubeconfig"),
        ("closed-port", "cannot reach the API server https://127.0.0.1:1"),
        ("unknown-context", "kubeconfig"),
    ],
)
def test_no_cluster_fails_fast_and_clearly(
    cluster: Cluster, write: Write, tmp_path: Path, kubeconfig: str, expected: str
) -> None:
    import json

    from click.testing import CliRunner

    from cli import main

    app = write("app.yaml", config_app("default", "cfg", "x"))
    args = ["apply", str(app)]
    if kubeconfig == "missing":
        args += ["--kubeconfig", str(tmp_path / "nope")]
    elif kubeconfig == "garbage":
        args += ["--kubeconfig", str(write("garbage", "clusters: [[["))]
    elif kubeconfig == "unknown-context":
        args += ["--kubeconfig", str(cluster.kubeconfig), "--context", "nowhere"]
    else:
        data = json.loads(
            cluster.kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout
        )
        data["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
        args += ["--kubeconfig", str(write("closed", json.dumps(data)))]
    started = time.monotonic()
    result = CliRunner().invoke(main, args, env={"NO_COLOR": "1"})
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def secret_app(ns: str, value: str) -> str:
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: vault, namespace: {ns}}}
spec:
  components:
  - name: creds
    type: k8s-objects
    properties:
      objects:
      - apiVersion: v1
        kind: Secret
        metadata: {{name: creds}}
        stringData: {{password: {value}}}
"""


def test_secret_values_never_appear(cluster: Cluster, namespace: str, write: Write) -> None:
    import base64

    first, second = "s3cr3t-first-value", "s3cr3t-second-value"
    app = write("vault.yaml", secret_app(namespace, first))
    outputs = [
        sailplan(cluster, "apply", str(app)).output,
        sailplan(cluster, "apply", str(app), "-o", "json").output,
    ]
    app.write_text(secret_app(namespace, second))
    for fmt in ("text", "json", "markdown"):
        diff = sailplan(cluster, "diff", str(app), "--live", "-o", fmt, "--exit-code", check=False)
        assert diff.exit_code == 3, diff.output
        assert f"Secret/{namespace}/creds" in diff.output or "creds" in diff.output
        outputs.append(diff.output)
    outputs.append(sailplan(cluster, "apply", str(app), "-o", "json").output)
    outputs.append(sailplan(cluster, "status", "vault", "-n", namespace).output)
    outputs.append(sailplan(cluster, "history", "vault", "-n", namespace, "-o", "json").output)
    for text in outputs:
        for value in (first, second):
            assert value not in text
            assert base64.b64encode(value.encode()).decode() not in text
    same = sailplan(cluster, "diff", str(app), "--live", "--exit-code", check=False)
    assert same.exit_code == 0, same.output


def test_diff_live_shows_what_apply_would_change(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    app = write("my-app.yaml", seed_app(namespace))
    before = sailplan(cluster, "diff", str(app), "--live", "-o", "json", "--exit-code", check=False)
    assert before.exit_code == 3
    sailplan(cluster, "apply", str(app), "--no-wait")
    assert sailplan(cluster, "diff", str(app), "--live", "--exit-code", check=False).exit_code == 0
    app.write_text(seed_app(namespace).replace("replicas: 1", "replicas: 3"))
    changed = sailplan(cluster, "diff", str(app), "--live", check=False)
    assert "-  replicas: 1" in changed.output and "+  replicas: 3" in changed.output
    deployment = get(cluster, "deployment", "my-server", "-n", namespace)
    assert deployment is not None and deployment["spec"]["replicas"] == 1


def test_dry_run_server_changes_nothing(cluster: Cluster, namespace: str, write: Write) -> None:
    app = write("my-app.yaml", seed_app(namespace))
    result = sailplan(cluster, "apply", str(app), "--dry-run", "server")
    assert set(actions(result.output).values()) == {"created"}
    assert get(cluster, "deployment", "my-server", "-n", namespace, check=False) is None
    assert release_secrets(cluster, namespace) == []


def test_immutable_field_is_an_error_until_forced(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    app = write("my-app.yaml", seed_app(namespace))
    sailplan(cluster, "apply", str(app), "--no-wait")
    # The same Deployment with another selector: selectors are immutable.
    raw = f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: my-app, namespace: {namespace}}}
spec:
  components:
  - name: my-server
    type: k8s-objects
    properties:
      objects:
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: my-server}}
        spec:
          selector: {{matchLabels: {{app.oam.dev/component: my-server, extra: x}}}}
          template:
            metadata: {{labels: {{app.oam.dev/component: my-server, extra: x}}}}
            spec: {{containers: [{{name: c, image: nginx}}]}}
"""
    app.write_text(raw)
    refused = sailplan(cluster, "apply", str(app), "--no-wait", "--no-prune", check=False)
    assert refused.exit_code == 1
    assert f"Deployment/{namespace}/my-server: field spec.selector is immutable" in refused.output
    assert "--force deletes and recreates" in refused.output
    forced = sailplan(cluster, "apply", str(app), "--no-wait", "--force")
    assert actions(forced.output)[f"Deployment/{namespace}/my-server"] == "recreated"
    live = get(cluster, "deployment", "my-server", "-n", namespace)
    assert live is not None and live["spec"]["selector"]["matchLabels"]["extra"] == "x"


def test_timeout_names_the_objects_not_healthy(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    raw = f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: stuck, namespace: {namespace}}}
spec:
  components:
  - name: claim
    type: k8s-objects
    properties:
      objects:
      - apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {{name: data}}
        spec:
          accessModes: [ReadWriteOnce]
          storageClassName: nothing-provides-this
          resources: {{requests: {{storage: 1Gi}}}}
"""
    app = write("stuck.yaml", raw)
    started = time.monotonic()
    result = sailplan(cluster, "apply", str(app), "--timeout", "3s", check=False)
    assert time.monotonic() - started < 30
    assert result.exit_code == 1
    assert re.search(
        rf"error: PersistentVolumeClaim/{namespace}/data: not healthy after \d+(\.\d)?s: "
        rf"PersistentVolumeClaim/{namespace}/data InProgress: claim Pending, not Bound",
        result.output,
    ), result.output
    history = sailplan(cluster, "history", "stuck", "-n", namespace)
    assert "failed" in history.output


def test_custom_resources_wait_for_their_crd(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    group = f"{namespace}.example.com"
    raw = f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: widgets, namespace: {namespace}}}
spec:
  components:
  - name: widget
    type: k8s-objects
    properties:
      objects:
      - apiVersion: {group}/v1
        kind: Widget
        metadata: {{name: w1}}
        spec: {{size: 3}}
  - name: crd
    type: k8s-objects
    properties:
      objects:
      - apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: widgets.{group}}}
        spec:
          group: {group}
          names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
"""
    app = write("widgets.yaml", raw)
    try:
        result = sailplan(cluster, "apply", str(app), "--prune-kinds", "CustomResourceDefinition")
        order = list(actions(result.output))
        assert order == [f"CustomResourceDefinition/widgets.{group}", f"Widget/{namespace}/w1"]
        assert get(cluster, f"widgets.{group}", "w1", "-n", namespace) is not None
    finally:
        cluster.kubectl("delete", "crd", f"widgets.{group}", "--wait=false", check=False)


def gated_app(ns: str, ready: str) -> str:
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: gated, namespace: {ns}}}
spec:
  components:
  - name: gate
    type: gated-config
    properties: {{ready: {ready}, want: "yes"}}
"""


def test_a_definitions_health_rule_gates_the_apply(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    definitions = str(Path(__file__).resolve().parents[1] / "cases/apply/definitions")
    app = write("gated.yaml", gated_app(namespace, "'no'"))
    waiting = sailplan(
        cluster, "apply", str(app), "-d", definitions, "--timeout", "3s", check=False
    )
    assert waiting.exit_code == 1
    assert (
        f"ConfigMap/{namespace}/gate InProgress: health policy is false: "
        "context.output.data.ready == parameter.want"
    ) in waiting.output
    status = sailplan(cluster, "status", "gated", "-n", namespace)
    assert re.search(
        rf"ConfigMap/{namespace}/gate\s+InProgress\s+Synced\s+health policy", status.output
    )
    app.write_text(gated_app(namespace, '"yes"'))
    ready = sailplan(cluster, "apply", str(app), "-d", definitions, "--timeout", "30s")
    assert actions(ready.output) == {f"ConfigMap/{namespace}/gate": "configured"}
    assert "healthy: ConfigMap" in ready.output
