"""KubeVela's apply-side policies on the real control plane: read-only, apply-once,
garbage-collect orphan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.apply.conftest import actions, get, sailplan
from tests.cluster import Cluster

pytestmark = pytest.mark.cluster

Write = Callable[[str, str], Path]


def app_text(ns: str) -> str:
    def config(component: str, name: str) -> str:
        return f"""\
  - name: {component}
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: {name}}}, data: {{v: ours}}}}]
"""

    return (
        f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: pol, namespace: {ns}}}
spec:
  components:
"""
        + config("existing", "external")
        + config("kept", "kept")
        + config("once", "once")
        + """\
  policies:
  - name: look-only
    type: read-only
    properties: {rules: [{selector: {componentNames: [existing]}}]}
  - name: keep-on-delete
    type: garbage-collect
    properties: {rules: [{selector: {componentNames: [kept]}, propagation: orphan}]}
  - name: no-drift-fix
    type: apply-once
    properties: {enable: true, rules: [{selector: {componentNames: [once]}}]}
"""
    )


def test_read_only_apply_once_and_orphan(cluster: Cluster, namespace: str, write: Write) -> None:
    ns = namespace
    app = write("pol.yaml", app_text(ns))
    missing = sailplan(cluster, "apply", str(app), check=False)
    assert (
        f"ConfigMap/{ns}/external: is marked read-only (read-only policy) but does not exist"
        in missing.output
    )

    cluster.kubectl("create", "configmap", "external", "-n", ns, "--from-literal=v=theirs")
    first = sailplan(cluster, "apply", str(app))
    assert actions(first.output) == {
        f"ConfigMap/{ns}/external": "skipped",
        f"ConfigMap/{ns}/kept": "created",
        f"ConfigMap/{ns}/once": "created",
    }
    external = get(cluster, "configmap", "external", "-n", ns)
    assert external is not None and external["data"] == {"v": "theirs"}

    cluster.kubectl("patch", "configmap", "once", "-n", ns, "-p", '{"data": {"v": "edited"}}')
    cluster.kubectl("patch", "configmap", "kept", "-n", ns, "-p", '{"data": {"v": "edited"}}')
    again = sailplan(cluster, "apply", str(app), "--force")
    assert actions(again.output)[f"ConfigMap/{ns}/once"] == "skipped"
    assert actions(again.output)[f"ConfigMap/{ns}/kept"] == "configured"
    once = get(cluster, "configmap", "once", "-n", ns)
    assert once is not None and once["data"] == {"v": "edited"}

    gone = sailplan(cluster, "delete", "pol", "-n", ns)
    assert actions(gone.output) == {
        f"ConfigMap/{ns}/once": "deleted",
        f"ConfigMap/{ns}/kept": "orphaned",
        f"ConfigMap/{ns}/external": "skipped",
    }
    kept = get(cluster, "configmap", "kept", "-n", ns)
    assert kept is not None and "app.oam.dev/name" not in (kept["metadata"].get("labels") or {})
    assert get(cluster, "configmap", "external", "-n", ns) is not None
    assert get(cluster, "configmap", "once", "-n", ns, check=False) is None


def test_resource_update_replace_puts_the_whole_object(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    def text(value: str) -> str:
        return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: rep, namespace: {namespace}}}
spec:
  components:
  - name: conf
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: conf}}, data: {{v: {value}}}}}]
  policies:
  - name: put
    type: resource-update
    properties: {{rules: [{{selector: {{componentNames: [conf]}}, strategy: {{op: replace}}}}]}}
"""

    app = write("rep.yaml", text("one"))
    sailplan(cluster, "apply", str(app))
    cluster.kubectl("patch", "configmap", "conf", "-n", namespace, "-p", '{"data": {"extra": "x"}}')
    app.write_text(text("two"))
    result = sailplan(cluster, "apply", str(app))
    assert actions(result.output) == {f"ConfigMap/{namespace}/conf": "configured"}
    live = get(cluster, "configmap", "conf", "-n", namespace)
    # A replace writes the object as rendered: what others added is gone (a patch keeps it).
    assert live is not None and live["data"] == {"v": "two"}


def gc_app(ns: str, components: list[str], keep_legacy: bool) -> str:
    parts = "".join(
        f"""\
  - name: {c}
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: gc-{c}}}}}]
"""
        for c in components
    )
    legacy = "keepLegacyResource: true\n      " if keep_legacy else ""
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: gc, namespace: {ns}}}
spec:
  components:
{parts}  policies:
  - name: gc
    type: garbage-collect
    properties:
      {legacy}rules:
      - {{selector: {{componentNames: [never]}}, strategy: never}}
      - {{selector: {{componentNames: [later]}}, strategy: onAppDelete}}
"""


@pytest.mark.parametrize("keep_legacy", [False, True])
def test_garbage_collect_strategies_and_keep_legacy(
    cluster: Cluster, namespace: str, write: Write, keep_legacy: bool
) -> None:
    ns = namespace
    app = write("gc.yaml", gc_app(ns, ["plain", "never", "later", "stay"], keep_legacy))
    sailplan(cluster, "apply", str(app))

    app.write_text(gc_app(ns, ["stay"], keep_legacy))
    update = actions(sailplan(cluster, "apply", str(app)).output)
    # never: kept for good; onAppDelete (and every object under keepLegacyResource):
    # kept until the application is deleted.
    assert update[f"ConfigMap/{ns}/gc-never"] == "skipped"
    assert f"ConfigMap/{ns}/gc-later" not in update
    if keep_legacy:
        assert f"ConfigMap/{ns}/gc-plain" not in update
    else:
        assert update[f"ConfigMap/{ns}/gc-plain"] == "pruned"
    for name in ("never", "later", "stay"):
        assert get(cluster, "configmap", f"gc-{name}", "-n", ns) is not None
    plain = get(cluster, "configmap", "gc-plain", "-n", ns, check=False)
    assert (plain is not None) == keep_legacy

    deleted = actions(sailplan(cluster, "delete", "gc", "-n", ns).output)
    assert deleted[f"ConfigMap/{ns}/gc-later"] == "deleted"
    assert deleted[f"ConfigMap/{ns}/gc-stay"] == "deleted"
    if keep_legacy:
        assert deleted[f"ConfigMap/{ns}/gc-plain"] == "deleted"
    assert get(cluster, "configmap", "gc-never", "-n", ns) is not None
    for name in ("plain", "later", "stay"):
        assert get(cluster, "configmap", f"gc-{name}", "-n", ns, check=False) is None
