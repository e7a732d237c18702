"""KubeVela's shared-resource and garbage-collect ``order: dependency`` policies, and the
release-history limit, on the real control plane."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.apply.conftest import actions, get, sailplan, sailplan_process, wait_for
from tests.cluster import Cluster

pytestmark = pytest.mark.cluster

Write = Callable[[str, str], Path]

SHARED_BY = "app.oam.dev/shared-by"


def sharing_app(ns: str, name: str, data: str, share: bool = True) -> str:
    policy = """\
  policies:
  - name: share
    type: shared-resource
    properties: {rules: [{selector: {resourceTypes: [ConfigMap]}}]}
"""
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: {name}, namespace: {ns}}}
spec:
  components:
  - name: conf
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: common}}, data: {data}}}]
""" + (policy if share else "")


def labels_of(obj: dict[str, object] | None) -> dict[str, str]:
    assert obj is not None
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    return dict(meta.get("labels") or {})


def shared_by(obj: dict[str, object] | None) -> str:
    assert obj is not None
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    return str((meta.get("annotations") or {}).get(SHARED_BY, ""))


def test_two_apps_share_a_configmap_and_the_last_one_deletes_it(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    ns = namespace
    subject = f"ConfigMap/{ns}/common"
    first = write("first.yaml", sharing_app(ns, "first", "{who: first, a: '1'}"))
    second = write("second.yaml", sharing_app(ns, "second", "{who: second, b: '2'}"))

    created = sailplan(cluster, "apply", str(first))
    assert actions(created.output) == {subject: "created"}
    live = get(cluster, "configmap", "common", "-n", ns)
    assert shared_by(live) == f"{ns}/first"
    assert labels_of(live)["app.oam.dev/name"] == "first"

    joined = sailplan(cluster, "apply", str(second))
    assert actions(joined.output) == {subject: "configured"}
    assert f"joined {SHARED_BY}; owned by {ns}/first" in joined.output
    live = get(cluster, "configmap", "common", "-n", ns)
    assert live is not None
    # The second app only appends itself: the first app's data and labels stay.
    assert shared_by(live) == f"{ns}/first,{ns}/second"
    assert live["data"] == {"who": "first", "a": "1"}
    assert labels_of(live)["app.oam.dev/name"] == "first"

    # Both re-apply: nothing moves, the list keeps both.
    again = sailplan(cluster, "apply", str(second))
    assert actions(again.output) == {subject: "skipped"}
    owner_again = sailplan(cluster, "apply", str(first))
    assert actions(owner_again.output) == {subject: "unchanged"}
    assert shared_by(get(cluster, "configmap", "common", "-n", ns)) == f"{ns}/first,{ns}/second"

    # A third app without the policy may not touch it.
    third = write("third.yaml", sharing_app(ns, "third", "{who: third}", share=False))
    refused = sailplan(cluster, "apply", str(third), check=False)
    assert refused.exit_code == 1
    assert f"{subject}: exists and is managed by application {ns}/first" in refused.output

    # The owner leaves: the object stays, handed to the second app.
    left = sailplan(cluster, "delete", "first", "-n", ns)
    assert actions(left.output) == {subject: "skipped"}
    assert f"still shared by {ns}/second; owned by {ns}/second" in left.output
    live = get(cluster, "configmap", "common", "-n", ns)
    assert live is not None
    assert shared_by(live) == f"{ns}/second"
    assert labels_of(live)["app.oam.dev/name"] == "second"
    assert labels_of(live)["app.oam.dev/namespace"] == ns

    # Now the owner, the second app's apply writes its own data.
    owned = sailplan(cluster, "apply", str(second))
    assert actions(owned.output) == {subject: "configured"}
    live = get(cluster, "configmap", "common", "-n", ns)
    assert live is not None and live["data"] == {"who": "second", "b": "2"}

    # The last sharer deletes it.
    last = sailplan(cluster, "delete", "second", "-n", ns)
    assert actions(last.output) == {subject: "deleted"}
    assert get(cluster, "configmap", "common", "-n", ns, check=False) is None


def test_a_sharer_that_is_not_the_owner_leaves_on_prune(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    ns = namespace
    first = write("first.yaml", sharing_app(ns, "first", "{who: first}"))
    second_text = sharing_app(ns, "second", "{who: second}")
    second = write("second.yaml", second_text)
    sailplan(cluster, "apply", str(first))
    sailplan(cluster, "apply", str(second))
    assert shared_by(get(cluster, "configmap", "common", "-n", ns)) == f"{ns}/first,{ns}/second"

    # The second app stops using it: it leaves the list; the owner's object is untouched.
    other = "{apiVersion: v1, kind: ConfigMap, metadata: {name: other}, data: {x: y}}"
    without = second_text.replace(
        "[{apiVersion: v1, kind: ConfigMap, metadata: {name: common}, data: {who: second}}]",
        f"[{other}]",
    )
    second.write_text(without)
    result = sailplan(cluster, "apply", str(second))
    assert actions(result.output)[f"ConfigMap/{ns}/common"] == "skipped"
    live = get(cluster, "configmap", "common", "-n", ns)
    assert live is not None
    assert shared_by(live) == f"{ns}/first"
    assert labels_of(live)["app.oam.dev/name"] == "first"
    assert live["data"] == {"who": "first"}


def dependency_app(ns: str, name: str, ordered: bool) -> str:
    policy = """\
  policies:
  - name: gc
    type: garbage-collect
    properties: {order: dependency}
"""
    return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: {name}, namespace: {ns}}}
spec:
  components:
  - name: db
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: {name}-db}}, data: {{v: db}}}}]
  - name: web
    type: k8s-objects
    dependsOn: [db]
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: {name}-web}}, data: {{v: web}}}}]
""" + (policy if ordered else "")


HOLD = '{"metadata": {"finalizers": ["example.com/hold"]}}'
RELEASE = '{"metadata": {"finalizers": null}}'


def deleting(cluster: Cluster, ns: str, name: str) -> bool:
    live = get(cluster, "configmap", name, "-n", ns, check=False)
    return live is None or bool(live["metadata"].get("deletionTimestamp"))


def test_garbage_collect_order_dependency_deletes_dependents_first(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    ns = namespace
    for name, ordered in (("plain", False), ("ordered", True)):
        app = write(f"{name}.yaml", dependency_app(ns, name, ordered))
        sailplan(cluster, "apply", str(app))
        # The dependent cannot go until its finalizer is removed.
        cluster.kubectl("patch", "configmap", f"{name}-web", "-n", ns, "-p", HOLD)

    # Without the policy both are deleted at once.
    sailplan(cluster, "delete", "plain", "-n", ns, "--no-wait")
    assert deleting(cluster, ns, "plain-web")
    assert get(cluster, "configmap", "plain-db", "-n", ns, check=False) is None
    cluster.kubectl("patch", "configmap", "plain-web", "-n", ns, "-p", RELEASE)

    # With order: dependency, db waits until web is gone.
    process = sailplan_process(cluster, "delete", "ordered", "-n", ns, "--timeout", "60s")
    try:
        wait_for(lambda: deleting(cluster, ns, "ordered-web"), "ordered-web to be deleting")
        time.sleep(2)
        db = get(cluster, "configmap", "ordered-db", "-n", ns)
        assert db is not None and not db["metadata"].get("deletionTimestamp")
        assert process.poll() is None
        cluster.kubectl("patch", "configmap", "ordered-web", "-n", ns, "-p", RELEASE)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert actions(out) == {
        f"ConfigMap/{ns}/ordered-web": "deleted",
        f"ConfigMap/{ns}/ordered-db": "deleted",
    }
    assert out.index("ordered-web deleted") < out.index("ordered-db deleted")
    assert get(cluster, "configmap", "ordered-db", "-n", ns, check=False) is None


def test_dependency_order_on_prune(cluster: Cluster, namespace: str, write: Write) -> None:
    ns = namespace
    text = dependency_app(ns, "pr", True)
    app = write("pr.yaml", text)
    sailplan(cluster, "apply", str(app))
    cluster.kubectl("patch", "configmap", "pr-web", "-n", ns, "-p", HOLD)
    # Both components leave: an empty component list keeps only the policy.
    head, _, _ = text.partition("  - name: db")
    app.write_text(
        head
        + "  - name: rest\n    type: k8s-objects\n    properties:\n      objects: "
        + "[{apiVersion: v1, kind: ConfigMap, metadata: {name: pr-rest}}]\n"
        + "  policies:\n  - name: gc\n    type: garbage-collect\n    properties: {order: dependency}\n"
    )
    process = sailplan_process(cluster, "apply", str(app), "--timeout", "60s")
    try:
        wait_for(lambda: deleting(cluster, ns, "pr-web"), "pr-web to be deleting")
        time.sleep(2)
        db = get(cluster, "configmap", "pr-db", "-n", ns)
        assert db is not None and not db["metadata"].get("deletionTimestamp")
        cluster.kubectl("patch", "configmap", "pr-web", "-n", ns, "-p", RELEASE)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert actions(out)[f"ConfigMap/{ns}/pr-db"] == "pruned"
    assert get(cluster, "configmap", "pr-db", "-n", ns, check=False) is None


def release_secrets(cluster: Cluster, ns: str) -> list[str]:
    found = get(cluster, "secrets", "-n", ns, "-l", "owner=sailplan,name=hist")
    assert found is not None
    return sorted(s["metadata"]["name"] for s in found["items"])


def test_history_max_keeps_the_newest_releases(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    ns = namespace

    def text(value: int) -> str:
        return f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: hist, namespace: {ns}}}
spec:
  components:
  - name: conf
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: hist}}, data: {{v: '{value}'}}}}]
"""

    app = write("hist.yaml", text(1))
    for value in range(1, 5):
        app.write_text(text(value))
        sailplan(cluster, "apply", str(app), "--history-max", "2")
    assert release_secrets(cluster, ns) == ["sailplan.hist.default.v3", "sailplan.hist.default.v4"]
    listing = sailplan(cluster, "history", "hist", "-n", ns)
    assert "deployed" in listing.output and "superseded" in listing.output

    # 1 keeps only the deployed release; 0 keeps every one from then on.
    app.write_text(text(5))
    sailplan(cluster, "apply", str(app), "--history-max", "1")
    assert release_secrets(cluster, ns) == ["sailplan.hist.default.v5"]
    for value in (6, 7):
        app.write_text(text(value))
        sailplan(cluster, "apply", str(app), "--history-max", "0")
    assert release_secrets(cluster, ns) == [
        "sailplan.hist.default.v5",
        "sailplan.hist.default.v6",
        "sailplan.hist.default.v7",
    ]
    # Rolling back to a trimmed revision says which ones remain.
    gone = sailplan(cluster, "rollback", "hist", "-n", ns, "--to-revision", "2", check=False)
    assert gone.exit_code == 1
    assert "has no revision 2; it has 5, 6, 7" in gone.output


def test_a_sharer_joining_a_changed_object_gets_a_conflict_not_a_lost_entry(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    from engine.apply.applier import ApplyOptions, Desired, Owner, _execute, _join
    from engine.apply.client import connect
    from engine.apply.errors import ClusterError
    from engine.apply.policies import ObjectPolicy
    from engine.model import ResourceId

    ns = namespace
    sailplan(cluster, "apply", str(write("first.yaml", sharing_app(ns, "first", "{who: a}"))))
    client = connect(str(cluster.kubeconfig), cluster.context)
    try:
        seen = client.get(ResourceId("v1", "ConfigMap", ns, "common"))
        # Another sharer joins between our read and our write.
        cluster.kubectl(
            "annotate", "configmap", "common", "-n", ns, "--overwrite",
            f"{SHARED_BY}={ns}/first,{ns}/other",
        )  # fmt: skip
        desired = Desired(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "common", "namespace": ns},
            },
            policy=ObjectPolicy(shared=True),
        )
        plan = _join(desired, seen, Owner("second", ns))
        with pytest.raises(ClusterError) as caught:
            _execute(client, plan, ApplyOptions(), time.monotonic() + 30)
        assert caught.value.status == 409
    finally:
        client.close()
    assert shared_by(get(cluster, "configmap", "common", "-n", ns)) == f"{ns}/first,{ns}/other"
    # Applying again reads the new list and appends to it.
    sailplan(cluster, "apply", str(write("second.yaml", sharing_app(ns, "second", "{who: b}"))))
    assert (
        shared_by(get(cluster, "configmap", "common", "-n", ns))
        == f"{ns}/first,{ns}/other,{ns}/second"
    )
