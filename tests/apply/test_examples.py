"""The seed repository's other Applications apply (Flux's kinds and MysqlCluster stand in as
CRDs with open schemas), and topology clusters go to their contexts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.apply.conftest import EXAMPLES, actions, get, sailplan
from tests.cluster import Cluster

pytestmark = pytest.mark.cluster

Write = Callable[[str, str], Path]


@pytest.mark.usefixtures("third_party_kinds")
def test_the_seed_infrastructure_and_cluster_apps_apply(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    infra = (EXAMPLES / "gitops-demo/infrastructure/mysql.yaml").read_text()
    infra = infra.replace("namespace: default", f"namespace: {namespace}")
    apps = (EXAMPLES / "gitops-demo/clusters/apps.yaml").read_text()
    apps = apps.replace("  name: apps\n", f"  name: apps\n  namespace: {namespace}\n", 1)
    infra_file, apps_file = write("infra/mysql.yaml", infra), write("clusters/apps.yaml", apps)
    first = sailplan(cluster, "apply", str(infra_file), "--timeout", "2m")
    done = actions(first.output)
    assert done == {
        f"Secret/{namespace}/mysql-secret": "created",
        f"HelmRepository/{namespace}/mysql-operator": "created",
        f"HelmRelease/{namespace}/mysql-operator": "created",
        f"MysqlCluster/{namespace}/mysql-cluster": "created",
    }
    # dependsOn: the cluster goes out after the operator and the secret.
    assert list(done)[-1] == f"MysqlCluster/{namespace}/mysql-cluster"
    assert "root321" not in first.output
    second = sailplan(cluster, "apply", str(apps_file), "--timeout", "2m")
    assert set(actions(second.output).values()) == {"created"}
    assert len(actions(second.output)) == 5
    assert get(cluster, "imageupdateautomations.image.toolkit.fluxcd.io", "apps", "-n", namespace)
    again = sailplan(cluster, "apply", str(infra_file), str(apps_file))
    assert set(actions(again.output).values()) == {"unchanged"}


def test_topology_clusters_go_to_their_contexts(
    cluster: Cluster,
    second_cluster: Cluster,
    multi_kubeconfig: Path,
    namespace: str,
    write: Write,
) -> None:
    for target in (cluster, second_cluster):
        target.kubectl("create", "namespace", f"{namespace}-placed", check=False)
    second_cluster.kubectl("create", "namespace", namespace, check=False)
    app = write(
        "placed.yaml",
        f"""\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {{name: placed, namespace: {namespace}}}
spec:
  components:
  - name: settings
    type: k8s-objects
    properties:
      objects: [{{apiVersion: v1, kind: ConfigMap, metadata: {{name: settings}}, data: {{a: b}}}}]
  policies:
  - name: everywhere
    type: topology
    properties: {{clusters: [local, eu], namespace: {namespace}-placed}}
""",
    )
    from click.testing import CliRunner

    from cli import main

    args = ["apply", str(app), "--kubeconfig", str(multi_kubeconfig), "--context", cluster.context]
    result = CliRunner().invoke(
        main, [*args, "--cluster-context", f"eu={second_cluster.context}"], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    for target in (cluster, second_cluster):
        found = get(target, "configmap", "settings", "-n", f"{namespace}-placed")
        assert found is not None and found["data"] == {"a": "b"}
        releases = get(target, "secrets", "-n", namespace, "-l", "owner=sailplan,name=placed")
        assert releases is not None and len(releases["items"]) == 1


def test_environments_apply_in_deploy_step_order(
    cluster: Cluster, namespace: str, write: Write
) -> None:
    text = (EXAMPLES / "environments/policies/my-app.yaml").read_text()
    text = text.replace("namespace: default", f"namespace: {namespace}", 1)
    for env in ("staging", "prod"):
        text = text.replace(f"namespace: {env}\n", f"namespace: {namespace}-{env}\n")
        cluster.kubectl("create", "namespace", f"{namespace}-{env}")
    app = write("my-app.yaml", text)
    try:
        result = sailplan(cluster, "apply", str(app), "--timeout", "3m")
        summaries = [line for line in result.output.splitlines() if line.startswith(namespace)]
        assert summaries == [
            f"{namespace}/my-app env staging: revision 1 deployed (3 created)",
            f"{namespace}/my-app env prod: revision 1 deployed (3 created)",
        ]
        prod = get(cluster, "deployment", "my-server", "-n", f"{namespace}-prod")
        assert prod is not None and prod["spec"]["replicas"] == 3
        again = sailplan(cluster, "apply", str(app), "--env", "deploy-prod")
        assert f"{namespace}/my-app env prod: revision 1 is current" in again.output
        history = sailplan(cluster, "history", "my-app", "-n", namespace, "--env", "prod")
        assert len(history.output.strip().splitlines()) == 2
    finally:
        for env in ("staging", "prod"):
            cluster.kubectl(
                "delete", "namespace", f"{namespace}-{env}", "--wait=false", check=False
            )
